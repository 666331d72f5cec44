package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestReadinessFollowsTheSocket breaks the Socket Mode link in each way
// Slack can and holds it broken (apps.connections.open failing) long enough
// to look: /readyz must be 503 while the socket is down and 200 again after
// the reconnect; /healthz stays 200 throughout.
func TestReadinessFollowsTheSocket(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	b := startBot(t, f, botOptions{})
	if got := b.waitReady(http.StatusOK); got != "ok" {
		t.Errorf("/readyz says %q, want ok", got)
	}
	if code, body := b.get("/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}

	breakers := []struct {
		name  string
		fault slacktest.Fault // what apps.connections.open answers meanwhile
		cause func()
		heal  func()
	}{
		{
			name:  "dropped sockets, open answers an error",
			fault: slacktest.Fault{Times: slacktest.Always, Error: "internal_error"},
			cause: f.slack.DropConnections,
		},
		{
			name:  "disconnect refresh_requested, open answers HTTP 503",
			fault: slacktest.Fault{Times: slacktest.Always, Status: http.StatusServiceUnavailable},
			cause: func() { f.slack.Disconnect("refresh_requested") },
		},
		{
			name:  "pings stop, open rate limited",
			fault: slacktest.Fault{Times: slacktest.Always, Status: http.StatusTooManyRequests},
			cause: func() { f.slack.SetPings(false) },
			heal:  func() { f.slack.SetPings(true) },
		},
	}
	// Run in order on one bot: each case starts from a healthy socket.
	for _, br := range breakers {
		t.Run(br.name, func(t *testing.T) {
			failuresBefore := f.slack.Stats().OpenFailures
			f.slack.InjectFault("apps.connections.open", br.fault)
			br.cause()
			if got := b.waitReady(http.StatusServiceUnavailable); !strings.Contains(got, "slack socket") {
				t.Errorf("/readyz says %q while the socket is down, want it to name the slack socket", got)
			}
			// The bot is trying (and failing) to reconnect, still not ready.
			if err := f.slack.WaitStats(waitCtx(t), func(s slacktest.Stats) bool { return s.OpenFailures > failuresBefore }); err != nil {
				t.Fatal(err)
			}
			if code, _ := b.get("/readyz"); code != http.StatusServiceUnavailable {
				t.Errorf("/readyz = %d after a failed apps.connections.open, want 503", code)
			}
			if code, _ := b.get("/healthz"); code != http.StatusOK {
				t.Errorf("/healthz = %d while reconnecting, want 200 (the process is alive)", code)
			}
			if br.heal != nil {
				br.heal()
			}
			f.slack.ClearFaults()
			b.waitReady(http.StatusOK)
			if err := f.slack.WaitConnections(waitCtx(t), 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReadinessFollowsTheGenesysToken: ready needs the last token fetch to
// have worked. A failed fetch at start-up keeps the bot unready (it still
// runs); a fetch failing later, when a command finds its token revoked,
// makes it unready; the background check makes it ready again once the
// login server answers, without waiting for another command.
func TestReadinessFollowsTheGenesysToken(t *testing.T) {
	t.Parallel()
	t.Run("failing at start-up", func(t *testing.T) {
		t.Parallel()
		f := newFakes(t, slacktest.Options{})
		f.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpToken, Status: http.StatusServiceUnavailable})
		b := startBot(t, f, botOptions{})
		if err := f.slack.WaitConnections(waitCtx(t), 1); err != nil {
			t.Fatal(err)
		}
		b.waitConnected()
		if got := b.waitReady(http.StatusServiceUnavailable); !strings.Contains(got, "genesys token") {
			t.Errorf("/readyz says %q, want it to name the genesys token", got)
		}
		b.logs.waitLines(t, "genesys token fetch failed; not ready until it succeeds", 1)
		f.genesys.ClearFaults()
		b.waitReady(http.StatusOK)
		b.logs.waitLines(t, "genesys token fetch succeeded; ready again", 1)
	})
	t.Run("failing after a revocation", func(t *testing.T) {
		t.Parallel()
		f := newFakes(t, slacktest.Options{})
		b := startBot(t, f, botOptions{})
		b.waitReady(http.StatusOK)
		conv := f.genesys.ThreePartyConference()
		f.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpToken, Status: http.StatusServiceUnavailable})
		f.genesys.ExpireTokens()
		// The command's GET gets 401, the client fetches a new token, the
		// login server fails: the user gets an error, the bot is unready.
		answer := f.slash(t, supervisor, conv.ID, 0)
		if !strings.Contains(answer.Text+string(answer.Blocks), "Genesys") {
			t.Errorf("the user was told %q, want a Genesys error", answer.Text)
		}
		if got := b.waitReady(http.StatusServiceUnavailable); !strings.Contains(got, "genesys token") {
			t.Errorf("/readyz says %q, want it to name the genesys token", got)
		}
		f.genesys.ClearFaults()
		b.waitReady(http.StatusOK)
	})
}

// TestReconnectsAreCountedAndLogged: a refresh_requested disconnect and a
// dropped socket each make one reconnect, one log line and one count.
func TestReconnectsAreCountedAndLogged(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	b := startBot(t, f, botOptions{})
	b.waitReady(http.StatusOK)
	reconnects := func() float64 {
		v, _ := metric(b.scrape(), "disconnectbot_slack_reconnects_total", nil)
		return v
	}
	if got := reconnects(); got != 0 {
		t.Fatalf("disconnectbot_slack_reconnects_total = %v before any reconnect", got)
	}
	steps := []struct {
		name  string
		cause func()
	}{
		{"refresh_requested", func() { f.slack.Disconnect("refresh_requested") }},
		{"dropped socket", f.slack.DropConnections},
	}
	for i, st := range steps {
		n := i + 1
		st.cause()
		lines := b.logs.waitLines(t, "slack socket reconnected", n)
		if got := lines[n-1]["connections"]; got != float64(n+1) {
			t.Errorf("%s: reconnect log line says connections=%v, want %d", st.name, got, n+1)
		}
		if _, ok := lines[n-1]["down_ms"]; !ok {
			t.Errorf("%s: reconnect log line has no down_ms: %v", st.name, lines[n-1])
		}
		b.logs.waitLines(t, "slack socket lost; reconnecting", n)
		eventually(t, "the reconnect to be counted", func() bool { return reconnects() == float64(n) })
		b.waitReady(http.StatusOK)
		if got, _ := metric(b.scrape(), "disconnectbot_slack_socket_connected", nil); got != 1 {
			t.Errorf("%s: disconnectbot_slack_socket_connected = %v after the reconnect", st.name, got)
		}
	}
	// Every reconnect has exactly one line (no spurious ones from pings).
	if got, lines := reconnects(), len(b.logs.Lines("slack socket reconnected")); got != float64(lines) {
		t.Errorf("reconnects_total %v != %d log lines", got, lines)
	}
}
