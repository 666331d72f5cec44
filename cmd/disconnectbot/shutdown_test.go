package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// gatedGenesys makes the bot's Genesys PATCHes wait at g, and reports each
// one that reaches it on reached.
func gatedGenesys(g *gate, reached chan<- *http.Request) func(*genesys.Config) {
	return func(c *genesys.Config) {
		c.HTTPClient = &http.Client{Timeout: waitTimeout, Transport: gatedTransport{
			g: g, next: http.DefaultTransport, reached: reached,
			match: func(r *http.Request) bool { return r.Method == http.MethodPatch },
		}}
	}
}

// TestShutdownFinishesInFlightDisconnect cancels the bot's context (what
// SIGTERM does) while a click's PATCH is held on its way to Genesys. The
// bot must close its socket at once (no new envelopes), keep answering
// /readyz with 503 "shutting down", let the disconnect finish, post its
// outcome to the channel, and return nil.
func TestShutdownFinishesInFlightDisconnect(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	hold := newGate()
	hold.Close()
	reached := make(chan *http.Request, 1)
	b := startBot(t, f, botOptions{opts: runOptions{genesysTuning: gatedGenesys(hold, reached)}})
	b.waitReady(http.StatusOK)

	conv, customer, picker := f.pickerOn(t, "customer")
	before := f.click(t, picker, customer.ID)
	select {
	case <-reached:
	case <-time.After(waitTimeout):
		t.Fatal("the click's PATCH never left the bot")
	}
	opens := f.slack.Stats().Opens

	b.cancel() // SIGTERM
	if err := f.slack.WaitStats(waitCtx(t), func(s slacktest.Stats) bool { return s.Closed >= 1 }); err != nil {
		t.Fatal(err)
	}
	b.logs.waitLines(t, "slack socket closed; no new commands are taken", 1)
	if n := f.slack.Connections(); n != 0 {
		t.Errorf("%d Socket Mode connections open during shutdown, want 0", n)
	}
	// The HTTP endpoints outlive the socket.
	if got := b.waitReady(http.StatusServiceUnavailable); got != "shutting down" {
		t.Errorf("/readyz during shutdown says %q", got)
	}
	// A command typed now cannot reach this replica: no connection takes it.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := f.slack.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: "/disconnect", Text: conv.ID})
	cancel()
	if err == nil {
		t.Error("a command was delivered after shutdown began")
	}
	if len(f.channelPosts(channel)) != 0 {
		t.Fatal("the outcome was posted while the PATCH was still held")
	}

	hold.Open()
	final := f.finalAnswer(t, supervisor, before)
	if !strings.Contains(final.Text, "confirmed") {
		t.Errorf("the user's answer is %q, want the confirmed outcome", final.Text)
	}
	if err := b.stop(); err != nil {
		t.Errorf("runBot returned %v, want nil (exit 0)", err)
	}
	posts := f.channelPosts(channel)
	if len(posts) != 1 || !strings.Contains(f.slack.Render(posts[0]), customer.ID) {
		t.Fatalf("channel posts after shutdown: %d, want the one outcome", len(posts))
	}
	f.waitState(t, conv.ID, customer.ID, "disconnected")
	if got := f.patches(); got != 1 {
		t.Errorf("%d PATCHes, want 1", got)
	}
	if got := f.slack.Stats().Opens; got != opens {
		t.Errorf("the bot reconnected during shutdown (%d opens, was %d)", got, opens)
	}
	b.logs.waitLines(t, "disconnectbot stopped", 1)
	if audits := b.logs.Lines("audit"); len(audits) != 2 || audits[1]["outcome"] != "confirmed" {
		t.Errorf("audit lines %v, want command + confirmed click", audits)
	}
}

// TestShutdownGraceRunsOut: work that outlives shutdown.grace is cancelled
// and runBot still returns (nil) instead of hanging until SIGKILL.
func TestShutdownGraceRunsOut(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	hold := newGate()
	hold.Close()
	t.Cleanup(hold.Open)
	reached := make(chan *http.Request, 1)
	b := startBot(t, f, botOptions{
		env:  env{"DISCONNECTBOT_SHUTDOWN_GRACE": "300ms"},
		opts: runOptions{genesysTuning: gatedGenesys(hold, reached)},
	})
	b.waitReady(http.StatusOK)
	_, customer, picker := f.pickerOn(t, "customer")
	f.click(t, picker, customer.ID)
	<-reached
	if err := b.stop(); err != nil {
		t.Errorf("runBot returned %v, want nil", err)
	}
	if lines := b.logs.Lines("grace period over; cancelling in-flight work"); len(lines) != 1 {
		t.Errorf("%d 'grace period over' lines, want 1", len(lines))
	}
}

// TestRunCommandExitsZeroOnCancel runs `disconnectbot run` in-process and
// cancels it as main does on SIGTERM.
func TestRunCommandExitsZeroOnCancel(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	e := f.env()
	logs := &syncBuffer{}
	a := &app{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: logs, lookupEnv: e.lookup, stdinIsTerminal: func() bool { return false }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- a.execute(ctx, []string{"run"}) }()
	if err := f.slack.WaitConnections(waitCtx(t), 1); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit code %d, want 0\n%s", c, logs)
		}
	case <-time.After(waitTimeout):
		t.Fatal("run did not return after cancel")
	}
	if len(logs.Lines("disconnectbot stopped")) != 1 {
		t.Errorf("no 'disconnectbot stopped' line:\n%s", logs)
	}
}

// TestBinarySIGTERM is the real signal path: the built binary, configured
// only through the environment, gets SIGTERM while a disconnect is slow at
// Genesys; it finishes it, posts the outcome, logs "disconnectbot stopped"
// and exits 0.
func TestBinarySIGTERM(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	f := newFakes(t, slacktest.Options{})
	e := f.env()
	e["DISCONNECTBOT_LOG_LEVEL"] = "info"
	stderr := &syncBuffer{}
	cmd := exec.Command(bin, "run")
	cmd.Env = e.environ()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	if err := f.slack.WaitConnections(waitCtx(t), 1); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	// It serves its endpoints where its log says.
	serving := stderr.waitLines(t, "serving /healthz, /readyz and /metrics", 1)
	addr, _ := serving[0]["addr"].(string)
	eventually(t, "the binary's /readyz to be 200", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if starts := stderr.Lines("starting disconnectbot"); len(starts) != 1 || starts[0]["version"] != testVersion {
		t.Errorf("start line %v, want version %s", starts, testVersion)
	}

	conv := f.genesys.ThreePartyConference()
	customer := participantByPurpose(t, conv, "customer")
	// Genesys takes a while to accept the PATCH.
	f.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Delay: 500 * time.Millisecond, Count: 1})
	picker := f.slash(t, supervisor, conv.ID, 0)
	before := f.click(t, picker, customer.ID)
	if _, err := f.slack.WaitMessageAfter(waitCtx(t), before, func(m slacktest.Message) bool { return strings.Contains(m.Text, "Disconnecting") }); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("the process did not exit after SIGTERM\n%s", stderr)
	}
	if lines := stderr.Lines("disconnectbot stopped"); len(lines) != 1 || lines[0]["err"] != "" {
		t.Errorf("stop line %v, want one with no error\n%s", lines, stderr)
	}
	posts := f.channelPosts(channel)
	if len(posts) != 1 || !strings.Contains(f.slack.Render(posts[0]), "confirmed") {
		t.Errorf("channel posts: %d, want the confirmed outcome", len(posts))
	}
	if strings.Contains(stderr.String(), f.slack.BotToken()) || strings.Contains(stderr.String(), genesystest.DefaultClientSecret) {
		t.Error("the log contains a secret")
	}
}
