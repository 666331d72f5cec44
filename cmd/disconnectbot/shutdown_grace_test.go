package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

// TestShutdownFitsInGrace: SIGTERM arrives while a click's PATCH is held at
// Genesys and never answered. The whole shutdown fits in shutdown.grace:
// the disconnect is given up early enough that its outcome still reaches
// the channel inside the grace, and runBot returns by the end of it. When
// Slack itself is too slow to take the post, the bot gives up on it at the
// end of the grace rather than outlive it (and be SIGKILLed mid-post).
func TestShutdownFitsInGrace(t *testing.T) {
	t.Parallel()
	const grace = 1500 * time.Millisecond
	for _, tc := range []struct {
		name      string
		slowSlack bool
	}{
		{"outcome posted inside the grace", false},
		{"Slack too slow to take the outcome", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t, slacktest.Options{})
			hold := newGate()
			hold.Close()
			t.Cleanup(hold.Open)
			reached := make(chan *http.Request, 1)
			b := startBot(t, f, botOptions{
				env:  env{"DISCONNECTBOT_SHUTDOWN_GRACE": grace.String()},
				opts: runOptions{genesysTuning: gatedGenesys(hold, reached)},
			})
			b.waitReady(http.StatusOK)
			conv := f.genesys.ThreePartyConference()
			customer := participantByPurpose(t, conv, "customer")
			picker := f.slash(t, supervisor, conv.ID, 0)
			btn := f.buttonFor(t, picker, customer.ID)
			if _, err := f.slack.Click(waitCtx(t), supervisor, picker, btn.ActionID, btn.Value); err != nil {
				t.Fatal(err)
			}
			<-reached
			if tc.slowSlack {
				f.slack.InjectFault("chat.postMessage", slacktest.Fault{Times: slacktest.Always, Delay: 20 * time.Second})
				f.slack.InjectFault(slacktest.MethodResponseURL, slacktest.Fault{Times: slacktest.Always, Delay: 20 * time.Second})
			}
			sigterm := time.Now()
			if err := b.stop(); err != nil {
				t.Errorf("runBot returned %v, want nil", err)
			}
			took := time.Since(sigterm)
			t.Logf("shutdown took %s with shutdown.grace %s", took.Round(time.Millisecond), grace)
			// Generous: the point is the grace, not the 10 s a Slack post
			// may otherwise take, nor what came after it.
			if took > grace+700*time.Millisecond {
				t.Errorf("shutdown took %s with shutdown.grace %s", took.Round(time.Millisecond), grace)
			}
			if tc.slowSlack {
				return
			}
			posts := f.channelPosts(channel)
			if len(posts) != 1 {
				t.Fatalf("%d channel posts, want the outcome", len(posts))
			}
			t.Logf("outcome posted %s after SIGTERM", posts[0].Time.Sub(sigterm).Round(time.Millisecond))
			if at := posts[0].Time.Sub(sigterm); at > grace {
				t.Errorf("the outcome was posted %s after SIGTERM, after the grace of %s", at.Round(time.Millisecond), grace)
			}
			if out := f.slack.Render(posts[0]); !strings.Contains(out, customer.ID) || strings.Contains(out, "Genesys confirmed") {
				t.Errorf("outcome:\n%s", out)
			}
		})
	}
}
