package bot_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

// Approval tests: a third supervisor, on the allow-list, is the approver.
const (
	approverUser = "U0LEAD0001" // on the allow-list and an approver
	testSecret   = "e2e-approval-secret-0123456789abcdef0123"
)

// approvalHarness is a bot where disconnecting a customer needs approval.
// approvers empty means anyone on the allow-list but the requester.
func approvalHarness(t *testing.T, cfg authz.ApprovalConfig) *harness {
	t.Helper()
	if cfg.RequiredFor == nil {
		cfg.RequiredFor = []string{"customer"}
	}
	h := newHarness(t, harnessOptions{
		allowedUsers: []string{supervisor, approverUser},
		approval:     &cfg, approvalSecret: testSecret,
	})
	h.slack.AddUser(slacktest.User{ID: approverUser, Name: "lee", RealName: "Lee Lead", Email: "lee@example.com"})
	return h
}

// requested is one approval request the harness made: the conversation,
// the customer, and the request message in the channel.
type requested struct {
	conv, customer string
	msg            slacktest.Message
}

// request has supervisor confirm the customer's Disconnect button and
// returns the request message the bot posted in the channel.
func (h *harness) request() requested {
	h.t.Helper()
	conv := h.genesys.ThreePartyConference()
	customer := participantByPurpose(h.t, conv, "customer")
	picker := h.slash(supervisor, conv.ID)
	before := h.slack.MessageCount()
	h.click(supervisor, picker, h.buttonFor(picker, customer.ID))
	msg, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && m.User == "" && strings.Contains(m.Text, "Approval needed")
	})
	if err != nil {
		h.t.Fatalf("no approval request in the channel: %v", err)
	}
	return requested{conv: conv.ID, customer: customer.ID, msg: msg}
}

// approvalButton returns the request's button with actionID.
func (h *harness) approvalButton(msg slacktest.Message, actionID string) slacktest.Button {
	h.t.Helper()
	cur, _ := h.slack.Current(msg)
	for _, b := range h.slack.Buttons(cur) {
		if b.ActionID == actionID {
			return b
		}
	}
	h.t.Fatalf("no %s button on %s", actionID, h.slack.Render(cur))
	return slacktest.Button{}
}

// press clicks an approval button as user (through slacktest.Click, which
// checks the button is on the message now) and waits for the audit line.
func (h *harness) press(user string, r requested, actionID string) {
	h.t.Helper()
	b := h.approvalButton(r.msg, actionID)
	n := len(h.logs.Lines("audit"))
	if _, err := h.slack.Click(h.ctx(), user, r.msg, b.ActionID, b.Value); err != nil {
		h.t.Fatalf("click %s as %s: %v", actionID, user, err)
	}
	h.waitLines("audit", n+1)
}

// current is the request message as the channel sees it now.
func (h *harness) current(r requested) string {
	cur, ok := h.slack.Current(r.msg)
	if !ok {
		h.t.Fatal("the request message is gone")
	}
	return h.slack.Render(cur)
}

// private is the newest message only user sees.
func (h *harness) private(user string) string {
	var last slacktest.Message
	for _, m := range h.slack.Messages() {
		if m.User == user {
			last = m
		}
	}
	return last.Text
}

// TestApprovalRequestSendsNothingToGenesys: a confirmed click on a customer
// posts a request in the channel; nothing is sent to Genesys.
func TestApprovalRequestSendsNothingToGenesys(t *testing.T) {
	t.Parallel()
	h := approvalHarness(t, authz.ApprovalConfig{})
	r := h.request()
	if n := h.patches(); n != 0 {
		t.Fatalf("%d PATCHes before anyone approved", n)
	}
	shown := h.current(r)
	for _, want := range []string{"Approval needed", "<@" + supervisor + ">", r.conv, "customer", "second supervisor", "expires at", "Approve", "Deny", "Withdraw"} {
		if !strings.Contains(shown, want) && !strings.Contains(r.msg.Text, want) {
			t.Errorf("request %q lacks %q", shown, want)
		}
	}
	if !strings.Contains(h.private(supervisor), "once a second supervisor approves") {
		t.Errorf("the requester was told %q", h.private(supervisor))
	}
	l := h.auditLine(map[string]string{"approval_step": "requested"})
	if l["request_id"] == "" || l["participant_id"] != r.customer || l["outcome"] != "approval_requested" {
		t.Errorf("requested audit line %v", l)
	}
	// An agent needs no approval: the ordinary flow.
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")
	picker := h.slash(supervisor, conv.ID)
	if final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID)); !strings.Contains(final.Text, "confirmed") {
		t.Errorf("agent disconnect ended %q", final.Text)
	}
}

// TestApprovalApproved: another supervisor approves; the bot disconnects,
// confirms and updates the request message in place with the outcome.
func TestApprovalApproved(t *testing.T) {
	t.Parallel()
	h := approvalHarness(t, authz.ApprovalConfig{})
	r := h.request()
	postsBefore := len(h.channelPosts(channel))
	h.press(approverUser, r, "approval_approve")
	h.waitState(r.conv, r.customer, "disconnected")
	h.auditLine(map[string]string{"approval_step": "executed", "outcome": "confirmed"})
	shown := h.current(r)
	for _, want := range []string{"Requested by @sam", "approved by @lee", "Genesys confirmed it", "correlation id", "result: confirmed"} {
		if !strings.Contains(shown, want) {
			t.Errorf("updated request %q lacks %q", shown, want)
		}
	}
	if strings.Contains(shown, "Approve") && len(h.slack.Buttons(mustCurrent(t, h, r))) > 0 {
		t.Errorf("the approved request still has buttons: %q", shown)
	}
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want 1", n)
	}
	if n := len(h.channelPosts(channel)) - postsBefore; n != 0 {
		t.Errorf("%d new channel posts; the outcome belongs on the request message", n)
	}
	h.auditLine(map[string]string{"approval_step": "approved", "slack_user": approverUser})
}

func mustCurrent(t *testing.T, h *harness, r requested) slacktest.Message {
	t.Helper()
	cur, ok := h.slack.Current(r.msg)
	if !ok {
		t.Fatal("request message gone")
	}
	return cur
}

// TestApprovalRefusals: every click that must not disconnect is refused
// with a private message, and nothing reaches Genesys.
func TestApprovalRefusals(t *testing.T) {
	t.Parallel()
	other, err := approval.NewSigner("another-secret-0123456789abcdef0123456789")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cfg    authz.ApprovalConfig
		user   string
		action string
		value  func(t *testing.T, h *harness, r requested, b slacktest.Button) string // nil: the button's own
		want   string                                                                 // in the private answer
		reason string
	}{
		{name: "requester approves own request", user: supervisor, action: "approval_approve", want: "made this request yourself", reason: "own_request"},
		{name: "not in the approver list", cfg: authz.ApprovalConfig{Approvers: []string{supervisor2}}, user: approverUser, action: "approval_approve", want: "not one of the approvers", reason: "not_an_approver"},
		{name: "not on the allow-list", user: stranger, action: "approval_approve", want: "allow-list", reason: "not_in_allow_list"},
		{name: "tampered value", user: approverUser, action: "approval_approve", want: "not valid", reason: "invalid_signature",
			value: func(_ *testing.T, _ *harness, _ requested, b slacktest.Button) string {
				v := []byte(b.Value)
				v[len(v)/2] ^= 1
				return string(v)
			}},
		{name: "unsigned value", user: approverUser, action: "approval_approve", want: "not valid", reason: "invalid_signature",
			value: func(_ *testing.T, _ *harness, r requested, _ slacktest.Button) string {
				return "v1:" + r.conv + ":" + r.customer
			}},
		{name: "signed with another secret", user: approverUser, action: "approval_approve", want: "not valid", reason: "invalid_signature",
			value: func(t *testing.T, _ *harness, r requested, b slacktest.Button) string {
				req, _, err := mustSigner(t).Verify(b.Value, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				v, err := other.Sign(req, approval.Approve)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}},
		{name: "deny value under the approve button", user: approverUser, action: "approval_approve", want: "not valid", reason: "value_mismatch",
			value: func(t *testing.T, h *harness, r requested, _ slacktest.Button) string {
				return h.approvalButton(r.msg, "approval_deny").Value
			}},
		{name: "withdraw by someone else", user: approverUser, action: "approval_withdraw", want: "Only <@" + supervisor + ">", reason: "not_requester"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := approvalHarness(t, tc.cfg)
			r := h.request()
			b := h.approvalButton(r.msg, tc.action)
			value := b.Value
			if tc.value != nil {
				value = tc.value(t, h, r, b)
			}
			n := len(h.logs.Lines("audit"))
			before := h.slack.MessageCount()
			if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
				ChannelID: channel, UserID: tc.user, ActionID: b.ActionID, BlockID: b.BlockID, Value: value, Text: b.Text, MessageTS: r.msg.TS,
			}); err != nil {
				t.Fatal(err)
			}
			answer := h.answerTo(tc.user, before)
			if !strings.Contains(answer.Text, tc.want) {
				t.Errorf("refusal %q, want it to say %q", answer.Text, tc.want)
			}
			h.waitLines("audit", n+1)
			l := h.auditLine(map[string]string{"slack_user": tc.user, "action": "approval", "reason": tc.reason})
			if l["approval_step"] != "refused" {
				t.Errorf("audit line %v, want approval_step refused", l)
			}
			if n := h.patches(); n != 0 {
				t.Errorf("%d PATCHes after a refused click", n)
			}
			if shown := h.current(r); !strings.Contains(shown, "Approval needed") {
				t.Errorf("a refused click changed the request to %q", shown)
			}
		})
	}
}

func mustSigner(t *testing.T) *approval.Signer {
	t.Helper()
	s, err := approval.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestApprovalSecondApprove: after the first Approve carried it out, a
// second one is refused ("already approved by @x"): no second PATCH, no
// second outcome.
func TestApprovalSecondApprove(t *testing.T) {
	t.Parallel()
	h := approvalHarness(t, authz.ApprovalConfig{})
	r := h.request()
	approve := h.approvalButton(r.msg, "approval_approve")
	h.press(approverUser, r, "approval_approve")
	h.auditLine(map[string]string{"approval_step": "executed"})
	updates := len(h.slack.CallsTo("chat.update"))
	before := h.slack.MessageCount()
	// The old button, as a client that had not redrawn the message would send it.
	if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
		ChannelID: channel, UserID: supervisor2, ActionID: approve.ActionID, BlockID: approve.BlockID, Value: approve.Value, MessageTS: r.msg.TS,
	}); err != nil {
		t.Fatal(err)
	}
	if answer := h.answerTo(supervisor2, before); !strings.Contains(answer.Text, "already approved by <@"+approverUser+">") {
		t.Errorf("second approver was told %q", answer.Text)
	}
	h.auditLine(map[string]string{"slack_user": supervisor2, "reason": "approved"})
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want 1", n)
	}
	if n := len(h.slack.CallsTo("chat.update")); n != updates {
		t.Errorf("the second Approve updated the request message again (%d → %d)", updates, n)
	}
}

// TestApprovalSameInstant: two approvers click Approve at the same moment:
// one PATCH, one outcome; the other is told who is doing it.
func TestApprovalSameInstant(t *testing.T) {
	t.Parallel()
	h := approvalHarness(t, authz.ApprovalConfig{})
	r := h.request()
	b := h.approvalButton(r.msg, "approval_approve")
	var wg sync.WaitGroup
	for _, u := range []string{approverUser, supervisor2} {
		wg.Go(func() {
			if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
				ChannelID: channel, UserID: u, ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value, MessageTS: r.msg.TS,
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.auditLine(map[string]string{"approval_step": "executed"})
	lines := h.waitLines("audit", 5) // requested command+click, approved, executed, refused
	refused := 0
	for _, l := range lines {
		if l["action"] == "approval" && l["approval_step"] == "refused" {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d refused approvals, want 1: %v", refused, lines)
	}
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want 1", n)
	}
	outcomes := 0
	for _, c := range h.slack.CallsTo("chat.update") {
		if strings.Contains(c.Values.Get("text"), "approved by") && !strings.Contains(c.Values.Get("text"), "disconnecting") {
			outcomes++
		}
	}
	if outcomes != 1 {
		t.Errorf("%d outcome updates of the request message, want 1", outcomes)
	}
}

// TestApprovalDenyWithdrawExpire: Deny, Withdraw and expiry each update the
// message, and a later Approve is refused.
func TestApprovalDenyWithdrawExpire(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		ttl        time.Duration
		user, act  string
		shows      string
		step       string
		refuseWith string
	}{
		{"denied", 0, approverUser, "approval_deny", "Denied by @lee", "denied", "already denied"},
		{"withdrawn", 0, supervisor, "approval_withdraw", "Withdrawn by @sam", "withdrawn", "withdrawn"},
		{"expired", 2 * time.Second, "", "", "nobody was disconnected", "expired", "expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := approvalHarness(t, authz.ApprovalConfig{TTL: tc.ttl})
			r := h.request()
			approve := h.approvalButton(r.msg, "approval_approve")
			if tc.act != "" {
				h.press(tc.user, r, tc.act)
			}
			h.auditLine(map[string]string{"approval_step": tc.step})
			shown := h.current(r)
			if !strings.Contains(shown, tc.shows) || !strings.Contains(shown, "Nobody was disconnected") && !strings.Contains(shown, "nobody was disconnected") {
				t.Errorf("request shows %q, want %q", shown, tc.shows)
			}
			before := h.slack.MessageCount()
			if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
				ChannelID: channel, UserID: supervisor2, ActionID: approve.ActionID, BlockID: approve.BlockID, Value: approve.Value, MessageTS: r.msg.TS,
			}); err != nil {
				t.Fatal(err)
			}
			if answer := h.answerTo(supervisor2, before); !strings.Contains(answer.Text, tc.refuseWith) {
				t.Errorf("Approve after %s answered %q", tc.name, answer.Text)
			}
			if n := h.patches(); n != 0 {
				t.Errorf("%d PATCHes", n)
			}
		})
	}
}

// TestSweepApprovalRefusals: a sweep under four eyes is refused like a
// disconnect: the requester cannot approve it, nor can someone off the
// allow-list; the Approve dialog repeats the count; once approved it runs
// once, and a second Approve is refused.
func TestSweepApprovalRefusals(t *testing.T) {
	t.Parallel()
	h, request, before := newSweepApproval(t)
	if told := h.answerTo(supervisor, before); !strings.Contains(told.Text, "needs a second supervisor") {
		t.Errorf("the requester was told %q", told.Text)
	}
	approve := h.button(request, "approval_approve")
	if approve.Confirm == nil || !strings.Contains(approve.Confirm.Title, "Disconnect all 3") {
		t.Errorf("the Approve dialog does not repeat the count: %+v", approve.Confirm)
	}
	if shown := h.rendered(request); !strings.Contains(shown, "*3* stuck conversations") {
		t.Errorf("the request does not state the count: %s", shown)
	}
	for _, tc := range []struct{ user, want string }{
		{supervisor, "made this request yourself"},
		{stranger, "allow-list"},
	} {
		before := h.slack.MessageCount()
		h.sendClick(tc.user, request, approve)
		if answer := h.answerTo(tc.user, before); !strings.Contains(answer.Text, tc.want) {
			t.Errorf("%s's Approve answered %q, want %q", tc.user, answer.Text, tc.want)
		}
	}
	if h.patches() != 0 || h.genesys.Open() != 3 {
		t.Fatal("swept on a refused approval")
	}
	h.sendClick(approverUser, request, approve)
	eventually := time.Now().Add(10 * time.Second)
	for h.genesys.Open() != 0 && time.Now().Before(eventually) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.genesys.Open() != 0 {
		t.Fatalf("%d still open after the approval", h.genesys.Open())
	}
	h.auditLine(map[string]string{"approval_step": "executed", "slack_user": approverUser})
	patches := h.patches()
	before = h.slack.MessageCount()
	h.sendClick(supervisor2, request, approve) // supervisor2: on the allow-list through its group
	if answer := h.answerTo(supervisor2, before); !strings.Contains(answer.Text, "already approved by <@"+approverUser+">") {
		t.Errorf("second Approve answered %q", answer.Text)
	}
	if h.patches() != patches {
		t.Errorf("the second Approve swept again (%d → %d PATCHes)", patches, h.patches())
	}
}

// TestApprovalExpiredClickAfterExecution: the request was carried out but
// both Slack updates of its message failed, so it is still drawn as
// pending. A click after expiry must not tell anyone, privately or in the
// channel, that nobody was disconnected.
func TestApprovalExpiredClickAfterExecution(t *testing.T) {
	t.Parallel()
	h := approvalHarness(t, authz.ApprovalConfig{TTL: 3 * time.Second})
	r := h.request()
	approve := h.approvalButton(r.msg, "approval_approve")
	h.slack.FailNext("chat.update", 2, "cant_update_message")
	h.press(approverUser, r, "approval_approve")
	eventually(t, "the PATCH", func() bool { return h.patches() == 1 })
	time.Sleep(4500 * time.Millisecond) // past the 3 s TTL, rounded up to a whole second
	before := h.slack.MessageCount()
	if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
		ChannelID: channel, UserID: approverUser, ActionID: approve.ActionID, BlockID: approve.BlockID, Value: approve.Value, MessageTS: r.msg.TS,
	}); err != nil {
		t.Fatal(err)
	}
	ans := h.answerTo(approverUser, before)
	if strings.Contains(ans.Text, "nobody was disconnected") || strings.Contains(h.current(r), "nobody was disconnected") {
		t.Errorf("1 PATCH was sent, but the bot says nobody was disconnected:\nanswer %q\nrequest:\n%s", ans.Text, h.current(r))
	}
	if h.patches() != 1 {
		t.Errorf("%d PATCHes, want 1", h.patches())
	}
}
