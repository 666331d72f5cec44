package main

import (
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

const approverUser = "U0LEAD0001"

// approvalEnv turns four eyes on for customers, with ttl, and puts the
// approver on the allow-list.
func approvalEnv(ttl string) env {
	return env{
		"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "customer",
		"DISCONNECTBOT_APPROVAL_TTL":          ttl,
		"DISCONNECTBOT_APPROVAL_SECRET":       "replicas-share-this-secret-0123456789abcdef",
		"DISCONNECTBOT_AUTHZ_ALLOWED_USERS":   supervisor + "," + approverUser,
	}
}

// requestOn has the supervisor ask (through connection conn) to disconnect
// the customer of a new call, and returns the call, the customer and the
// request message.
func (f *fakes) requestOn(t *testing.T, conn int) (conv, customer string, req slacktest.Message) {
	t.Helper()
	c := f.genesys.ThreePartyConference()
	cust := participantByPurpose(t, c, "customer")
	picker := f.slash(t, supervisor, c.ID, conn)
	btn := f.buttonFor(t, picker, cust.ID)
	before := f.slack.MessageCount()
	if _, err := f.slack.SendBlockAction(waitCtx(t), clickOn(supervisor, picker, btn, conn)); err != nil {
		t.Fatal(err)
	}
	msg, err := f.slack.WaitMessageAfter(waitCtx(t), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.Contains(m.Text, "Approval needed")
	})
	if err != nil {
		t.Fatalf("no approval request: %v", err)
	}
	return c.ID, cust.ID, msg
}

func (f *fakes) approvalButton(t *testing.T, msg slacktest.Message, actionID string) slacktest.Button {
	t.Helper()
	for _, b := range f.slack.Buttons(msg) {
		if b.ActionID == actionID {
			return b
		}
	}
	t.Fatalf("no %s button in %s", actionID, f.slack.Render(msg))
	return slacktest.Button{}
}

func (f *fakes) shown(t *testing.T, msg slacktest.Message) string {
	t.Helper()
	cur, ok := f.slack.Current(msg)
	if !ok {
		t.Fatal("request message gone")
	}
	return f.slack.Render(cur)
}

// TestReplicasApprovalOnOtherReplica: replica A posts the request, replica B
// handles the Approve (stateless, signed buttons): one PATCH, the outcome on
// the request message. When the request's time comes, A's expiry timer
// re-reads the call, finds the customer gone and leaves the outcome alone.
func TestReplicasApprovalOnOtherReplica(t *testing.T) {
	t.Parallel()
	r := startReplicas(t, approvalEnv("2s"))
	f := r.f
	f.slack.AddUser(slacktest.User{ID: approverUser, Name: "lee", RealName: "Lee Lead", Email: "lee@example.com"})
	conv, customer, req := f.requestOn(t, r.connA)
	r.a.logs.waitLines(t, "audit", 2) // the command and the click
	if n := len(audits(r.a, conv, "click")); n != 1 || audits(r.a, conv, "click")[0]["approval_step"] != "requested" {
		t.Fatalf("replica A's click audit lines %v, want one requested", audits(r.a, conv, "click"))
	}
	approve := f.approvalButton(t, req, "approval_approve")
	d, err := f.slack.SendBlockAction(waitCtx(t), clickOn(approverUser, req, approve, r.connB))
	if err != nil {
		t.Fatal(err)
	}
	if d.ConnID != r.connB {
		t.Fatalf("Approve went to connection %d, want replica B's %d", d.ConnID, r.connB)
	}
	f.waitState(t, conv, customer, "disconnected")
	r.b.logs.waitLines(t, "audit", 2)
	eventually(t, "the outcome on the request message", func() bool {
		return strings.Contains(f.shown(t, req), "Genesys confirmed it")
	})
	steps := map[string]int{}
	for _, l := range audits(r.b, conv, "approval") {
		steps[l["approval_step"].(string)]++
	}
	if steps["approved"] != 1 || steps["executed"] != 1 {
		t.Errorf("replica B's approval steps %v, want approved and executed once", steps)
	}
	if n := len(audits(r.a, conv, "approval")); n != 0 {
		t.Errorf("replica A handled %d approval clicks", n)
	}
	// Past the expiry (ttl rounded up to a whole second): A's timer must not
	// turn the outcome into "expired".
	time.Sleep(3200 * time.Millisecond)
	r.a.logs.waitLines(t, "approval request expired after the participant left the call; its message is left as it is", 1)
	if shown := f.shown(t, req); !strings.Contains(shown, "Genesys confirmed it") || strings.Contains(shown, "Expired") {
		t.Errorf("after the expiry the request shows %q", shown)
	}
	if got := r.patchesFor(conv); got != 1 {
		t.Errorf("%d PATCHes, want 1", got)
	}
	if got := r.postsFor(conv); got != 1 {
		t.Errorf("%d channel posts, want 1 (the request, updated in place)", got)
	}
}

// TestReplicasApprovalExpiryIsSigned: the replica that posted the request is
// gone (a restart) before the request expires, so no timer marks it. An
// Approve after the expiry reaches the other replica: the signed expiry
// refuses it (a restart cannot extend a request), nothing is sent to
// Genesys, and that replica marks the message expired.
func TestReplicasApprovalExpiryIsSigned(t *testing.T) {
	t.Parallel()
	r := startReplicas(t, approvalEnv("1s"))
	f := r.f
	f.slack.AddUser(slacktest.User{ID: approverUser, Name: "lee", RealName: "Lee Lead", Email: "lee@example.com"})
	conv, _, req := f.requestOn(t, r.connA)
	if err := r.a.stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2200 * time.Millisecond) // ttl, rounded up to a whole second, and some
	if shown := f.shown(t, req); !strings.Contains(shown, "Approval needed") {
		t.Fatalf("with its replica gone the request shows %q", shown)
	}
	approve := f.approvalButton(t, req, "approval_approve")
	before := f.slack.MessageCount()
	if _, err := f.slack.SendBlockAction(waitCtx(t), clickOn(approverUser, req, approve, r.connB)); err != nil {
		t.Fatal(err)
	}
	if answer := f.finalAnswer(t, approverUser, before); !strings.Contains(answer.Text, "expired at") {
		t.Errorf("late Approve answered %q", answer.Text)
	}
	eventually(t, "the request marked expired", func() bool {
		return strings.Contains(f.shown(t, req), "nobody was disconnected")
	})
	if got := r.patchesFor(conv); got != 0 {
		t.Errorf("%d PATCHes after the expiry", got)
	}
	l := r.b.logs.waitLines(t, "audit", 1)[0]
	if l["action"] != "approval" || l["reason"] != "expired" || l["approval_step"] != "refused" {
		t.Errorf("replica B's audit line %v, want a refused expired approval", l)
	}
}
