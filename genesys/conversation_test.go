package genesys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestGetConversationBothFamilies(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	conv := srv.ThreePartyConference()
	jane := conv.Participants[2].UserID

	want := &Conversation{
		ID:        conv.ID,
		MediaType: "voice",
		Media:     []Media{MediaVoice},
		StartTime: conv.StartTime,
		Participants: []Participant{
			{ID: conv.Participants[0].ID, Name: "Pat Smith", Purpose: "customer", Address: "tel:+13175550123", ANI: "tel:+13175550123", DNIS: "tel:+18005550100", Direction: "inbound", State: StateConnected, Media: MediaVoice},
			{ID: conv.Participants[1].ID, Name: "Support", Purpose: "acd", QueueID: conv.Participants[1].QueueID, QueueName: "Support", Address: "tel:+18005550100", ANI: "tel:+13175550123", DNIS: "tel:+18005550100", Direction: "inbound", State: StateDisconnected, DisconnectType: "transfer", Media: MediaVoice},
			{ID: conv.Participants[2].ID, Name: "Jane Doe", Purpose: "agent", UserID: jane, QueueID: conv.Participants[2].QueueID, QueueName: "Support", Address: "sip:" + jane + "@localhost", ANI: "tel:+13175550123", DNIS: "tel:+18005550100", Direction: "inbound", State: StateConnected, Media: MediaVoice},
			{ID: conv.Participants[3].ID, Name: "Sam Lee", Purpose: "external", Address: "tel:+13175550199", ANI: "tel:+18005550100", DNIS: "tel:+13175550199", Direction: "outbound", State: StateConnected, Media: MediaVoice},
		},
	}
	// Times are checked separately (millisecond precision on the wire).
	ignoreTimes := cmpopts.IgnoreFields(Participant{}, "StartTime", "ConnectedTime", "EndTime", "Communications")
	for _, fam := range []EndpointFamily{FamilyGeneric, FamilyCalls} {
		t.Run(string(fam), func(t *testing.T) {
			t.Parallel()
			c := newClient(t, srv, func(cfg *Config) { cfg.Endpoints = fam })
			got, err := c.GetConversation(context.Background(), conv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ignoreTimes, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for i, p := range got.Participants {
				src := conv.Participants[i]
				if p.StartTime.Sub(src.StartTime).Abs() > time.Millisecond || p.ConnectedTime.Sub(src.ConnectedTime).Abs() > time.Millisecond || p.EndTime.Sub(src.EndTime).Abs() > time.Millisecond {
					t.Errorf("participant %d times %v %v %v, want %v %v %v", i, p.StartTime, p.ConnectedTime, p.EndTime, src.StartTime, src.ConnectedTime, src.EndTime)
				}
			}
			if n := len(got.ActiveParticipants()); n != 3 {
				t.Errorf("%d active participants, want 3", n)
			}
		})
	}
}

func TestGetConversationErrors(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()

	_, err := c.GetConversation(ctx, "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
	mustKind(t, err, KindNotFound)
	if got := UserMessage(err); !strings.Contains(got, "the conversation has ended or the id is wrong") {
		t.Errorf("UserMessage %q", got)
	}
	reqs := srv.Requests()
	if cid := CorrelationID(err); cid == "" || !strings.Contains(err.Error(), cid) {
		t.Errorf("correlation id %q not in %q", cid, err)
	}
	if reqs[len(reqs)-1].Status != 404 {
		t.Errorf("last request %+v", reqs[len(reqs)-1])
	}

	srv.DenyPermission(genesystest.PermConversationView)
	_, err = c.GetConversation(ctx, srv.ThreePartyConference().ID)
	mustKind(t, err, KindForbidden)
	if got := UserMessage(err); !strings.Contains(got, "conversation:communication:view") {
		t.Errorf("UserMessage %q", got)
	}
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, genesystest.WithDisconnectDelay(10*time.Millisecond))
	ctx := context.Background()
	for _, fam := range []EndpointFamily{FamilyAuto, FamilyGeneric, FamilyCalls} {
		t.Run(string(fam), func(t *testing.T) {
			t.Parallel()
			c := newClient(t, srv, func(cfg *Config) { cfg.Endpoints = fam })
			conv := srv.ThreePartyConference()
			ext := conv.Participants[3].ID
			res, err := c.DisconnectParticipant(ctx, conv.ID, ext)
			if err != nil {
				t.Fatal(err)
			}
			wantFam := fam
			if fam == FamilyAuto {
				wantFam = FamilyGeneric
			}
			if res.Outcome != DisconnectAccepted || res.Family != wantFam || res.CorrelationID == "" {
				t.Errorf("result %+v", res)
			}
			conf, err := c.ConfirmDisconnect(ctx, conv.ID, ext)
			if err != nil {
				t.Fatal(err)
			}
			if !conf.Confirmed || conf.Polls < 1 || conf.Participant.State != StateDisconnected || conf.Participant.DisconnectType != "client" {
				t.Errorf("confirmation %+v", conf)
			}
			// The rest of the call goes on.
			got, _ := srv.Conversation(conv.ID)
			if !got.EndTime.IsZero() || got.Participants[0].State != "connected" {
				t.Errorf("the call ended: %+v", got)
			}
			// Second time: already gone, not an error.
			res, err = c.DisconnectParticipant(ctx, conv.ID, ext)
			if err != nil || res.Outcome != DisconnectAlreadyGone {
				t.Errorf("second disconnect: %+v, %v", res, err)
			}
			for _, r := range srv.Requests() {
				if strings.HasPrefix(r.Op, "patch") && r.Body != `{"state":"disconnected"}` {
					t.Fatalf("PATCH body %q", r.Body)
				}
			}
		})
	}
}

func TestDisconnectErrors(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
	c := newClient(t, srv, nil)
	ctx := context.Background()
	conv := srv.ThreePartyConference()

	_, err := c.DisconnectParticipant(ctx, conv.ID, "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
	mustKind(t, err, KindNotFound)
	if got := UserMessage(err); !strings.Contains(got, "not part of the conversation") {
		t.Errorf("UserMessage %q", got)
	}
	_, err = c.DisconnectParticipant(ctx, "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11", conv.Participants[0].ID)
	mustKind(t, err, KindNotFound)

	srv.DenyPermission(genesystest.PermConversationDisconnect)
	_, err = c.DisconnectParticipant(ctx, conv.ID, conv.Participants[0].ID)
	mustKind(t, err, KindForbidden)
	if got := UserMessage(err); !strings.Contains(got, "conversation:communication:disconnect") {
		t.Errorf("UserMessage %q", got)
	}
	srv.GrantPermission(genesystest.PermConversationDisconnect)

	// The ACD leg already ended.
	res, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[1].ID)
	if err != nil || res.Outcome != DisconnectAlreadyGone || res.Family != FamilyGeneric {
		t.Errorf("ended leg: %+v, %v", res, err)
	}
}

func TestNotAUserFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("auto: generic refused, calls works and is remembered", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
		srv.RefuseClientCredentials(genesystest.OpPatchParticipant)
		c := newClient(t, srv, nil)
		conv := srv.ThreePartyConference()
		res, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[3].ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Family != FamilyCalls || res.Outcome != DisconnectAccepted {
			t.Errorf("result %+v", res)
		}
		if _, err := c.GetConversation(ctx, conv.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[0].ID); err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, r := range srv.Requests() {
			got[r.Op]++
		}
		want := map[string]int{"token": 1, "patchParticipant": 1, "patchCallParticipant": 2, "getCall": 1}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("requests per op (-want +got):\n%s", diff)
		}
	})
	t.Run("auto: calls refused after learning goes back to generic", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
		c := newClient(t, srv, nil)
		c.preferCalls.Store(true)
		srv.RefuseClientCredentials() // the calls PATCH, as documented
		conv := srv.ThreePartyConference()
		res, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[3].ID)
		if err != nil || res.Family != FamilyGeneric {
			t.Fatalf("%+v, %v", res, err)
		}
		if c.preferCalls.Load() {
			t.Error("still prefers calls")
		}
	})
	for _, fam := range []EndpointFamily{FamilyGeneric, FamilyCalls} {
		t.Run("forced "+string(fam)+": no fallback", func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			srv.RefuseClientCredentials(genesystest.OpPatchParticipant, genesystest.OpPatchCallParticipant)
			c := newClient(t, srv, func(cfg *Config) { cfg.Endpoints = fam })
			conv := srv.ThreePartyConference()
			_, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[3].ID)
			mustKind(t, err, KindNotAUser)
			if got := UserMessage(err); !strings.Contains(got, "endpoint family") {
				t.Errorf("UserMessage %q", got)
			}
			if n := srv.CountOp(genesystest.OpPatchParticipant) + srv.CountOp(genesystest.OpPatchCallParticipant); n != 1 {
				t.Errorf("%d PATCHes, want 1", n)
			}
		})
	}
	t.Run("auto: both refused", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t)
		srv.RefuseClientCredentials(genesystest.OpPatchParticipant, genesystest.OpPatchCallParticipant)
		c := newClient(t, srv, nil)
		conv := srv.ThreePartyConference()
		_, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[3].ID)
		mustKind(t, err, KindNotAUser)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Operation != "patchParticipant" {
			t.Errorf("want the first (generic) error, got %v", err)
		}
	})
	t.Run("auto: GET falls back too", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t)
		srv.RefuseClientCredentials(genesystest.OpGetConversation)
		c := newClient(t, srv, nil)
		conv := srv.ThreePartyConference()
		got, err := c.GetConversation(ctx, conv.ID)
		if err != nil || got.ID != conv.ID {
			t.Fatalf("%v, %v", got, err)
		}
	})
}

func TestConfirmDisconnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("not confirmed in time", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t, genesystest.WithDisconnectDelay(time.Hour))
		c := newClient(t, srv, func(cfg *Config) { cfg.ConfirmTimeout = 60 * time.Millisecond })
		conv := srv.ThreePartyConference()
		ext := conv.Participants[3].ID
		if _, err := c.DisconnectParticipant(ctx, conv.ID, ext); err != nil {
			t.Fatal(err)
		}
		conf, err := c.ConfirmDisconnect(ctx, conv.ID, ext)
		if err != nil {
			t.Fatal(err)
		}
		if conf.Confirmed || conf.Polls < 2 || conf.Participant.State != StateConnected {
			t.Errorf("confirmation %+v", conf)
		}
	})
	t.Run("conversation gone counts as confirmed", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t)
		c := newClient(t, srv, nil)
		conv := srv.ThreePartyConference()
		srv.DeleteConversation(conv.ID)
		conf, err := c.ConfirmDisconnect(ctx, conv.ID, conv.Participants[0].ID)
		if err != nil || !conf.Confirmed || conf.Polls != 1 {
			t.Errorf("%+v, %v", conf, err)
		}
	})
	t.Run("whole call ended", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t, genesystest.WithDisconnectDelay(0))
		c := newClient(t, srv, nil)
		conv := srv.ThreePartyConference()
		for _, p := range []int{3, 0} {
			if _, err := c.DisconnectParticipant(ctx, conv.ID, conv.Participants[p].ID); err != nil {
				t.Fatal(err)
			}
		}
		conf, err := c.ConfirmDisconnect(ctx, conv.ID, conv.Participants[2].ID)
		if err != nil || !conf.Confirmed || conf.Participant.DisconnectType != "peer" {
			t.Errorf("%+v, %v", conf, err)
		}
	})
	t.Run("unknown participant", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t)
		c := newClient(t, srv, nil)
		conv := srv.ThreePartyConference()
		_, err := c.ConfirmDisconnect(ctx, conv.ID, "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
		if !errors.Is(err, ErrParticipantNotFound) {
			t.Fatalf("error %v", err)
		}
		mustKind(t, err, KindNotFound)
	})
	t.Run("caller cancels", func(t *testing.T) {
		t.Parallel()
		srv := newEmulator(t, genesystest.WithDisconnectDelay(time.Hour))
		c := newClient(t, srv, func(cfg *Config) { cfg.ConfirmTimeout = time.Minute })
		conv := srv.ThreePartyConference()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := c.ConfirmDisconnect(cctx, conv.ID, conv.Participants[0].ID)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the caller's deadline", err)
		}
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	ann := srv.AddUser(genesystest.User{Name: "Ann Lee", Email: "ann.lee@example.com"})

	u, err := c.GetUser(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&User{ID: ann.ID, Name: "Ann Lee", Email: "ann.lee@example.com", Username: "ann.lee@example.com", State: "active"}, u); diff != "" {
		t.Errorf("GetUser (-want +got):\n%s", diff)
	}
	_, err = c.GetUser(ctx, "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
	mustKind(t, err, KindNotFound)

	u, err = c.FindUserByEmail(ctx, " Ann.Lee@Example.com ")
	if err != nil || u.ID != ann.ID {
		t.Fatalf("FindUserByEmail: %+v, %v", u, err)
	}
	reqs := srv.Requests()
	if got := reqs[len(reqs)-1].Body; got != `{"query":[{"type":"EXACT","fields":["email"],"value":"Ann.Lee@Example.com"}]}` {
		t.Errorf("search body %s", got)
	}
	_, err = c.FindUserByEmail(ctx, "nobody@example.com")
	if !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("error %v", err)
	}
	mustKind(t, err, KindNotFound)
	if got := UserMessage(err); !strings.Contains(got, "e-mail") {
		t.Errorf("UserMessage %q", got)
	}

	srv.DenyPermission(genesystest.PermUserView)
	_, err = c.FindUserByEmail(ctx, "ann.lee@example.com")
	mustKind(t, err, KindForbidden)
	if got := UserMessage(err); !strings.Contains(got, "directory:user:view") {
		t.Errorf("UserMessage %q", got)
	}
}

// TestDecodeGenericCalls feeds the decoder a generic conversation whose
// participants have several calls, as after a transfer or reconnect.
func TestDecodeGenericCalls(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "generic-multicall.json"))
	if err != nil {
		t.Fatal(err)
	}
	conv, err := decodeConversation(FamilyGeneric, data)
	if err != nil {
		t.Fatal(err)
	}
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := &Conversation{
		ID:        "8d6a1c0e-4b4e-4c59-9a2b-0f1e2d3c4b5a",
		MediaType: "voice",
		Media:     []Media{MediaVoice, MediaChat},
		StartTime: ts("2024-05-01T10:00:00Z"),
		Participants: []Participant{
			// An old ended call and a newer connected one: the live one wins.
			{ID: "11111111-1111-4111-8111-111111111111", Name: "Jane Doe", Purpose: "agent", UserID: "22222222-2222-4222-8222-222222222222",
				State: StateConnected, Held: true, Direction: "outbound", StartTime: ts("2024-05-01T10:00:00Z"), ConnectedTime: ts("2024-05-01T10:05:00Z"), Media: MediaVoice},
			// Two ended calls: the latest one describes how it ended.
			{ID: "33333333-3333-4333-8333-333333333333", Purpose: "customer", Address: "tel:+13175550123", State: StateTerminated,
				DisconnectType: "peer", ConnectedTime: ts("2024-05-01T10:02:00Z"), EndTime: ts("2024-05-01T10:09:00Z"), Media: MediaVoice},
			// Only a chat: its state is the chat's (a flow leg, never active).
			{ID: "44444444-4444-4444-8444-444444444444", Purpose: "workflow", State: StateConnected, Media: MediaChat},
			// Ended with no call left to describe it.
			{ID: "55555555-5555-4555-8555-555555555555", Purpose: "ivr", State: StateDisconnected, EndTime: ts("2024-05-01T10:01:00Z")},
		},
	}
	// The sessions themselves are checked by the media tests.
	if diff := cmp.Diff(want, conv, cmpopts.IgnoreFields(Participant{}, "Communications")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := conv.ActiveParticipants(); len(got) != 1 || got[0].Purpose != "agent" {
		t.Errorf("active %+v", got)
	}
}
