package main

import (
	"bufio"
	"context"
	"fmt"
	"go.uber.org/goleak"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/disconnectbot/disconnectbot/bot/logtest"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// Slack users and channels of the test workspace.
const (
	supervisor = "U0SUPER001" // on the allow-list
	stranger   = "U0STRANGE1" // not allowed
	channel    = "C0SUPPORT1"
)

// Test timings: the fake pings every fakePing, the bot declares the socket
// dead after botPing without one (slack-go notices within 2×botPing).
const (
	fakePing = 100 * time.Millisecond
	botPing  = time.Second
)

// waitTimeout bounds every wait for something the bot does; it only
// matters when a test is about to fail.
const waitTimeout = 15 * time.Second

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or waitTimeout passes. It is a wait,
// not a timing assertion: a slow machine only makes it take longer.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is the bot's log, read while the bot writes.
type syncBuffer struct{ logtest.Buffer }

// waitLines waits until the log has at least n records with message msg.
func (b *syncBuffer) waitLines(t *testing.T, msg string, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	eventually(t, fmt.Sprintf("%d log lines %q", n, msg), func() bool {
		lines = b.Lines(msg)
		return len(lines) >= n
	})
	return lines
}

// env is a test environment for app.lookupEnv and loadConfig.
type env map[string]string

// lookup is os.LookupEnv over e: a key present with "" is set but empty.
func (e env) lookup(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// fakes are the fake Slack workspace and the Genesys emulator.
type fakes struct {
	slack   *slacktest.Server
	genesys *genesystest.Server
}

func newFakes(t *testing.T, opts slacktest.Options, gopts ...genesystest.Option) *fakes {
	t.Helper()
	if opts.PingInterval == 0 {
		opts.PingInterval = fakePing
	}
	sl := slacktest.New(opts)
	gen := genesystest.New(append([]genesystest.Option{genesystest.WithDisconnectDelay(10 * time.Millisecond)}, gopts...)...)
	t.Cleanup(func() {
		sl.Close()
		gen.Close()
	})
	sl.AddUser(slacktest.User{ID: supervisor, Name: "sam", RealName: "Sam Supervisor", Email: "sam@example.com"})
	sl.AddUser(slacktest.User{ID: stranger, Name: "gary", RealName: "Gary Guest", Email: "gary@example.com"})
	sl.AddChannel(slacktest.Channel{ID: channel, Name: "supervisors"})
	return &fakes{slack: sl, genesys: gen}
}

// env returns the environment that points the bot at the fakes, the way
// an operator configures it: conventional names for the credentials,
// DISCONNECTBOT_ names for the rest.
func (f *fakes) env() env {
	return env{
		"SLACK_APP_TOKEN":                   f.slack.AppToken(),
		"SLACK_BOT_TOKEN":                   f.slack.BotToken(),
		"DISCONNECTBOT_SLACK_API_URL":       f.slack.APIURL(),
		"GENESYSCLOUD_OAUTHCLIENT_ID":       genesystest.DefaultClientID,
		"GENESYSCLOUD_OAUTHCLIENT_SECRET":   genesystest.DefaultClientSecret,
		"DISCONNECTBOT_GENESYS_API_URL":     f.genesys.URL,
		"DISCONNECTBOT_GENESYS_LOGIN_URL":   f.genesys.URL,
		"DISCONNECTBOT_AUTHZ_ALLOWED_USERS": supervisor,
		"DISCONNECTBOT_HTTP_ADDR":           "127.0.0.1:0",
		"DISCONNECTBOT_LOG_LEVEL":           "debug",
		"DISCONNECTBOT_SHUTDOWN_GRACE":      "10s",
	}
}

// testBot is one runBot in the test process.
type testBot struct {
	t      *testing.T
	proc   *botProcess
	logs   *syncBuffer
	url    string // http://host:port of /healthz, /readyz, /metrics
	cancel context.CancelFunc
	done   chan error

	stopOnce sync.Once
	err      error
}

type botOptions struct {
	env  env // overrides of fakes.env()
	opts runOptions
}

// startBot runs the bot against the fakes and waits until it is wired
// (not until it is connected: see waitConnected).
func startBot(t *testing.T, f *fakes, bo botOptions) *testBot {
	t.Helper()
	e := f.env()
	for k, v := range bo.env {
		e[k] = v
	}
	cfg, err := loadConfig("", e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	var p problems
	cfg.validateRun(&p)
	if err := p.err(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts := bo.opts
	if opts.pingInterval == 0 {
		opts.pingInterval = botPing
	}
	if opts.tokenCheckInterval == 0 {
		opts.tokenCheckInterval = 20 * time.Millisecond
	}
	tuning := opts.genesysTuning
	opts.genesysTuning = func(g *genesys.Config) {
		g.ConfirmInterval = 10 * time.Millisecond
		g.ConfirmTimeout = 3 * time.Second
		g.RetryBudget = 300 * time.Millisecond
		if tuning != nil {
			tuning(g)
		}
	}
	ready := make(chan *botProcess, 1)
	opts.ready = func(p *botProcess) { ready <- p }

	ctx, cancel := context.WithCancel(context.Background())
	b := &testBot{t: t, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- runBot(ctx, cfg, newLogger(logs, cfg), opts) }()
	select {
	case b.proc = <-ready:
	case err := <-b.done:
		// A bot that fails fast (a refused app token) may have been wired
		// and returned before this select ran: both are ready then, and
		// select picks either.
		select {
		case b.proc = <-ready:
			b.done <- err
		default:
			cancel()
			t.Fatalf("runBot returned before it was wired: %v\nlog:\n%s", err, logs)
		}
	case <-time.After(waitTimeout):
		cancel()
		t.Fatalf("runBot was not wired in time\nlog:\n%s", logs)
	}
	b.url = "http://" + b.proc.addr
	t.Cleanup(func() { _ = b.stop() })
	return b
}

// stop cancels the bot's context (what SIGTERM does) and returns runBot's
// result.
func (b *testBot) stop() error {
	b.stopOnce.Do(func() {
		b.cancel()
		select {
		case b.err = <-b.done:
		case <-time.After(waitTimeout):
			b.t.Errorf("runBot did not return within %s of cancel\nlog:\n%s", waitTimeout, b.logs)
		}
	})
	return b.err
}

func (b *testBot) waitConnected() {
	b.t.Helper()
	eventually(b.t, "the bot's socket to connect", b.proc.app.Connected)
}

// get fetches path from the bot's HTTP endpoints.
func (b *testBot) get(path string) (int, string) {
	b.t.Helper()
	resp, err := http.Get(b.url + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady waits until /readyz answers with status.
func (b *testBot) waitReady(status int) string {
	b.t.Helper()
	var last string
	eventually(b.t, fmt.Sprintf("/readyz to answer %d", status), func() bool {
		code, body := b.get("/readyz")
		last = body
		return code == status
	})
	return strings.TrimSpace(last)
}

// slash types /disconnect text as user (optionally on one connection) and
// returns the first message the bot shows in answer.
func (f *fakes) slash(t *testing.T, user, text string, connID int) slacktest.Message {
	t.Helper()
	before := f.slack.MessageCount()
	if _, err := f.slack.SendSlashCommand(waitCtx(t), slacktest.SlashCommand{ChannelID: channel, UserID: user, Command: "/disconnect", Text: text, ConnID: connID}); err != nil {
		t.Fatalf("slash command: %v", err)
	}
	msg, err := f.slack.WaitMessageAfter(waitCtx(t), before, func(m slacktest.Message) bool { return m.User == user })
	if err != nil {
		t.Fatalf("no answer to /disconnect %s: %v", text, err)
	}
	return msg
}

// buttonFor returns the Disconnect button of the participant in msg.
func (f *fakes) buttonFor(t *testing.T, msg slacktest.Message, participantID string) slacktest.Button {
	t.Helper()
	for _, b := range f.slack.Buttons(msg) {
		if strings.HasSuffix(b.Value, ":"+participantID) {
			return b
		}
	}
	t.Fatalf("no button for participant %s in %s", participantID, f.slack.Render(msg))
	return slacktest.Button{}
}

// clickOn builds the block_actions Slack sends when user clicks b on msg,
// to deliver on a chosen connection (slacktest's Click cannot).
func clickOn(user string, msg slacktest.Message, b slacktest.Button, connID int) slacktest.BlockAction {
	return slacktest.BlockAction{
		ChannelID: msg.Channel, UserID: user, ActionID: b.ActionID, BlockID: b.BlockID,
		Value: b.Value, Text: b.Text, MessageTS: msg.TS, IsEphemeral: msg.User != "", ConnID: connID,
	}
}

// finalAnswer waits for the bot's last private answer to a click: the
// picker replaced by something that is not the progress message.
func (f *fakes) finalAnswer(t *testing.T, user string, after int) slacktest.Message {
	t.Helper()
	msg, err := f.slack.WaitMessageAfter(waitCtx(t), after, func(m slacktest.Message) bool {
		return m.User == user && !strings.Contains(m.Text, "Disconnecting")
	})
	if err != nil {
		t.Fatalf("no final answer to the click: %v", err)
	}
	return msg
}

// channelPosts returns the messages everyone in ch sees.
func (f *fakes) channelPosts(ch string) []slacktest.Message {
	return f.slack.ChannelPosts(ch)
}

func (f *fakes) patches() int {
	return f.genesys.CountOp(genesystest.OpPatchParticipant) + f.genesys.CountOp(genesystest.OpPatchCallParticipant)
}

// pickerOn starts a three-party call and shows its picker to the
// supervisor: the call, its live participant with purpose, and the picker.
func (f *fakes) pickerOn(t *testing.T, purpose string) (genesystest.Conversation, genesystest.Participant, slacktest.Message) {
	t.Helper()
	conv := f.genesys.ThreePartyConference()
	p := participantByPurpose(t, conv, purpose)
	return conv, p, f.slash(t, supervisor, conv.ID, 0)
}

// click presses the participant's button on picker as the supervisor and
// returns the message count from before the click (for finalAnswer).
func (f *fakes) click(t *testing.T, picker slacktest.Message, participantID string) (before int) {
	t.Helper()
	btn := f.buttonFor(t, picker, participantID)
	before = f.slack.MessageCount()
	if _, err := f.slack.Click(waitCtx(t), supervisor, picker, btn.ActionID, btn.Value); err != nil {
		t.Fatal(err)
	}
	return before
}

func participantByPurpose(t *testing.T, c genesystest.Conversation, purpose string) genesystest.Participant {
	t.Helper()
	for _, p := range c.Participants {
		if p.Purpose == purpose && !p.Ended() {
			return p
		}
	}
	t.Fatalf("no active %s in %+v", purpose, c)
	return genesystest.Participant{}
}

func (f *fakes) waitState(t *testing.T, convID, pid, state string) {
	t.Helper()
	eventually(t, fmt.Sprintf("participant %s to be %s", pid, state), func() bool {
		c, _ := f.genesys.Conversation(convID)
		p, ok := c.Participant(pid)
		return ok && p.State == state
	})
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics reads the Prometheus text exposition format: enough of it
// for the bot's metrics (no timestamps, no exemplars).
func parseMetrics(t *testing.T, text string) []sample {
	t.Helper()
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(rest, "{ "); i >= 0 && rest[i] == '{' {
			s.name = rest[:i]
			rest = rest[i+1:]
			for !strings.HasPrefix(rest, "}") {
				eq := strings.Index(rest, `="`)
				if eq < 0 {
					t.Fatalf("bad metrics line %q", line)
				}
				key := strings.TrimLeft(rest[:eq], ",")
				rest = rest[eq+2:]
				var val strings.Builder
				for i := 0; ; i++ {
					if i >= len(rest) {
						t.Fatalf("bad metrics line %q", line)
					}
					c := rest[i]
					if c == '\\' && i+1 < len(rest) {
						i++
						switch rest[i] {
						case 'n':
							val.WriteByte('\n')
						default:
							val.WriteByte(rest[i])
						}
						continue
					}
					if c == '"' {
						rest = rest[i+1:]
						break
					}
					val.WriteByte(c)
				}
				s.labels[key] = val.String()
				rest = strings.TrimPrefix(rest, ",")
			}
			rest = strings.TrimSpace(rest[1:])
		} else {
			f := strings.Fields(rest)
			s.name, rest = f[0], strings.Join(f[1:], " ")
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("bad value in metrics line %q: %v", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// metric sums the samples of name whose labels include want.
func metric(samples []sample, name string, want map[string]string) (float64, bool) {
	var sum float64
	found := false
	for _, s := range samples {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			sum += s.value
			found = true
		}
	}
	return sum, found
}

func (b *testBot) scrape() []sample {
	b.t.Helper()
	code, body := b.get("/metrics")
	if code != http.StatusOK {
		b.t.Fatalf("/metrics answered %d", code)
	}
	return parseMetrics(b.t, body)
}

// gate holds back Slack apps.connections.open calls of one replica while
// closed, so a test decides which replica may (re)connect.
type gate struct {
	mu     sync.Mutex
	open   chan struct{} // closed while the gate is open
	closed bool
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		g.open = make(chan struct{})
	}
}

func (g *gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		g.closed = false
		close(g.open)
	}
}

// ch is closed while the gate is open.
func (g *gate) ch() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.ch():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dialer returns a WebSocket dialer whose connections hold back every
// text frame the bot writes (its acks) while the gate is closed; control
// frames (pongs) pass, so the socket stays healthy.
func (g *gate) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: waitTimeout,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &ackGateConn{Conn: c, g: g, closed: make(chan struct{})}, nil
		},
	}
}

type ackGateConn struct {
	net.Conn
	g      *gate
	once   sync.Once
	closed chan struct{}
}

// Write holds client text frames. gorilla writes each small frame, header
// included, in one Write; the low 4 bits of its first byte are the opcode.
func (c *ackGateConn) Write(b []byte) (int, error) {
	if len(b) > 0 && b[0]&0x0f == websocket.TextMessage {
		select {
		case <-c.g.ch():
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	return c.Conn.Write(b)
}

func (c *ackGateConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// hookHandler is a slog handler for the fake Slack's log that calls fn,
// synchronously, for each record; fn sees the message and the attributes.
type hookHandler struct {
	fn func(msg string, attrs map[string]any)
}

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h hookHandler) WithGroup(string) slog.Handler            { return h }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]any{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Any()
		return true
	})
	h.fn(r.Message, attrs)
	return nil
}

// client returns a Slack HTTP client whose apps.connections.open waits for
// the gate.
func (g *gate) client() *http.Client {
	return &http.Client{Timeout: waitTimeout, Transport: gatedTransport{g: g, next: http.DefaultTransport, match: func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/apps.connections.open")
	}}}
}

type gatedTransport struct {
	g     *gate
	next  http.RoundTripper
	match func(*http.Request) bool
	// reached, when set, is told about each request that waits at the gate.
	reached chan<- *http.Request
}

func (gt gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if gt.match(r) {
		if gt.reached != nil {
			select {
			case gt.reached <- r:
			default:
			}
		}
		if err := gt.g.wait(r.Context()); err != nil {
			return nil, err
		}
	}
	return gt.next.RoundTrip(r)
}

// The binary, built once per test process for the tests that need a real
// process (signals, exit codes, ldflags).
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// Stamped into the test binary.
const (
	testVersion = "1.2.3-test"
	testCommit  = "0123abc"
	testDate    = "2026-01-02T03:04:05Z"
)

// TestMain removes the built binary and fails the run if any goroutine
// outlives the tests: after runBot returns nothing of the bot may be left.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines left after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// binary builds cmd/disconnectbot with version stamping, as the Dockerfile
// does. Only package main is compiled: the rest is in the build cache.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		// The go command that runs this test (go test puts its GOROOT/bin
		// first in PATH).
		gobin, err := exec.LookPath("go")
		if err != nil {
			binErr = fmt.Errorf("no go command to build the binary: %v", err)
			return
		}
		binDir, binErr = os.MkdirTemp("", "disconnectbot-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "disconnectbot")
		// The same flags as this test binary (no -trimpath, -race if it
		// has it), so every package but main comes from the build cache.
		ldflags := fmt.Sprintf("-X main.version=%s -X main.commit=%s -X main.date=%s", testVersion, testCommit, testDate)
		args := []string{"build", "-ldflags", ldflags, "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(gobin, append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// environ turns e into a process environment (nothing inherited but PATH
// and HOME, so the developer's own SLACK_* variables cannot leak in).
func (e env) environ() []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}
