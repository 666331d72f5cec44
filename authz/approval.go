package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ApprovalConfig is the four-eyes policy as read from configuration
// (approval.* keys). The zero value turns approval off.
type ApprovalConfig struct {
	// RequiredFor lists what needs a second supervisor's approval:
	// participant purposes (customer, external, agent, …), "all" (every
	// single disconnect) and "sweep" (bulk sweeps).
	RequiredFor []string
	// Approvers and ApproverUsergroups list who may approve. When both are
	// empty, anyone the allow-list allows may approve, except the requester.
	Approvers          []string // U…/W… ids
	ApproverUsergroups []string // S… ids
	// TTL is how long a request waits for an approval; 0 means DefaultApprovalTTL.
	TTL time.Duration
	// GroupTTL is how long an approver group's member list is trusted;
	// 0 means DefaultGroupTTL.
	GroupTTL time.Duration
}

// DefaultApprovalTTL is how long a request waits when ApprovalConfig.TTL is zero.
const DefaultApprovalTTL = 5 * time.Minute

// What ApprovalConfig.RequiredFor accepts besides purposes.
const (
	RequireAll   = "all"
	RequireSweep = "sweep"
)

// approvalPurposes are the participant purposes Genesys documents (the
// conversation participant model and the analytics purpose enum). RequiredFor is checked against
// them so that a typo ("customers") is an error at start-up, not a customer
// disconnected without approval.
var approvalPurposes = []string{
	"customer", "external", "agent", "user", "acd", "ivr", "api", "botflow", "campaign",
	"dialer", "fax", "group", "inbound", "manual", "outbound", "station", "voicemail",
	"voicesurveyflow", "workflow",
}

// Reasons an approval is refused, besides the allow-list's own.
const (
	ReasonOwnRequest  = "own_request"
	ReasonNotApprover = "not_an_approver"
)

const (
	keyRequiredFor        = "approval.required_for"
	keyApprovers          = "approval.approvers"
	keyApproverUsergroups = "approval.approver_usergroups"
	keyApprovalTTL        = "approval.ttl"
)

// ApprovalPolicy says which disconnects need a second supervisor and who
// may be that supervisor. It is immutable apart from its user group cache,
// and safe for concurrent use. A nil *ApprovalPolicy requires nothing.
type ApprovalPolicy struct {
	all, sweep bool
	purposes   map[string]struct{}
	approvers  map[string]struct{}
	groups     []string
	ttl        time.Duration
	contact    string
	cache      *groupCache // nil without approver groups
}

// NewApproval validates cfg and builds the policy (every problem at once, in
// a *ConfigError). groups may be nil only when no approver user groups are
// configured; now is the group cache's clock (nil: time.Now). contact is
// Config.Contact, named in refusals.
func NewApproval(cfg ApprovalConfig, groups GroupMembers, now func() time.Time, contact string) (*ApprovalPolicy, error) {
	var problems []string
	p := &ApprovalPolicy{purposes: map[string]struct{}{}, contact: strings.TrimSpace(contact)}
	for i, raw := range cfg.RequiredFor {
		item := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case item == RequireAll:
			p.all = true
		case item == RequireSweep:
			p.sweep = true
		case slices.Contains(approvalPurposes, item):
			p.purposes[item] = struct{}{}
		case item == "":
			problems = append(problems, fmt.Sprintf("%s[%d]: empty entry", keyRequiredFor, i))
		default:
			msg := fmt.Sprintf("%s[%d]: %s is not %s, %s or a participant purpose (%s)", keyRequiredFor, i, quote(raw), RequireAll, RequireSweep, strings.Join(approvalPurposes, ", "))
			if s := strings.TrimSuffix(item, "s"); s != item && (slices.Contains(approvalPurposes, s) || s == RequireSweep) {
				msg += fmt.Sprintf("; did you mean %s?", quote(s))
			}
			problems = append(problems, msg)
		}
	}
	users := cleanIDs(keyApprovers, cfg.Approvers, userPrefixes, "user", "U… or W…", &problems)
	p.approvers = toSet(users)
	p.groups = cleanIDs(keyApproverUsergroups, cfg.ApproverUsergroups, usergroupPrefixes, "user group", "S…", &problems)
	switch {
	case cfg.TTL < 0:
		problems = append(problems, fmt.Sprintf("%s: %s is negative; give a positive duration like 5m or 90s", keyApprovalTTL, cfg.TTL))
	case cfg.TTL == 0:
		p.ttl = DefaultApprovalTTL
	case cfg.TTL < time.Second:
		problems = append(problems, fmt.Sprintf("%s: %s is shorter than a second; requests expire at whole seconds", keyApprovalTTL, cfg.TTL))
	default:
		p.ttl = cfg.TTL
	}
	groupTTL := cfg.GroupTTL
	if groupTTL <= 0 {
		groupTTL = DefaultGroupTTL
	}
	if len(p.groups) > 0 && groups == nil {
		problems = append(problems, fmt.Sprintf("%s: %d user group(s) configured but no way to look up their members", keyApproverUsergroups, len(p.groups)))
	}
	if !p.Enabled() && (len(users) > 0 || len(p.groups) > 0) {
		problems = append(problems, fmt.Sprintf("%s / %s are set but %s is empty, so nothing needs approval; set %s (e.g. [customer]) or remove the approvers", keyApprovers, keyApproverUsergroups, keyRequiredFor, keyRequiredFor))
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	if now == nil {
		now = time.Now
	}
	if len(p.groups) > 0 {
		p.cache = newGroupCache(groups, now, groupTTL, p.groups)
	}
	return p, nil
}

// Enabled reports whether anything needs approval.
func (p *ApprovalPolicy) Enabled() bool {
	return p != nil && (p.all || p.sweep || len(p.purposes) > 0)
}

// Required reports whether disconnecting a participant with this purpose
// needs approval.
func (p *ApprovalPolicy) Required(purpose string) bool {
	if p == nil {
		return false
	}
	if p.all {
		return true
	}
	_, ok := p.purposes[strings.ToLower(strings.TrimSpace(purpose))]
	return ok
}

// RequiredForSweep reports whether a bulk sweep needs approval.
func (p *ApprovalPolicy) RequiredForSweep() bool { return p != nil && p.sweep }

// TTL is how long a request waits for an approval.
func (p *ApprovalPolicy) TTL() time.Duration {
	if p == nil || p.ttl == 0 {
		return DefaultApprovalTTL
	}
	return p.ttl
}

// MayApprove decides whether approver may approve (or deny) a request made
// by requester. It compares Slack user ids, which are unique across an
// Enterprise Grid (the same person has the same W… id in every workspace),
// so the requester cannot approve their own request from another workspace.
// It does NOT consult the allow-list: the caller authorizes the approver
// with Policy.Authorize first, and both must allow.
//
// Like Authorize it never allows on error: a failed approver group lookup
// refuses with ReasonGroupLookupFailed unless a listed user id allows.
func (p *ApprovalPolicy) MayApprove(ctx context.Context, requester, approver Request) Decision {
	d := p.mayApprove(ctx, requester, approver)
	if p != nil {
		d.contact = p.contact
	}
	return d
}

func (p *ApprovalPolicy) mayApprove(ctx context.Context, requester, approver Request) Decision {
	if p == nil {
		return deny(ReasonNotApprover, errors.New("authz: approval is not configured"))
	}
	if !isID(approver.UserID, userPrefixes) || !isID(requester.UserID, userPrefixes) {
		return deny(ReasonInvalidRequest, fmt.Errorf("authz: invalid approval: approver %s, requester %s", quote(approver.UserID), quote(requester.UserID)))
	}
	if approver.UserID == requester.UserID {
		return deny(ReasonOwnRequest, nil)
	}
	if len(p.approvers) == 0 && len(p.groups) == 0 {
		return Decision{Allowed: true, Rule: "any_other_supervisor"}
	}
	if _, ok := p.approvers[approver.UserID]; ok {
		return Decision{Allowed: true, Rule: "approver:" + approver.UserID}
	}
	if p.cache == nil {
		return deny(ReasonNotApprover, nil)
	}
	return p.cache.decide(ctx, p.groups, approver.UserID, "approver_usergroup", ReasonNotApprover)
}

// Describe returns one line for the start-up log.
func (p *ApprovalPolicy) Describe() string {
	if !p.Enabled() {
		return "approval: off (approval.required_for is empty)"
	}
	var needs []string
	if p.all {
		needs = append(needs, "every disconnect")
	} else {
		for _, purpose := range approvalPurposes {
			if _, ok := p.purposes[purpose]; ok {
				needs = append(needs, purpose)
			}
		}
	}
	if p.sweep {
		needs = append(needs, "sweeps")
	}
	who := "anyone on the allow-list but the requester"
	if len(p.approvers) > 0 || len(p.groups) > 0 {
		who = fmt.Sprintf("%d approver(s) and %d approver group(s), never the requester", len(p.approvers), len(p.groups))
	}
	return fmt.Sprintf("approval: required for %s; approved by %s; requests expire after %s", strings.Join(needs, ", "), who, p.TTL())
}
