package genesystest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter is the per-client request limit Genesys applies to a
// client-credentials client (300 requests a minute by default, counted per
// OAuth client): fixed windows, each allowing limit API requests. The
// emulator has one OAuth client, so one limiter. The zero value is off.
type rateLimiter struct {
	mu          sync.Mutex
	limit       int
	window      time.Duration
	windowStart time.Time
	count       int
	limited     int
}

// WithRateLimit limits API requests (token requests are not counted) to
// limit per window, as Genesys limits a client-credentials client (300 per
// minute): requests over it get 429 too.many.requests.retry.after with
// Retry-After (the seconds until the window resets) and the
// inin-ratelimit-allowed, -count and -reset headers, which every answer
// carries while the limit is on. limit 0 turns it off.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(s *Server) { s.SetRateLimit(limit, window) }
}

// SetRateLimit changes the rate limit (see WithRateLimit) and starts a new window.
func (s *Server) SetRateLimit(limit int, window time.Duration) {
	if window <= 0 {
		window = time.Minute
	}
	s.rate.mu.Lock()
	defer s.rate.mu.Unlock()
	s.rate.limit, s.rate.window, s.rate.windowStart, s.rate.count = limit, window, time.Time{}, 0
}

// RateLimited returns how many requests the rate limit refused.
func (s *Server) RateLimited() int {
	s.rate.mu.Lock()
	defer s.rate.mu.Unlock()
	return s.rate.limited
}

// admit counts an API request against the rate limit and sets the
// rate-limit headers; over the limit it answers 429 and reports false.
func (s *Server) admit(w http.ResponseWriter, corr string, rt route) bool {
	if rt.op == OpToken {
		return true
	}
	rl := &s.rate
	rl.mu.Lock()
	if rl.limit <= 0 {
		rl.mu.Unlock()
		return true
	}
	now := time.Now()
	if rl.windowStart.IsZero() || !now.Before(rl.windowStart.Add(rl.window)) {
		rl.windowStart, rl.count = now, 0
	}
	reset := int(math.Ceil(rl.windowStart.Add(rl.window).Sub(now).Seconds()))
	reset = max(reset, 1)
	over := rl.count >= rl.limit
	if over {
		rl.limited++
	} else {
		rl.count++
	}
	count, limit, window := rl.count, rl.limit, rl.window
	rl.mu.Unlock()

	// Genesys's limits, and so its headers, are per minute: a shorter
	// window (for fast tests) reports its numbers scaled to a minute.
	perMinute := func(n int) int { return int(math.Round(float64(n) * float64(time.Minute) / float64(window))) }
	h := w.Header()
	h.Set("inin-ratelimit-allowed", strconv.Itoa(perMinute(limit)))
	h.Set("inin-ratelimit-count", strconv.Itoa(perMinute(count)))
	h.Set("inin-ratelimit-reset", strconv.Itoa(reset))
	if !over {
		return true
	}
	h.Set("Retry-After", strconv.Itoa(reset))
	writeError(w, corr, http.StatusTooManyRequests, "too.many.requests.retry.after",
		fmt.Sprintf("Rate limit exceeded the maximum. Retry the request in [%d] seconds", reset), nil)
	return false
}
