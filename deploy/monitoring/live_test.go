package monitoring_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

const (
	supervisor = "U0SUPER001"
	stranger   = "U0STRANGE1"
	channel    = "C0SUPPORT1"

	// waitTimeout bounds each wait; it matters only when the test fails.
	waitTimeout = 60 * time.Second
)

// TestQueriesAgainstLiveBot runs `disconnectbot run` against the fakes and
// a real Prometheus scraping it every second with alerts.yaml loaded, makes
// the bot do a slash command and a click, twice (plus a 429 from Genesys,
// a refused command and a sweep of a stuck conversation, so that every
// labelled series exists), then evaluates
// every dashboard query and every alert expression through Prometheus's
// HTTP API:
//   - each must be valid PromQL (status success);
//   - each metric it names must be in the bot's /metrics, so a renamed
//     metric fails here;
//   - each dashboard query must return data, so a wrong label matcher fails;
//   - no alert may fire for this healthy bot, and Prometheus must report
//     every rule healthy.
func TestQueriesAgainstLiveBot(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("prometheus is not on PATH (Debian package prometheus: apt-get install prometheus); skipped because CI is unset, under CI this test fails instead")
		}
		t.Fatal("prometheus is not on PATH and CI is set: install Debian's prometheus package (.ci/run does)")
	}
	d := loadDashboard(t)
	rf := loadRules(t)
	dir := t.TempDir()

	f := newFakes(t)
	botBin := buildBot(t, dir)
	b := startBot(t, botBin, f, filepath.Join(dir, "bot.log"))
	prom := startPrometheus(t, promBin, dir, b.addr)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := f.slack.WaitConnections(ctx, 1); err != nil {
		t.Fatalf("the bot did not connect to the fake Slack: %v\n%s", err, b.tail())
	}
	waitFor(t, "the bot to be ready", func() bool { return httpStatus(b.url("/readyz")) == http.StatusOK })
	waitFor(t, "Prometheus to scrape the bot", func() bool {
		r, err := prom.query(ctx, `up{job="disconnectbot"} == 1`)
		return err == nil && len(r) == 1
	})

	// A slash command and a click, twice (a counter's first sample counts
	// as its start, so the second disconnect is what increase() sees), the
	// first Genesys read answered 429 once (Retry-After 1s), and a refused
	// command.
	f.genesys.RateLimit(genesystest.OpGetConversation, 1, time.Second)
	disconnectAgent(ctx, t, f, b)
	waitFor(t, "Prometheus to scrape the first disconnect", func() bool {
		r, err := prom.query(ctx, `disconnectbot_disconnects_total{outcome="confirmed"}`)
		return err == nil && len(r) > 0
	})
	disconnectAgent(ctx, t, f, b)
	conv := f.genesys.ThreePartyConference()
	if _, err := f.slack.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: channel, UserID: stranger, Command: bot.SlashCommand, Text: conv.ID}); err != nil {
		t.Fatalf("stranger's slash command: %v", err)
	}
	sweepStuck(ctx, t, f, b)

	// Every series the activity creates must be in the bot's /metrics …
	exposed := map[string]bool{}
	waitFor(t, "the activity's series in /metrics", func() bool {
		exposed = metricNames(t, b.url("/metrics"))
		return exposed["disconnectbot_authz_denials_total"] && exposed["disconnectbot_genesys_retry_wait_seconds_count"] &&
			exposed["disconnectbot_disconnects_total"] && exposed["disconnectbot_genesys_rate_limited_total"] &&
			exposed["disconnectbot_sweep_conversations_total"]
	})
	// … and in Prometheus, twice, so that rate() has two samples.
	waitFor(t, "Prometheus to scrape the activity", func() bool {
		r, err := prom.query(ctx, `count_over_time(disconnectbot_authz_denials_total[1m]) >= 2`)
		return err == nil && len(r) > 0
	})
	waitFor(t, "Prometheus to scrape the sweep", func() bool {
		r, err := prom.query(ctx, `count_over_time(disconnectbot_sweep_conversations_total{result="cleared"}[1m]) >= 2`)
		return err == nil && len(r) > 0
	})

	queries := append(dashboardQueries(d), alertQueries(rf)...)
	if len(queries) == 0 {
		t.Fatal("no queries found")
	}
	for _, q := range queries {
		names := metricName.FindAllString(q.expr, -1)
		if len(names) == 0 {
			t.Errorf("%s names no disconnectbot metric: %s", q.where, q.expr)
		}
		for _, n := range names {
			if !exposed[n] {
				t.Errorf("%s uses %s, which the bot's /metrics does not have (renamed or removed?)", q.where, n)
			}
		}
	}

	for _, q := range dashboardQueries(d) {
		expr, err := expand(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		// Data can lag a scrape behind the activity: wait for it, bounded.
		var res []json.RawMessage
		var qerr error
		deadline := time.Now().Add(15 * time.Second)
		for {
			res, qerr = prom.query(ctx, expr)
			if qerr != nil || len(res) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		switch {
		case qerr != nil:
			t.Errorf("%s: %v\n  query: %s", q.where, qerr, expr)
		case len(res) == 0:
			t.Errorf("%s returns no data after two disconnects, a 429, a denial and a sweep\n  query: %s", q.where, expr)
		}
	}
	for _, q := range alertQueries(rf) {
		res, err := prom.query(ctx, q.expr)
		switch {
		case err != nil:
			t.Errorf("%s: %v\n  expr: %s", q.where, err, q.expr)
		case len(res) > 0:
			t.Errorf("%s fires for a healthy bot: %s\n  expr: %s", q.where, res, q.expr)
		}
	}
	prom.checkRulesHealthy(t, ctx, len(alertQueries(rf)))
}

// disconnectAgent makes the supervisor type /disconnect on a new call,
// click the agent's button and waits for the confirmed outcome.
func disconnectAgent(ctx context.Context, t *testing.T, f *fakes, b *botChild) {
	t.Helper()
	conv := f.genesys.ThreePartyConference()
	agent := ""
	for _, p := range conv.Participants {
		if p.Purpose == "agent" {
			agent = p.ID
		}
	}
	if _, err := f.slack.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: bot.SlashCommand, Text: conv.ID}); err != nil {
		t.Fatalf("slash command: %v", err)
	}
	picker, err := f.slack.WaitMessage(ctx, func(m slacktest.Message) bool {
		return m.User == supervisor && slices.ContainsFunc(f.slack.Buttons(m), func(bt slacktest.Button) bool { return strings.HasSuffix(bt.Value, ":"+agent) })
	})
	if err != nil {
		t.Fatalf("no picker with the agent's button: %v\n%s", err, b.tail())
	}
	for _, bt := range f.slack.Buttons(picker) {
		if strings.HasSuffix(bt.Value, ":"+agent) {
			if _, err := f.slack.Click(ctx, supervisor, picker, bt.ActionID, bt.Value); err != nil {
				t.Fatalf("click: %v", err)
			}
			break
		}
	}
	if _, err := f.slack.WaitMessage(ctx, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.HasPrefix(m.Text, "Disconnected ") && strings.Contains(m.Text, conv.ID)
	}); err != nil {
		t.Fatalf("no confirmed disconnect of %s in the channel: %v\n%s", conv.ID, err, b.tail())
	}
}

// sweepStuck makes the supervisor (a sweeper) run /disconnect stuck on a
// stuck conversation an hour old, click "Disconnect all 1" and waits for
// the final summary to report it cleared. older:30m leaves out the other
// calls, which started minutes ago and are still up.
func sweepStuck(ctx context.Context, t *testing.T, f *fakes, b *botChild) {
	t.Helper()
	stuck := f.genesys.AddStuck(1, genesystest.StuckSpec{Age: time.Hour, Legs: 3})[0]
	before := f.slack.MessageCount()
	if _, err := f.slack.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: bot.SlashCommand, Text: "stuck older:30m"}); err != nil {
		t.Fatalf("/disconnect stuck: %v", err)
	}
	summary, err := f.slack.WaitMessageAfter(ctx, before, func(m slacktest.Message) bool {
		return m.User == supervisor && slices.ContainsFunc(f.slack.Buttons(m), func(bt slacktest.Button) bool { return bt.ActionID == "sweep:run" })
	})
	if err != nil {
		t.Fatalf("no sweep summary with a Disconnect all button: %v\n%s", err, b.tail())
	}
	if !strings.Contains(f.slack.Render(summary), stuck.ID) {
		t.Fatalf("the sweep summary does not list the stuck conversation %s:\n%s", stuck.ID, f.slack.Render(summary))
	}
	before = f.slack.MessageCount()
	for _, bt := range f.slack.Buttons(summary) {
		if bt.ActionID == "sweep:run" {
			if bt.Text != "Disconnect all 1" {
				t.Fatalf("button %q, want Disconnect all 1 (other conversations counted as stuck?)", bt.Text)
			}
			if _, err := f.slack.Click(ctx, supervisor, summary, bt.ActionID, bt.Value); err != nil {
				t.Fatalf("click Disconnect all: %v", err)
			}
		}
	}
	progress, err := f.slack.WaitMessageAfter(ctx, before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.Contains(m.Text, "stuck interactions")
	})
	if err != nil {
		t.Fatalf("no sweep progress message in the channel: %v\n%s", err, b.tail())
	}
	waitFor(t, "the sweep's final summary", func() bool {
		cur, _ := f.slack.Current(progress)
		return !slices.ContainsFunc(f.slack.Buttons(cur), func(bt slacktest.Button) bool { return bt.ActionID == "sweep:stop" })
	})
	cur, _ := f.slack.Current(progress)
	if final := f.slack.Render(cur); !strings.Contains(final, "*1 of 1* · 1 done") {
		t.Fatalf("final sweep summary, want 1 of 1 done:\n%s\n%s", final, b.tail())
	}
}

// ---- the fakes and the bot

type fakes struct {
	slack   *slacktest.Server
	genesys *genesystest.Server
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	sl := slacktest.New(slacktest.Options{})
	gen := genesystest.New(genesystest.WithDisconnectDelay(10 * time.Millisecond))
	// Registered first, so it runs after the bot has stopped.
	t.Cleanup(func() {
		sl.Close()
		gen.Close()
	})
	sl.AddUser(slacktest.User{ID: supervisor, Name: "sam", RealName: "Sam Supervisor", Email: "sam@example.com"})
	sl.AddUser(slacktest.User{ID: stranger, Name: "gary", RealName: "Gary Guest", Email: "gary@example.com"})
	sl.AddChannel(slacktest.Channel{ID: channel, Name: "supervisors"})
	return &fakes{slack: sl, genesys: gen}
}

func buildBot(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "disconnectbot")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/disconnectbot/disconnectbot/cmd/disconnectbot").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/disconnectbot: %v\n%s", err, out)
	}
	return bin
}

// child is a process the test started; it is stopped in t.Cleanup.
type child struct {
	cmd    *exec.Cmd
	log    string
	waited chan error
}

func startChild(t *testing.T, name, logPath string, cmd *exec.Cmd) *child {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: logPath, waited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		c.waited <- cmd.Wait()
		logFile.Close()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-c.waited
			t.Errorf("%s did not stop within 10s of SIGTERM; log:\n%s", name, c.tail())
		}
	})
	return c
}

func (c *child) tail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

type botChild struct {
	*child
	addr string // host:port of /healthz, /readyz, /metrics
}

func (b *botChild) url(path string) string { return "http://" + b.addr + path }

// startBot runs `disconnectbot run` against the fakes, configured only
// through the environment, on a loopback port of its choosing (read from
// its log).
func startBot(t *testing.T, bin string, f *fakes, logPath string) *botChild {
	t.Helper()
	var env []string
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
		"DISCONNECTBOT_AUTHZ_ALLOWED_USERS="+supervisor,
		"DISCONNECTBOT_AUTHZ_SWEEP_USERS="+supervisor,
		"DISCONNECTBOT_HTTP_ADDR=127.0.0.1:0",
		"DISCONNECTBOT_LOG_FORMAT=json",
		"DISCONNECTBOT_SHUTDOWN_GRACE=5s",
	)
	cmd := exec.Command(bin, "run")
	cmd.Env = env
	b := &botChild{child: startChild(t, "disconnectbot", logPath, cmd)}
	waitFor(t, "the bot's HTTP address in its log", func() bool {
		b.addr = logAddr(logPath)
		return b.addr != ""
	})
	return b
}

// logAddr finds the address in the bot's "serving /healthz…" log record.
func logAddr(path string) string {
	fh, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "serving /healthz") {
			return rec.Addr
		}
	}
	return ""
}

// metricNames reads the sample names (histogram _bucket/_sum/_count
// included) of a Prometheus text exposition.
func metricNames(t *testing.T, u string) map[string]bool {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// ---- Prometheus

type promServer struct {
	*child
	base string
}

// startPrometheus runs a real Prometheus on a free loopback port, scraping
// the bot every second and evaluating alerts.yaml, with its storage in dir.
func startPrometheus(t *testing.T, bin, dir, botAddr string) *promServer {
	t.Helper()
	rules, err := filepath.Abs(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: disconnectbot
    static_configs:
      - targets: [%q]
`, rules, botAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	p := &promServer{child: startChild(t, "prometheus", filepath.Join(dir, "prometheus.log"), cmd), base: "http://" + addr}
	waitFor(t, "Prometheus to be ready", func() bool {
		select {
		case err := <-p.waited:
			p.waited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, p.tail())
		default:
		}
		return httpStatus(p.base+"/-/ready") == http.StatusOK
	})
	return p
}

// freeLoopbackAddr picks a port the kernel says is free; Prometheus takes
// its listen address only as a flag.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// query evaluates expr now through /api/v1/query and returns the result
// vector's elements; an error when Prometheus does not answer success.
func (p *promServer) query(ctx context.Context, expr string) ([]json.RawMessage, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query?"+url.Values{"query": {expr}}.Encode(), &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector", "matrix":
		var r []json.RawMessage
		if err := json.Unmarshal(data.Result, &r); err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		return r, nil
	default:
		return nil, fmt.Errorf("result type %q, want an instant vector", data.ResultType)
	}
}

// checkRulesHealthy waits until Prometheus has evaluated all n alerting
// rules and requires each to be healthy.
func (p *promServer) checkRulesHealthy(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	type rule struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
		State     string `json:"state"`
	}
	var rules []rule
	waitFor(t, "Prometheus to evaluate every rule", func() bool {
		var data struct {
			Groups []struct {
				Rules []rule `json:"rules"`
			} `json:"groups"`
		}
		if err := p.get(ctx, "/api/v1/rules?type=alert", &data); err != nil {
			return false
		}
		rules = rules[:0]
		for _, g := range data.Groups {
			rules = append(rules, g.Rules...)
		}
		return len(rules) == n && !slices.ContainsFunc(rules, func(r rule) bool { return r.Health == "unknown" })
	})
	for _, r := range rules {
		if r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: health %q, error %q", r.Name, r.Health, r.LastError)
		}
		if r.State != "inactive" {
			t.Errorf("rule %s is %s for a healthy bot", r.Name, r.State)
		}
	}
}

func (p *promServer) get(ctx context.Context, path string, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	var env struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("HTTP %d, not JSON: %.200s", resp.StatusCode, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("status %q: %s: %s", env.Status, env.ErrorType, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// ---- waiting

func httpStatus(u string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds or waitTimeout passes. It is a wait,
// not a timing assertion: a slow machine only makes it take longer.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
