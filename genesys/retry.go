package genesys

import (
	"net/http"
	"time"
)

// The retry rules, as one pure function. Client.do runs
// token → send → decide → wait and asks decide, after every failed token
// fetch or API attempt, whether and how to try again. Keeping the rules out
// of the loop makes each of them one row of a table test.
//
// The rules, and why:
//   - 401 with a token we have not yet replaced: the token may have been
//     revoked or expired early; fetch a fresh one and try once more, at once.
//   - 429: wait exactly Retry-After (or back off when it is missing), but
//     fail fast when that wait does not fit the time left in the budget.
//   - 409: retried at most twice; Genesys reports transient edits this way.
//   - 5xx except 501, and transport errors: back off with jitter.
//   - token fetches that fail as unavailable or rate-limited: back off (or
//     wait Retry-After); any other token failure is final.
//   - anything else (4xx, 501, a second 401): give up.
//
// Every wait must fit the budget left; otherwise the last failure is final.

// failure is what decide needs to know of one failed attempt.
type failure struct {
	// token is set when fetching the token failed; kind then says how.
	token bool
	kind  Kind
	// status is the HTTP status of the API's answer, 0 when none arrived
	// (transport error, lost answer).
	status int
	// retryAfter is the server's Retry-After, 0 when absent.
	retryAfter time.Duration
}

// retryState is what decide remembers of the attempts so far.
type retryState struct {
	waits     int  // retry waits taken, for exponential backoff
	conflicts int  // 409 answers retried
	refreshed bool // a 401 has already cost us a token
}

// action is what to do after a failed attempt.
type action int

const (
	giveUp       action = iota // return the failure
	retryWait                  // wait decision.wait, then try again
	refreshToken               // drop the token and try again at once
)

// decision is decide's answer.
type decision struct {
	action action
	wait   time.Duration // with retryWait
}

// decide applies the retry rules to one failed attempt. left is the time
// left in the operation's budget, backoff the jittered wait to use when the
// server named none. It returns the decision and the updated state.
func decide(f failure, s retryState, left, backoff time.Duration) (decision, retryState) {
	switch {
	case f.token:
		if f.kind != KindUnavailable && f.kind != KindRateLimited {
			return decision{}, s
		}
		return s.waitFor(firstPositive(f.retryAfter, backoff), left)
	case f.status == 0:
		return s.waitFor(backoff, left)
	case f.status == http.StatusUnauthorized && !s.refreshed:
		s.refreshed = true
		return decision{action: refreshToken}, s
	case f.status == http.StatusTooManyRequests:
		return s.waitFor(firstPositive(f.retryAfter, backoff), left)
	case f.status == http.StatusConflict && s.conflicts < 2:
		s.conflicts++
		return s.waitFor(backoff, left)
	case retryableServerError(f.status):
		return s.waitFor(backoff, left)
	}
	return decision{}, s
}

// waitFor retries after wait if that fits in left.
func (s retryState) waitFor(wait, left time.Duration) (decision, retryState) {
	if wait > left {
		return decision{}, s
	}
	s.waits++
	return decision{action: retryWait, wait: wait}, s
}

// retryableServerError is a 5xx other than 501 Not Implemented, which says
// the endpoint does not exist: trying again cannot help, and nothing was done.
func retryableServerError(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented
}

// uncertainAnswer reports whether an API attempt with this answer may have
// been carried out although it did not report success: no answer arrived
// (status 0), or a server error other than 501.
func uncertainAnswer(status int) bool {
	return status == 0 || retryableServerError(status)
}

func firstPositive(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}
