package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/bot/logtest"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// Slack users and channels of the test workspace.
const (
	supervisor       = "U0SUPER001" // on the allow-list
	supervisor2      = "U0SUPER002" // on the allow-list through a user group
	stranger         = "U0STRANGE1" // not allowed
	supervisorsGroup = "S0SUPERVIS"
	channel          = "C0SUPPORT1"
)

// harness is the real bot (bot.New: the flow behind the Socket Mode
// transport over slack-go's socketmode) between the fake Slack and the
// Genesys emulator, over real HTTP.
type harness struct {
	t       *testing.T
	slack   *slacktest.Server
	genesys *genesystest.Server
	client  *genesys.Client
	app     *bot.App
	logs    *logtest.Buffer
	cancel  context.CancelFunc
	done    chan error
}

type harnessOptions struct {
	slack        slacktest.Options
	genesysOpts  []genesystest.Option
	genesysCfg   func(*genesys.Config)
	allowedUsers []string
	// authz edits the allow-list after it is built from allowedUsers and
	// the supervisors group.
	authz        func(*authz.Config)
	auditChannel string
	grace        time.Duration
	workTimeout  time.Duration // bot.Config.WorkTimeout; 0 = the default
	// find wires the Genesys client as the Finder (e2e_find_test.go).
	find bool
	// now fixes the bot's clock (bot.Config.Now).
	now func() time.Time
	// approval turns on four eyes (e2e_approval_test.go), signed with
	// approvalSecret.
	approval       *authz.ApprovalConfig
	approvalSecret string
	// botConfig, when set, adjusts the bot's configuration last
	// (e2e_sweep_test.go turns sweeps on with it).
	botConfig func(*bot.Config, *genesys.Client)
}

func newHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	logs := &logtest.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.slack.PingInterval == 0 {
		opts.slack.PingInterval = 200 * time.Millisecond
	}
	sl := slacktest.New(opts.slack)
	gopts := append([]genesystest.Option{genesystest.WithDisconnectDelay(20 * time.Millisecond)}, opts.genesysOpts...)
	gen := genesystest.New(gopts...)
	sl.AddUser(slacktest.User{ID: supervisor, Name: "sam", RealName: "Sam Supervisor", Email: "sam@example.com"})
	sl.AddUser(slacktest.User{ID: supervisor2, Name: "sue", RealName: "Sue Supervisor", Email: "sue@example.com"})
	sl.AddUser(slacktest.User{ID: stranger, Name: "gary", RealName: "Gary Guest", Email: "gary@example.com"})
	sl.AddUserGroup(supervisorsGroup, supervisor2)

	ctx, cancel := context.WithCancel(context.Background())
	gcfg := genesys.Config{
		APIURL: gen.URL, LoginURL: gen.URL,
		ClientID: genesystest.DefaultClientID, ClientSecret: genesystest.DefaultClientSecret,
		Logger: log, ConfirmTimeout: 2 * time.Second, ConfirmInterval: 10 * time.Millisecond, RetryBudget: 2 * time.Second,
	}
	if opts.genesysCfg != nil {
		opts.genesysCfg(&gcfg)
	}
	gc, err := genesys.New(ctx, gcfg)
	if err != nil {
		t.Fatal(err)
	}
	allowed := opts.allowedUsers
	if allowed == nil {
		allowed = []string{supervisor}
	}
	acfg := authz.Config{AllowedUsers: allowed, AllowedUsergroups: []string{supervisorsGroup}, TeamID: slacktest.DefaultTeamID}
	if opts.authz != nil {
		opts.authz(&acfg)
	}
	cfg := bot.Config{
		BotToken: sl.BotToken(), AppToken: sl.AppToken(), APIURL: sl.APIURL(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, PingInterval: 2 * time.Second,
		Genesys: gc, Authz: acfg, Log: log, AuditChannel: opts.auditChannel,
		Grace: opts.grace, WorkTimeout: opts.workTimeout, Now: opts.now,
	}
	if opts.approval != nil {
		cfg.Approval, cfg.ApprovalSecret = *opts.approval, opts.approvalSecret
	}
	if opts.find {
		cfg.Finder = struct {
			*genesys.Client
			genesys.PhoneReader
		}{gc, genesys.PhoneReader{}}
	}
	if opts.botConfig != nil {
		opts.botConfig(&cfg, gc)
	}
	app, err := bot.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, slack: sl, genesys: gen, client: gc, app: app, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- h.app.Run(ctx) }()
	t.Cleanup(h.stop)
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := sl.WaitConnections(wctx, 1); err != nil {
		t.Fatalf("bot did not connect: %v", err)
	}
	return h
}

// stop shuts the bot down (as SIGTERM would) and closes the fakes.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("runner returned %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("runner did not stop within 10s")
	}
	h.slack.Close()
	h.genesys.Close()
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// slash types /disconnect text as user and returns the first message the
// bot shows in answer.
func (h *harness) slash(user, text string) slacktest.Message {
	h.t.Helper()
	before := h.slack.MessageCount()
	if _, err := h.slack.SendSlashCommand(h.ctx(), slacktest.SlashCommand{ChannelID: channel, UserID: user, Command: "/disconnect", Text: text}); err != nil {
		h.t.Fatalf("slash command: %v", err)
	}
	msg, err := h.slack.WaitMessageAfter(h.ctx(), before, func(slacktest.Message) bool { return true })
	if err != nil {
		h.t.Fatalf("no answer to /disconnect %s: %v", text, err)
	}
	return msg
}

// buttonFor returns the Disconnect button of the participant in msg.
func (h *harness) buttonFor(msg slacktest.Message, participantID string) slacktest.Button {
	h.t.Helper()
	for _, b := range h.slack.Buttons(msg) {
		if strings.HasSuffix(b.Value, ":"+participantID) {
			return b
		}
	}
	h.t.Fatalf("no button for participant %s in %s", participantID, h.slack.Render(msg))
	return slacktest.Button{}
}

// click clicks b on msg as user and waits for the bot to finish with it:
// the picker is replaced by something that is not the progress message.
func (h *harness) click(user string, msg slacktest.Message, b slacktest.Button) slacktest.Message {
	h.t.Helper()
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), user, msg, b.ActionID, b.Value); err != nil {
		h.t.Fatalf("click: %v", err)
	}
	final, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.User == user && !strings.Contains(m.Text, "Disconnecting")
	})
	if err != nil {
		h.t.Fatalf("no final answer to the click: %v", err)
	}
	return final
}

// channelPosts returns the messages everyone in the channel sees.
func (h *harness) channelPosts(ch string) []slacktest.Message {
	return h.slack.ChannelPosts(ch)
}

// concurrently runs f(0), …, f(n-1) at once and fails t on any error.
func concurrently(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs <- f(i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// pickerOn starts a three-party call and shows its picker to the
// supervisor: the call, its live participant with purpose, and the picker.
func (h *harness) pickerOn(t *testing.T, purpose string) (genesystest.Conversation, genesystest.Participant, slacktest.Message) {
	t.Helper()
	conv := h.genesys.ThreePartyConference()
	p := participantByPurpose(t, conv, purpose)
	return conv, p, h.slash(supervisor, conv.ID)
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

// waitState waits until the emulator reports participant pid in state.
func (h *harness) waitState(convID, pid, state string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, _ := h.genesys.Conversation(convID)
		if p, ok := c.Participant(pid); ok && p.State == state {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("participant %s never reached %s", pid, state)
}

// waitLines waits until the log has at least n lines with message msg: the
// audit line is written after the user already sees the outcome.
func (h *harness) waitLines(msg string, n int) []map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := h.logs.Lines(msg)
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendClick delivers a click on b of msg as user the way Slack would if
// user could press it, even when msg is another user's ephemeral picker
// (a forwarded payload, a stolen response): slacktest.Click refuses that.
func (h *harness) sendClick(user string, msg slacktest.Message, b slacktest.Button) {
	h.t.Helper()
	if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
		ChannelID: msg.Channel, UserID: user, ActionID: b.ActionID, BlockID: b.BlockID,
		Value: b.Value, Text: b.Text, MessageTS: msg.TS, IsEphemeral: msg.User != "",
	}); err != nil {
		h.t.Fatalf("click as %s: %v", user, err)
	}
}

// answerTo waits for the first message to user recorded after message
// number before that is not the progress message.
func (h *harness) answerTo(user string, before int) slacktest.Message {
	h.t.Helper()
	m, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.User == user && !strings.Contains(m.Text, "Disconnecting")
	})
	if err != nil {
		h.t.Fatalf("no answer to %s: %v", user, err)
	}
	return m
}

// patches counts the participant PATCHes Genesys received (both families).
func (h *harness) patches() int {
	return h.genesys.CountOp(genesystest.OpPatchParticipant) + h.genesys.CountOp(genesystest.OpPatchCallParticipant)
}

// apiRequests counts every request Genesys received except token requests.
func (h *harness) apiRequests() int {
	return len(h.genesys.Requests()) - h.genesys.TokenRequests()
}

// setState changes a participant's state in the emulator, as when they hang
// up on their own.
func (h *harness) setState(convID, pid, state string) {
	h.t.Helper()
	c, ok := h.genesys.Conversation(convID)
	if !ok {
		h.t.Fatalf("no conversation %s", convID)
	}
	for i := range c.Participants {
		if c.Participants[i].ID == pid {
			c.Participants[i].State = state
			c.Participants[i].EndTime = time.Time{}
		}
	}
	h.genesys.AddConversation(c)
}

// rendered renders msg as the user sees it.
func (h *harness) rendered(msg slacktest.Message) string { return h.slack.Render(msg) }

// everything is every message text and block, every Slack call and every
// log line, for checks that something never shows up anywhere.
func (h *harness) everything() string {
	var b strings.Builder
	for _, m := range h.slack.Messages() {
		b.WriteString(m.Text + "\n" + string(m.Blocks) + "\n")
	}
	for _, c := range h.slack.Calls() {
		b.WriteString(c.URL + " " + c.Values.Encode() + " " + string(c.Body) + "\n")
	}
	b.WriteString(h.logs.String())
	return b.String()
}

// auditLine waits for an audit line matching want (key → value, compared as
// text) and returns it.
func (h *harness) auditLine(want map[string]string) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, l := range h.logs.Lines("audit") {
			ok := true
			for k, v := range want {
				if fmt.Sprint(l[k]) != v {
					ok = false
					break
				}
			}
			if ok {
				return l
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no audit line with %v; have %v", want, h.logs.Lines("audit"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
