// Package authz decides who may use disconnectbot.
//
// The policy is an allow-list: Slack user ids, Slack user groups (resolved
// through usergroups.users.list and cached) and, optionally, the channels the
// bot may be used from. Everything not explicitly allowed is refused, and
// every failure to find out (a Slack error, a timeout, a malformed request)
// refuses too: a Policy never turns an error into an Allowed decision.
package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config is the allow-list as read from configuration (authz.* keys).
type Config struct {
	AllowedUsers      []string      // U…/W… ids
	AllowedUsergroups []string      // S… ids
	AllowedChannels   []string      // empty = any channel
	TeamID            string        // the bot's own team (from auth.test); "" = not checked
	GroupTTL          time.Duration // default 5m
	// Contact names who to ask for access in refusals, as Slack text
	// ("#cc-ops", "<@U012AB3CD>"); "" says "a disconnectbot admin".
	Contact string
}

// GroupMembers lists a Slack user group's members (the bot passes a thin
// adapter over slack-go's GetUserGroupMembersContext).
type GroupMembers interface {
	UserGroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// DefaultGroupTTL is how long a user group's member list is trusted when
// Config.GroupTTL is zero.
const DefaultGroupTTL = 5 * time.Minute

// Reasons a Decision can be denied. They are stable identifiers, safe to show
// to the user and to use as log or metric labels.
const (
	ReasonNotInAllowList    = "not_in_allow_list"
	ReasonWrongTeam         = "wrong_team"
	ReasonChannelNotAllowed = "channel_not_allowed"
	ReasonAllowListEmpty    = "allow_list_empty"
	ReasonGroupLookupFailed = "group_lookup_failed"
	ReasonInvalidRequest    = "invalid_request"
)

// Config keys used in error messages, so an admin can find the bad entry.
const (
	keyUsers      = "authz.allowed_users"
	keyUsergroups = "authz.allowed_usergroups"
	keyChannels   = "authz.allowed_channels"
	keyTeamID     = "authz.team_id"
	keyGroupTTL   = "authz.group_ttl"
)

// ConfigError reports every problem found in a Config at once, so an admin
// can fix them all in one go rather than one restart per typo.
type ConfigError struct {
	Problems []string // one line each, e.g. `authz.allowed_users[2]: "bob" is not a Slack user id (expected U… or W…)`
}

func (e *ConfigError) Error() string {
	return "authz: invalid configuration: " + strings.Join(e.Problems, "; ")
}

// Policy is an immutable allow-list plus a cache of user group members.
// It is safe for concurrent use.
type Policy struct {
	users    []string // in config order, for Describe and deterministic checks
	userSet  map[string]struct{}
	groups   []string
	channels map[string]struct{}
	teamID   string
	contact  string

	cache *groupCache // nil when no user groups are configured
}

// New validates cfg and builds a Policy. Entries are trimmed of surrounding
// spaces and de-duplicated; an entry that does not have the shape of the
// expected Slack id is an error (all of them are listed in a *ConfigError).
// groups may be nil only when no user groups are configured. now is the clock
// for the group cache; nil means time.Now.
func New(cfg Config, groups GroupMembers, now func() time.Time) (*Policy, error) {
	var problems []string
	users := cleanIDs(keyUsers, cfg.AllowedUsers, userPrefixes, "user", "U… or W…", &problems)
	grps := cleanIDs(keyUsergroups, cfg.AllowedUsergroups, usergroupPrefixes, "user group", "S…", &problems)
	chans := cleanIDs(keyChannels, cfg.AllowedChannels, channelPrefixes, "channel", "C… or G…", &problems)

	team := strings.TrimSpace(cfg.TeamID)
	if team != "" && !isID(team, teamPrefixes) {
		problems = append(problems, fmt.Sprintf("%s: %s is not a Slack team id (expected T…)", keyTeamID, quote(team)))
	}
	ttl := cfg.GroupTTL
	switch {
	case ttl < 0:
		problems = append(problems, fmt.Sprintf("%s: %s is negative", keyGroupTTL, ttl))
	case ttl == 0:
		ttl = DefaultGroupTTL
	}
	if len(grps) > 0 && groups == nil {
		problems = append(problems, fmt.Sprintf("%s: %d user group(s) configured but no way to look up their members", keyUsergroups, len(grps)))
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}

	if now == nil {
		now = time.Now
	}
	p := &Policy{
		users:    users,
		userSet:  toSet(users),
		groups:   grps,
		channels: toSet(chans),
		teamID:   team,
		contact:  strings.TrimSpace(cfg.Contact),
	}
	if len(grps) > 0 {
		p.cache = newGroupCache(groups, now, ttl, grps)
	}
	return p, nil
}

// Request is who asks, from where.
type Request struct {
	TeamID, UserID, ChannelID string
}

// Decision is the outcome of Authorize. The zero value denies.
type Decision struct {
	Allowed bool
	Rule    string // what allowed it: "user:U123", "usergroup:S123"; "" when denied
	Reason  string // why denied, safe to show the user (one of the Reason* constants); "" when allowed
	// Err is the underlying error, for logs only (never show it in Slack):
	// set when a group lookup failed, and with the details of an invalid_request.
	Err error

	contact string // Config.Contact, for Message
}

// Authorize decides whether r may use the bot. It never allows on error: a
// failed or cancelled group lookup denies with ReasonGroupLookupFailed unless
// another rule (a listed user id, another group) allows the user anyway.
//
// Checks run in this order: request shape, team, empty allow-list, channel,
// user ids, user groups. The team comes first so that nothing about this
// workspace's configuration is revealed to another workspace, and the
// channel before the groups so that a disallowed channel costs no Slack call.
func (p *Policy) Authorize(ctx context.Context, r Request) Decision {
	d := p.decide(ctx, r)
	d.contact = p.contact
	return d
}

func (p *Policy) decide(ctx context.Context, r Request) Decision {
	if err := p.checkRequest(r); err != nil {
		return deny(ReasonInvalidRequest, err)
	}
	if p.teamID != "" && r.TeamID != p.teamID {
		return deny(ReasonWrongTeam, nil)
	}
	if p.Empty() {
		return deny(ReasonAllowListEmpty, nil)
	}
	if len(p.channels) > 0 {
		if _, ok := p.channels[r.ChannelID]; !ok {
			return deny(ReasonChannelNotAllowed, nil)
		}
	}
	if _, ok := p.userSet[r.UserID]; ok {
		return Decision{Allowed: true, Rule: "user:" + r.UserID}
	}
	if p.cache == nil {
		return deny(ReasonNotInAllowList, nil)
	}

	return p.cache.decide(ctx, p.groups, r.UserID, "usergroup", ReasonNotInAllowList)
}

// decide allows user when they are a member of one of groups (Rule
// "<kind>:<group>"), and otherwise denies with notMember, or with
// ReasonGroupLookupFailed when a lookup failed. Fresh cached member lists
// answer first, so that a member of the second group does not wait for (or
// fail on) a fetch of the first.
func (c *groupCache) decide(ctx context.Context, groups []string, user, kind, notMember string) Decision {
	for _, g := range groups {
		if c.cachedMember(g, user) {
			return Decision{Allowed: true, Rule: kind + ":" + g}
		}
	}
	var errs []error
	for _, g := range groups {
		member, err := c.isMember(ctx, g, user)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", kind, g, err))
			continue
		}
		if member {
			return Decision{Allowed: true, Rule: kind + ":" + g}
		}
	}
	if len(errs) > 0 {
		return deny(ReasonGroupLookupFailed, errors.Join(errs...))
	}
	return deny(notMember, nil)
}

func (p *Policy) checkRequest(r Request) error {
	var errs []error
	if p.teamID != "" && !isID(r.TeamID, teamPrefixes) {
		errs = append(errs, fmt.Errorf("team id %s is not a Slack team id", quote(r.TeamID)))
	}
	if !isID(r.UserID, userPrefixes) {
		errs = append(errs, fmt.Errorf("user id %s is not a Slack user id", quote(r.UserID)))
	}
	// An empty channel is tolerated (some payloads carry none); it simply
	// matches no channel restriction. D… is a direct message.
	if r.ChannelID != "" && !isID(r.ChannelID, requestChannelPrefixes) {
		errs = append(errs, fmt.Errorf("channel id %s is not a Slack channel id", quote(r.ChannelID)))
	}
	if len(errs) > 0 {
		return fmt.Errorf("authz: invalid request: %w", errors.Join(errs...))
	}
	return nil
}

func deny(reason string, err error) Decision {
	return Decision{Reason: reason, Err: err}
}

// Empty reports whether the policy lists no users and no user groups, in
// which case nobody can use the bot. The bot should say so loudly at start-up.
func (p *Policy) Empty() bool {
	return len(p.users) == 0 && len(p.groups) == 0
}

// Describe returns one line for the start-up log.
func (p *Policy) Describe() string {
	var b strings.Builder
	b.WriteString("authz: ")
	if p.Empty() {
		b.WriteString("allow-list is EMPTY, nobody can use disconnectbot (set authz.allowed_users or authz.allowed_usergroups); ")
	}
	fmt.Fprintf(&b, "%d allowed user(s), %d allowed user group(s), ", len(p.users), len(p.groups))
	if len(p.channels) == 0 {
		b.WriteString("any channel")
	} else {
		fmt.Fprintf(&b, "%d allowed channel(s)", len(p.channels))
	}
	if p.teamID == "" {
		b.WriteString(", team not checked")
	} else {
		fmt.Fprintf(&b, ", team %s only", p.teamID)
	}
	if p.cache != nil {
		fmt.Fprintf(&b, ", user group cache TTL %s", p.cache.ttl)
	}
	return b.String()
}

// Message returns a short text for the user explaining a denial and what to
// do about it; "" when d allows. It never contains d.Err.
func (d Decision) Message() string {
	if d.Allowed {
		return ""
	}
	msg := d.defaultMessage()
	if d.contact != "" {
		msg = strings.ReplaceAll(msg, "a disconnectbot admin", d.contact)
	}
	return msg
}

func (d Decision) defaultMessage() string {
	switch d.Reason {
	case ReasonNotInAllowList:
		return "You are not on disconnectbot's allow-list. Ask a disconnectbot admin to add your Slack user or one of your user groups (authz.allowed_users / authz.allowed_usergroups)."
	case ReasonWrongTeam:
		return "disconnectbot only takes commands from its own Slack workspace."
	case ReasonChannelNotAllowed:
		return "disconnectbot can't be used in this channel. Use it from one of the channels a disconnectbot admin has allowed (authz.allowed_channels)."
	case ReasonAllowListEmpty:
		return "disconnectbot has no allow-list yet, so nobody can use it. Ask a disconnectbot admin to set authz.allowed_users or authz.allowed_usergroups."
	case ReasonGroupLookupFailed:
		return "disconnectbot couldn't check your Slack user groups just now, so it refused the request. Try again in a minute; if this keeps happening, ask a disconnectbot admin to check the bot's logs."
	case ReasonOwnRequest:
		return "You made this request yourself, so you cannot approve it: another supervisor has to. You can withdraw it."
	case ReasonNotApprover:
		return "You are not one of the approvers for disconnects that need a second supervisor. Ask an approver, or ask a disconnectbot admin to add you (approval.approvers / approval.approver_usergroups)."
	case ReasonInvalidRequest:
		return "disconnectbot couldn't tell who sent this request, so it refused it. Try again; if this keeps happening, ask a disconnectbot admin to check the bot's logs."
	default:
		return "You are not allowed to use disconnectbot. Ask a disconnectbot admin."
	}
}

// LogValue logs a Decision with stable keys: allowed, rule, reason, err.
func (d Decision) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Bool("allowed", d.Allowed)}
	if d.Rule != "" {
		attrs = append(attrs, slog.String("rule", d.Rule))
	}
	if d.Reason != "" {
		attrs = append(attrs, slog.String("reason", d.Reason))
	}
	if d.Err != nil {
		attrs = append(attrs, slog.String("err", d.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

func toSet(ids []string) map[string]struct{} {
	s := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}
