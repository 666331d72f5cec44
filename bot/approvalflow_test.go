package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/genesys"
)

func TestExpiresAt(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		ttl  time.Duration
		want time.Time
	}{
		{base, 5 * time.Minute, base.Add(5 * time.Minute)},
		{base.Add(300 * time.Millisecond), time.Second, base.Add(2 * time.Second)}, // rounded up, never shorter
		{base.Add(time.Nanosecond), 30 * time.Second, base.Add(31 * time.Second)},
	} {
		if got := expiresAt(tc.now, tc.ttl); !got.Equal(tc.want) || got.Before(tc.now.Add(tc.ttl)) {
			t.Errorf("expiresAt(%s, %s) = %s, want %s", tc.now, tc.ttl, got, tc.want)
		}
	}
}

func TestSignedPurposeAndName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"customer": "customer", " Agent ": "agent", "<!channel>": "", "voice survey": "", strings.Repeat("a", 33): ""} {
		if got := signedPurpose(in); got != want {
			t.Errorf("signedPurpose(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("€", 200) // 600 bytes
	if got := clampBytes(long, approval.MaxNameLen); len(got) > approval.MaxNameLen || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("clampBytes cut %q", got)
	}
	if got := clampBytes("Pat", approval.MaxNameLen); got != "Pat" {
		t.Errorf("clampBytes(Pat) = %q", got)
	}
}

// fakeSweeps records the sweeps it is asked to run.
type fakeSweeps struct{ ran []approval.Request }

func (f *fakeSweeps) RunApprovedSweep(_ context.Context, _ clickRequest, r approval.Request) result {
	f.ran = append(f.ran, r)
	return result{outcome: "swept"}
}

// TestSweepApprovalHook: with sweep in approval.required_for, a sweep asks
// for approval through requestSweepApproval; the request states the count
// and filters and the Approve dialog repeats the count; an approver's click
// runs the sweep through Sweeps, the requester's does not.
func TestSweepApprovalHook(t *testing.T) {
	t.Parallel()
	f := approvalFixture(t, "sweep")
	sweeps := &fakeSweeps{}
	f.h.Sweeps = sweeps
	if !f.h.sweepNeedsApproval() || f.h.approvalRequired("customer") {
		t.Fatal("policy: sweeps need approval, customers do not")
	}
	ask := clickRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: hActor, ResponseURL: hURL}
	res := f.h.requestSweepApproval(context.Background(), ask, approval.Sweep{Count: 412, OlderThan: 4 * time.Hour, Queue: "Support", Media: "voice"})
	if res.outcome != outcomeApprovalRequested || res.step != stepRequested || res.requestID == "" {
		t.Fatalf("requestSweepApproval = %+v", res)
	}
	var posted message
	for _, s := range f.slack.messages() {
		if s.kind == "post" {
			posted = s.msg
		}
	}
	raw, _ := json.Marshal(posted.Blocks)
	for _, want := range []string{"*412* stuck conversations", "older than 4h00m", "queue `Support`", "Disconnect all 412 conversations?", "Every active leg of the 412 stuck conversations"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("sweep request lacks %q: %s", want, raw)
		}
	}
	buttons := buttonValues(posted)
	click := func(user string) clickRequest {
		return clickRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: user, ActionID: actionApprove, Value: buttons[actionApprove],
			ResponseURL: hURL, MessageTS: "1700000000.000100", TriggerID: "trig-" + user}
	}
	f.h.HandleClick(context.Background(), click(hActor)) // the requester
	if len(sweeps.ran) != 0 {
		t.Fatalf("the requester's own Approve ran the sweep")
	}
	f.h.HandleClick(context.Background(), click("U0LEAD0001"))
	if len(sweeps.ran) != 1 || sweeps.ran[0].Sweep.Count != 412 || sweeps.ran[0].Sweep.Queue != "Support" {
		t.Fatalf("sweeps run: %+v", sweeps.ran)
	}
	for _, want := range []string{`"approval_step":"refused","requested_by":"U0SUPER001"`, `"outcome":"approved"`, `"outcome":"swept"`} {
		if !strings.Contains(f.logs.String(), want) {
			t.Errorf("audit log lacks %s:\n%s", want, f.logs)
		}
	}
}

// approvalFixture is a handler whose approval.required_for is requiredFor,
// over the in-memory fakes.
func approvalFixture(t *testing.T, requiredFor ...string) *fixture {
	t.Helper()
	f := newFixture(false)
	policy, err := authz.NewApproval(authz.ApprovalConfig{RequiredFor: requiredFor}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := approval.NewSigner("handler-approval-test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	f.h.Approval = &approvalSetup{Policy: policy, Signer: signer}
	t.Cleanup(f.h.stopApprovals)
	f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
	return f
}

// TestHandlerApprovalDecisions: the requester's click posts a request and
// nothing else; a redelivered copy of that click posts no second request;
// the requester cannot approve; another supervisor's Approve disconnects
// exactly once.
func TestHandlerApprovalDecisions(t *testing.T) {
	t.Parallel()
	f := approvalFixture(t, "customer")
	ctx := context.Background()
	click := clickRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: hActor, ActionID: actionDisconnect + ":1",
		Value: encodeButtonValue(buttonValue{ConversationID: hConv, ParticipantID: hCustomer}), ResponseURL: hURL, TriggerID: "t1"}
	f.h.HandleClick(ctx, click) // DisconnectParticipantFn unset: a PATCH would panic
	posts := func() (out []message) {
		for _, s := range f.slack.messages() {
			if s.kind == "post" {
				out = append(out, s.msg)
			}
		}
		return out
	}
	if len(posts()) != 1 || !strings.Contains(posts()[0].Text, "Approval needed") {
		t.Fatalf("posts after the requester's click: %+v", posts())
	}
	again := click
	again.TriggerID, again.Redelivered = "t1-again", true
	f.h.HandleClick(ctx, again)
	if len(posts()) != 1 {
		t.Fatalf("a redelivered click posted a second request")
	}
	approve := buttonValues(posts()[0])[actionApprove]
	press := func(user, trigger string) {
		f.h.HandleClick(ctx, clickRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: user, ActionID: actionApprove, Value: approve,
			ResponseURL: hURL, TriggerID: trigger, MessageTS: "1700000000.000100"})
	}
	press(hActor, "t2") // own request: refused before Genesys
	patches := 0
	f.genesys.DisconnectParticipantFn = func(context.Context, string, string) (genesys.DisconnectResult, error) {
		patches++
		return genesys.DisconnectResult{Outcome: genesys.DisconnectAccepted, CorrelationID: "corr-1"}, nil
	}
	f.genesys.ConfirmDisconnectFn = func(context.Context, string, string) (genesys.Confirmation, error) {
		f.genesys.GetConversationFn = getConv(endedCall(hConv), nil)
		return genesys.Confirmation{Confirmed: true}, nil
	}
	press("U0LEAD0001", "t3")
	press("U0LEAD0002", "t4") // a second approver, after the first: remembered
	if patches != 1 {
		t.Errorf("%d PATCHes, want 1", patches)
	}
	var outcomes []string
	for _, s := range f.slack.messages() {
		if s.kind == "update" {
			outcomes = append(outcomes, s.msg.Text)
		}
	}
	if len(outcomes) != 2 || !strings.Contains(outcomes[1], "approved by <@U0LEAD0001>") || !strings.Contains(outcomes[1], "Genesys confirmed it") {
		t.Errorf("request updates %q, want approving then the confirmed outcome", outcomes)
	}
	for _, want := range []string{`"reason":"own_request"`, `"reason":"redelivered"`, `"approval_step":"executed"`, `"slack_user":"U0LEAD0002"`, `"reason":"approved"`} {
		if !strings.Contains(f.logs.String(), want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

// buttonValues maps the action ids of msg's buttons to their values.
func buttonValues(msg message) map[string]string {
	raw, _ := json.Marshal(msg.Blocks)
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(raw, &blocks)
	out := map[string]string{}
	for _, b := range blocks {
		for _, e := range b.Elements {
			out[e.ActionID] = e.Value
		}
	}
	return out
}
