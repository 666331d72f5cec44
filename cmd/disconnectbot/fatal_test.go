package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

// TestFatalSlackAuth: when apps.connections.open refuses the app-level
// token for good, the bot must stop (so the orchestrator restarts it and
// someone notices), with a log line that says what to fix, instead of
// reconnecting forever.
func TestFatalSlackAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault slacktest.Fault
	}{
		{"invalid_auth", slacktest.Fault{Times: slacktest.Always, Error: "invalid_auth"}},
		{"token_revoked", slacktest.Fault{Times: slacktest.Always, Error: "token_revoked"}},
		{"account_inactive", slacktest.Fault{Times: slacktest.Always, Error: "account_inactive"}},
		{"HTTP 404", slacktest.Fault{Times: slacktest.Always, Status: http.StatusNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t, slacktest.Options{})
			f.slack.InjectFault("apps.connections.open", tc.fault)
			b := startBot(t, f, botOptions{})
			var err error
			select {
			case err = <-b.done:
				b.done <- err // for stop in the cleanup
			case <-time.After(waitTimeout):
				t.Fatalf("runBot kept running with a refused app token\n%s", b.logs)
			}
			if !errors.Is(err, bot.ErrFatalAuth) {
				t.Errorf("runBot returned %v, want ErrFatalAuth", err)
			}
			if st := f.slack.Stats(); st.OpenFailures != 1 || st.Opens != 0 {
				t.Errorf("apps.connections.open called %d times (%d failed), want exactly 1 failed call", st.Opens+st.OpenFailures, st.OpenFailures)
			}
			lines := b.logs.Lines("slack refused the app-level token (slack.app_token); exiting instead of reconnecting forever")
			if len(lines) != 1 {
				t.Fatalf("%d fatal log lines, want 1\n%s", len(lines), b.logs)
			}
			if lines[0]["level"] != "ERROR" {
				t.Errorf("fatal line at level %v", lines[0]["level"])
			}
			if want := strings.ReplaceAll(tc.name, "HTTP ", ""); !strings.Contains(lines[0]["err"].(string), want) {
				t.Errorf("fatal line's err %q does not say %q", lines[0]["err"], want)
			}
			if got := b.logs.Lines("disconnectbot stopped"); len(got) != 1 {
				t.Errorf("%d stop lines, want 1", len(got))
			}
		})
	}
}

// TestFatalSlackAuthAfterRunning: the token is revoked while the bot runs;
// the next reconnect finds out and the bot exits.
func TestFatalSlackAuthAfterRunning(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	b := startBot(t, f, botOptions{})
	b.waitReady(http.StatusOK)
	f.slack.InjectFault("apps.connections.open", slacktest.Fault{Times: slacktest.Always, Error: "token_revoked"})
	f.slack.Disconnect("refresh_requested")
	select {
	case err := <-b.done:
		b.done <- err
		if !errors.Is(err, bot.ErrFatalAuth) {
			t.Errorf("runBot returned %v, want ErrFatalAuth", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("runBot kept running after the token was revoked\n%s", b.logs)
	}
}

// TestRunCommandFatalErrors runs `disconnectbot run` in-process: refused
// credentials at start-up end it with exit code 1 and a message naming the
// key to fix.
func TestRunCommandFatalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		break_ func(*fakes, env)
		wants  []string
		noOpen bool // it must stop before opening a socket
	}{
		{
			name:   "auth.test fails",
			break_: func(f *fakes, _ env) { f.slack.FailNext("auth.test", 1, "invalid_auth") },
			wants:  []string{"slack auth.test with slack.bot_token failed", "invalid_auth"},
			noOpen: true,
		},
		{
			name:   "wrong bot token",
			break_: func(_ *fakes, e env) { e["SLACK_BOT_TOKEN"] = "xoxb-not-the-token" },
			wants:  []string{"slack.bot_token", "invalid_auth"},
			noOpen: true,
		},
		{
			name:   "app token refused",
			break_: func(f *fakes, _ env) { f.slack.FailNext("apps.connections.open", 1, "invalid_auth") },
			wants:  []string{"slack refused the app-level token", "slack.app_token", "invalid_auth"},
		},
		{
			name:   "wrong app token",
			break_: func(_ *fakes, e env) { e["SLACK_APP_TOKEN"] = "xapp-1-not-the-token" },
			wants:  []string{"slack refused the app-level token", "invalid_auth"},
		},
		{
			name:   "genesys client refused",
			break_: func(_ *fakes, e env) { e["GENESYSCLOUD_OAUTHCLIENT_SECRET"] = "wrong" },
			wants:  []string{"genesys refused the OAuth client", "genesys.client_secret"},
			noOpen: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t, slacktest.Options{})
			e := f.env()
			tc.break_(f, e)
			stderr := &syncBuffer{}
			a := &app{stdin: strings.NewReader(""), stdout: &syncBuffer{}, stderr: stderr, lookupEnv: e.lookup, stdinIsTerminal: func() bool { return false }}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			code := a.execute(ctx, []string{"run"})
			if ctx.Err() != nil {
				t.Fatalf("run did not stop by itself\n%s", stderr)
			}
			if code != exitFailure {
				t.Errorf("exit code %d, want %d\n%s", code, exitFailure, stderr)
			}
			for _, w := range tc.wants {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("output does not mention %q:\n%s", w, stderr)
				}
			}
			if st := f.slack.Stats(); tc.noOpen && st.Opens+st.OpenFailures != 0 {
				t.Errorf("it opened Socket Mode (%d) before failing", st.Opens+st.OpenFailures)
			}
			for _, secret := range []string{f.slack.BotToken(), f.slack.AppToken(), "xoxb-not-the-token", "xapp-1-not-the-token", e["GENESYSCLOUD_OAUTHCLIENT_SECRET"]} {
				if strings.Contains(stderr.String(), secret) {
					t.Errorf("output contains the secret %q", secret)
				}
			}
		})
	}
}

// TestCheckCommand runs `disconnectbot check` against the fakes: everything
// passes with a good setup; a missing Genesys permission and a refused app
// token are each reported and make it exit 1.
func TestCheckCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		break_ func(*fakes)
		code   int
		wants  []string
	}{
		{"all good", func(*fakes) {}, exitOK, []string{"All checks passed.", "role has conversation:communication:disconnect"}},
		{"missing permission", func(f *fakes) { f.genesys.DenyPermission("conversation:communication:disconnect") }, exitFailure,
			[]string{"FAIL role lacks conversation:communication:disconnect", "1 checks failed"}},
		{"optional permission missing only warns", func(f *fakes) { f.genesys.DenyPermission("analytics:conversationDetail:view") }, exitOK,
			[]string{"warn role lacks analytics:conversationDetail:view: optional", "role has routing:queue:view", "All checks passed."}},
		{"app token refused", func(f *fakes) { f.slack.FailNext("apps.connections.open", 1, "invalid_auth") }, exitFailure,
			[]string{"FAIL apps.connections.open with slack.app_token: invalid_auth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t, slacktest.Options{})
			tc.break_(f)
			stdout, stderr := &syncBuffer{}, &syncBuffer{}
			a := &app{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, lookupEnv: f.env().lookup, stdinIsTerminal: func() bool { return false }}
			code := a.execute(waitCtx(t), []string{"check"})
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			all := stdout.String() + stderr.String()
			for _, w := range tc.wants {
				if !strings.Contains(all, w) {
					t.Errorf("output does not contain %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, f.slack.BotToken()) || strings.Contains(all, f.slack.AppToken()) {
				t.Error("check printed a token")
			}
		})
	}
}
