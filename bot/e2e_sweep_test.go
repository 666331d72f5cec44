package bot_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// sweepHarness is the harness with sweeps on; sweepers may sweep.
type sweepHarness struct {
	*harness
	reg *prometheus.Registry
}

type sweepOptions struct {
	sweepers   []string
	allowed    []string              // the /disconnect allow-list; nil: the harness's
	approval   *authz.ApprovalConfig // four eyes
	genesysCfg func(*genesys.Config)
	genesys    []genesystest.Option
}

func newSweepHarness(t *testing.T, o sweepOptions) *sweepHarness {
	t.Helper()
	sh := &sweepHarness{reg: prometheus.NewRegistry()}
	sh.harness = newHarness(t, harnessOptions{
		allowedUsers: o.allowed, approval: o.approval, approvalSecret: testSecret,
		genesysOpts: append([]genesystest.Option{genesystest.WithDisconnectDelay(0)}, o.genesys...),
		genesysCfg: func(c *genesys.Config) {
			c.RequestsPerMinute = 600000
			c.ConfirmTimeout = 300 * time.Millisecond
			if o.genesysCfg != nil {
				o.genesysCfg(c)
			}
		},
		authz: func(c *authz.Config) { c.Contact = "#cc-ops" },
		botConfig: func(c *bot.Config, gc *genesys.Client) {
			c.Sweep = &bot.SweepConfig{
				Genesys: gc, Authz: authz.Config{AllowedUsers: o.sweepers, Contact: "#cc-ops"},
				Metrics: bot.NewSweepPrometheus(sh.reg, gc.Budget),
				MaxAge:  genesys.DefaultStuckMaxAge, Limit: 1000, Concurrency: 4, ProgressEvery: 50 * time.Millisecond,
			}
		},
	})
	return sh
}

// button returns the button with actionID in msg.
func (h *sweepHarness) button(msg slacktest.Message, actionID string) slacktest.Button {
	h.t.Helper()
	for _, b := range h.slack.Buttons(msg) {
		if b.ActionID == actionID {
			return b
		}
	}
	h.t.Fatalf("no %s button in %s", actionID, h.rendered(msg))
	return slacktest.Button{}
}

func (h *sweepHarness) hasButton(msg slacktest.Message, actionID string) bool {
	for _, b := range h.slack.Buttons(msg) {
		if b.ActionID == actionID {
			return true
		}
	}
	return false
}

// sweepCounts reads "*D of N* · X done · Y already ended" from a summary.
var sweepCounts = regexp.MustCompile(`\*(\d+) of (\d+)\* · (\d+) done · (\d+) already ended`)

// startSweep runs /disconnect text, clicks Disconnect all and returns the
// channel's progress message (as first posted).
func (h *sweepHarness) startSweep(user, text string) (summary, progress slacktest.Message) {
	h.t.Helper()
	summary = h.slash(user, text)
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), user, summary, "sweep:run", h.button(summary, "sweep:run").Value); err != nil {
		h.t.Fatal(err)
	}
	progress, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && m.User == "" && strings.Contains(m.Text, "stuck interactions")
	})
	if err != nil {
		h.t.Fatalf("no progress message: %v", err)
	}
	return summary, progress
}

// final waits for the progress message to become the final summary.
func (h *sweepHarness) final(progress slacktest.Message) slacktest.Message {
	h.t.Helper()
	var cur slacktest.Message
	defer func() {
		if h.t.Failed() {
			cur, _ := h.slack.Current(progress)
			h.t.Logf("progress now: %s\nlogs: %s", h.rendered(cur), h.logs.String())
		}
	}()
	eventually(h.t, "the final sweep summary", func() bool {
		cur, _ = h.slack.Current(progress)
		return !h.hasButton(cur, "sweep:stop")
	})
	return cur
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *sweepHarness) metricValue(name, label string) float64 {
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

func TestSweepDeniedByDefault(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{}) // nobody named in authz.sweep_users
	h.genesys.AddStuck(2, genesystest.StuckSpec{Age: 5 * time.Hour})
	msg := h.slash(supervisor, "stuck")
	if !strings.Contains(msg.Text, "separate permission") || !strings.Contains(msg.Text, "authz.sweep_users") || !strings.Contains(msg.Text, "#cc-ops") {
		t.Fatalf("refusal: %s", msg.Text)
	}
	if n := h.genesys.CountOp(genesystest.OpQueryConversations); n != 0 {
		t.Errorf("a refused sweep queried analytics %d times", n)
	}
	h.auditLine(map[string]string{"action": "command", "outcome": "denied", "slack_user": supervisor})
	help := h.slash(supervisor, "help")
	if !strings.Contains(h.rendered(help), "/disconnect stuck [older:4h] [queue:NAME|ID] [media:voice|callback|chat|email|message]") {
		t.Errorf("help does not list the stuck form:\n%s", h.rendered(help))
	}
}

// A sweeper must be on the /disconnect allow-list too.
func TestSweepNeedsBothAllowLists(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{stranger}})
	h.genesys.AddStuck(1, genesystest.StuckSpec{Age: 5 * time.Hour})
	msg := h.slash(stranger, "stuck")
	if !strings.Contains(msg.Text, "allow-list") || strings.Contains(msg.Text, "stuck conversations") {
		t.Fatalf("a sweeper off the /disconnect allow-list got: %s", msg.Text)
	}
	if n := h.genesys.CountOp(genesystest.OpQueryConversations); n != 0 {
		t.Errorf("queried analytics %d times", n)
	}
}

func TestSweepEndToEnd(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}})
	stuck := h.genesys.AddStuck(4, genesystest.StuckSpec{Age: 5 * time.Hour, Legs: 3})
	h.genesys.AddStuck(1, genesystest.StuckSpec{Age: 30 * time.Hour, MediaType: "message"})
	h.genesys.AddStuck(2, genesystest.StuckSpec{Age: time.Hour}) // newer than 4h: left alone

	summary := h.slash(supervisor, "stuck media:voice older:4h queue:Support")
	text := h.rendered(summary)
	for _, want := range []string{"4 stuck conversations", "older than 4h, queue Support, voice", "By queue: Support 4", "By media: voice 4", "Oldest:", stuck[0].ID, "Pat Smith (customer), Jane Doe (agent)"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if summary.User != supervisor {
		t.Errorf("the summary is not private")
	}
	run := h.button(summary, "sweep:run")
	if run.Text != "Disconnect all 4" || run.Style != "danger" || run.Confirm == nil || !strings.Contains(run.Confirm.Title, "4") {
		t.Errorf("run button %+v", run)
	}
	h.button(summary, "sweep:cancel")

	// Every click is authorized again: a stranger holding the button gets nothing.
	h.sendClick(stranger, summary, run)
	h.auditLine(map[string]string{"action": "sweep_click", "outcome": "denied", "slack_user": stranger})

	// The whole sweep, without filters.
	_, progress := h.startSweep(supervisor, "stuck")
	final := h.final(progress)
	ft := h.rendered(final)
	for _, want := range []string{"Sweep finished.", "*5 of 5*", "5 done", "0 failed", "started by @sam", "Took "} {
		if !strings.Contains(ft, want) {
			t.Errorf("final summary lacks %q:\n%s", want, ft)
		}
	}
	if open := h.genesys.Open(); open != 2 {
		t.Errorf("%d conversations open, want the 2 new ones", open)
	}
	// One audit line per conversation and per leg.
	eventually(t, "audit lines", func() bool {
		return len(auditWith(h.harness, "sweep_conversation")) == 5 && len(auditWith(h.harness, "sweep_leg")) == 14
	})
	if got := h.metricValue("disconnectbot_sweep_conversations_total", "cleared"); got != 5 {
		t.Errorf("sweep_conversations_total{result=cleared} = %v", got)
	}
	if got := h.metricValue("disconnectbot_sweeps_started_total", ""); got != 1 {
		t.Errorf("sweeps_started_total = %v", got)
	}
	if got := h.metricValue("disconnectbot_genesys_budget_requests_per_minute", ""); got != 600000 {
		t.Errorf("budget_requests_per_minute = %v", got)
	}
	if got := h.metricValue("disconnectbot_genesys_budget_in_use", ""); got <= 0 || got > 1 {
		t.Errorf("budget_in_use = %v", got)
	}
	// Cancel replaces the summary.
	again := h.slash(supervisor, "stuck")
	if !strings.Contains(again.Text, "No stuck conversations") {
		t.Errorf("second summary: %s", again.Text)
	}
}

func auditWith(h *harness, action string) []map[string]any {
	var out []map[string]any
	for _, l := range h.logs.Lines("audit") {
		if l["action"] == action {
			out = append(out, l)
		}
	}
	return out
}

func TestSweepCancel(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}})
	h.genesys.AddStuck(2, genesystest.StuckSpec{Age: 5 * time.Hour})
	summary := h.slash(supervisor, "stuck")
	cancel := h.button(summary, "sweep:cancel")
	answer := h.click(supervisor, summary, cancel)
	if !strings.Contains(answer.Text, "Nothing was disconnected") || h.patches() != 0 {
		t.Fatalf("cancel: %s, %d PATCHes", answer.Text, h.patches())
	}
}

// slowSweep is 40 stuck conversations and a budget of 4 requests a second:
// a sweep that takes long enough to stop it midway.
func slowSweep(t *testing.T) *sweepHarness {
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}, genesysCfg: func(c *genesys.Config) { c.RequestsPerMinute = 240 }})
	h.genesys.AddStuck(40, genesystest.StuckSpec{Age: 5 * time.Hour})
	return h
}

// waitStarted waits until the progress message counts a first conversation.
func (h *sweepHarness) waitStarted(progress slacktest.Message) {
	h.t.Helper()
	eventually(h.t, "progress", func() bool {
		cur, _ := h.slack.Current(progress)
		return strings.Contains(cur.Text, ": 1 of ") || strings.Contains(cur.Text, ": 2 of ")
	})
}

func TestSweepStop(t *testing.T) {
	t.Parallel()
	h := slowSweep(t)
	_, progress := h.startSweep(supervisor, "stuck")
	h.waitStarted(progress)
	cur, _ := h.slack.Current(progress)
	stop := h.button(cur, "sweep:stop")
	if stop.Confirm == nil {
		t.Error("Stop has no confirm dialog")
	}
	// Stop is authorized too.
	h.sendClick(stranger, cur, stop)
	h.auditLine(map[string]string{"action": "sweep_click", "outcome": "denied", "slack_user": stranger})
	if _, err := h.slack.Click(h.ctx(), supervisor, cur, stop.ActionID, stop.Value); err != nil {
		t.Fatal(err)
	}
	final := h.rendered(h.final(progress))
	var done int
	if _, err := fmt.Sscanf(final[strings.Index(final, "Stopped after "):], "Stopped after %d of 40", &done); err != nil {
		t.Fatalf("final: %s", final)
	}
	if !strings.Contains(final, "run it again to finish") || !strings.Contains(final, "Stopped by @sam") || done >= 40 {
		t.Errorf("final:\n%s", final)
	}
	// Truthful: exactly the ones it says are done are ended.
	if open := h.genesys.Open(); open != 40-done {
		t.Errorf("%d open, but the summary says %d of 40 done", open, done)
	}
}

func TestSweepSIGTERMMidSweep(t *testing.T) {
	t.Parallel()
	h := slowSweep(t)
	_, progress := h.startSweep(supervisor, "stuck")
	h.waitStarted(progress)
	h.stop() // what SIGTERM does: App.Run returns once the sweep has posted its summary
	final := h.rendered(h.final(progress))
	var done int
	if i := strings.Index(final, "Stopped after "); i < 0 {
		t.Fatalf("final: %s", final)
	} else if _, err := fmt.Sscanf(final[i:], "Stopped after %d of 40", &done); err != nil || done >= 40 {
		t.Fatalf("final: %s", final)
	}
	if open := h.genesys.Open(); open != 40-done {
		t.Errorf("%d open, but the summary says %d of 40 done", open, done)
	}
}

func TestSweepFailuresAnd429(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}, genesysCfg: func(c *genesys.Config) { c.RetryBudget = 100 * time.Millisecond }})
	h.genesys.AddStuck(6, genesystest.StuckSpec{Age: 5 * time.Hour})
	summary := h.slash(supervisor, "stuck")
	// One PATCH refused, and Genesys asks the client to back off twice.
	h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: 400, Code: "conversation.error.cannot.disconnect.call", Count: 1})
	h.genesys.RateLimit(genesystest.OpGetConversation, 2, time.Second)
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, summary, "sweep:run", h.button(summary, "sweep:run").Value); err != nil {
		t.Fatal(err)
	}
	progress, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool { return m.Kind == slacktest.KindPost && m.User == "" })
	if err != nil {
		t.Fatal(err)
	}
	final := h.rendered(h.final(progress))
	for _, want := range []string{"with failures", "5 done", "1 failed", "Failures by reason", "HTTP 400 conversation.error.cannot.disconnect.call: 1", "Genesys correlation id `"} {
		if !strings.Contains(final, want) {
			t.Errorf("final lacks %q:\n%s", want, final)
		}
	}
	if n := h.client.Budget().RateLimited; n != 2 {
		t.Errorf("%d 429s seen", n)
	}
}

func TestSweepShiftingPagesAndConcurrentSweeps(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor, supervisor2}})
	h.genesys.AddStuck(130, genesystest.StuckSpec{Age: 5 * time.Hour})
	// A call starts between every two analytics pages.
	h.genesys.OnAnalyticsPage(func(int) {
		h.genesys.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{{Purpose: "customer"}}})
	})
	one := h.slash(supervisor, "stuck")
	two := h.slash(supervisor2, "stuck")
	if !strings.Contains(one.Text, "130 stuck") || !strings.Contains(two.Text, "130 stuck") {
		t.Fatalf("summaries: %q, %q", one.Text, two.Text)
	}
	// Both click at once.
	before := h.slack.MessageCount()
	for _, c := range []struct {
		user string
		msg  slacktest.Message
	}{{supervisor, one}, {supervisor2, two}} {
		if _, err := h.slack.Click(h.ctx(), c.user, c.msg, "sweep:run", h.button(c.msg, "sweep:run").Value); err != nil {
			t.Fatal(err)
		}
	}
	var progress []slacktest.Message
	eventually(t, "two progress messages", func() bool {
		progress = nil
		for _, m := range h.slack.Messages()[before:] {
			if m.Kind == slacktest.KindPost && m.User == "" && strings.Contains(m.Text, "stuck interactions") {
				progress = append(progress, m)
			}
		}
		return len(progress) == 2
	})
	// Each sweep queries again when it starts: the second may find fewer.
	// Together they clear each conversation once, and each accounts for
	// every conversation it found.
	done := 0
	for _, p := range progress {
		final := h.rendered(h.final(p))
		m := sweepCounts.FindStringSubmatch(final)
		if m == nil {
			t.Fatalf("final: %s", final)
		}
		processed, _ := strconv.Atoi(m[1])
		found, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		e, _ := strconv.Atoi(m[4])
		if processed != found || d+e != found {
			t.Errorf("a sweep misreports: %s", final)
		}
		done += d
	}
	if done != 130 {
		t.Errorf("done %d across both sweeps; want 130", done)
	}
	accepted := 0
	for _, r := range h.genesys.Requests() {
		if r.Op == genesystest.OpPatchParticipant && r.Status == 202 {
			accepted++
		}
	}
	if accepted != 260 {
		t.Errorf("%d accepted PATCHes for 260 legs", accepted)
	}
}

func TestSweepTeardownButton(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}})
	h.genesys.AddStuck(2, genesystest.StuckSpec{Age: 5 * time.Hour, IgnoreDisconnects: true})
	h.genesys.AddStuck(1, genesystest.StuckSpec{Age: 5 * time.Hour})
	_, progress := h.startSweep(supervisor, "stuck")
	final := h.final(progress)
	if ft := h.rendered(final); !strings.Contains(ft, "2 still open") || !strings.Contains(ft, "1 done") {
		t.Fatalf("final: %s", ft)
	}
	if h.genesys.CountOp(genesystest.OpTeardown) != 0 {
		t.Fatal("torn down without being asked")
	}
	td := h.button(final, "sweep:teardown")
	if td.Text != "Tear down the 2 still open" || td.Confirm == nil || !strings.Contains(td.Confirm.Text, "system wrap-up code") {
		t.Errorf("teardown button %+v", td)
	}
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, final, td.ActionID, td.Value); err != nil {
		t.Fatal(err)
	}
	second, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.Contains(m.Text, "Tearing down")
	})
	if err != nil {
		t.Fatal(err)
	}
	ft := h.rendered(h.final(second))
	if !strings.Contains(ft, "2 done") || !strings.Contains(ft, "2 of them torn down") {
		t.Errorf("teardown summary: %s", ft)
	}
	if h.genesys.CountOp(genesystest.OpTeardown) != 2 || h.genesys.Open() != 0 {
		t.Errorf("%d teardowns, %d open", h.genesys.CountOp(genesystest.OpTeardown), h.genesys.Open())
	}
}

func TestInteractiveDisconnectNotQueuedBehindSweep(t *testing.T) {
	t.Parallel()
	h := slowSweep(t)
	conf := h.genesys.ThreePartyConference()
	_, progress := h.startSweep(supervisor, "stuck")
	h.waitStarted(progress)
	picker := h.slash(supervisor, conf.ID)
	ext := participantByPurpose(t, conf, "external")
	h.click(supervisor, picker, h.buttonFor(picker, ext.ID))
	h.waitState(conf.ID, ext.ID, "disconnected")
	// The sweep is still going: the disconnect did not wait for it.
	cur, _ := h.slack.Current(progress)
	if !h.hasButton(cur, "sweep:stop") {
		t.Errorf("the sweep finished before the interactive disconnect was answered; the test proves nothing")
	}
	h.stop()
}

func TestSweepBadButtons(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}})
	h.genesys.AddStuck(1, genesystest.StuckSpec{Age: 5 * time.Hour})
	summary := h.slash(supervisor, "stuck")
	run := h.button(summary, "sweep:run")
	for _, v := range []string{"", "s1;4h;;voice;1", "s0;4h;;;1;0", "s1;4s;;;1;0", "s1;4h;../x;;1;0", "s1;4h;;fax;1;0", "s1;4h;;;-1;0", "s1;4h;;;1;1"} {
		h.sendClick(supervisor, summary, slacktest.Button{ActionID: run.ActionID, BlockID: run.BlockID, Value: v, Text: run.Text})
	}
	h.sendClick(supervisor, summary, slacktest.Button{ActionID: "sweep:stop", BlockID: run.BlockID, Value: "not-an-id", Text: "Stop"})
	eventually(t, "bad button audit lines", func() bool {
		n := 0
		for _, l := range auditWith(h.harness, "sweep_click") {
			if l["outcome"] == "bad_button" {
				n++
			}
		}
		for _, l := range auditWith(h.harness, "sweep_stop") {
			if l["outcome"] == "bad_button" {
				n++
			}
		}
		return n == 9
	})
	if h.patches() != 0 {
		t.Errorf("a forged button disconnected something")
	}
}

// newSweepApproval is a bot where sweeps need approval, three stuck
// conversations, and the approval request the supervisor's Disconnect all
// posted; before is the message count before that click.
func newSweepApproval(t *testing.T) (h *sweepHarness, request slacktest.Message, before int) {
	t.Helper()
	h = newSweepHarness(t, sweepOptions{
		sweepers: []string{supervisor}, allowed: []string{supervisor, approverUser},
		approval: &authz.ApprovalConfig{RequiredFor: []string{"sweep"}},
	})
	h.slack.AddUser(slacktest.User{ID: approverUser, Name: "lee", RealName: "Lee Lead", Email: "lee@example.com"})
	h.genesys.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	summary := h.slash(supervisor, "stuck")
	before = h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, summary, "sweep:run", h.button(summary, "sweep:run").Value); err != nil {
		t.Fatal(err)
	}
	request, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && m.User == "" && strings.Contains(m.Text, "Approval needed")
	})
	if err != nil {
		t.Fatalf("no approval request: %v", err)
	}
	return h, request, before
}

// With approval.required_for sweep, Disconnect all posts an approval
// request; nothing is swept until a second supervisor approves, and the
// progress message names the approver.
func TestSweepNeedsApproval(t *testing.T) {
	t.Parallel()
	h, request, _ := newSweepApproval(t)
	if h.patches() != 0 || h.genesys.Open() != 3 {
		t.Fatal("swept before anyone approved")
	}
	approve := h.button(request, "approval_approve")
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), approverUser, request, approve.ActionID, approve.Value); err != nil {
		t.Fatal(err)
	}
	progress, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.Contains(m.Text, "stuck interactions")
	})
	if err != nil {
		t.Fatalf("no sweep after the approval: %v", err)
	}
	final := h.rendered(h.final(progress))
	if !strings.Contains(final, "3 done") || !strings.Contains(final, "started by @sam") || !strings.Contains(final, "approved by @lee") {
		t.Errorf("final summary:\n%s", final)
	}
	if h.genesys.Open() != 0 {
		t.Errorf("%d still open", h.genesys.Open())
	}
}

// The sweep takes no more than the confirm dialog stated, even when more
// have got stuck since the summary.
func TestSweepTakesNoMoreThanConfirmed(t *testing.T) {
	t.Parallel()
	h := newSweepHarness(t, sweepOptions{sweepers: []string{supervisor}})
	h.genesys.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	summary := h.slash(supervisor, "stuck")
	h.genesys.AddStuck(2, genesystest.StuckSpec{Age: 6 * time.Hour})
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, summary, "sweep:run", h.button(summary, "sweep:run").Value); err != nil {
		t.Fatal(err)
	}
	progress, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.Contains(m.Text, "stuck interactions")
	})
	if err != nil {
		t.Fatal(err)
	}
	final := h.rendered(h.final(progress))
	if !strings.Contains(final, "*3 of 3*") || !strings.Contains(final, "More stuck conversations exist") {
		t.Errorf("final:\n%s", final)
	}
	if open := h.genesys.Open(); open != 2 {
		t.Errorf("%d open, want the 2 that were not confirmed", open)
	}
}
