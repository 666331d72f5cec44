package authz

import (
	"context"
	"fmt"
	"sync"
	"time"
)

const (
	// minMissRefresh bounds the Slack calls a stranger can cause: a user
	// missing from a fresh member list triggers a refresh of that group at
	// most this often ("refreshed on miss", so a user just added to a group
	// does not wait a whole TTL).
	minMissRefresh = 30 * time.Second
	// failureBackoff is how long a failed fetch of an expired list is
	// remembered before Slack is asked again; requests in between are denied
	// with the same error.
	failureBackoff = 5 * time.Second
	// fetchTimeout bounds one usergroups.users.list call. The fetch is shared
	// by all callers waiting for it, so it does not run under any single
	// caller's context; this is its own limit.
	fetchTimeout = 15 * time.Second
)

// groupCache caches the members of the configured user groups. The set of
// groups is fixed at construction, so the cache cannot grow.
type groupCache struct {
	fetcher GroupMembers
	now     func() time.Time
	ttl     time.Duration

	mu     sync.Mutex
	groups map[string]*groupEntry
}

type groupEntry struct {
	members   map[string]struct{}
	fetchedAt time.Time // when the fetch that produced members started
	ok        bool      // members holds the result of a successful fetch

	lastTry time.Time // start of the latest fetch, successful or not
	tried   bool
	lastErr error // error of the latest fetch; nil if it succeeded

	inflight *fetchCall // the fetch in progress, shared by all waiters
}

// fetchCall is one in-flight usergroups.users.list call (singleflight).
type fetchCall struct {
	done    chan struct{} // closed when members/err are set
	members map[string]struct{}
	err     error
}

func newGroupCache(fetcher GroupMembers, now func() time.Time, ttl time.Duration, groups []string) *groupCache {
	c := &groupCache{fetcher: fetcher, now: now, ttl: ttl, groups: make(map[string]*groupEntry, len(groups))}
	for _, g := range groups {
		c.groups[g] = &groupEntry{}
	}
	return c
}

// within reports whether t is at most d before now. A t in the future (the
// clock went backwards) counts as not within, so a stuck clock cannot pin a
// stale list or an old error.
func within(now, t time.Time, d time.Duration) bool {
	age := now.Sub(t)
	return age >= 0 && age < d
}

// cachedMember answers from a fresh cached list only, without any I/O.
func (c *groupCache) cachedMember(group, user string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.groups[group]
	if e == nil || !e.ok || !within(c.now(), e.fetchedAt, c.ttl) {
		return false
	}
	_, ok := e.members[user]
	return ok
}

// isMember reports whether user is in group, fetching the member list when
// the cached one is missing, expired, or (rate-bounded) when user is not in
// it. Any error means "unknown" and the caller must deny.
func (c *groupCache) isMember(ctx context.Context, group, user string) (bool, error) {
	c.mu.Lock()
	e := c.groups[group]
	if e == nil {
		c.mu.Unlock()
		return false, fmt.Errorf("user group %s is not configured", group)
	}
	now := c.now()
	fresh := e.ok && within(now, e.fetchedAt, c.ttl)
	if fresh {
		if _, ok := e.members[user]; ok {
			c.mu.Unlock()
			return true, nil
		}
	}
	if call := e.inflight; call != nil {
		c.mu.Unlock()
		return call.wait(ctx, user)
	}
	switch {
	case fresh && e.tried && within(now, e.lastTry, minMissRefresh):
		// Not in a fresh list that was fetched (or tried) moments ago.
		c.mu.Unlock()
		return false, nil
	case !fresh && e.lastErr != nil && within(now, e.lastTry, failureBackoff):
		err := e.lastErr
		c.mu.Unlock()
		return false, fmt.Errorf("not retried within %s of a failed lookup: %w", failureBackoff, err)
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return false, fmt.Errorf("not looked up: %w", context.Cause(ctx))
	}
	call := &fetchCall{done: make(chan struct{})}
	e.inflight = call
	e.lastTry, e.tried = now, true
	c.mu.Unlock()

	go c.fetch(context.WithoutCancel(ctx), group, e, call, now)
	return call.wait(ctx, user)
}

// fetch runs one shared lookup and publishes its result to the cache and to
// every waiter.
func (c *groupCache) fetch(ctx context.Context, group string, e *groupEntry, call *fetchCall, started time.Time) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	members, err := c.lookup(ctx, group)

	c.mu.Lock()
	if err != nil {
		call.err = err
		e.lastErr = err
	} else {
		call.members = toSet(members)
		e.members, e.fetchedAt, e.ok, e.lastErr = call.members, started, true, nil
	}
	e.inflight = nil
	c.mu.Unlock()
	close(call.done)
}

// lookup calls the adapter, turning a panic in it into an error: it runs in
// its own goroutine, where a panic would take the whole bot down.
func (c *groupCache) lookup(ctx context.Context, group string) (members []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			members, err = nil, fmt.Errorf("user group lookup panicked: %v", r)
		}
	}()
	return c.fetcher.UserGroupMembers(ctx, group)
}

// wait blocks until the fetch is done or ctx ends. A caller that gives up
// does not cancel the fetch: other callers may be waiting for it, and its
// result is cached either way.
func (call *fetchCall) wait(ctx context.Context, user string) (bool, error) {
	select {
	case <-call.done:
	default:
		// Prefer a finished result over a cancellation that raced with it.
		select {
		case <-call.done:
		case <-ctx.Done():
			return false, fmt.Errorf("gave up waiting for the member list: %w", context.Cause(ctx))
		}
	}
	if call.err != nil {
		return false, call.err
	}
	_, ok := call.members[user]
	return ok, nil
}
