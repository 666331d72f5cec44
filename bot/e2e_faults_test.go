package bot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// internals are strings that would mean an internal error text reached a
// user: Go error prefixes, operation names, Genesys error codes, URLs.
var internals = []string{"genesys:", "/api/v2", "getConversation", "patchParticipant", "getCall", "missing.permissions",
	"not.found", "too.many.requests", "service.unavailable", "http://", "127.0.0.1", "Bearer", "context deadline", "oauth"}

func checkNoInternals(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range internals {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks %q:\n%s", what, s, text)
		}
	}
}

// shortRetries keeps failure tests fast: Genesys retries give up after
// 300 ms.
func shortRetries(c *genesys.Config) { c.RetryBudget = 300 * time.Millisecond }

// TestE2EGenesysErrorsOnCommand: a Genesys failure while reading the call
// gives the caller a clear reason, what to do, and the correlation id.
func TestE2EGenesysErrorsOnCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*genesystest.Server)
		conv   string // "" = the conference
		status int
		say    []string
	}{
		{name: "403", inject: func(g *genesystest.Server) { g.DenyPermission(genesystest.PermConversationView) },
			status: 403, say: []string{"lacks the permission conversation:communication:view", "add it to the client's role"}},
		{name: "404", conv: "6a1d3c57-6c1f-4b0e-9c1e-3f0e2b8a9d01", status: 404, say: []string{"ended or the id is wrong"}},
		{name: "429", inject: func(g *genesystest.Server) { g.RateLimit(genesystest.OpGetConversation, 5, 30*time.Second) },
			status: 429, say: []string{"rate-limiting", "try again in 30 s"}},
		{name: "503", inject: func(g *genesystest.Server) { g.FailNext(genesystest.OpGetConversation, 0, 503) },
			status: 503, say: []string{"having trouble", "HTTP 503", "try again"}},
		{name: "500", inject: func(g *genesystest.Server) { g.FailNext(genesystest.OpGetConversation, 0, 500) },
			status: 500, say: []string{"having trouble", "HTTP 500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{genesysCfg: shortRetries})
			convID := tt.conv
			if convID == "" {
				convID = h.genesys.ThreePartyConference().ID
			}
			if tt.inject != nil {
				tt.inject(h.genesys)
			}
			msg := h.slash(supervisor, convID)
			out := h.rendered(msg)
			if msg.User != supervisor || len(h.slack.Buttons(msg)) != 0 {
				t.Fatalf("answer to %q with buttons:\n%s", msg.User, out)
			}
			for _, want := range tt.say {
				if !strings.Contains(out, want) {
					t.Errorf("answer lacks %q:\n%s", want, out)
				}
			}
			line := h.auditLine(map[string]string{"outcome": "genesys_error", "genesys_status": fmt.Sprint(tt.status)})
			corr, _ := line["correlation_id"].(string)
			if corr == "" || !strings.Contains(out, "correlation id") || !strings.Contains(out, corr) {
				t.Errorf("answer lacks the correlation id %q:\n%s", corr, out)
			}
			checkNoInternals(t, "the answer", out)
		})
	}
}

// TestE2EGenesysErrorsOnDisconnect: failures at the click. The channel gets
// a clear failure (reason, what to do, correlation id) and nobody is
// disconnected, or, when Genesys gave no definite answer, a "not confirmed"
// outcome that says to check the call.
func TestE2EGenesysErrorsOnDisconnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		inject    func(*genesystest.Server)
		status    int
		outcome   string
		say       []string
		inChannel bool
	}{
		{name: "403 on PATCH", inject: func(g *genesystest.Server) { g.DenyPermission(genesystest.PermConversationDisconnect) },
			status: 403, outcome: "failed", inChannel: true,
			say: []string{"could not disconnect", "lacks the permission conversation:communication:disconnect", "add it"}},
		{name: "404 on PATCH", inject: func(g *genesystest.Server) { g.FailNext(genesystest.OpPatchParticipant, 1, 404) },
			status: 404, outcome: "failed", inChannel: true, say: []string{"could not disconnect", "ended or the id is wrong"}},
		{name: "429 on PATCH", inject: func(g *genesystest.Server) { g.RateLimit(genesystest.OpPatchParticipant, 1, 30*time.Second) },
			status: 429, outcome: "failed", inChannel: true, say: []string{"could not disconnect", "rate-limiting", "try again in 30 s"}},
		{name: "503 on PATCH", inject: func(g *genesystest.Server) { g.FailNext(genesystest.OpPatchParticipant, 0, 503) },
			status: 503, outcome: "failed", inChannel: true, say: []string{"could not disconnect", "HTTP 503", "try again"}},
		// A 504 may hide a disconnect that happened: the call is re-read,
		// and here it shows the agent still on it.
		{name: "504 on PATCH", inject: func(g *genesystest.Server) { g.FailNext(genesystest.OpPatchParticipant, 0, 504) },
			status: 504, outcome: "failed", inChannel: true, say: []string{"could not disconnect", "still on the call", "HTTP 504"}},
		{name: "403 on re-read", inject: func(g *genesystest.Server) { g.DenyPermission(genesystest.PermConversationView) },
			status: 403, outcome: "genesys_error", say: []string{"Nothing was disconnected", "conversation:communication:view"}},
		{name: "503 on re-read", inject: func(g *genesystest.Server) { g.FailNext(genesystest.OpGetConversation, 0, 503) },
			status: 503, outcome: "genesys_error", say: []string{"Nothing was disconnected", "HTTP 503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{genesysCfg: shortRetries})
			conv, agent, picker := h.pickerOn(t, "agent")
			tt.inject(h.genesys)
			final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
			out := h.rendered(final)
			if final.TS != picker.TS {
				t.Errorf("the picker was not replaced by the failure")
			}
			posts := h.channelPosts(channel)
			if tt.inChannel {
				if len(posts) != 1 {
					t.Fatalf("%d channel posts, want the failure posted once", len(posts))
				}
				out = h.rendered(posts[0])
				if !strings.Contains(out, "@sam") || !strings.Contains(out, genesystest.JaneDoeName) || !strings.Contains(out, agent.ID) {
					t.Errorf("channel failure does not say who tried whom:\n%s", out)
				}
			} else if len(posts) != 0 {
				t.Errorf("%d channel posts for a disconnect never attempted", len(posts))
			}
			for _, want := range tt.say {
				if !strings.Contains(out, want) {
					t.Errorf("failure lacks %q:\n%s", want, out)
				}
			}
			line := h.auditLine(map[string]string{"action": "click", "outcome": tt.outcome, "genesys_status": fmt.Sprint(tt.status)})
			corr, _ := line["correlation_id"].(string)
			if corr == "" || !strings.Contains(out, corr) {
				t.Errorf("failure lacks the correlation id %q:\n%s", corr, out)
			}
			checkNoInternals(t, "the failure", out)
			// Truthful: nobody was disconnected behind the user's back.
			if c, _ := h.genesys.Conversation(conv.ID); func() bool { p, _ := c.Participant(agent.ID); return p.Ended() }() {
				t.Error("the agent was disconnected although the outcome says otherwise")
			}
		})
	}
}

// TestE2ESocketDisconnectMidFlow: Slack asks the bot to reconnect, or the
// socket drops, between the picker and the click or between the click's
// ack and its outcome. The disconnect happens once, its outcome is posted,
// and the bot reconnects and keeps working.
func TestE2ESocketDisconnectMidFlow(t *testing.T) {
	t.Parallel()
	refresh := func(s *slacktest.Server) { s.Disconnect("refresh_requested") }
	drop := func(s *slacktest.Server) { s.DropConnections() }
	tests := []struct {
		name       string
		cut        func(*slacktest.Server)
		afterClick bool
	}{
		{"refresh_requested before the click", refresh, false},
		{"dropped before the click", drop, false},
		{"refresh_requested before the outcome", refresh, true},
		{"dropped before the outcome", drop, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			_, agent, picker := h.pickerOn(t, "agent")
			b := h.buttonFor(picker, agent.ID)
			var final slacktest.Message
			if !tt.afterClick {
				tt.cut(h.slack)
				waitReconnect(t, h)
				final = h.click(supervisor, picker, b)
			} else {
				// Hold the PATCH so the socket goes away while Genesys works.
				h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Delay: 200 * time.Millisecond, Count: 1})
				before := h.slack.MessageCount()
				if _, err := h.slack.Click(h.ctx(), supervisor, picker, b.ActionID, b.Value); err != nil {
					t.Fatal(err)
				}
				tt.cut(h.slack)
				final = h.answerTo(supervisor, before)
				waitReconnect(t, h)
			}
			if !strings.Contains(final.Text, "confirmed") {
				t.Fatalf("outcome %q, want confirmed", final.Text)
			}
			if n := h.patches(); n != 1 {
				t.Errorf("%d PATCHes, want 1", n)
			}
			if n := len(h.channelPosts(channel)); n != 1 {
				t.Errorf("%d channel posts, want 1", n)
			}
			// Still working on the new connection.
			next := h.genesys.ThreePartyConference()
			picker = h.slash(supervisor, next.ID)
			ext := participantByPurpose(t, next, "external")
			if final := h.click(supervisor, picker, h.buttonFor(picker, ext.ID)); !strings.Contains(final.Text, "confirmed") {
				t.Fatalf("after the reconnect the outcome was %q", final.Text)
			}
			if !h.app.Connected() {
				t.Error("runner reports the socket down")
			}
		})
	}
}

// waitReconnect waits until the bot opened a second connection.
func waitReconnect(t *testing.T, h *harness) {
	t.Helper()
	if err := h.slack.WaitStats(h.ctx(), func(s slacktest.Stats) bool { return s.Connects >= 2 }); err != nil {
		t.Fatalf("the bot did not reconnect: %v", err)
	}
	if err := h.slack.WaitConnections(h.ctx(), 1); err != nil {
		t.Fatal(err)
	}
}

// TestE2ETokenExpiryMidFlow: the Genesys token expires between the picker
// and the click; the bot gets a new one and the disconnect works, once.
func TestE2ETokenExpiryMidFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	_, agent, picker := h.pickerOn(t, "agent")
	h.genesys.ExpireTokens()
	final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
	if !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("outcome %q, want confirmed", final.Text)
	}
	if n := h.genesys.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2 (first, and after expiry)", n)
	}
	unauthorized, accepted := 0, 0
	for _, r := range h.genesys.Requests() {
		switch {
		case r.Status == http.StatusUnauthorized:
			unauthorized++
		case r.Op == genesystest.OpPatchParticipant && r.Status == http.StatusAccepted:
			accepted++
		}
	}
	if unauthorized != 1 || accepted != 1 || h.patches() != 1 {
		t.Errorf("%d 401s, %d accepted PATCHes of %d; want 1, 1 of 1", unauthorized, accepted, h.patches())
	}
}

// TestE2ESlackPostFailures: the channel post of an outcome fails. The
// outcome still reaches the channel (through the click's response_url) or
// at least the user, and a log line says so.
func TestE2ESlackPostFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		inject    func(*slacktest.Server)
		fellBack  bool // posted through response_url instead of chat.postMessage
		postCalls int
	}{
		{"channel_not_found", func(s *slacktest.Server) { s.FailNext("chat.postMessage", 1, "channel_not_found") }, true, 1},
		{"not_in_channel", func(s *slacktest.Server) { s.FailNext("chat.postMessage", 1, "not_in_channel") }, true, 1},
		{"invalid_blocks", func(s *slacktest.Server) { s.FailNext("chat.postMessage", 1, "invalid_blocks") }, true, 1},
		{"429 beyond the wait budget", func(s *slacktest.Server) { s.RateLimitNext("chat.postMessage", 1, 30*time.Second) }, true, 1},
		{"500", func(s *slacktest.Server) { s.ServerErrorNext("chat.postMessage", 1, 500) }, true, 1},
		{"429 within the wait budget", func(s *slacktest.Server) { s.RateLimitNext("chat.postMessage", 1, time.Second) }, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			_, agent, picker := h.pickerOn(t, "agent")
			tt.inject(h.slack)
			final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
			if !strings.Contains(final.Text, "confirmed") || final.TS != picker.TS {
				t.Fatalf("the user was told %q, want the outcome in place of the picker", final.Text)
			}
			posts := h.channelPosts(channel)
			if len(posts) != 1 || !strings.Contains(posts[0].Text, "confirmed") {
				t.Fatalf("%d channel posts, want the outcome once", len(posts))
			}
			if got := posts[0].Kind == slacktest.KindResponse; got != tt.fellBack {
				t.Errorf("outcome posted as %s, want through response_url = %v", posts[0].Kind, tt.fellBack)
			}
			if n := len(h.slack.CallsTo("chat.postMessage")); n != tt.postCalls {
				t.Errorf("%d chat.postMessage calls, want %d", n, tt.postCalls)
			}
			if tt.fellBack {
				waitLog(t, h, "posting outcome to channel failed; answering in channel through response_url")
			}
			if n := h.patches(); n != 1 {
				t.Errorf("%d PATCHes", n)
			}
		})
	}
}

// TestE2ESlowGenesys: Genesys answers slower than the bot waits. The
// outcome is still reported, and it is the truth: "not confirmed" when the
// request may have been carried out, never "disconnected".
func TestE2ESlowGenesys(t *testing.T) {
	t.Parallel()
	t.Run("leg drops after the confirm timeout", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{genesysCfg: func(c *genesys.Config) { c.ConfirmTimeout = 200 * time.Millisecond }})
		_, agent, picker := h.pickerOn(t, "agent")
		h.genesys.SetDisconnectDelay(time.Second)
		final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
		posts := h.channelPosts(channel)
		if len(posts) != 1 {
			t.Fatalf("%d channel posts", len(posts))
		}
		for _, m := range []string{h.rendered(final), h.rendered(posts[0])} {
			if !strings.Contains(m, "accepted the request but had not confirmed it") || !strings.Contains(m, "check the call") {
				t.Errorf("outcome is not an honest 'not confirmed':\n%s", m)
			}
		}
		h.auditLine(map[string]string{"action": "click", "outcome": "unconfirmed", "genesys_status": "202"})
	})
	t.Run("PATCH outlives the work timeout", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{workTimeout: 500 * time.Millisecond})
		_, agent, picker := h.pickerOn(t, "agent")
		h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Delay: 3 * time.Second})
		final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
		posts := h.channelPosts(channel)
		if len(posts) != 1 {
			t.Fatalf("%d channel posts: the outcome was lost", len(posts))
		}
		for _, m := range []string{h.rendered(final), h.rendered(posts[0])} {
			if !strings.Contains(m, "not confirmed") || !strings.Contains(m, "did not answer in time") || strings.Contains(m, "disconnected *") {
				t.Errorf("outcome is not an honest 'not confirmed':\n%s", m)
			}
			checkNoInternals(t, "the outcome", m)
		}
		h.auditLine(map[string]string{"action": "click", "outcome": "unknown"})
	})
	t.Run("PATCH outlives the HTTP timeout", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{genesysCfg: func(c *genesys.Config) {
			c.HTTPClient = &http.Client{Timeout: 150 * time.Millisecond}
			c.RetryBudget = 200 * time.Millisecond
		}})
		_, agent, picker := h.pickerOn(t, "agent")
		h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Delay: 2 * time.Second})
		final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
		if out := h.rendered(final); !strings.Contains(out, "not confirmed") || !strings.Contains(out, "Check the call") {
			t.Errorf("outcome is not an honest 'not confirmed':\n%s", out)
		}
		if n := h.patches(); n < 1 || n > 3 {
			t.Errorf("%d PATCH attempts within a 200 ms budget", n)
		}
	})
	t.Run("read outlives the work timeout", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{workTimeout: 300 * time.Millisecond})
		conv := h.genesys.ThreePartyConference()
		h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpGetConversation, Delay: 3 * time.Second})
		msg := h.slash(supervisor, conv.ID)
		if out := h.rendered(msg); !strings.Contains(out, "did not answer in time") {
			t.Errorf("a slow read answered:\n%s", out)
		}
	})
}

// clickAll clicks each picker's button for the participant concurrently,
// as several supervisors would.
func clickAll(t *testing.T, h *harness, pickers []slacktest.Message, pids []string) {
	t.Helper()
	buttons := make([]slacktest.Button, len(pickers))
	for i := range pickers {
		buttons[i] = h.buttonFor(pickers[i], pids[i])
	}
	concurrently(t, len(pickers), func(i int) error {
		_, err := h.slack.Click(h.ctx(), supervisor, pickers[i], buttons[i].ActionID, buttons[i].Value)
		return err
	})
}

// TestE2EGenesysRateLimitBurst (reliability): a burst of 429s with
// Retry-After on the PATCH while several disconnects run at once. Every
// disconnect completes or is reported failed with the reason; none is lost
// or done twice; the retries stay within the budget.
func TestE2EGenesysRateLimitBurst(t *testing.T) {
	t.Parallel()
	const (
		calls      = 4
		retryAfter = time.Second
		budget     = 1500 * time.Millisecond
	)
	h := newHarness(t, harnessOptions{genesysCfg: func(c *genesys.Config) { c.RetryBudget = budget }})
	var pickers []slacktest.Message
	var convs, pids []string
	for range calls {
		c := h.genesys.ThreePartyConference()
		pickers = append(pickers, h.slash(supervisor, c.ID))
		convs, pids = append(convs, c.ID), append(pids, participantByPurpose(t, c, "agent").ID)
	}
	h.genesys.RateLimit(genesystest.OpPatchParticipant, calls+1, retryAfter)
	clickAll(t, h, pickers, pids)
	waitAudits(h, "click", calls)

	byParticipant := map[string][]genesystest.Request{}
	for _, r := range h.genesys.Requests() {
		if r.Op == genesystest.OpPatchParticipant {
			pid := r.Path[strings.LastIndex(r.Path, "/")+1:]
			byParticipant[pid] = append(byParticipant[pid], r)
		}
	}
	confirmed := 0
	for i, pid := range pids {
		posts := 0
		var post string
		for _, m := range h.channelPosts(channel) {
			if strings.Contains(string(m.Blocks), pid) {
				posts++
				post = h.rendered(m)
			}
		}
		if posts != 1 {
			t.Errorf("participant %d: %d channel outcomes, want exactly 1", i, posts)
			continue
		}
		reqs := byParticipant[pid]
		accepted := 0
		for _, r := range reqs {
			if r.Status == http.StatusAccepted {
				accepted++
			}
		}
		c, _ := h.genesys.Conversation(convs[i])
		p, _ := c.Participant(pid)
		switch {
		case strings.Contains(post, "Genesys confirmed"):
			confirmed++
			if accepted != 1 || !p.Ended() {
				t.Errorf("participant %d: confirmed with %d accepted PATCHes, state %s", i, accepted, p.State)
			}
		case strings.Contains(post, "could not disconnect") && strings.Contains(post, "rate-limiting"):
			if accepted != 0 || p.Ended() {
				t.Errorf("participant %d: reported failed but %d PATCHes were accepted, state %s", i, accepted, p.State)
			}
		default:
			t.Errorf("participant %d: outcome is neither confirmed nor a rate-limit failure:\n%s", i, post)
		}
		// The budget bounds the retries: at most 1 + budget/Retry-After
		// attempts, all within the budget of the first.
		if max := 1 + int(budget/retryAfter); len(reqs) > max {
			t.Errorf("participant %d: %d PATCH attempts, budget allows %d", i, len(reqs), max)
		}
		if len(reqs) > 1 {
			if span := reqs[len(reqs)-1].Time.Sub(reqs[0].Time); span > budget+200*time.Millisecond {
				t.Errorf("participant %d: retried for %s, budget %s", i, span, budget)
			}
		}
	}
	if confirmed == 0 {
		t.Error("no disconnect got through the burst")
	}
}

// TestE2EGenesys5xxBurst (reliability): 503s on the PATCH. A short burst is
// retried away: every disconnect completes, once. A long one fails every
// disconnect with the reason, and disconnects nobody.
func TestE2EGenesys5xxBurst(t *testing.T) {
	t.Parallel()
	const calls = 3
	for _, tt := range []struct {
		name  string
		burst int // 503s injected; 0 = until cleared
	}{{"short burst", calls}, {"outage", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			budget := time.Second
			if tt.burst == 0 {
				budget = 400 * time.Millisecond // fail fast: every attempt fails anyway
			}
			h := newHarness(t, harnessOptions{genesysCfg: func(c *genesys.Config) { c.RetryBudget = budget }})
			var pickers []slacktest.Message
			var pids []string
			for range calls {
				c := h.genesys.ThreePartyConference()
				pickers = append(pickers, h.slash(supervisor, c.ID))
				pids = append(pids, participantByPurpose(t, c, "agent").ID)
			}
			h.genesys.FailNext(genesystest.OpPatchParticipant, tt.burst, 503)
			clickAll(t, h, pickers, pids)
			lines := waitAudits(h, "click", calls)
			want := "confirmed"
			if tt.burst == 0 {
				want = "failed"
			}
			for _, l := range lines {
				if l["outcome"] != want {
					t.Errorf("click outcome %v, want %s", l["outcome"], want)
				}
			}
			if n := len(h.channelPosts(channel)); n != calls {
				t.Errorf("%d channel outcomes, want %d", n, calls)
			}
			accepted := 0
			for _, r := range h.genesys.Requests() {
				if r.Op == genesystest.OpPatchParticipant && r.Status == http.StatusAccepted {
					accepted++
				}
			}
			if tt.burst > 0 && (accepted != calls || h.patches() != calls+tt.burst) {
				t.Errorf("%d accepted of %d PATCHes, want %d of %d", accepted, h.patches(), calls, calls+tt.burst)
			}
			if tt.burst == 0 {
				if accepted != 0 {
					t.Errorf("%d PATCHes accepted during the outage", accepted)
				}
				for _, m := range h.channelPosts(channel) {
					if out := h.rendered(m); !strings.Contains(out, "HTTP 503") || !strings.Contains(out, "try again") {
						t.Errorf("outage outcome:\n%s", out)
					}
				}
			}
		})
	}
}

// TestE2EResponseURLFailsFallsBackToEphemeral: a response_url that Slack
// refuses (expired, used up, or a Slack hiccup) must not swallow the answer:
// the picker, and after a click the outcome, reach the user through
// chat.postEphemeral instead.
func TestE2EResponseURLFailsFallsBackToEphemeral(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")

	h.slack.FailNext(slacktest.MethodResponseURL, 1, "expired_url")
	picker := h.slash(supervisor, conv.ID)
	if picker.Kind != slacktest.KindEphemeral || picker.User != supervisor || len(h.slack.Buttons(picker)) != 4 {
		t.Fatalf("after a failed response_url the picker came as %s to %q with %d buttons, want an ephemeral post with 4", picker.Kind, picker.User, len(h.slack.Buttons(picker)))
	}

	// Every response_url of the click fails too: the outcome is still
	// posted in the channel and shown to the user.
	h.slack.InjectFault(slacktest.MethodResponseURL, slacktest.Fault{Times: slacktest.Always, Status: 500})
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, picker, h.buttonFor(picker, agent.ID).ActionID, h.buttonFor(picker, agent.ID).Value); err != nil {
		t.Fatal(err)
	}
	_, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindEphemeral && m.User == supervisor && strings.Contains(m.Text, "confirmed")
	})
	if err != nil {
		t.Fatalf("the outcome never reached the supervisor privately: %v", err)
	}
	if n := len(h.channelPosts(channel)); n != 1 {
		t.Errorf("%d channel posts, want the 1 outcome", n)
	}
	if lines := h.waitLines("slack reply through response_url failed; posting it as an ephemeral message", 2); len(lines) < 2 {
		t.Errorf("%d fallback log lines, want one per failed reply", len(lines))
	}
}
