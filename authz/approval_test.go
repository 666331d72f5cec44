package authz_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
)

func TestNewApprovalValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  authz.ApprovalConfig
		want []string // substrings of the error; none = valid
	}{
		{"off", authz.ApprovalConfig{}, nil},
		{"purposes", authz.ApprovalConfig{RequiredFor: []string{"customer", " External ", "agent"}}, nil},
		{"all and sweep", authz.ApprovalConfig{RequiredFor: []string{"all", "sweep"}, TTL: 30 * time.Second}, nil},
		{"approvers", authz.ApprovalConfig{RequiredFor: []string{"customer"}, Approvers: []string{"U0SUPER002"}, ApproverUsergroups: []string{"S0LEADS001"}}, nil},
		{"typo", authz.ApprovalConfig{RequiredFor: []string{"customers"}}, []string{`approval.required_for[0]: "customers" is not`, `did you mean "customer"?`}},
		{"unknown word", authz.ApprovalConfig{RequiredFor: []string{"everyone"}}, []string{`"everyone" is not all, sweep or a participant purpose`}},
		{"empty entry", authz.ApprovalConfig{RequiredFor: []string{"customer", ""}}, []string{"approval.required_for[1]: empty entry"}},
		{"approver is a name", authz.ApprovalConfig{RequiredFor: []string{"all"}, Approvers: []string{"@gary"}}, []string{"approval.approvers[0]", "names and handles are not accepted"}},
		{"approver group is a user", authz.ApprovalConfig{RequiredFor: []string{"all"}, ApproverUsergroups: []string{"U0SUPER002"}}, []string{"approval.approver_usergroups[0]"}},
		{"negative ttl", authz.ApprovalConfig{RequiredFor: []string{"all"}, TTL: -time.Minute}, []string{"approval.ttl: -1m0s is negative"}},
		{"sub-second ttl", authz.ApprovalConfig{RequiredFor: []string{"all"}, TTL: 500 * time.Millisecond}, []string{"approval.ttl: 500ms is shorter than a second"}},
		{"approvers without anything to approve", authz.ApprovalConfig{Approvers: []string{"U0SUPER002"}}, []string{"approval.required_for is empty, so nothing needs approval"}},
		{"all problems at once", authz.ApprovalConfig{RequiredFor: []string{"customers"}, Approvers: []string{"bob"}, TTL: -1}, []string{"required_for[0]", "approvers[0]", "approval.ttl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := authz.NewApproval(tc.cfg, newFakeGroups(nil), nil, "")
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("NewApproval: %v", err)
				}
				return
			}
			var cfgErr *authz.ConfigError
			if !errors.As(err, &cfgErr) {
				t.Fatalf("err %v, want a *ConfigError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestApprovalRequired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		requiredFor []string
		purpose     string
		want        bool
	}{
		{nil, "customer", false},
		{[]string{"customer"}, "customer", true},
		{[]string{"customer"}, "Customer", true},
		{[]string{"customer"}, "agent", false},
		{[]string{"customer"}, "", false},
		{[]string{"customer", "external"}, "external", true},
		{[]string{"agent"}, "user", false}, // user is its own purpose; list it to cover it
		{[]string{"all"}, "acd", true},
		{[]string{"all"}, "", true},
		{[]string{"sweep"}, "customer", false},
	} {
		p, err := authz.NewApproval(authz.ApprovalConfig{RequiredFor: tc.requiredFor}, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Required(tc.purpose); got != tc.want {
			t.Errorf("required_for %v: Required(%q) = %v, want %v", tc.requiredFor, tc.purpose, got, tc.want)
		}
	}
	sweep, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"sweep"}}, nil, nil, "")
	customer, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"customer"}}, nil, nil, "")
	if !sweep.RequiredForSweep() || customer.RequiredForSweep() {
		t.Errorf("RequiredForSweep: sweep %v, customer %v; want true, false", sweep.RequiredForSweep(), customer.RequiredForSweep())
	}
	var none *authz.ApprovalPolicy
	if none.Enabled() || none.Required("customer") || none.RequiredForSweep() {
		t.Error("a nil policy requires approval")
	}
}

func TestApprovalTTL(t *testing.T) {
	t.Parallel()
	def, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"all"}}, nil, nil, "")
	short, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"all"}, TTL: 3 * time.Second}, nil, nil, "")
	if def.TTL() != 5*time.Minute || short.TTL() != 3*time.Second {
		t.Errorf("TTL default %s, 3s %s", def.TTL(), short.TTL())
	}
}

func TestMayApprove(t *testing.T) {
	t.Parallel()
	const (
		sam  = "U0SUPER001"
		sue  = "U0SUPER002"
		lead = "U0LEAD0001"
		gary = "U0GUEST001"
	)
	req := func(user string) authz.Request {
		return authz.Request{TeamID: "T0TEAM0001", UserID: user, ChannelID: "C0SUPPORT1"}
	}
	groups := newFakeGroups(map[string][]string{"S0LEADS001": {lead}})
	anyone, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"customer"}}, nil, nil, "#cc-ops")
	listed, err := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"customer"}, Approvers: []string{sue}, ApproverUsergroups: []string{"S0LEADS001"}}, groups, nil, "#cc-ops")
	if err != nil {
		t.Fatal(err)
	}
	broken := newFakeGroups(nil)
	broken.setErr("S0LEADS001", errors.New("slack is down"))
	failing, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"customer"}, Approvers: []string{sue}, ApproverUsergroups: []string{"S0LEADS001"}}, broken, nil, "")

	for _, tc := range []struct {
		name                string
		policy              *authz.ApprovalPolicy
		requester, approver authz.Request
		allowed             bool
		reason              string
	}{
		{"anyone else", anyone, req(sam), req(sue), true, ""},
		{"own request", anyone, req(sam), req(sam), false, authz.ReasonOwnRequest},
		// The same user id from another workspace of the grid is the same person.
		{"own request from another workspace", anyone, req(sam), authz.Request{TeamID: "T0OTHER001", UserID: sam}, false, authz.ReasonOwnRequest},
		{"listed approver", listed, req(sam), req(sue), true, ""},
		{"approver through a group", listed, req(sam), req(lead), true, ""},
		{"not an approver", listed, req(sam), req(gary), false, authz.ReasonNotApprover},
		{"listed approver's own request", listed, req(sue), req(sue), false, authz.ReasonOwnRequest},
		{"group lookup fails", failing, req(sam), req(lead), false, authz.ReasonGroupLookupFailed},
		{"group lookup fails, listed user still allowed", failing, req(sam), req(sue), true, ""},
		{"no approver id", anyone, req(sam), req(""), false, authz.ReasonInvalidRequest},
		{"requester id forged as a name", anyone, req("sam"), req(sue), false, authz.ReasonInvalidRequest},
		{"approval not configured", nil, req(sam), req(sue), false, authz.ReasonNotApprover},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.policy.MayApprove(context.Background(), tc.requester, tc.approver)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Fatalf("MayApprove = allowed %v reason %q (%v), want %v %q", d.Allowed, d.Reason, d.Err, tc.allowed, tc.reason)
			}
			if !d.Allowed && d.Message() == "" {
				t.Error("a refusal without a message")
			}
		})
	}
	if msg := listed.MayApprove(context.Background(), req(sam), req(gary)).Message(); !strings.Contains(msg, "#cc-ops") {
		t.Errorf("refusal %q does not name the contact", msg)
	}
}

func TestApprovalDescribe(t *testing.T) {
	t.Parallel()
	off, _ := authz.NewApproval(authz.ApprovalConfig{}, nil, nil, "")
	on, _ := authz.NewApproval(authz.ApprovalConfig{RequiredFor: []string{"external", "customer", "sweep"}, Approvers: []string{"U0SUPER002"}, TTL: 90 * time.Second}, nil, nil, "")
	for _, tc := range []struct {
		p    *authz.ApprovalPolicy
		want string
	}{
		{off, "approval: off"},
		{on, "approval: required for customer, external, sweeps; approved by 1 approver(s) and 0 approver group(s), never the requester; requests expire after 1m30s"},
	} {
		if got := tc.p.Describe(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("Describe() = %q, want %q", got, tc.want)
		}
	}
}
