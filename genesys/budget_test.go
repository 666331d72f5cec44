package genesys

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestBudgetInteractiveNeverWaitsBulkDoes(t *testing.T) {
	t.Parallel()
	b := newBudget(60, 1) // one a second, one token of burst
	ctx := context.Background()
	// Interactive requests go at once, even into debt.
	for range 5 {
		ictx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		if err := b.wait(ictx); err != nil {
			t.Fatalf("interactive wait: %v", err)
		}
		cancel()
	}
	// Bulk work waits until the debt is paid back.
	bctx, cancel := context.WithTimeout(WithBulkPriority(ctx), 100*time.Millisecond)
	defer cancel()
	if err := b.wait(bctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("bulk wait in debt = %v, want it to wait", err)
	}
	if st := b.stats(); st.RequestsPerMinute != 60 || st.InUse < 5.0/60-1e-9 {
		t.Errorf("stats %+v", st)
	}
}

func TestBudgetFollowsGenesys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replicas int
		status   int
		header   map[string]string
		wantRate float64
		paused   bool
	}{
		{"no headers", 1, 200, nil, 240, false},
		{"limit above ours", 1, 200, map[string]string{"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "10", "inin-ratelimit-reset": "40"}, 240, false},
		{"lower limit", 2, 200, map[string]string{"inin-ratelimit-allowed": "180", "inin-ratelimit-count": "10", "inin-ratelimit-reset": "40"}, 72, false},
		{"window nearly used up by others", 1, 200, map[string]string{"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "296", "inin-ratelimit-reset": "7"}, 240, true},
		{"429", 1, 429, map[string]string{"Retry-After": "3"}, 240, true},
		{"garbage", 1, 200, map[string]string{"inin-ratelimit-allowed": "lots", "inin-ratelimit-count": "-3"}, 240, false},
	}
	for _, tc := range tests {
		b := newBudget(240*tc.replicas, tc.replicas)
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
		for k, v := range tc.header {
			resp.Header.Set(k, v)
		}
		b.observe(resp)
		st := b.stats()
		if st.RequestsPerMinute != tc.wantRate || st.PausedUntil.IsZero() == tc.paused {
			t.Errorf("%s: rate %v paused until %v; want rate %v paused %v", tc.name, st.RequestsPerMinute, st.PausedUntil, tc.wantRate, tc.paused)
		}
		if tc.paused {
			// Bulk work waits out the pause; interactive work does not.
			bctx, cancel := context.WithTimeout(WithBulkPriority(context.Background()), 50*time.Millisecond)
			if err := b.wait(bctx); err == nil {
				t.Errorf("%s: bulk request went through a pause", tc.name)
			}
			cancel()
			if err := b.wait(context.Background()); err != nil {
				t.Errorf("%s: interactive: %v", tc.name, err)
			}
		}
	}
}

func TestNewRejectsNegativeBudget(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Config{APIURL: "http://127.0.0.1:1", ClientID: "a", ClientSecret: "b", RequestsPerMinute: -1})
	if ErrorKind(err) != KindInput {
		t.Fatalf("New = %v, want an input error", err)
	}
}
