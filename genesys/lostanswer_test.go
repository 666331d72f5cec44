package genesys

import (
	"context"
	"testing"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// A PATCH that Genesys carried out but whose answer was lost (a 504 from a
// gateway after the backend acted) is not sent again blindly: the call is
// re-read first, shows the leg gone, and the result is Accepted (settled by
// the re-read), not AlreadyGone, so the channel is not told "nothing was
// changed" about a disconnect the bot just made.
func TestDisconnectRetryAfterLostAnswerIsAccepted(t *testing.T) {
	t.Parallel()
	for _, status := range []int{502, 503, 504} {
		srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
		conv := srv.ThreePartyConference()
		agent := conv.Participants[2]
		srv.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: status, Count: 1, AfterApply: true})
		c := newClient(t, srv, nil)
		res, err := c.DisconnectParticipant(context.Background(), conv.ID, agent.ID)
		if err != nil {
			t.Fatalf("%d: DisconnectParticipant: %v", status, err)
		}
		if res.Outcome != DisconnectAccepted {
			t.Errorf("%d: outcome %v after a lost answer and a retry, want DisconnectAccepted", status, res.Outcome)
		}
		if n := srv.CountOp(genesystest.OpPatchParticipant); n != 1 || !res.SettledByReread {
			t.Errorf("%d: %d PATCH requests (settled by re-read: %v), want 1: the re-read shows the leg gone", status, n, res.SettledByReread)
		}
	}
	// Without an uncertain attempt before it, the same answer still means
	// someone else got there first.
	srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
	conv := srv.ThreePartyConference()
	c := newClient(t, srv, nil)
	if _, err := c.DisconnectParticipant(context.Background(), conv.ID, conv.Participants[2].ID); err != nil {
		t.Fatal(err)
	}
	res, err := c.DisconnectParticipant(context.Background(), conv.ID, conv.Participants[2].ID)
	if err != nil || res.Outcome != DisconnectAlreadyGone {
		t.Fatalf("second disconnect = %v, %v; want DisconnectAlreadyGone", res.Outcome, err)
	}
}

// A generic-shape participant without calls[] but with its state copied onto
// it (the notification shape Genesys's tutorials use) is still understood.
func TestDecodeParticipantLevelState(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11","participants":[
		{"id":"a1111111-1111-4111-8111-111111111111","purpose":"customer","state":"connected","held":true},
		{"id":"b2222222-2222-4222-8222-222222222222","purpose":"agent","state":"disconnected","disconnectType":"client"},
		{"id":"c3333333-3333-4333-8333-333333333333","purpose":"external","state":"connected","calls":[{"state":"terminated"}]}]}`)
	conv, err := decodeConversation(FamilyGeneric, body)
	if err != nil {
		t.Fatal(err)
	}
	got := []State{conv.Participants[0].State, conv.Participants[1].State, conv.Participants[2].State}
	want := []State{StateConnected, StateDisconnected, StateTerminated} // calls[] wins when present
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("participant %d state %q, want %q", i, got[i], want[i])
		}
	}
	if !conv.Participants[0].Held || conv.Participants[1].DisconnectType != "client" {
		t.Errorf("flags not read: %+v", conv.Participants[:2])
	}
}
