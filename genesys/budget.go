package genesys

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultRequestsPerMinute is the request budget of a Client when
// Config.RequestsPerMinute is 0: under the 300 requests a minute Genesys
// allows one client-credentials client, leaving room for other tools that
// share the OAuth client.
const DefaultRequestsPerMinute = 240

// Rate-limit headers Genesys sends with its answers.
const (
	headerRateAllowed = "inin-ratelimit-allowed"
	headerRateCount   = "inin-ratelimit-count"
	headerRateReset   = "inin-ratelimit-reset"
)

// headerHeadroom is the share of the limit the headers must still show free
// for bulk work to go on: below it, bulk requests wait for the window to
// reset, leaving the rest to interactive requests and to other replicas.
const headerHeadroom = 0.05

type bulkKey struct{}

// WithBulkPriority marks the requests made with ctx as bulk work (a sweep):
// they only use what interactive requests leave of the Client's request
// budget, pause while Genesys asks the client to back off (429
// Retry-After), and follow the inin-ratelimit-* headers. Requests made
// with any other context are interactive: they never wait for the budget,
// but they count against it, so bulk work slows down to make room for them.
func WithBulkPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, bulkKey{}, true)
}

func isBulk(ctx context.Context) bool {
	v, _ := ctx.Value(bulkKey{}).(bool)
	return v
}

// BudgetStats describes the Client's request budget, for metrics.
type BudgetStats struct {
	// RequestsPerMinute is this process's share of the budget: the
	// configured requests per minute divided by the replicas, lowered when
	// Genesys's headers report a smaller limit.
	RequestsPerMinute float64
	// InUse is the share of RequestsPerMinute used over the last minute,
	// from 0 to 1 (it can exceed 1 when interactive requests alone go over).
	InUse float64
	// PausedUntil is set while bulk requests wait for a Retry-After or for
	// the rate-limit window to reset.
	PausedUntil time.Time
	// RateLimited counts the 429 answers seen.
	RateLimited int64
}

// budget paces the requests of one Client: a token bucket refilled at this
// replica's share of the limit. Interactive requests take a token without
// waiting (the bucket may go into debt); bulk requests wait for a whole
// token, so they get only what interactive requests leave, and an
// interactive request is never queued behind a sweep.
type budget struct {
	configured float64 // this replica's share, requests per minute
	replicas   int
	now        func() time.Time

	mu          sync.Mutex
	perSecond   float64 // current refill rate
	capacity    float64
	tokens      float64
	last        time.Time
	pausedUntil time.Time
	changed     chan struct{} // closed and replaced when waiters should look again
	window      [60]int64     // requests per second, ring indexed by unix second
	windowSec   [60]int64     // which unix second each slot holds

	rateLimited atomic.Int64
}

// checkBudget refuses negative budgets (zero means the default).
func checkBudget(cfg Config) error {
	switch {
	case cfg.RequestsPerMinute < 0:
		return &InputError{Field: "RequestsPerMinute", Message: fmt.Sprintf("the requests per minute must not be negative (got %d)", cfg.RequestsPerMinute)}
	case cfg.Replicas < 0:
		return &InputError{Field: "Replicas", Message: fmt.Sprintf("the number of replicas must not be negative (got %d)", cfg.Replicas)}
	}
	return nil
}

func newBudget(perMinute, replicas int) *budget {
	if perMinute <= 0 {
		perMinute = DefaultRequestsPerMinute
	}
	if replicas <= 0 {
		replicas = 1
	}
	b := &budget{configured: float64(perMinute) / float64(replicas), replicas: replicas, now: time.Now, changed: make(chan struct{})}
	b.setRateLocked(b.configured)
	b.tokens = b.capacity
	b.last = b.now()
	return b
}

// setRateLocked sets the refill rate; the bucket holds one second of it, so
// that no burst can take more than a second's share.
func (b *budget) setRateLocked(perMinute float64) {
	b.perSecond = perMinute / 60
	b.capacity = math.Max(1, b.perSecond)
	if b.tokens > b.capacity {
		b.tokens = b.capacity
	}
}

func (b *budget) refillLocked(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+d.Seconds()*b.perSecond)
		b.last = now
	}
}

func (b *budget) countLocked(now time.Time) {
	sec := now.Unix()
	i := sec % 60
	if b.windowSec[i] != sec {
		b.windowSec[i], b.window[i] = sec, 0
	}
	b.window[i]++
}

// wait takes one request slot: at once for interactive requests, when the
// bucket has a whole token (and no pause is on) for bulk ones.
func (b *budget) wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	bulk := isBulk(ctx)
	for {
		b.mu.Lock()
		now := b.now()
		b.refillLocked(now)
		var wait time.Duration
		switch {
		case !bulk:
			// Debt is bounded so that a burst of interactive work stalls
			// bulk work for at most a minute.
			b.tokens = math.Max(b.tokens-1, -b.perSecond*60)
		case now.Before(b.pausedUntil):
			wait = b.pausedUntil.Sub(now)
		case b.tokens >= 1:
			b.tokens--
		default:
			wait = time.Duration((1 - b.tokens) / b.perSecond * float64(time.Second))
			wait = max(wait, time.Millisecond)
		}
		if wait == 0 {
			b.countLocked(now)
			b.mu.Unlock()
			return nil
		}
		changed := b.changed
		b.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-changed:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// observe reads what an answer says about the rate limit: a 429's
// Retry-After pauses bulk work, and the inin-ratelimit-* headers lower this
// replica's share to the limit they report and pause bulk work when the
// client as a whole (every replica) has nearly used up its window.
func (b *budget) observe(resp *http.Response) {
	if b == nil || resp == nil {
		return
	}
	now := b.now()
	allowed := headerInt(resp.Header, headerRateAllowed)
	count := headerInt(resp.Header, headerRateCount)
	reset := headerInt(resp.Header, headerRateReset)
	var pause time.Time
	if resp.StatusCode == http.StatusTooManyRequests {
		b.rateLimited.Add(1)
		wait := parseRetryAfter(resp.Header.Get("Retry-After"), now)
		if wait <= 0 && reset > 0 {
			wait = time.Duration(reset) * time.Second
		}
		if wait <= 0 {
			wait = time.Second
		}
		pause = now.Add(wait)
	} else if allowed > 0 && count >= 0 && reset > 0 && float64(allowed-count) <= math.Max(1, headerHeadroom*float64(allowed)) {
		pause = now.Add(time.Duration(reset) * time.Second)
	}
	if allowed <= 0 && pause.IsZero() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if allowed > 0 {
		// Keep the configured proportion below the limit Genesys reports.
		share := float64(allowed) * DefaultRequestsPerMinute / 300 / float64(b.replicas)
		rate := math.Min(b.configured, share)
		if rate != b.perSecond*60 {
			b.refillLocked(now)
			b.setRateLocked(rate)
		}
	}
	if pause.After(b.pausedUntil) {
		b.pausedUntil = pause
		// Waiters sleeping on a shorter wait must see the pause.
		close(b.changed)
		b.changed = make(chan struct{})
	}
}

func headerInt(h http.Header, key string) int64 {
	v := strings.TrimSpace(h.Get(key))
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func (b *budget) stats() BudgetStats {
	if b == nil {
		return BudgetStats{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	sec := now.Unix()
	var used int64
	for i := range b.window {
		if sec-b.windowSec[i] < 60 {
			used += b.window[i]
		}
	}
	st := BudgetStats{RequestsPerMinute: b.perSecond * 60, RateLimited: b.rateLimited.Load()}
	if st.RequestsPerMinute > 0 {
		st.InUse = float64(used) / st.RequestsPerMinute
	}
	if now.Before(b.pausedUntil) {
		st.PausedUntil = b.pausedUntil
	}
	return st
}

// Budget reports the state of the Client's request budget.
func (c *Client) Budget() BudgetStats { return c.budget.stats() }
