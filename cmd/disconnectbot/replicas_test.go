package main

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// Two replicas on one Slack app: Slack hands each envelope to any open
// connection, so a click can reach a replica that never saw the command,
// and a redelivered click can reach a different replica than the first
// delivery.
//
// What is guaranteed without shared state between replicas:
//   - Buttons are stateless, so any replica handles any click.
//   - A redelivery that reaches the SAME replica is dropped by its memory of
//     trigger_id/action_ts.
//   - A redelivery that reaches ANOTHER replica re-reads the call from
//     Genesys before acting. Slack redelivers only after its 3 s ack
//     deadline; by then the first replica has normally had its PATCH
//     accepted and the leg has dropped, so the second replica finds the
//     participant gone and neither disconnects nor posts again.
//
// What is NOT guaranteed: if the first replica is still between its re-read
// and Genesys dropping the leg when the redelivery arrives (Genesys slower
// than the ack deadline), the second replica also sees the participant
// active and sends a second PATCH and a second channel post. Closing that
// window needs state shared by the replicas (a lock or dedupe store).
//
// The tests make the order deterministic instead of timing it: each replica
// has gates on its apps.connections.open (so it cannot reconnect until the
// test says) and on the acks it writes; the redelivery waits in the fake
// until some replica is connected, so it goes where the test opens a gate,
// and only after the first replica has finished.
type replicas struct {
	f            *fakes
	a, b         *testBot
	gateA, gateB *gate // apps.connections.open
	ackA         *gate // replica A's acks
	connA, connB int
	// onEnvelope, when set, is called (synchronously, in the fake) right
	// after the fake wrote an envelope: type, retry attempt, connection.
	onEnvelope atomic.Pointer[func(typ string, attempt, conn int)]
}

// startReplicas starts replicas A and B; extra is added to both's
// environment.
func startReplicas(t *testing.T, extra ...env) *replicas {
	t.Helper()
	both := env{}
	for _, e := range extra {
		for k, v := range e {
			both[k] = v
		}
	}
	r := &replicas{gateA: newGate(), gateB: newGate(), ackA: newGate()}
	hook := hookHandler{fn: func(msg string, a map[string]any) {
		if msg != "slacktest: envelope sent" {
			return
		}
		if fn := r.onEnvelope.Load(); fn != nil {
			typ, _ := a["type"].(string)
			attempt, _ := a["retry_attempt"].(int64)
			conn, _ := a["conn"].(int64)
			(*fn)(typ, int(attempt), int(conn))
		}
	}}
	r.f = newFakes(t, slacktest.Options{
		Distribution: slacktest.RoundRobin, AckDeadline: 300 * time.Millisecond, Redeliver: true,
		Logger: slog.New(hook),
	})
	f := r.f
	r.a = startBot(t, f, botOptions{env: both, opts: runOptions{slackHTTPClient: r.gateA.client(), slackDialer: r.ackA.dialer()}})
	if err := f.slack.WaitConnections(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	r.connA = f.slack.ConnectionIDs()[0]
	r.b = startBot(t, f, botOptions{env: both, opts: runOptions{slackHTTPClient: r.gateB.client()}})
	if err := f.slack.WaitConnections(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	for _, id := range f.slack.ConnectionIDs() {
		if id != r.connA {
			r.connB = id
		}
	}
	r.a.waitReady(http.StatusOK)
	r.b.waitReady(http.StatusOK)
	t.Cleanup(func() {
		r.gateA.Open()
		r.gateB.Open()
		r.ackA.Open()
		if t.Failed() {
			t.Logf("replica A log:\n%s\nreplica B log:\n%s", r.a.logs, r.b.logs)
		}
	})
	return r
}

// audits returns bot's audit lines for conversation conv and action.
func audits(b *testBot, conv, action string) []map[string]any {
	var out []map[string]any
	for _, l := range b.logs.Lines("audit") {
		if l["conversation_id"] == conv && l["action"] == action {
			out = append(out, l)
		}
	}
	return out
}

func (r *replicas) patchesFor(conv string) int {
	n := 0
	for _, req := range r.f.genesys.Requests() {
		if (req.Op == genesystest.OpPatchParticipant || req.Op == genesystest.OpPatchCallParticipant) && strings.Contains(req.Path, conv) {
			n++
		}
	}
	return n
}

func (r *replicas) postsFor(conv string) int {
	n := 0
	for _, m := range r.f.channelPosts(channel) {
		if strings.Contains(r.f.slack.Render(m), conv) {
			n++
		}
	}
	return n
}

func TestReplicasCommandOnOneClickOnOther(t *testing.T) {
	t.Parallel()
	r := startReplicas(t)
	f := r.f
	conv := f.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")

	picker := f.slash(t, supervisor, conv.ID, r.connA)
	btn := f.buttonFor(t, picker, agent.ID)
	before := f.slack.MessageCount()
	d, err := f.slack.SendBlockAction(waitCtx(t), clickOn(supervisor, picker, btn, r.connB))
	if err != nil {
		t.Fatal(err)
	}
	if d.ConnID != r.connB {
		t.Fatalf("click went to connection %d, want replica B's %d", d.ConnID, r.connB)
	}
	if final := f.finalAnswer(t, supervisor, before); !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("replica B answered %q, want the confirmed outcome", final.Text)
	}
	f.waitState(t, conv.ID, agent.ID, "disconnected")
	r.b.logs.waitLines(t, "audit", 1)
	if n := len(audits(r.a, conv.ID, "command")); n != 1 {
		t.Errorf("replica A has %d command audit lines, want 1", n)
	}
	if n := len(audits(r.a, conv.ID, "click")); n != 0 {
		t.Errorf("replica A handled the click (%d audit lines)", n)
	}
	if n := len(audits(r.b, conv.ID, "click")); n != 1 {
		t.Errorf("replica B has %d click audit lines, want 1", n)
	}
	if got := r.patchesFor(conv.ID); got != 1 {
		t.Errorf("%d PATCHes, want 1", got)
	}
	if got := r.postsFor(conv.ID); got != 1 {
		t.Errorf("%d channel posts, want 1", got)
	}
}

// TestReplicasRedeliveredClick: replica A gets a click and handles it, but
// its ack never reaches Slack. Slack redelivers the click after the ack
// deadline, to replica B or back to A. Either way: one PATCH, one channel
// post.
func TestReplicasRedeliveredClick(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		redeliverB bool // else the redelivery goes back to A
	}{
		{"redelivered to the other replica", true},
		{"redelivered to the same replica", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startReplicas(t)
			f := r.f
			conv := f.genesys.ThreePartyConference()
			customer := participantByPurpose(t, conv, "customer")
			picker := f.slash(t, supervisor, conv.ID, r.connA)
			btn := f.buttonFor(t, picker, customer.ID)

			// Neither replica may reconnect until the test says so, and
			// only A's socket is up.
			r.gateA.Close()
			r.gateB.Close()
			if err := f.slack.DropConnection(r.connB); err != nil {
				t.Fatal(err)
			}
			eventually(t, "only replica A connected", func() bool { return f.slack.Connections() == 1 })
			// A will read the click but its ack stays in its socket; right
			// after writing the click the fake tells A's connection to go
			// away (a refresh), so no connection can take the redelivery.
			r.ackA.Close()
			disconnect := func(typ string, attempt, conn int) {
				if typ == "interactive" && attempt == 0 {
					_ = f.slack.DisconnectConnection(conn, "refresh_requested")
				}
			}
			r.onEnvelope.Store(&disconnect)

			clicked := make(chan error, 1)
			var d slacktest.Delivery
			go func() {
				var err error
				d, err = f.slack.SendBlockAction(waitCtx(t), clickOn(supervisor, picker, btn, r.connA))
				clicked <- err
			}()
			// A handles the click to the end.
			lines := r.a.logs.waitLines(t, "audit", 2)
			if last := lines[len(lines)-1]; last["action"] != "click" || last["outcome"] != "confirmed" {
				t.Fatalf("replica A's click ended %v, want confirmed", last)
			}
			eventually(t, "the outcome in the channel", func() bool { return r.postsFor(conv.ID) == 1 })
			// Slack gave up waiting for the ack; the redelivery waits for a
			// connection.
			if err := f.slack.WaitStats(waitCtx(t), func(s slacktest.Stats) bool { return s.AckTimeouts >= 1 }); err != nil {
				t.Fatal(err)
			}
			if n := f.slack.Connections(); n != 0 {
				t.Fatalf("%d connections can take the redelivery, want 0 until a gate opens", n)
			}
			if tc.redeliverB {
				r.gateB.Open()
			} else {
				r.ackA.Open()
				r.gateA.Open()
			}
			select {
			case err := <-clicked:
				if err != nil {
					t.Fatalf("redelivery: %v", err)
				}
			case <-time.After(waitTimeout):
				t.Fatal("the redelivered click was never acked")
			}
			if d.RetryAttempt != 1 {
				t.Errorf("acked delivery has retry_attempt %d, want 1", d.RetryAttempt)
			}
			if tc.redeliverB {
				// B re-reads the call, finds the customer gone, does nothing.
				l := r.b.logs.waitLines(t, "audit", 1)[0]
				if l["action"] != "click" || l["outcome"] != "stale" {
					t.Errorf("replica B's audit line %v, want a stale click", l)
				}
			} else {
				r.a.logs.waitLines(t, "dropping redelivered click", 1)
			}
			r.gateA.Open()
			r.gateB.Open()
			r.ackA.Open()
			if err := f.slack.WaitConnections(waitCtx(t), 2); err != nil {
				t.Fatal(err)
			}
			r.a.waitReady(http.StatusOK)
			r.b.waitReady(http.StatusOK)
			if got := r.patchesFor(conv.ID); got != 1 {
				t.Errorf("%d PATCHes for the call, want exactly 1", got)
			}
			if got := r.postsFor(conv.ID); got != 1 {
				t.Errorf("%d channel posts for the call, want exactly 1", got)
			}
			clicks := len(audits(r.a, conv.ID, "click")) + len(audits(r.b, conv.ID, "click"))
			if want := map[bool]int{true: 2, false: 1}[tc.redeliverB]; clicks != want {
				t.Errorf("%d click audit lines across replicas, want %d", clicks, want)
			}
			// What the user sees privately in the end.
			var shown []string
			for _, m := range f.slack.Visible(channel, supervisor) {
				if m.User == supervisor {
					shown = append(shown, m.Text)
				}
			}
			t.Logf("the supervisor's private view after the redelivery: %q", shown)
			// The picker was replaced by the confirmed outcome; the
			// redelivery must not overwrite it with "nothing was done".
			confirmed := false
			for _, s := range shown {
				if strings.Contains(s, "Genesys confirmed") {
					confirmed = true
				}
				if strings.Contains(s, "Nothing was disconnected") {
					t.Errorf("the supervisor is told %q after a disconnect that happened", s)
				}
			}
			if !confirmed {
				t.Errorf("the confirmed outcome is no longer visible to the supervisor: %q", shown)
			}
		})
	}
}
