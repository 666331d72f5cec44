package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
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
	f := newFixture(false)
	policy, err := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"sweep"}}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := approval.NewSigner("sweep-hook-test-secret-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	sweeps := &fakeSweeps{}
	f.h.Approval, f.h.Sweeps = &approvalSetup{Policy: policy, Signer: signer}, sweeps
	defer f.h.stopApprovals()
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
	buttons := map[string]string{}
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(raw, &blocks)
	for _, b := range blocks {
		for _, e := range b.Elements {
			buttons[e.ActionID] = e.Value
		}
	}
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
