package bot_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestE2ETruthfulOutcomeWhenGenesysIsUncertain: the channel is told what
// happened, not what the last answer suggested. When a PATCH may have taken
// effect (sent and answered 5xx, a timeout or lost), the final word comes
// from re-reading the call; when nothing reached the endpoint the failure
// says why. Each case is one the issue saw or one of its rules.
func TestE2ETruthfulOutcomeWhenGenesysIsUncertain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// inject is called after the picker is shown, before the click.
		inject      func(*genesystest.Server)
		genesysOpts []genesystest.Option
		budget      time.Duration
		outcome     string   // audit and metric outcome
		say         []string // in the channel post
		never       []string // never in the channel post
		gone        bool     // the participant has left in the end
		patches     int      // PATCHes sent; 0 = not checked
		maxPatches  int      // at most; 0 = not checked
	}{
		{
			// Seen: every answer a 500, the participant gone after the
			// first. The retry path re-reads before sending again, finds
			// the leg gone and stops.
			name: "PATCH took effect, every answer 500",
			inject: func(g *genesystest.Server) {
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusInternalServerError, AfterApply: true})
			},
			budget:  2 * time.Second,
			outcome: "confirmed", gone: true, patches: 1,
			say:   []string{"disconnected", genesystest.JaneDoeName, "Genesys confirmed it"},
			never: []string{"could not disconnect", "try again", "not confirmed"},
		},
		{
			// Seen: 504 (done), then a 429 with Retry-After 30 on the
			// retry. The leg drops slowly here, so the re-read before the
			// retry still sees it and the 429 happens; the final re-read
			// sees it gone.
			name: "PATCH took effect, 504 then 429 Retry-After 30",
			inject: func(g *genesystest.Server) {
				g.SetDisconnectDelay(time.Second)
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusGatewayTimeout, AfterApply: true, Count: 1})
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, Count: 1})
			},
			budget:  2 * time.Second,
			outcome: "confirmed", gone: true, patches: 2,
			say:   []string{"disconnected", genesystest.JaneDoeName, "Genesys confirmed it"},
			never: []string{"could not disconnect", "try again in 30", "not confirmed"},
		},
		{
			// Every answer a 500 and nothing happened: the re-read shows
			// them on the call, so it failed, and says so.
			name: "500 every time, still on the call",
			inject: func(g *genesystest.Server) {
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusInternalServerError})
			},
			budget:  300 * time.Millisecond,
			outcome: "failed", gone: false, maxPatches: 7,
			say:   []string{"could not disconnect", "HTTP 500", "still on the call"},
			never: []string{"not confirmed", "Genesys confirmed"},
		},
		{
			// The answer is uncertain and the re-read fails too: the
			// channel is told it is unknown, and to check the call.
			name: "504, and the re-read fails",
			inject: func(g *genesystest.Server) {
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusGatewayTimeout})
				g.InjectFault(genesystest.Fault{Op: genesystest.OpGetConversation, Status: http.StatusServiceUnavailable, Skip: 1})
			},
			budget:  300 * time.Millisecond,
			outcome: "unknown", gone: false,
			say:   []string{"not confirmed", "Check the call"},
			never: []string{"could not disconnect", "Genesys confirmed"},
		},
		{
			// Nothing reached the endpoint: a 401, and every token refresh
			// after it failed. A plain failure that says why.
			name: "401, then every token refresh fails",
			inject: func(g *genesystest.Server) {
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusUnauthorized, Count: 1})
				g.InjectFault(genesystest.Fault{Op: genesystest.OpToken, Status: http.StatusServiceUnavailable})
			},
			budget:  300 * time.Millisecond,
			outcome: "failed", gone: false, patches: 1,
			say:   []string{"could not disconnect", "token"},
			never: []string{"not confirmed", "Check the call before"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{genesysOpts: tt.genesysOpts, genesysCfg: func(c *genesys.Config) {
				c.RetryBudget = tt.budget
				c.ConfirmTimeout = 5 * time.Second // longer than any leg takes to drop here
			}})
			conv := h.genesys.ThreePartyConference()
			agent := participantByPurpose(t, conv, "agent")
			picker := h.slash(supervisor, conv.ID)
			tt.inject(h.genesys)
			h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
			posts := h.channelPosts(channel)
			if len(posts) != 1 {
				t.Fatalf("%d channel posts, want 1", len(posts))
			}
			out := h.rendered(posts[0])
			for _, want := range tt.say {
				if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
					t.Errorf("channel post lacks %q:\n%s", want, out)
				}
			}
			for _, bad := range tt.never {
				if strings.Contains(strings.ToLower(out), strings.ToLower(bad)) {
					t.Errorf("channel post says %q:\n%s", bad, out)
				}
			}
			h.auditLine(map[string]string{"action": "click", "outcome": tt.outcome})
			c, _ := h.genesys.Conversation(conv.ID)
			if p, _ := c.Participant(agent.ID); p.Ended() != tt.gone {
				t.Errorf("participant ended = %v, want %v; the channel was told:\n%s", p.Ended(), tt.gone, out)
			}
			if n := h.patches(); tt.patches != 0 && n != tt.patches || tt.maxPatches != 0 && n > tt.maxPatches {
				t.Errorf("%d PATCHes, want %d (at most %d)", n, tt.patches, tt.maxPatches)
			}
		})
	}
}
