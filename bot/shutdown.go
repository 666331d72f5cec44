package bot

import (
	"context"
	"sync/atomic"
	"time"
)

// The whole shutdown fits in the grace period. In-flight work gets the
// first part of it; what is left, reportReserve, is kept for telling Slack
// how that work ended (the channel outcome, its copies, the private
// answer). At the end of the grace every report still running is cut off
// too, so the process exits before the orchestrator's SIGKILL instead of
// being killed halfway through a post.

// reportReserve is the part of grace kept for posting outcomes after the
// work itself is cancelled: a third of it, at most 5 s.
func reportReserve(grace time.Duration) time.Duration {
	return min(grace/3, 5*time.Second)
}

// reportStopKey carries, in the work context, the *reportStop that ends
// every report at the end of the grace period.
type reportStopKey struct{}

// reportStop ends reports at the end of a shutdown's grace period.
type reportStop struct {
	ctx    context.Context
	cancel context.CancelFunc
	end    atomic.Int64 // unix nanoseconds; 0 until shutdown begins
}

func newReportStop(parent context.Context) *reportStop {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	return &reportStop{ctx: ctx, cancel: cancel}
}

// withReportStop makes the reports of work done under ctx end with stop
// (see detached).
func withReportStop(ctx context.Context, stop *reportStop) context.Context {
	return context.WithValue(ctx, reportStopKey{}, stop)
}

func reportStopOf(ctx context.Context) (*reportStop, bool) {
	stop, ok := ctx.Value(reportStopKey{}).(*reportStop)
	return stop, ok
}

// reportTimeLeft is how long reports made under ctx still have, when a
// shutdown has begun.
func reportTimeLeft(ctx context.Context) (time.Duration, bool) {
	stop, ok := reportStopOf(ctx)
	if !ok || stop.end.Load() == 0 {
		return 0, false
	}
	return time.Until(time.Unix(0, stop.end.Load())), true
}

// waitInflight waits for in-flight work after the socket closed: until the
// work is done, or for the grace period minus reportReserve; then it
// cancels the work and gives the reports the rest of the grace; then it
// cuts the reports off and waits for the handlers to return, which they do
// at once with every context done.
func (r *socketTransport) waitInflight(stopWork context.CancelFunc, reports *reportStop, start time.Time) {
	done := make(chan struct{})
	go func() { r.inflight.Wait(); close(done) }()
	end := start.Add(r.grace)
	reports.end.Store(end.UnixNano())
	select {
	case <-done:
		return
	case <-time.After(time.Until(end.Add(-reportReserve(r.grace)))):
	}
	r.log.Warn("grace period over; cancelling in-flight work", "grace", r.grace.String(), "left_for_outcomes", reportReserve(r.grace).String())
	stopWork()
	select {
	case <-done:
		return
	case <-time.After(time.Until(end)):
	}
	r.log.Warn("shutdown grace over; abandoning the outcome posts still running", "grace", r.grace.String())
	reports.cancel()
	<-done
}
