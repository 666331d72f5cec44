package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

func goldenApprovalRequest() approval.Request {
	return approval.Request{
		ID: "0123456789abcdef", Kind: approval.KindDisconnect, Expires: goldenNow.Add(5 * time.Minute),
		TeamID: "T0TEAM0001", UserID: "U012AB3CD", ChannelID: "C0SUPPORT1",
		ConversationID: convID, ParticipantID: "e5555555-5555-4555-8555-555555555555",
		Purpose: "external", Name: "<!channel> Bob & *Co*",
	}
}

func goldenSweepRequest() approval.Request {
	return approval.Request{
		ID: "fedcba9876543210", Kind: approval.KindSweep, Expires: goldenNow.Add(5 * time.Minute),
		TeamID: "T0TEAM0001", UserID: "U012AB3CD", ChannelID: "C0SUPPORT1",
		Sweep: approval.Sweep{Count: 412, OlderThan: 4 * time.Hour, Queue: "Support <!here> `EMEA`", Media: "voice"},
	}
}

var goldenButtons = approvalButtons{approve: "signed-approve", deny: "signed-deny", withdraw: "signed-withdraw"}

func goldenApprovalMessages() map[string]message {
	conv := goldenConversation()
	r, sw := goldenApprovalRequest(), goldenSweepRequest()
	bob, _ := conv.Participant(r.ParticipantID)
	const approver = "U0SUPER002"
	at := goldenNow.Add(2 * time.Minute)
	return map[string]message{
		"approval_request": approvalRequestMessage(approvalRequestView{req: r, buttons: goldenButtons,
			why:       "Disconnecting an external participant needs a second supervisor's approval.",
			approvers: "<@U0SUPER002>, <!subteam^S0LEADS001>", conversation: conversationSummary(conv, goldenNow)}, goldenNow),
		"approval_request_sweep": approvalRequestMessage(approvalRequestView{req: sw, buttons: goldenButtons,
			why: "Sweeps need a second supervisor's approval."}, goldenNow),
		"approval_approving": approvalApprovingMessage(r, approver, at),
		"approval_approved": approvalOutcomeMessage(r, Outcome{Actor: approver, ConversationID: conv.ID, Participant: bob,
			Status: OutcomeConfirmed, CorrelationID: "corr-123", At: at}),
		"approval_approved_failed": approvalOutcomeMessage(r, Outcome{Actor: approver, ConversationID: conv.ID, Participant: bob,
			Status: OutcomeFailed, Reason: "Genesys refused the request (HTTP 403).", CorrelationID: "corr-403", At: at}),
		"approval_denied":        approvalDeniedMessage(r, approver, at),
		"approval_withdrawn":     approvalWithdrawnMessage(r, at),
		"approval_expired":       approvalExpiredMessage(r),
		"approval_expired_sweep": approvalExpiredMessage(sw),
	}
}

func TestGoldenApprovalBlocks(t *testing.T) {
	t.Parallel()
	for name, msg := range goldenApprovalMessages() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, name, msg)
		})
	}
}

// TestApprovalMessagesEscapeExternalText: a participant named "<!channel>"
// or a queue filter with markup pings nobody, in any mrkdwn text (blocks,
// confirm dialog) or in the text fallback. plain_text is never parsed for
// mentions, so labels show names as they are.
func TestApprovalMessagesEscapeExternalText(t *testing.T) {
	t.Parallel()
	for name, msg := range goldenApprovalMessages() {
		raw, err := json.Marshal(msg.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		rendered := []string{msg.Text}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if v["type"] == "mrkdwn" {
					rendered = append(rendered, v["text"].(string))
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(tree)
		for _, s := range rendered {
			for _, bad := range []string{"<!channel>", "<!here>", "<Ω>"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s: %q contains %q unescaped", name, s, bad)
				}
			}
		}
		if msg.Text == "" {
			t.Errorf("%s has no text fallback", name)
		}
	}
}

// TestApprovalMessagesWithinLimits runs the worst inputs through the fake
// Slack's Block Kit validator (its limits are Slack's): the longest name and
// queue filter the signed value can hold.
func TestApprovalMessagesWithinLimits(t *testing.T) {
	t.Parallel()
	r, sw := goldenApprovalRequest(), goldenSweepRequest()
	r.Name = strings.Repeat("<Ω>", approval.MaxNameLen/4)
	sw.Sweep.Queue = strings.Repeat("&", approval.MaxQueueLen)
	sw.Sweep.Count = 1 << 24
	long := strings.Repeat("x", approval.MaxValueLen)
	buttons := approvalButtons{approve: long, deny: long, withdraw: long}
	conv := goldenConversation()
	for name, msg := range map[string]message{
		"request":       approvalRequestMessage(approvalRequestView{req: r, buttons: buttons, why: "Why.", approvers: "<@U0SUPER002>", conversation: conversationSummary(conv, goldenNow)}, goldenNow),
		"sweep request": approvalRequestMessage(approvalRequestView{req: sw, buttons: buttons, why: "Why."}, goldenNow),
		"denied":        approvalDeniedMessage(r, "U0SUPER002", goldenNow),
		"expired sweep": approvalExpiredMessage(sw),
		"approved": approvalOutcomeMessage(r, Outcome{Actor: "U0SUPER002", ConversationID: conv.ID,
			Participant: conv.Participants[0], Status: OutcomeUnknown, Reason: strings.Repeat("r", 500), At: goldenNow}),
	} {
		raw, err := json.Marshal(msg.Blocks)
		if err != nil {
			t.Fatal(err)
		}
		if errs, _ := slacktest.ValidateBlocks(raw); len(errs) > 0 {
			t.Errorf("%s: Slack would refuse the blocks: %v", name, errs)
		}
	}
}

func TestDecidedState(t *testing.T) {
	t.Parallel()
	ids := func(m message) []string {
		var out []string
		raw, _ := json.Marshal(m.Blocks)
		var blocks []struct {
			BlockID string `json:"block_id"`
		}
		_ = json.Unmarshal(raw, &blocks)
		for _, b := range blocks {
			out = append(out, b.BlockID)
		}
		return out
	}
	msgs := goldenApprovalMessages()
	for _, tc := range []struct {
		msg         string
		state, by   string
		known       bool
		blockIDsNil bool
	}{
		{"approval_request", "", "", true, false},
		{"approval_approving", approvalStateApproving, "U0SUPER002", true, false},
		{"approval_approved", approvalStateApproved, "U0SUPER002", true, false},
		{"approval_denied", approvalStateDenied, "U0SUPER002", true, false},
		{"approval_withdrawn", approvalStateWithdrawn, "U012AB3CD", true, false},
		{"approval_expired", approvalStateExpired, "", true, false},
		{"", "", "", false, true},
	} {
		var blockIDs []string
		if !tc.blockIDsNil {
			blockIDs = ids(msgs[tc.msg])
		}
		state, by, known := decidedState(blockIDs)
		if state != tc.state || by != tc.by || known != tc.known {
			t.Errorf("%s: decidedState = %q %q %v, want %q %q %v", tc.msg, state, by, known, tc.state, tc.by, tc.known)
		}
	}
	// A forged block id cannot inject markup into "already done by".
	if _, by, _ := decidedState([]string{"approval_state:approved:<!channel>"}); by != "" {
		t.Errorf("decidedState took %q as a user id", by)
	}
}
