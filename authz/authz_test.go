package authz_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/authz"
)

// fakeGroups is a GroupMembers that counts calls per group.
type fakeGroups struct {
	mu      sync.Mutex
	members map[string][]string
	errs    map[string]error
	panics  bool
	calls   map[string]int
	release chan struct{} // if non-nil, every call waits for it to be closed
}

func newFakeGroups(members map[string][]string) *fakeGroups {
	return &fakeGroups{members: members, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeGroups) UserGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	f.mu.Lock()
	f.calls[groupID]++
	release, panics := f.release, f.panics
	f.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if panics {
		panic("adapter bug")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[groupID]; err != nil {
		return nil, err
	}
	return append([]string(nil), f.members[groupID]...), nil
}

func (f *fakeGroups) setMembers(group string, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[group] = members
}

func (f *fakeGroups) setErr(group string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[group] = err
}

func (f *fakeGroups) totalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// fakeClock is an injectable clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// outcome is a Decision with Err reduced to whether it is set, for cmp.
type outcome struct {
	Allowed bool
	Rule    string
	Reason  string
	HasErr  bool
}

func outcomeOf(d authz.Decision) outcome {
	return outcome{Allowed: d.Allowed, Rule: d.Rule, Reason: d.Reason, HasErr: d.Err != nil}
}

func allowed(rule string) outcome  { return outcome{Allowed: true, Rule: rule} }
func denied(reason string) outcome { return outcome{Reason: reason} }
func deniedErr(reason string) outcome {
	return outcome{Reason: reason, HasErr: true}
}

func mustNew(t *testing.T, cfg authz.Config, g authz.GroupMembers, now func() time.Time) *authz.Policy {
	t.Helper()
	p, err := authz.New(cfg, g, now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

const team = "T0TEAM01"

func TestAuthorize(t *testing.T) {
	t.Parallel()
	base := authz.Config{
		AllowedUsers:      []string{"U0ALICE1", "W0GRID01"},
		AllowedUsergroups: []string{"S0SUPS01", "S0LEADS1"},
		TeamID:            team,
	}
	withChannels := base
	withChannels.AllowedChannels = []string{"C0OPS001", "G0PRIV01"}
	onlyUsers := authz.Config{AllowedUsers: []string{"U0ALICE1"}}
	empty := authz.Config{AllowedChannels: []string{"C0OPS001"}, TeamID: team}

	tests := []struct {
		name      string
		cfg       authz.Config
		groupErr  map[string]error
		panics    bool
		req       authz.Request
		want      outcome
		wantCalls int
	}{
		{name: "listed U user", cfg: base, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "C0ANY001"}, want: allowed("user:U0ALICE1")},
		{name: "listed W user", cfg: base, req: authz.Request{TeamID: team, UserID: "W0GRID01", ChannelID: "C0ANY001"}, want: allowed("user:W0GRID01")},
		{name: "listed user in a DM", cfg: base, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "D0DM0001"}, want: allowed("user:U0ALICE1")},
		{name: "listed user without channel", cfg: base, req: authz.Request{TeamID: team, UserID: "U0ALICE1"}, want: allowed("user:U0ALICE1")},
		{name: "member of first group", cfg: base, req: authz.Request{TeamID: team, UserID: "U0SUP001", ChannelID: "C0ANY001"}, want: allowed("usergroup:S0SUPS01"), wantCalls: 1},
		{name: "member of second group", cfg: base, req: authz.Request{TeamID: team, UserID: "U0LEAD01", ChannelID: "C0ANY001"}, want: allowed("usergroup:S0LEADS1"), wantCalls: 2},
		{name: "second group allows although first failed", cfg: base, groupErr: map[string]error{"S0SUPS01": errors.New("ratelimited")}, req: authz.Request{TeamID: team, UserID: "U0LEAD01"}, want: allowed("usergroup:S0LEADS1"), wantCalls: 2},
		{name: "listed user needs no group lookup", cfg: base, groupErr: map[string]error{"S0SUPS01": errors.New("boom"), "S0LEADS1": errors.New("boom")}, req: authz.Request{TeamID: team, UserID: "U0ALICE1"}, want: allowed("user:U0ALICE1")},
		{name: "non-member", cfg: base, req: authz.Request{TeamID: team, UserID: "U0STRANG", ChannelID: "C0ANY001"}, want: denied(authz.ReasonNotInAllowList), wantCalls: 2},
		{name: "non-member, no groups configured", cfg: onlyUsers, req: authz.Request{TeamID: "T0OTHER1", UserID: "U0STRANG"}, want: denied(authz.ReasonNotInAllowList)},
		{name: "team not checked when unset", cfg: onlyUsers, req: authz.Request{TeamID: "T0OTHER1", UserID: "U0ALICE1"}, want: allowed("user:U0ALICE1")},
		{name: "wrong team", cfg: base, req: authz.Request{TeamID: "T0OTHER1", UserID: "U0ALICE1", ChannelID: "C0OPS001"}, want: denied(authz.ReasonWrongTeam)},
		{name: "wrong team is checked before the empty list", cfg: empty, req: authz.Request{TeamID: "T0OTHER1", UserID: "U0ALICE1", ChannelID: "C0OPS001"}, want: denied(authz.ReasonWrongTeam)},
		{name: "allowed channel C", cfg: withChannels, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "C0OPS001"}, want: allowed("user:U0ALICE1")},
		{name: "allowed channel G", cfg: withChannels, req: authz.Request{TeamID: team, UserID: "U0SUP001", ChannelID: "G0PRIV01"}, want: allowed("usergroup:S0SUPS01"), wantCalls: 1},
		{name: "other channel", cfg: withChannels, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "C0RANDOM"}, want: denied(authz.ReasonChannelNotAllowed)},
		{name: "DM when channels are restricted", cfg: withChannels, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "D0DM0001"}, want: denied(authz.ReasonChannelNotAllowed)},
		{name: "no channel when channels are restricted", cfg: withChannels, req: authz.Request{TeamID: team, UserID: "U0ALICE1"}, want: denied(authz.ReasonChannelNotAllowed)},
		{name: "channel is checked before any group lookup", cfg: withChannels, req: authz.Request{TeamID: team, UserID: "U0SUP001", ChannelID: "C0RANDOM"}, want: denied(authz.ReasonChannelNotAllowed)},
		{name: "empty allow-list", cfg: empty, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "C0OPS001"}, want: denied(authz.ReasonAllowListEmpty)},
		{name: "empty user", cfg: base, req: authz.Request{TeamID: team, ChannelID: "C0OPS001"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "user name instead of id", cfg: base, req: authz.Request{TeamID: team, UserID: "alice"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "lower-case user id", cfg: base, req: authz.Request{TeamID: team, UserID: "u0alice1"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "bot id as user", cfg: base, req: authz.Request{TeamID: team, UserID: "B0BOT001"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "channel name instead of id", cfg: base, req: authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "#ops"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "missing team when team is checked", cfg: base, req: authz.Request{UserID: "U0ALICE1"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "invalid request on an empty list", cfg: authz.Config{}, req: authz.Request{UserID: "nobody"}, want: deniedErr(authz.ReasonInvalidRequest)},
		{name: "group lookup fails", cfg: base, groupErr: map[string]error{"S0SUPS01": errors.New("missing_scope")}, req: authz.Request{TeamID: team, UserID: "U0STRANG"}, want: deniedErr(authz.ReasonGroupLookupFailed), wantCalls: 2},
		{name: "group lookup fails for a real member", cfg: base, groupErr: map[string]error{"S0SUPS01": errors.New("missing_scope")}, req: authz.Request{TeamID: team, UserID: "U0SUP001"}, want: deniedErr(authz.ReasonGroupLookupFailed), wantCalls: 2},
		{name: "adapter panics", cfg: base, panics: true, req: authz.Request{TeamID: team, UserID: "U0SUP001"}, want: deniedErr(authz.ReasonGroupLookupFailed), wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newFakeGroups(map[string][]string{
				"S0SUPS01": {"U0SUP001", "U0SUP002"},
				"S0LEADS1": {"U0LEAD01", "W0LEAD02"},
			})
			for k, v := range tc.groupErr {
				g.setErr(k, v)
			}
			g.panics = tc.panics
			p := mustNew(t, tc.cfg, g, nil)
			d := p.Authorize(t.Context(), tc.req)
			if diff := cmp.Diff(tc.want, outcomeOf(d)); diff != "" {
				t.Errorf("Authorize(%+v) mismatch (-want +got):\n%s\nErr: %v", tc.req, diff, d.Err)
			}
			if got := g.totalCalls(); got != tc.wantCalls {
				t.Errorf("group lookups = %d, want %d", got, tc.wantCalls)
			}
			if d.Allowed != (d.Message() == "") {
				t.Errorf("Message() = %q for Allowed=%v", d.Message(), d.Allowed)
			}
		})
	}
}

func TestEmptyAllowListDeniesEveryone(t *testing.T) {
	t.Parallel()
	for _, cfg := range []authz.Config{
		{},
		{AllowedChannels: []string{"C0OPS001"}},
		{TeamID: team, AllowedUsers: []string{}, AllowedUsergroups: nil},
	} {
		p := mustNew(t, cfg, nil, nil)
		if !p.Empty() {
			t.Errorf("Empty() = false for %+v", cfg)
		}
		if !strings.Contains(p.Describe(), "EMPTY") {
			t.Errorf("Describe() = %q, want it to flag the empty allow-list", p.Describe())
		}
		for _, u := range []string{"U0ALICE1", "W0GRID01", "U111"} {
			d := p.Authorize(t.Context(), authz.Request{TeamID: team, UserID: u, ChannelID: "C0OPS001"})
			if diff := cmp.Diff(denied(authz.ReasonAllowListEmpty), outcomeOf(d)); diff != "" {
				t.Errorf("cfg %+v user %s (-want +got):\n%s", cfg, u, diff)
			}
		}
	}
	for _, cfg := range []authz.Config{
		{AllowedUsers: []string{"U0ALICE1"}},
		{AllowedUsergroups: []string{"S0SUPS01"}},
	} {
		if mustNew(t, cfg, newFakeGroups(nil), nil).Empty() {
			t.Errorf("Empty() = true for %+v", cfg)
		}
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    authz.Config
		groups authz.GroupMembers
		want   []string
	}{
		{
			name: "every bad entry is reported",
			cfg: authz.Config{
				AllowedUsers:      []string{"U0ALICE1", "W0GRID01", "bob", "", "u0alice2", "S0SUPS01", "<@U0ALICE1>"},
				AllowedUsergroups: []string{"S0SUPS01", "@support", "U0ALICE1", "support"},
				AllowedChannels:   []string{"#ops", "C0OPS001", "D0DM0001", "  ", "general"},
				TeamID:            "acme",
				GroupTTL:          -time.Second,
			},
			groups: newFakeGroups(nil),
			want: []string{
				`authz.allowed_users[2]: "bob" is not a Slack user id (expected U… or W…)`,
				`authz.allowed_users[3]: empty entry`,
				`authz.allowed_users[4]: "u0alice2" is not a Slack user id (expected U… or W…); Slack ids are upper case`,
				`authz.allowed_users[5]: "S0SUPS01" is not a Slack user id (expected U… or W…); this looks like a user group id, it belongs in authz.allowed_usergroups`,
				`authz.allowed_users[6]: "<@U0ALICE1>" is not a Slack user id (expected U… or W…)`,
				`authz.allowed_usergroups[1]: "@support" is not a Slack user group id (expected S…); names and handles are not accepted, use the id (user profile, Copy member ID; user groups: the S… id)`,
				`authz.allowed_usergroups[2]: "U0ALICE1" is not a Slack user group id (expected S…); this looks like a user id, it belongs in authz.allowed_users`,
				`authz.allowed_usergroups[3]: "support" is not a Slack user group id (expected S…)`,
				`authz.allowed_channels[0]: "#ops" is not a Slack channel id (expected C… or G…); channel names are not accepted, use the channel id (channel details, About, Channel ID)`,
				`authz.allowed_channels[2]: "D0DM0001" is not a Slack channel id (expected C… or G…)`,
				`authz.allowed_channels[3]: empty entry`,
				`authz.allowed_channels[4]: "general" is not a Slack channel id (expected C… or G…)`,
				`authz.team_id: "acme" is not a Slack team id (expected T…)`,
				`authz.group_ttl: -1s is negative`,
			},
		},
		{
			name: "groups without a lookup",
			cfg:  authz.Config{AllowedUsergroups: []string{"S0SUPS01"}},
			want: []string{`authz.allowed_usergroups: 1 user group(s) configured but no way to look up their members`},
		},
		{
			name:   "long entries are shortened",
			cfg:    authz.Config{AllowedUsers: []string{strings.Repeat("x", 100)}},
			groups: newFakeGroups(nil),
			want:   []string{`authz.allowed_users[0]: "` + strings.Repeat("x", 64) + `"… is not a Slack user id (expected U… or W…)`},
		},
		{
			name:   "too long id",
			cfg:    authz.Config{AllowedUsers: []string{"U" + strings.Repeat("1", 32)}},
			groups: newFakeGroups(nil),
			want:   []string{`authz.allowed_users[0]: "U` + strings.Repeat("1", 32) + `" is not a Slack user id (expected U… or W…)`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := authz.New(tc.cfg, tc.groups, nil)
			if p != nil {
				t.Errorf("New returned a policy along with error %v", err)
			}
			var ce *authz.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New error = %v (%T), want *authz.ConfigError", err, err)
			}
			if diff := cmp.Diff(tc.want, ce.Problems); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			for _, pr := range tc.want {
				if !strings.Contains(err.Error(), pr) {
					t.Errorf("Error() = %q, missing %q", err.Error(), pr)
				}
			}
		})
	}
}

func TestNewTrimsAndDeduplicates(t *testing.T) {
	t.Parallel()
	g := newFakeGroups(map[string][]string{"S0SUPS01": {"U0SUP001"}})
	p := mustNew(t, authz.Config{
		AllowedUsers:      []string{" U0ALICE1", "U0ALICE1 ", "\tW0GRID01\n", "U0ALICE1"},
		AllowedUsergroups: []string{"S0SUPS01", " S0SUPS01 "},
		AllowedChannels:   []string{" C0OPS001", "C0OPS001"},
		TeamID:            " " + team + " ",
	}, g, nil)
	want := "authz: 2 allowed user(s), 1 allowed user group(s), 1 allowed channel(s), team T0TEAM01 only, user group cache TTL 5m0s"
	if diff := cmp.Diff(want, p.Describe()); diff != "" {
		t.Errorf("Describe() mismatch (-want +got):\n%s", diff)
	}
	got := []outcome{
		outcomeOf(p.Authorize(t.Context(), authz.Request{TeamID: team, UserID: "U0ALICE1", ChannelID: "C0OPS001"})),
		outcomeOf(p.Authorize(t.Context(), authz.Request{TeamID: team, UserID: "W0GRID01", ChannelID: "C0OPS001"})),
		outcomeOf(p.Authorize(t.Context(), authz.Request{TeamID: team, UserID: "U0SUP001", ChannelID: "C0OPS001"})),
		// Requests are not trimmed: they come from Slack, not from a person.
		outcomeOf(p.Authorize(t.Context(), authz.Request{TeamID: team, UserID: " U0ALICE1", ChannelID: "C0OPS001"})),
	}
	wantOut := []outcome{allowed("user:U0ALICE1"), allowed("user:W0GRID01"), allowed("usergroup:S0SUPS01"), deniedErr(authz.ReasonInvalidRequest)}
	if diff := cmp.Diff(wantOut, got); diff != "" {
		t.Errorf("decisions mismatch (-want +got):\n%s", diff)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  authz.Config
		want string
	}{
		{authz.Config{}, "authz: allow-list is EMPTY, nobody can use disconnectbot (set authz.allowed_users or authz.allowed_usergroups); 0 allowed user(s), 0 allowed user group(s), any channel, team not checked"},
		{authz.Config{AllowedUsers: []string{"U1", "U2", "W3"}}, "authz: 3 allowed user(s), 0 allowed user group(s), any channel, team not checked"},
		{authz.Config{AllowedUsergroups: []string{"S1"}, GroupTTL: time.Minute, TeamID: "T1"}, "authz: 0 allowed user(s), 1 allowed user group(s), any channel, team T1 only, user group cache TTL 1m0s"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, mustNew(t, tc.cfg, newFakeGroups(nil), nil).Describe()); diff != "" {
			t.Errorf("Describe(%+v) mismatch (-want +got):\n%s", tc.cfg, diff)
		}
	}
}

// groupPolicy returns a policy allowing only members of S0SUPS01 (U0SUP001),
// on a fake clock.
func groupPolicy(t *testing.T, ttl time.Duration) (*authz.Policy, *fakeGroups, *fakeClock) {
	t.Helper()
	g := newFakeGroups(map[string][]string{"S0SUPS01": {"U0SUP001"}})
	clk := newFakeClock()
	p := mustNew(t, authz.Config{AllowedUsergroups: []string{"S0SUPS01"}, GroupTTL: ttl}, g, clk.Now)
	return p, g, clk
}

// step is one request in a scripted scenario.
type step struct {
	advance   time.Duration // clock moves first
	before    func(*fakeGroups)
	user      string
	want      outcome
	wantCalls int // total lookups after this step
}

func runSteps(t *testing.T, p *authz.Policy, g *fakeGroups, clk *fakeClock, steps []step) {
	t.Helper()
	for i, s := range steps {
		clk.Advance(s.advance)
		if s.before != nil {
			s.before(g)
		}
		d := p.Authorize(t.Context(), authz.Request{UserID: s.user})
		if diff := cmp.Diff(s.want, outcomeOf(d)); diff != "" {
			t.Errorf("step %d (%s): decision mismatch (-want +got):\n%s\nErr: %v", i, s.user, diff, d.Err)
		}
		if got := g.totalCalls(); got != s.wantCalls {
			t.Errorf("step %d (%s): lookups = %d, want %d", i, s.user, got, s.wantCalls)
		}
	}
}

func TestGroupTTL(t *testing.T) {
	t.Parallel()
	p, g, clk := groupPolicy(t, 10*time.Minute)
	member := allowed("usergroup:S0SUPS01")
	runSteps(t, p, g, clk, []step{
		{user: "U0SUP001", want: member, wantCalls: 1},
		{advance: 9 * time.Minute, user: "U0SUP001", want: member, wantCalls: 1},
		// Removed from the group in Slack: still allowed until the list expires.
		{before: func(g *fakeGroups) { g.setMembers("S0SUPS01", "U0SUP002") }, user: "U0SUP001", want: member, wantCalls: 1},
		{advance: time.Minute, user: "U0SUP001", want: denied(authz.ReasonNotInAllowList), wantCalls: 2},
		{user: "U0SUP002", want: member, wantCalls: 2},
		{advance: 10*time.Minute - time.Nanosecond, user: "U0SUP002", want: member, wantCalls: 2},
		{advance: time.Nanosecond, user: "U0SUP002", want: member, wantCalls: 3},
	})
}

func TestDefaultGroupTTL(t *testing.T) {
	t.Parallel()
	p, g, clk := groupPolicy(t, 0)
	member := allowed("usergroup:S0SUPS01")
	runSteps(t, p, g, clk, []step{
		{user: "U0SUP001", want: member, wantCalls: 1},
		{advance: authz.DefaultGroupTTL - time.Second, user: "U0SUP001", want: member, wantCalls: 1},
		{advance: time.Second, user: "U0SUP001", want: member, wantCalls: 2},
	})
}

func TestRefreshOnMissIsBounded(t *testing.T) {
	t.Parallel()
	p, g, clk := groupPolicy(t, time.Hour)
	stranger := denied(authz.ReasonNotInAllowList)
	steps := []step{{user: "U0SUP001", want: allowed("usergroup:S0SUPS01"), wantCalls: 1}}
	// A stranger hammering the command right after the fetch costs nothing.
	for range 20 {
		steps = append(steps, step{user: "U0STRANG", want: stranger, wantCalls: 1})
	}
	steps = append(steps,
		step{advance: 29 * time.Second, user: "U0STRANG", want: stranger, wantCalls: 1},
		// 30 s after the last fetch a miss refreshes once...
		step{advance: time.Second, user: "U0STRANG", want: stranger, wantCalls: 2},
		// ...and then not again for 30 s.
		step{user: "U0STRANG", want: stranger, wantCalls: 2},
		step{advance: 29 * time.Second, user: "U0NEW001", want: stranger, wantCalls: 2},
		// A user just added to the group gets in on the next allowed refresh,
		// well before the hour-long TTL.
		step{advance: time.Second, before: func(g *fakeGroups) { g.setMembers("S0SUPS01", "U0SUP001", "U0NEW001") },
			user: "U0NEW001", want: allowed("usergroup:S0SUPS01"), wantCalls: 3},
		step{user: "U0NEW001", want: allowed("usergroup:S0SUPS01"), wantCalls: 3},
		step{user: "U0SUP001", want: allowed("usergroup:S0SUPS01"), wantCalls: 3},
	)
	runSteps(t, p, g, clk, steps)
}

func TestLookupErrorFailsClosed(t *testing.T) {
	t.Parallel()
	member := allowed("usergroup:S0SUPS01")
	failed := deniedErr(authz.ReasonGroupLookupFailed)
	breakSlack := func(g *fakeGroups) { g.setErr("S0SUPS01", errors.New("ratelimited")) }
	fixSlack := func(g *fakeGroups) { g.setErr("S0SUPS01", nil) }

	t.Run("never fetched", func(t *testing.T) {
		t.Parallel()
		p, g, clk := groupPolicy(t, 10*time.Minute)
		runSteps(t, p, g, clk, []step{
			{before: breakSlack, user: "U0SUP001", want: failed, wantCalls: 1},
			// Failures are remembered for a few seconds, not retried per request.
			{advance: 4 * time.Second, user: "U0SUP001", want: failed, wantCalls: 1},
			{advance: time.Second, user: "U0SUP001", want: failed, wantCalls: 2},
			{advance: 5 * time.Second, before: fixSlack, user: "U0SUP001", want: member, wantCalls: 3},
		})
	})
	t.Run("fresh copy", func(t *testing.T) {
		t.Parallel()
		p, g, clk := groupPolicy(t, 10*time.Minute)
		runSteps(t, p, g, clk, []step{
			{user: "U0SUP001", want: member, wantCalls: 1},
			// Slack breaks; a non-member's miss tries one refresh, which fails.
			{advance: time.Minute, before: breakSlack, user: "U0STRANG", want: failed, wantCalls: 2},
			// The member is still in the fresh copy: allowed, no call.
			{user: "U0SUP001", want: member, wantCalls: 2},
			// The failed refresh does not get retried on every miss either.
			{advance: 10 * time.Second, user: "U0STRANG", want: denied(authz.ReasonNotInAllowList), wantCalls: 2},
		})
	})
	t.Run("expired copy", func(t *testing.T) {
		t.Parallel()
		p, g, clk := groupPolicy(t, 10*time.Minute)
		runSteps(t, p, g, clk, []step{
			{user: "U0SUP001", want: member, wantCalls: 1},
			// The member is in the stale copy, but stale is not good enough.
			{advance: 10 * time.Minute, before: breakSlack, user: "U0SUP001", want: failed, wantCalls: 2},
			{advance: time.Second, user: "U0SUP001", want: failed, wantCalls: 2},
			{advance: 5 * time.Second, before: fixSlack, user: "U0SUP001", want: member, wantCalls: 3},
		})
	})
	t.Run("clock goes backwards", func(t *testing.T) {
		t.Parallel()
		p, g, clk := groupPolicy(t, 10*time.Minute)
		runSteps(t, p, g, clk, []step{
			{user: "U0SUP001", want: member, wantCalls: 1},
			// A list "fetched in the future" is not trusted.
			{advance: -time.Hour, before: breakSlack, user: "U0SUP001", want: failed, wantCalls: 2},
		})
	})
	t.Run("error detail is for logs only", func(t *testing.T) {
		t.Parallel()
		p, g, _ := groupPolicy(t, 0)
		g.setErr("S0SUPS01", errors.New("secret-ish detail"))
		d := p.Authorize(t.Context(), authz.Request{UserID: "U0SUP001"})
		if d.Err == nil || !strings.Contains(d.Err.Error(), "S0SUPS01") || !strings.Contains(d.Err.Error(), "secret-ish detail") {
			t.Errorf("Err = %v, want the group and the underlying error", d.Err)
		}
		if strings.Contains(d.Message(), "secret-ish") {
			t.Errorf("Message() leaks the error: %q", d.Message())
		}
	})
}

// TestSingleflight: N concurrent lookups of one group share one fetch.
func TestSingleflight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGroups(map[string][]string{"S0SUPS01": {"U0SUP001", "U0SUP002"}})
		g.release = make(chan struct{})
		p := mustNew(t, authz.Config{AllowedUsergroups: []string{"S0SUPS01"}}, g, nil)

		const n = 50
		got := make([]outcome, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				user := "U0SUP001"
				if i%2 == 1 {
					user = "U0STRANG"
				}
				got[i] = outcomeOf(p.Authorize(t.Context(), authz.Request{UserID: user}))
			})
		}
		synctest.Wait() // everyone is blocked: one in the fetch, the rest waiting for it
		if c := g.totalCalls(); c != 1 {
			t.Errorf("lookups while %d callers wait = %d, want 1", n, c)
		}
		close(g.release)
		wg.Wait()

		want := make([]outcome, n)
		for i := range want {
			want[i] = allowed("usergroup:S0SUPS01")
			if i%2 == 1 {
				want[i] = denied(authz.ReasonNotInAllowList)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decisions mismatch (-want +got):\n%s", diff)
		}
		if c := g.totalCalls(); c != 1 {
			t.Errorf("lookups = %d, want 1", c)
		}
	})
}

// TestWaiterGivesUp: a caller whose context ends is denied, but the shared
// fetch carries on and its result is cached for the next caller.
func TestWaiterGivesUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGroups(map[string][]string{"S0SUPS01": {"U0SUP001"}})
		g.release = make(chan struct{})
		p := mustNew(t, authz.Config{AllowedUsergroups: []string{"S0SUPS01"}}, g, nil)

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan authz.Decision)
		go func() { done <- p.Authorize(ctx, authz.Request{UserID: "U0SUP001"}) }()
		synctest.Wait()
		cancel()
		d := <-done
		if diff := cmp.Diff(deniedErr(authz.ReasonGroupLookupFailed), outcomeOf(d)); diff != "" {
			t.Errorf("cancelled caller (-want +got):\n%s", diff)
		}
		if !errors.Is(d.Err, context.Canceled) {
			t.Errorf("Err = %v, want context.Canceled", d.Err)
		}

		close(g.release)
		synctest.Wait() // the fetch finishes on its own
		d = p.Authorize(t.Context(), authz.Request{UserID: "U0SUP001"})
		if diff := cmp.Diff(allowed("usergroup:S0SUPS01"), outcomeOf(d)); diff != "" {
			t.Errorf("next caller (-want +got):\n%s", diff)
		}
		if c := g.totalCalls(); c != 1 {
			t.Errorf("lookups = %d, want 1", c)
		}

		// An already-cancelled request starts no fetch at all.
		g2 := newFakeGroups(map[string][]string{"S0SUPS01": {"U0SUP001"}})
		p2 := mustNew(t, authz.Config{AllowedUsergroups: []string{"S0SUPS01"}}, g2, nil)
		d = p2.Authorize(ctx, authz.Request{UserID: "U0SUP001"})
		if diff := cmp.Diff(deniedErr(authz.ReasonGroupLookupFailed), outcomeOf(d)); diff != "" {
			t.Errorf("pre-cancelled caller (-want +got):\n%s", diff)
		}
		if c := g2.totalCalls(); c != 0 {
			t.Errorf("lookups for a cancelled request = %d, want 0", c)
		}
	})
}

// TestFetchTimeout: a hung lookup is abandoned after its own timeout and
// the request is denied.
func TestFetchTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGroups(map[string][]string{"S0SUPS01": {"U0SUP001"}})
		g.release = make(chan struct{}) // never closed: Slack hangs
		p := mustNew(t, authz.Config{AllowedUsergroups: []string{"S0SUPS01"}}, g, nil)
		d := p.Authorize(t.Context(), authz.Request{UserID: "U0SUP001"})
		if diff := cmp.Diff(deniedErr(authz.ReasonGroupLookupFailed), outcomeOf(d)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if !errors.Is(d.Err, context.DeadlineExceeded) {
			t.Errorf("Err = %v, want context.DeadlineExceeded", d.Err)
		}
	})
}

// TestConcurrentAuthorize is a -race stress test: many callers, several
// groups, a moving clock and a flaky Slack. Members must never be confused
// with strangers, and a stranger must never be allowed.
func TestConcurrentAuthorize(t *testing.T) {
	t.Parallel()
	g := newFakeGroups(map[string][]string{
		"S0GRP001": {"U0MEM001"},
		"S0GRP002": {"U0MEM002"},
		"S0GRP003": {"U0MEM003"},
	})
	clk := newFakeClock()
	p := mustNew(t, authz.Config{
		AllowedUsers:      []string{"U0ALICE1"},
		AllowedUsergroups: []string{"S0GRP001", "S0GRP002", "S0GRP003"},
		GroupTTL:          time.Minute,
	}, g, clk.Now)

	users := []string{"U0ALICE1", "U0MEM001", "U0MEM002", "U0MEM003", "U0STRANG"}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if w == 0 && i%20 == 0 {
					clk.Advance(20 * time.Second)
					if i%40 == 0 {
						g.setErr("S0GRP002", errors.New("flaky"))
					} else {
						g.setErr("S0GRP002", nil)
					}
				}
				u := users[(w+i)%len(users)]
				d := p.Authorize(t.Context(), authz.Request{UserID: u})
				switch {
				case u == "U0STRANG" && d.Allowed:
					errs <- fmt.Errorf("stranger allowed by %s", d.Rule)
				case u == "U0ALICE1" && !d.Allowed:
					errs <- fmt.Errorf("listed user denied: %s", d.Reason)
				case d.Allowed && d.Rule != "user:"+u && !strings.HasPrefix(d.Rule, "usergroup:S0GRP00"+u[len(u)-1:]):
					errs <- fmt.Errorf("%s allowed by the wrong rule %s", u, d.Rule)
				case !d.Allowed && d.Reason != authz.ReasonNotInAllowList && d.Reason != authz.ReasonGroupLookupFailed:
					errs <- fmt.Errorf("%s denied for %s", u, d.Reason)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	if got := (authz.Decision{Allowed: true, Rule: "user:U1"}).Message(); got != "" {
		t.Errorf("allowed Message() = %q, want empty", got)
	}
	if got := (authz.Decision{}).Message(); got == "" {
		t.Error("zero Decision Message() is empty; a zero Decision denies and must say so")
	}
	want := "You are not on disconnectbot's allow-list. Ask a disconnectbot admin to add your Slack user or one of your user groups (authz.allowed_users / authz.allowed_usergroups)."
	if got := (authz.Decision{Reason: authz.ReasonNotInAllowList}).Message(); got != want {
		t.Errorf("not_in_allow_list Message() = %q, want %q", got, want)
	}
	seen := map[string]string{}
	for _, r := range []string{
		authz.ReasonNotInAllowList, authz.ReasonWrongTeam, authz.ReasonChannelNotAllowed,
		authz.ReasonAllowListEmpty, authz.ReasonGroupLookupFailed, authz.ReasonInvalidRequest, "",
	} {
		m := authz.Decision{Reason: r, Err: errors.New("internal detail")}.Message()
		if m == "" || strings.Contains(m, "internal detail") {
			t.Errorf("Message() for %q = %q", r, m)
		}
		if other, dup := seen[m]; dup {
			t.Errorf("reasons %q and %q share the text %q", other, r, m)
		}
		seen[m] = r
	}
}

func TestDecisionLogValue(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	log := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	log.Info("authz", "decision", authz.Decision{Reason: authz.ReasonGroupLookupFailed, Err: errors.New("ratelimited")})
	log.Info("authz", "decision", authz.Decision{Allowed: true, Rule: "user:U1"})
	want := `{"level":"INFO","msg":"authz","decision":{"allowed":false,"reason":"group_lookup_failed","err":"ratelimited"}}
{"level":"INFO","msg":"authz","decision":{"allowed":true,"rule":"user:U1"}}
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// idRE is the reference for what the config accepts: one kind letter, then
// upper-case letters and digits, 2 to 32 characters in all.
var idRE = map[string]*regexp.Regexp{
	"authz.allowed_users":      regexp.MustCompile(`^[UW][A-Z0-9]{1,31}$`),
	"authz.allowed_usergroups": regexp.MustCompile(`^S[A-Z0-9]{1,31}$`),
	"authz.allowed_channels":   regexp.MustCompile(`^[CG][A-Z0-9]{1,31}$`),
}

func FuzzIDValidation(f *testing.F) {
	for _, s := range []string{
		"U0ALICE1", "W0GRID01", "S0SUPS01", "C0OPS001", "G0PRIV01", "D0DM0001", "U", "U1",
		"bob", "", " ", " U0ALICE1 ", "u0alice1", "#ops", "@bob", "<@U0ALICE1|bob>",
		"U0ALİCE1", "U0\x00", "\xff", "U" + strings.Repeat("1", 31), "U" + strings.Repeat("1", 32),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := newFakeGroups(map[string][]string{})
		for key, re := range idRE {
			var cfg authz.Config
			switch key {
			case "authz.allowed_users":
				cfg.AllowedUsers = []string{s}
			case "authz.allowed_usergroups":
				cfg.AllowedUsergroups = []string{s}
			case "authz.allowed_channels":
				cfg.AllowedUsers = []string{"U0ALICE1"}
				cfg.AllowedChannels = []string{s}
			}
			p, err := authz.New(cfg, g, nil)
			valid := re.MatchString(strings.TrimSpace(s))
			if valid != (err == nil) {
				t.Fatalf("%s = [%q]: valid=%v but New error = %v", key, s, valid, err)
			}
			if err != nil {
				var ce *authz.ConfigError
				if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.HasPrefix(ce.Problems[0], key+"[0]: ") {
					t.Fatalf("%s = [%q]: error %v does not name exactly the bad entry", key, s, err)
				}
				continue
			}
			id := strings.TrimSpace(s)
			var d authz.Decision
			switch key {
			case "authz.allowed_users":
				d = p.Authorize(t.Context(), authz.Request{UserID: id})
			case "authz.allowed_channels":
				d = p.Authorize(t.Context(), authz.Request{UserID: "U0ALICE1", ChannelID: id})
			default:
				continue
			}
			if !d.Allowed {
				t.Fatalf("%s = [%q] accepted, but a request with it is denied: %s %v", key, s, d.Reason, d.Err)
			}
		}

		// Arbitrary request fields never panic and never allow a stranger.
		p := mustNew(t, authz.Config{AllowedUsers: []string{"U0ALICE1"}, TeamID: team, AllowedChannels: []string{"C0OPS001"}}, nil, nil)
		for _, r := range []authz.Request{{TeamID: s, UserID: s, ChannelID: s}, {TeamID: team, UserID: s, ChannelID: "C0OPS001"}} {
			if d := p.Authorize(t.Context(), r); d.Allowed != (r.UserID == "U0ALICE1" && r.TeamID == team && r.ChannelID == "C0OPS001") {
				t.Fatalf("Authorize(%+v) = %+v", r, d)
			}
		}
	})
}

func TestDenialNamesTheContact(t *testing.T) {
	t.Parallel()
	p, err := authz.New(authz.Config{AllowedUsers: []string{"U0ALLOWED1"}, Contact: " #cc-ops "}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Authorize(context.Background(), authz.Request{UserID: "U0STRANGER", ChannelID: "C0CHANNEL1"})
	if d.Allowed || !strings.Contains(d.Message(), "Ask #cc-ops to add your Slack user") {
		t.Fatalf("denial %+v says %q, want it to name #cc-ops", d, d.Message())
	}
	p, _ = authz.New(authz.Config{AllowedUsers: []string{"U0ALLOWED1"}}, nil, nil)
	if msg := p.Authorize(context.Background(), authz.Request{UserID: "U0STRANGER", ChannelID: "C0CHANNEL1"}).Message(); !strings.Contains(msg, "Ask a disconnectbot admin") {
		t.Fatalf("denial without a contact says %q", msg)
	}
}
