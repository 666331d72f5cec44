package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	const (
		backoff = 150 * time.Millisecond
		budget  = 4 * time.Second
	)
	retryIn := func(d time.Duration) decision { return decision{action: retryWait, wait: d} }
	stop := decision{action: giveUp}
	fresh := retryState{}
	tests := []struct {
		name      string
		f         failure
		state     retryState
		left      time.Duration
		want      decision
		wantState retryState
	}{
		// 401: once with a fresh token, at once; a second 401 is final.
		{"401 first", failure{status: 401, kind: KindAuth}, fresh, budget, decision{action: refreshToken}, retryState{refreshed: true}},
		{"401 after refresh", failure{status: 401, kind: KindAuth}, retryState{refreshed: true}, budget, stop, retryState{refreshed: true}},
		{"401 no budget still refreshes", failure{status: 401, kind: KindAuth}, fresh, 0, decision{action: refreshToken}, retryState{refreshed: true}},
		// 429: exactly Retry-After when it fits, fail fast when it does not.
		{"429 retry-after fits", failure{status: 429, kind: KindRateLimited, retryAfter: 2 * time.Second}, fresh, budget, retryIn(2 * time.Second), retryState{waits: 1}},
		{"429 retry-after equals budget", failure{status: 429, kind: KindRateLimited, retryAfter: budget}, fresh, budget, retryIn(budget), retryState{waits: 1}},
		{"429 retry-after over budget", failure{status: 429, kind: KindRateLimited, retryAfter: 5 * time.Second}, fresh, budget, stop, fresh},
		{"429 without retry-after backs off", failure{status: 429, kind: KindRateLimited}, retryState{waits: 3}, budget, retryIn(backoff), retryState{waits: 4}},
		{"429 not limited by count", failure{status: 429, kind: KindRateLimited, retryAfter: time.Second}, retryState{waits: 20}, budget, retryIn(time.Second), retryState{waits: 21}},
		// 409: at most twice.
		{"409 first", failure{status: 409, kind: KindConflict}, fresh, budget, retryIn(backoff), retryState{waits: 1, conflicts: 1}},
		{"409 second", failure{status: 409, kind: KindConflict}, retryState{waits: 1, conflicts: 1}, budget, retryIn(backoff), retryState{waits: 2, conflicts: 2}},
		{"409 third is final", failure{status: 409, kind: KindConflict}, retryState{waits: 2, conflicts: 2}, budget, stop, retryState{waits: 2, conflicts: 2}},
		{"409 over budget", failure{status: 409, kind: KindConflict}, fresh, backoff - 1, stop, retryState{conflicts: 1}},
		// 5xx except 501, and transport errors: jittered backoff.
		{"500", failure{status: 500, kind: KindUnavailable}, fresh, budget, retryIn(backoff), retryState{waits: 1}},
		{"502", failure{status: 502, kind: KindUnavailable}, fresh, budget, retryIn(backoff), retryState{waits: 1}},
		{"503", failure{status: 503, kind: KindUnavailable}, retryState{waits: 5}, budget, retryIn(backoff), retryState{waits: 6}},
		{"504", failure{status: 504, kind: KindUnavailable}, fresh, budget, retryIn(backoff), retryState{waits: 1}},
		{"501 is final", failure{status: 501, kind: KindUnavailable}, fresh, budget, stop, fresh},
		{"transport error", failure{kind: KindUnavailable}, fresh, budget, retryIn(backoff), retryState{waits: 1}},
		{"5xx budget exhausted", failure{status: 503, kind: KindUnavailable}, retryState{waits: 4}, backoff - time.Nanosecond, stop, retryState{waits: 4}},
		{"transport budget exhausted", failure{kind: KindUnavailable}, fresh, 0, stop, fresh},
		// Other 4xx: give up at once.
		{"400", failure{status: 400, kind: KindBadRequest}, fresh, budget, stop, fresh},
		{"400 not.a.user", failure{status: 400, kind: KindNotAUser}, fresh, budget, stop, fresh},
		{"403", failure{status: 403, kind: KindForbidden}, fresh, budget, stop, fresh},
		{"404", failure{status: 404, kind: KindNotFound}, fresh, budget, stop, fresh},
		{"408", failure{status: 408, kind: KindUnavailable}, fresh, budget, stop, fresh},
		// Token fetches: unavailable and rate-limited back off, the rest is final.
		{"token unavailable", failure{token: true, kind: KindUnavailable}, fresh, budget, retryIn(backoff), retryState{waits: 1}},
		{"token rate-limited with retry-after", failure{token: true, kind: KindRateLimited, retryAfter: 3 * time.Second}, fresh, budget, retryIn(3 * time.Second), retryState{waits: 1}},
		{"token rate-limited without retry-after", failure{token: true, kind: KindRateLimited}, fresh, budget, retryIn(backoff), retryState{waits: 1}},
		{"token rate-limited over budget", failure{token: true, kind: KindRateLimited, retryAfter: 5 * time.Second}, fresh, budget, stop, fresh},
		{"token unavailable budget exhausted", failure{token: true, kind: KindUnavailable}, fresh, 0, stop, fresh},
		{"token refused", failure{token: true, kind: KindAuth}, fresh, budget, stop, fresh},
		{"token unreadable", failure{token: true, kind: KindUnknown}, fresh, budget, stop, fresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, gotState := decide(tt.f, tt.state, tt.left, backoff)
			if got != tt.want || gotState != tt.wantState {
				t.Errorf("decide(%+v, %+v, left %s) = %+v, %+v; want %+v, %+v", tt.f, tt.state, tt.left, got, gotState, tt.want, tt.wantState)
			}
		})
	}
}

func TestMaybeApplied(t *testing.T) {
	t.Parallel()
	api := func(status int) *APIError {
		return &APIError{Operation: opPatchParticipant, Method: http.MethodPatch, Status: status}
	}
	afterUncertain := func(status int) *APIError {
		e := api(status)
		e.AfterUncertainAttempt = true
		return e
	}
	tokenErr := &APIError{Operation: opToken, Method: http.MethodPost, Status: 503}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"input error", &InputError{Field: "conversation id", Message: "bad"}, false},
		{"participant not found", ErrParticipantNotFound, false},
		{"400 first and only attempt", api(400), false},
		{"403", api(403), false},
		{"404", api(404), false},
		{"409", api(409), false},
		{"429", api(429), false},
		{"401", api(401), false},
		{"501", api(501), false},
		{"500", api(500), true},
		{"502", api(502), true},
		{"503", api(503), true},
		{"504", api(504), true},
		{"408 timeout", api(408), true},
		{"429 after an uncertain attempt", afterUncertain(429), true},
		{"409 after an uncertain attempt", afterUncertain(409), true},
		{"400 already disconnected after an uncertain attempt", afterUncertain(400), true},
		{"transport error", &TransportError{Operation: opPatchParticipant, Err: errors.New("connection reset")}, true},
		{"timeout", &TransportError{Operation: opPatchParticipant, Err: context.DeadlineExceeded}, true},
		{"wrapped transport error", fmt.Errorf("disconnect: %w", &TransportError{Operation: opPatchParticipant, Err: errors.New("EOF")}), true},
		{"unreadable 2xx", &DecodeError{Operation: opGetConversation, Status: 200}, true},
		{"token 5xx", tokenErr, false},
		{"token transport error", &TransportError{Operation: opToken, Err: errors.New("no such host")}, false},
		{"token unreadable", &DecodeError{Operation: opToken, Status: 200}, false},
		{"token failure after an uncertain attempt", markUncertain(tokenErr, true), true},
		{"context ended before any attempt", context.DeadlineExceeded, false},
		{"context ended after an uncertain attempt", markUncertain(context.DeadlineExceeded, true), true},
		{"context cancelled before any attempt", context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MaybeApplied(tt.err); got != tt.want {
				t.Errorf("MaybeApplied(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestMaybeAppliedEndToEnd checks that the client's own errors carry what
// MaybeApplied needs, through the retry loop.
func TestMaybeAppliedEndToEnd(t *testing.T) {
	t.Parallel()
	const op = genesystest.OpPatchParticipant
	tests := []struct {
		name   string
		faults []genesystest.Fault
		want   bool
	}{
		{"404 once", []genesystest.Fault{{Op: op, Status: 404, Count: 1}}, false},
		{"403 once", []genesystest.Fault{{Op: op, Status: 403, Count: 1}}, false},
		{"429 over the budget", []genesystest.Fault{{Op: op, Status: 429, Count: 1, RetryAfter: 10 * time.Second}}, false},
		{"503 to the end of the budget", []genesystest.Fault{{Op: op, Status: 503}}, true},
		{"503 then 429 over the budget", []genesystest.Fault{{Op: op, Status: 503, Count: 1}, {Op: op, Status: 429, Count: 1, RetryAfter: 10 * time.Second}}, true},
		{"token refused", []genesystest.Fault{{Op: genesystest.OpToken, Status: 401}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 200 * time.Millisecond })
			conv := srv.ThreePartyConference()
			for _, f := range tt.faults {
				srv.InjectFault(f)
			}
			_, err := c.DisconnectParticipant(context.Background(), conv.ID, conv.Participants[0].ID)
			if err == nil {
				t.Fatal("no error")
			}
			if got := MaybeApplied(err); got != tt.want {
				t.Errorf("MaybeApplied(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}

// TestRequestEventWait checks that the observer sees the wait before the
// next attempt: exactly Retry-After on a 429, 0 on the attempt that ends it.
func TestRequestEventWait(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	var (
		mu     sync.Mutex
		events []RequestEvent
	)
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Observer = func(e RequestEvent) {
			mu.Lock()
			defer mu.Unlock()
			if !e.TokenRequest {
				events = append(events, e)
			}
		}
	})
	conv := srv.ThreePartyConference()
	srv.RateLimit(genesystest.OpGetConversation, 1, time.Second)
	if _, err := c.GetConversation(context.Background(), conv.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%d wait %s", e.Status, e.Wait))
	}
	want := []string{"429 wait 1s", "200 wait 0s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
