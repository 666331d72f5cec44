package bot_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// Timing of the Genesys emulator in the benchmarks.
const (
	// benchLatency is added to every Genesys request: it stands for the
	// real round trip to the Genesys Cloud API.
	benchLatency = 20 * time.Millisecond
	// benchDropDelay is how long after an accepted PATCH the leg drops. It
	// is shorter than benchLatency, so a confirm poll sent right after the
	// 202 is answered after the drop: one confirm poll is enough, and more
	// would be the bot's doing.
	benchDropDelay = 10 * time.Millisecond
)

// benchFakes is the fake Slack and the Genesys emulator with one Slack user
// and one channel per supervisor, so that every supervisor's messages can be
// told apart by channel.
type benchFakes struct {
	slack    *slacktest.Server
	genesys  *genesystest.Server
	users    []string
	channels []string

	// tokens counts token requests across ResetRequests.
	tokens int
}

func newBenchFakes(tb testing.TB, supervisors int) *benchFakes {
	tb.Helper()
	f := &benchFakes{
		slack:   slacktest.New(slacktest.Options{}),
		genesys: genesystest.New(genesystest.WithLatency(benchLatency), genesystest.WithDisconnectDelay(benchDropDelay)),
	}
	// Registered first, so it runs after the bot has stopped.
	tb.Cleanup(func() {
		f.slack.Close()
		f.genesys.Close()
	})
	for i := range supervisors {
		id := fmt.Sprintf("U0BENCH%03d", i)
		f.slack.AddUser(slacktest.User{ID: id, Name: fmt.Sprintf("sup%03d", i), RealName: fmt.Sprintf("Supervisor %d", i), Email: fmt.Sprintf("sup%03d@example.com", i)})
		f.users = append(f.users, id)
		f.channels = append(f.channels, fmt.Sprintf("C0BENCH%03d", i))
	}
	return f
}

// resetRecordings forgets what the fakes recorded, keeping the token count.
func (f *benchFakes) resetRecordings() {
	f.tokens += f.genesys.TokenRequests()
	f.genesys.ResetRequests()
	f.slack.ResetRecordings()
}

// tokenRequests is the number of token requests since the fakes started.
func (f *benchFakes) tokenRequests() int { return f.tokens + f.genesys.TokenRequests() }

// benchGenesysIdlePerHost is the idle keep-alive connections per host of
// the Genesys client's default transport (genesys.defaultHTTPClient, which
// is not exported): the benchmark rebuilds that transport only to count the
// connections it opens. Keep it in step with the real one.
const benchGenesysIdlePerHost = 64

// dialCounter counts the TCP connections a transport opens.
type dialCounter struct {
	n      atomic.Int64
	dialer net.Dialer
}

func (d *dialCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	return d.dialer.DialContext(ctx, network, addr)
}

// counting returns a copy of t that counts its new connections in d.
func counting(t http.RoundTripper, d *dialCounter) *http.Transport {
	if t == nil {
		t = http.DefaultTransport
	}
	c := t.(*http.Transport).Clone()
	d.dialer = net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	c.DialContext = d.dial
	return c
}

// inProcessBot is the bot running in the benchmark's process.
type inProcessBot struct {
	slackDials, genesysDials dialCounter
}

// startInProcessBot wires the bot the way `disconnectbot run` does (one
// Slack HTTP client from bot.NewHTTPClient, the Genesys client's defaults,
// Prometheus metrics, JSON logs at info level, here to io.Discard) and
// waits for its socket.
func startInProcessBot(tb testing.TB, f *benchFakes) *inProcessBot {
	tb.Helper()
	b := &inProcessBot{}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	metrics := bot.NewPrometheus(prometheus.NewRegistry(), "bench", "")
	httpClient := bot.NewHTTPClient(15 * time.Second)
	httpClient.Transport = counting(httpClient.Transport, &b.slackDials)
	genesysTransport := counting(nil, &b.genesysDials)
	genesysTransport.MaxIdleConnsPerHost = benchGenesysIdlePerHost
	genesysTransport.TLSHandshakeTimeout = 5 * time.Second
	genesysTransport.ResponseHeaderTimeout = 20 * time.Second
	genesysHTTP := &http.Client{Timeout: 30 * time.Second, Transport: genesysTransport}
	ctx, cancel := context.WithCancel(context.Background())
	gc, err := genesys.New(ctx, genesys.Config{
		APIURL: f.genesys.URL, LoginURL: f.genesys.URL,
		ClientID: genesystest.DefaultClientID, ClientSecret: genesystest.DefaultClientSecret,
		Logger: log.With("component", "genesys"), Observer: metrics.ObserveGenesys, HTTPClient: genesysHTTP,
	})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	app, err := bot.New(ctx, bot.Config{
		BotToken: f.slack.BotToken(), AppToken: f.slack.AppToken(), APIURL: f.slack.APIURL(), HTTPClient: httpClient,
		Genesys: gc, Authz: authz.Config{AllowedUsers: f.users, TeamID: slacktest.DefaultTeamID},
		Log: log, Metrics: metrics,
	})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("runner returned %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Error("runner did not stop within 10s")
		}
		gc.CloseIdleConnections()
		genesysHTTP.CloseIdleConnections()
		httpClient.CloseIdleConnections()
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := f.slack.WaitConnections(wctx, 1); err != nil {
		tb.Fatalf("bot did not connect: %v", err)
	}
	return b
}

// disconnectSample is one supervisor's slash → click, as the fakes saw it.
type disconnectSample struct {
	user, channel       string
	conversation, agent string
	slashAck, clickAck  time.Duration
	clickEnvelope       string
	clickResponseURL    string
	progress            slacktest.Message // "Disconnecting …", replacing the picker
	post                slacktest.Message // the outcome in the channel
}

// round makes every supervisor, concurrently, type /disconnect on a fresh
// three-party call of their own, click the agent's button and wait for the
// outcome. With spread 0 all slash commands go out at once (the worst
// case); otherwise each supervisor starts at a random moment within spread.
// It resets the fakes' recordings first, so what they hold afterwards is
// this round only.
func (f *benchFakes) round(ctx context.Context, spread time.Duration) ([]disconnectSample, error) {
	f.resetRecordings()
	n := len(f.users)
	samples := make([]disconnectSample, n)
	inbox := make(map[string]chan slacktest.Message, n)
	for i := range samples {
		conv := f.genesys.ThreePartyConference()
		agent := ""
		for _, p := range conv.Participants {
			if p.Purpose == "agent" {
				agent = p.ID
			}
		}
		samples[i] = disconnectSample{user: f.users[i], channel: f.channels[i], conversation: conv.ID, agent: agent}
		inbox[f.channels[i]] = make(chan slacktest.Message, 16)
	}

	// One reader routes messages by channel: a waiter per supervisor would
	// rescan the recording on every change of the fake, costing the CPU the
	// bot is measured on.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for i := 0; ; i++ {
			m, err := f.slack.WaitMessageAfter(rctx, i, func(slacktest.Message) bool { return true })
			if err != nil {
				return
			}
			if ch := inbox[m.Channel]; ch != nil {
				select {
				case ch <- m:
				case <-rctx.Done():
					return
				}
			}
		}
	}()

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range samples {
		wg.Go(func() {
			if spread > 0 {
				time.Sleep(rand.N(spread))
			}
			errs[i] = f.supervise(ctx, &samples[i], inbox[samples[i].channel])
		})
	}
	wg.Wait()
	return samples, errors.Join(errs...)
}

func (f *benchFakes) supervise(ctx context.Context, s *disconnectSample, inbox <-chan slacktest.Message) error {
	next := func(what string, match func(slacktest.Message) bool) (slacktest.Message, error) {
		for {
			select {
			case m := <-inbox:
				if match(m) {
					return m, nil
				}
			case <-ctx.Done():
				return slacktest.Message{}, fmt.Errorf("%s: waiting for %s: %w", s.user, what, ctx.Err())
			}
		}
	}
	d, err := f.slack.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: s.channel, UserID: s.user, Command: bot.SlashCommand, Text: s.conversation})
	if err != nil {
		return fmt.Errorf("%s: slash command: %w", s.user, err)
	}
	s.slashAck = d.AckLatency
	picker, err := next("the picker", func(m slacktest.Message) bool { return m.User == s.user })
	if err != nil {
		return err
	}
	var button *slacktest.Button
	for _, b := range f.slack.Buttons(picker) {
		if strings.HasSuffix(b.Value, ":"+s.agent) {
			button = &b
		}
	}
	if button == nil {
		return fmt.Errorf("%s: no button for the agent in %q", s.user, picker.Text)
	}
	d, err = f.slack.Click(ctx, s.user, picker, button.ActionID, button.Value)
	if err != nil {
		return fmt.Errorf("%s: click: %w", s.user, err)
	}
	s.clickAck, s.clickEnvelope, s.clickResponseURL = d.AckLatency, d.EnvelopeID, d.ResponseURL
	// The picker turns into the progress message; the outcome goes to the
	// channel, then replaces it. All must have arrived before the round is
	// over.
	var gotPost, gotFinal bool
	for !gotPost || !gotFinal {
		m, err := next("the outcome", func(m slacktest.Message) bool {
			return m.Kind == slacktest.KindPost || (m.User == s.user && m.ReplaceOriginal)
		})
		if err != nil {
			return err
		}
		switch {
		case m.Kind == slacktest.KindPost:
			s.post, gotPost = m, true
		case strings.HasPrefix(m.Text, "Disconnecting"):
			s.progress = m
		default:
			gotFinal = true
		}
	}
	if !strings.HasPrefix(s.post.Text, "Disconnected ") {
		return fmt.Errorf("%s: outcome %q, want a confirmed disconnect", s.user, s.post.Text)
	}
	return nil
}

// clickPath is what happened in Genesys between one click and its outcome.
type clickPath struct {
	clickToPatch   time.Duration // click envelope written → PATCH arrives at Genesys
	clickToOutcome time.Duration // click envelope written → outcome posted in the channel
	// overhead is clickToOutcome minus the time Genesys spent answering
	// the requests on the path (Request.Duration, which holds the injected
	// latency) and minus the confirm loop's nominal sleeps: the bot's own
	// time, its HTTP round trips on loopback included.
	overhead time.Duration
	// slackFake is the fake Slack's own time on the path (checking and
	// recording the channel post, and the progress reply as far as it holds
	// the PATCH back), which a real Slack spends on its side of the round
	// trip; overhead includes it.
	slackFake     time.Duration
	dropToOutcome time.Duration // the leg drops in Genesys → outcome posted
	// The gaps between Genesys requests, where the bot's time goes:
	// click → re-read arrives, re-read answered → PATCH arrives, PATCH
	// answered → first confirm poll arrives, last poll answered → outcome.
	toReread, rereadToPatch, patchToConfirm, confirmToOutcome time.Duration
	requests                                                  int // Genesys requests from click to outcome (token excluded)
	confirms                                                  int // confirm polls (GETs after the PATCH)
	pollsAfter                                                int // confirm polls answered after the leg dropped
}

// analyse matches a round's samples with the fakes' recordings. It must run
// before the next round resets them.
func (f *benchFakes) analyse(samples []disconnectSample) ([]clickPath, int, error) {
	sent := make(map[string]time.Time)
	for _, a := range f.slack.Acks() {
		sent[a.EnvelopeID] = a.Time.Add(-a.Latency)
	}
	// When the progress reply and the channel post reached the fake.
	arrived := make(map[string]time.Time)
	for _, c := range f.slack.Calls() {
		key := c.URL
		if c.Method == "chat.postMessage" {
			key = "post:" + c.Values.Get("channel")
		}
		if t, ok := arrived[key]; !ok || c.Time.Before(t) {
			arrived[key] = c.Time
		}
	}
	byConv := make(map[string][]genesystest.Request)
	total := 0
	for _, r := range f.genesys.Requests() {
		if r.Op == genesystest.OpToken {
			continue
		}
		total++
		for _, seg := range strings.Split(r.Path, "/") {
			if len(seg) == 36 {
				byConv[seg] = append(byConv[seg], r)
				break
			}
		}
	}
	out := make([]clickPath, 0, len(samples))
	for _, s := range samples {
		clicked, ok := sent[s.clickEnvelope]
		if !ok {
			return nil, 0, fmt.Errorf("%s: no ack recorded for the click", s.user)
		}
		reqs := byConv[s.conversation]
		slices.SortFunc(reqs, func(a, b genesystest.Request) int { return a.Time.Compare(b.Time) })
		var p clickPath
		var patch time.Time
		var busy time.Duration
		var prevEnd time.Time // when the previous request on the path was answered
		var rereadEnd time.Time
		for _, r := range reqs {
			if r.Time.Before(clicked) {
				continue // the slash command's read
			}
			p.requests++
			busy += r.Duration
			switch {
			case p.requests == 1:
				p.toReread = r.Time.Sub(clicked)
			case r.Method == http.MethodPatch:
				p.rereadToPatch = r.Time.Sub(prevEnd)
				rereadEnd = prevEnd
			case p.confirms == 0 && !patch.IsZero():
				p.patchToConfirm = r.Time.Sub(prevEnd)
			}
			switch {
			case r.Method == http.MethodPatch:
				patch = r.Time
			case !patch.IsZero():
				p.confirms++
			}
			prevEnd = r.Time.Add(r.Duration)
		}
		if patch.IsZero() || p.confirms == 0 {
			return nil, 0, fmt.Errorf("%s: no PATCH and confirm poll after the click", s.user)
		}
		p.confirmToOutcome = s.post.Time.Sub(prevEnd)
		conv, _ := f.genesys.Conversation(s.conversation)
		leg, _ := conv.Participant(s.agent)
		for _, r := range reqs {
			// A poll that arrives after the drop must see it and end the
			// wait: more than one such poll is a wasted cycle.
			if r.Time.After(patch) && !r.Time.Before(leg.EndTime) {
				p.pollsAfter++
			}
		}
		sleeps, interval := time.Duration(0), genesys.DefaultConfirmInterval
		for range p.confirms - 1 {
			sleeps += interval
			interval = min(interval+interval/2, time.Second)
		}
		p.clickToPatch = patch.Sub(clicked)
		p.clickToOutcome = s.post.Time.Sub(clicked)
		p.overhead = p.clickToOutcome - busy - sleeps
		p.dropToOutcome = s.post.Time.Sub(leg.EndTime)
		if t, ok := arrived["post:"+s.channel]; ok {
			p.slackFake += s.post.Time.Sub(t)
		}
		// The progress reply counts only as far as it held the PATCH back.
		if t, ok := arrived[s.clickResponseURL]; ok && !s.progress.Time.IsZero() {
			from, to := later(t, rereadEnd), earlier(s.progress.Time, patch)
			p.slackFake += max(0, to.Sub(from))
		}
		out = append(out, p)
	}
	return out, total, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// percentile returns the p-th percentile (nearest rank) of ds, sorting ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reportPercentiles reports the p50 and p99 of ds as name-p50-ms and
// name-p99-ms.
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	b.ReportMetric(ms(percentile(ds, 50)), name+"-p50-ms")
	b.ReportMetric(ms(percentile(ds, 99)), name+"-p99-ms")
}

// ---- the bot as a separate process ----

// buildBot compiles cmd/disconnectbot into dir.
func buildBot(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "disconnectbot")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/disconnectbot/disconnectbot/cmd/disconnectbot").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build ./cmd/disconnectbot: %v\n%s", err, out)
	}
	return bin
}

// childBot is `disconnectbot run` in its own process.
type childBot struct {
	cmd     *exec.Cmd
	started time.Time
	log     string
	waited  chan error
}

// startChildBot runs bin against the fakes, configured only through the
// environment (nothing inherited that could point it elsewhere).
func startChildBot(tb testing.TB, bin string, f *benchFakes, logPath string) *childBot {
	tb.Helper()
	env := []string{}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "DISCONNECTBOT_") || strings.HasPrefix(name, "SLACK_") || strings.HasPrefix(name, "GENESYSCLOUD_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"DISCONNECTBOT_SLACK_API_URL="+f.slack.APIURL(),
		"DISCONNECTBOT_SLACK_APP_TOKEN="+f.slack.AppToken(),
		"DISCONNECTBOT_SLACK_BOT_TOKEN="+f.slack.BotToken(),
		"DISCONNECTBOT_GENESYS_API_URL="+f.genesys.URL,
		"DISCONNECTBOT_GENESYS_LOGIN_URL="+f.genesys.URL,
		"DISCONNECTBOT_GENESYS_CLIENT_ID="+genesystest.DefaultClientID,
		"DISCONNECTBOT_GENESYS_CLIENT_SECRET="+genesystest.DefaultClientSecret,
		"DISCONNECTBOT_AUTHZ_ALLOWED_USERS="+strings.Join(f.users, ","),
		"DISCONNECTBOT_HTTP_ADDR=127.0.0.1:0",
	)
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	c := &childBot{cmd: exec.Command(bin, "run"), log: logPath, waited: make(chan error, 1)}
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		tb.Fatalf("starting the bot: %v", err)
	}
	go func() {
		c.waited <- c.cmd.Wait()
		logFile.Close()
	}()
	return c
}

// cpu is the CPU time (user + system) the process used; valid after stop.
func (c *childBot) cpu() time.Duration {
	if c.cmd.ProcessState == nil {
		return 0
	}
	return c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
}

// stop sends SIGTERM (as Kubernetes does) and waits for the process.
func (c *childBot) stop(tb testing.TB) {
	tb.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.waited:
		if err != nil {
			tb.Errorf("bot exited with %v; log:\n%s", err, c.tail())
		}
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.waited
		tb.Errorf("bot did not stop within 10s of SIGTERM; log:\n%s", c.tail())
	}
}

// tail is the end of the bot's log, for failure messages.
func (c *childBot) tail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// procStatusKB reads a "<field>: N kB" line of /proc/<pid>/status.
func procStatusKB(pid int, field string) (int64, error) {
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}
