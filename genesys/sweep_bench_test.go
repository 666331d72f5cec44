package genesys

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// BenchmarkSweep1000 sweeps 1000 stuck conversations (2 and 3 legs,
// alternately) against the emulator, with the emulator's rate limit and the
// client's budget scaled up so that the run takes about ten seconds:
// 27000 requests a minute for the client (its share of an emulator limit of
// 33750 a minute, enforced in 10 s windows), as 240 is of Genesys's 300.
// Meanwhile an interactive disconnect (read, PATCH, confirm) runs every
// 100 ms; the same disconnects run again with no sweep, for comparison.
//
//	go test -run '^$' -bench BenchmarkSweep1000 -benchtime 1x ./genesys/
//
// Reported: wall time ÷ the floor the budget sets (total requests ÷
// budget), requests per conversation, 429s received, and the p50/p99 of
// the interactive disconnects with and without the sweep, in ms and in
// request slots (60 s ÷ budget).
func BenchmarkSweep1000(b *testing.B) {
	const (
		conversations = 1000
		perMinute     = 27000
		emulatorLimit = 33750 * 10 / 60 // per 10 s window
	)
	slot := time.Minute / perMinute
	for range b.N {
		b.StopTimer()
		srv := genesystest.New(genesystest.WithDisconnectDelay(0), genesystest.WithRateLimit(emulatorLimit, 10*time.Second))
		srv.AddStuck(conversations/2, genesystest.StuckSpec{Age: 5 * time.Hour, Legs: 2})
		srv.AddStuck(conversations/2, genesystest.StuckSpec{Age: 5 * time.Hour, Legs: 3})
		c := newClient(b, srv, func(cfg *Config) {
			cfg.RequestsPerMinute = perMinute
			cfg.ConfirmInterval = 10 * time.Millisecond
			cfg.ConfirmTimeout = 5 * time.Second
		})
		ctx := context.Background()
		if err := c.CheckToken(ctx); err != nil {
			b.Fatal(err)
		}

		idle, _ := interactiveDisconnects(b, c, srv, 30, nil)

		b.StartTimer()
		start := time.Now()
		before := c.Stats().Requests
		list, err := c.FindStuck(ctx, StuckFilter{OlderThan: 4 * time.Hour})
		if err != nil || len(list.Candidates) != conversations {
			b.Fatalf("found %d: %v", len(list.Candidates), err)
		}
		done := make(chan struct{})
		var (
			during    []time.Duration
			duringIDs []string
			wg        sync.WaitGroup
		)
		wg.Go(func() { during, duringIDs = interactiveDisconnects(b, c, srv, 0, done) })
		sum := c.Sweep(ctx, list.Candidates, SweepOptions{OlderThan: 4 * time.Hour, Concurrency: 8})
		wall := time.Since(start)
		close(done)
		wg.Wait()
		requests := c.Stats().Requests - before
		b.StopTimer()

		if sum.Counts[SweepCleared] != conversations {
			b.Fatalf("summary %+v", sum.Counts)
		}
		floor := time.Duration(float64(requests) / perMinute * float64(time.Minute))
		b.ReportMetric(float64(wall)/float64(floor), "wall/floor")
		b.ReportMetric(wall.Seconds(), "wall-s")
		// The sweep's own requests: all of them but the interactive ones.
		interactive := 0
		for _, r := range srv.Requests() {
			if slices.ContainsFunc(duringIDs, func(id string) bool { return strings.Contains(r.Path, id) }) {
				interactive++
			}
		}
		b.ReportMetric(float64(requests-int64(interactive))/conversations, "requests/conversation")
		b.ReportMetric(float64(c.Budget().RateLimited), "429s")
		b.ReportMetric(float64(srv.RateLimited()), "emulator-429s")
		p50i, p99i := percentiles(idle)
		p50d, p99d := percentiles(during)
		b.ReportMetric(ms(p50i), "interactive-idle-p50-ms")
		b.ReportMetric(ms(p99i), "interactive-idle-p99-ms")
		b.ReportMetric(ms(p50d), "interactive-sweep-p50-ms")
		b.ReportMetric(ms(p99d), "interactive-sweep-p99-ms")
		b.ReportMetric(float64(p99d-p99i)/float64(slot), "interactive-p99-slowdown-slots")
		b.ReportMetric(float64(len(during)), "interactive-samples")
		srv.Close()
	}
}

// interactiveDisconnects runs interactive disconnects (read, PATCH,
// confirm: what a click does) every 100 ms, n of them, or until done is
// closed, and returns how long each took and the conversations they were on.
func interactiveDisconnects(b *testing.B, c *Client, srv *genesystest.Server, n int, done <-chan struct{}) (out []time.Duration, ids []string) {
	ctx := context.Background()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; n == 0 || i < n; i++ {
		select {
		case <-done:
			return out, ids
		case <-tick.C:
		}
		conv := srv.ThreePartyConference()
		ids = append(ids, conv.ID)
		ext := conv.Participants[3].ID
		t0 := time.Now()
		if _, err := c.GetConversation(ctx, conv.ID); err != nil {
			b.Error(err)
			return out, ids
		}
		if _, err := c.DisconnectParticipant(ctx, conv.ID, ext); err != nil {
			b.Error(err)
			return out, ids
		}
		if conf, err := c.ConfirmDisconnect(ctx, conv.ID, ext); err != nil || !conf.Confirmed {
			b.Errorf("confirm: %+v %v", conf, err)
			return out, ids
		}
		out = append(out, time.Since(t0))
		srv.EndConversation(conv.ID)
	}
	return out, ids
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
