package genesys

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestMaybeAppliedThroughTheClient: whether a failed disconnect may have
// taken effect, read from what really happened on the wire.
func TestMaybeAppliedAndNothingSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		faults      []genesystest.Fault
		maybe, none bool // MaybeApplied, NothingSent
	}{
		{name: "500 every time", maybe: true,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Status: 500}}},
		{name: "504, then 429 with a Retry-After past the budget", maybe: true,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Status: 504, Count: 1}, {Op: genesystest.OpPatchParticipant, Status: 429, RetryAfter: time.Minute, Count: 1}}},
		{name: "lost answer (slower than the client waits)", maybe: true,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Delay: time.Second}}},
		{name: "429 past the budget, nothing before it", maybe: false,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Status: 429, RetryAfter: time.Minute, Count: 1}}},
		{name: "403", maybe: false,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Status: 403}}},
		{name: "401, then no token", maybe: false, none: true,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Status: 401, Count: 1}, {Op: genesystest.OpToken, Status: 503}}},
		{name: "504, then no token", maybe: true,
			faults: []genesystest.Fault{{Op: genesystest.OpPatchParticipant, Status: 504, Count: 1}, {Op: genesystest.OpPatchParticipant, Status: 401, Count: 1}, {Op: genesystest.OpToken, Status: 503}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			conv := srv.ThreePartyConference()
			c := newClient(t, srv, func(cfg *Config) {
				cfg.RetryBudget = 300 * time.Millisecond
				cfg.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
			})
			if _, err := c.GetConversation(context.Background(), conv.ID); err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.faults {
				srv.InjectFault(f)
			}
			_, err := c.DisconnectParticipant(context.Background(), conv.ID, conv.Participants[2].ID)
			if err == nil {
				t.Fatal("DisconnectParticipant succeeded")
			}
			if got := MaybeApplied(err); got != tt.maybe {
				t.Errorf("MaybeApplied(%v) = %v, want %v", err, got, tt.maybe)
			}
			if got := NothingSent(err); got != tt.none {
				t.Errorf("NothingSent(%v) = %v, want %v", err, got, tt.none)
			}
		})
	}
}

// TestPatchRetriesStopWhenTheLegIsGone: the PATCH took effect but every
// answer to it is a 500. Before sending it again the client re-reads the
// call, sees the leg gone and stops: one PATCH, not seven.
func TestPatchRetriesStopWhenTheLegIsGone(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
	conv := srv.ThreePartyConference()
	agent := conv.Participants[2]
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusInternalServerError, AfterApply: true})
	c := newClient(t, srv, nil)
	res, err := c.DisconnectParticipant(context.Background(), conv.ID, agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != DisconnectAccepted || !res.SettledByReread {
		t.Errorf("result %+v, want accepted, settled by the re-read", res)
	}
	if n := srv.CountOp(genesystest.OpPatchParticipant); n != 1 {
		t.Errorf("%d PATCHes for a participant who left after the first", n)
	}
	// Still on the call: the PATCH is sent again, within the budget.
	srv2 := newEmulator(t, genesystest.WithDisconnectDelay(0))
	conv2 := srv2.ThreePartyConference()
	srv2.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusInternalServerError})
	c2 := newClient(t, srv2, func(cfg *Config) { cfg.RetryBudget = 300 * time.Millisecond })
	if _, err := c2.DisconnectParticipant(context.Background(), conv2.ID, conv2.Participants[2].ID); err == nil {
		t.Fatal("succeeded with every answer a 500 and nothing done")
	}
	if n := srv2.CountOp(genesystest.OpPatchParticipant); n < 2 {
		t.Errorf("%d PATCHes: a leg still there must be tried again", n)
	}
}
