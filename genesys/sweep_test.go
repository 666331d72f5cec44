package genesys

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func newSweepServer(t *testing.T, opts ...genesystest.Option) *genesystest.Server {
	t.Helper()
	srv := genesystest.New(append([]genesystest.Option{genesystest.WithDisconnectDelay(0)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// newSweepClient is newClient with a budget far above anything the tests
// send, unless mod sets one.
func newSweepClient(t *testing.T, srv *genesystest.Server, mod func(*Config)) *Client {
	t.Helper()
	return newClient(t, srv, func(c *Config) {
		c.RequestsPerMinute = 600000
		c.ConfirmTimeout = 500 * time.Millisecond
		if mod != nil {
			mod(c)
		}
	})
}

func findAll(t *testing.T, c *Client, f StuckFilter) StuckList {
	t.Helper()
	list, err := c.FindStuck(context.Background(), f)
	if err != nil {
		t.Fatalf("FindStuck: %v", err)
	}
	return list
}

func TestFindStuckFilters(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	other := srv.AddQueue(genesystest.Queue{Name: "Billing"})
	old := srv.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour, Legs: 3})
	srv.AddStuck(2, genesystest.StuckSpec{Age: time.Hour})                                 // too new
	billing := srv.AddStuck(2, genesystest.StuckSpec{Age: 30 * time.Hour, Queue: other})   // another queue, yesterday
	chats := srv.AddStuck(1, genesystest.StuckSpec{Age: 6 * time.Hour, MediaType: "chat"}) // another medium
	srv.AddStuck(1, genesystest.StuckSpec{Age: 9 * 24 * time.Hour})                        // older than max age
	ended := srv.AddStuck(1, genesystest.StuckSpec{Age: 5 * time.Hour})
	srv.EndConversation(ended[0].ID)
	c := newSweepClient(t, srv, nil)

	ids := func(l StuckList) []string {
		var out []string
		for _, cand := range l.Candidates {
			out = append(out, cand.ID)
		}
		slices.Sort(out)
		return out
	}
	want := func(convs ...[]genesystest.Conversation) []string {
		var out []string
		for _, cs := range convs {
			for _, c := range cs {
				out = append(out, c.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name string
		f    StuckFilter
		want []string
	}{
		{"older than 4h", StuckFilter{OlderThan: 4 * time.Hour}, want(old, billing, chats)},
		{"queue", StuckFilter{OlderThan: 4 * time.Hour, QueueID: other.ID}, want(billing)},
		{"media", StuckFilter{OlderThan: 4 * time.Hour, MediaType: "chat"}, want(chats)},
		{"voice", StuckFilter{OlderThan: 4 * time.Hour, MediaType: "VOICE"}, want(old, billing)},
		{"max age 1d", StuckFilter{OlderThan: 4 * time.Hour, MaxAge: 24 * time.Hour}, want(old, chats)},
	}
	for _, tc := range tests {
		got := ids(findAll(t, c, tc.f))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	l := findAll(t, c, StuckFilter{OlderThan: 4 * time.Hour})
	for i := 1; i < len(l.Candidates); i++ {
		if l.Candidates[i].StartTime.Before(l.Candidates[i-1].StartTime) {
			t.Fatalf("candidates not oldest first: %v", l.Candidates)
		}
	}
	if l.Candidates[0].MediaType != "voice" || len(l.Candidates[0].QueueIDs) == 0 {
		t.Errorf("candidate lacks media or queue: %+v", l.Candidates[0])
	}

	// The query asks analytics for what it can filter.
	body := lastBody(t, srv, genesystest.OpQueryConversations)
	b, _ := json.Marshal(body["conversationFilters"])
	if string(b) != `[{"predicates":[{"dimension":"conversationEnd","operator":"notExists","type":"dimension"}],"type":"and"}]` {
		t.Errorf("conversationFilters = %s", b)
	}
}

func TestFindStuckInput(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	c := newSweepClient(t, srv, nil)
	for _, f := range []StuckFilter{
		{},
		{OlderThan: 8 * 24 * time.Hour},
		{OlderThan: time.Hour, MediaType: "fax"},
		{OlderThan: time.Hour, QueueID: "../../users"},
		{OlderThan: time.Hour, Limit: -1},
	} {
		if _, err := c.FindStuck(context.Background(), f); ErrorKind(err) != KindInput {
			t.Errorf("FindStuck(%+v) = %v, want an input error", f, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestFindStuckLimitAndShiftingPages(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	stuck := srv.AddStuck(250, genesystest.StuckSpec{Age: 5 * time.Hour})
	// A call starts between every two page reads: newest first, it pushes
	// every later page down by one, so each page repeats the last of the
	// one before.
	srv.OnAnalyticsPage(func(int) {
		srv.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{{Purpose: "customer"}}})
	})
	c := newSweepClient(t, srv, nil)

	l := findAll(t, c, StuckFilter{OlderThan: 4 * time.Hour})
	if len(l.Candidates) != len(stuck) || l.More {
		t.Fatalf("found %d (more %v), want %d", len(l.Candidates), l.More, len(stuck))
	}
	seen := map[string]bool{}
	for _, cand := range l.Candidates {
		if seen[cand.ID] {
			t.Fatalf("%s listed twice", cand.ID)
		}
		seen[cand.ID] = true
	}

	l = findAll(t, c, StuckFilter{OlderThan: 4 * time.Hour, Limit: 120})
	if len(l.Candidates) != 120 || !l.More {
		t.Fatalf("limit 120: found %d (more %v)", len(l.Candidates), l.More)
	}
}

func sweepAll(t *testing.T, c *Client, f StuckFilter, opts SweepOptions) (SweepSummary, []ClearResult) {
	t.Helper()
	list := findAll(t, c, f)
	var results []ClearResult
	opts.OnResult = func(r ClearResult) { results = append(results, r) }
	if opts.OlderThan == 0 {
		opts.OlderThan = f.OlderThan
	}
	sum := c.Sweep(context.Background(), list.Candidates, opts)
	return sum, results
}

func TestSweepClearsEveryLeg(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t, genesystest.WithDisconnectDelay(20*time.Millisecond))
	voice := srv.AddStuck(5, genesystest.StuckSpec{Age: 5 * time.Hour, Legs: 3})
	for _, m := range []string{"callback", "chat", "email", "message"} {
		srv.AddStuck(1, genesystest.StuckSpec{Age: 5 * time.Hour, MediaType: m})
	}
	c := newSweepClient(t, srv, nil)
	sum, results := sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{})
	if sum.Counts[SweepCleared] != 9 || sum.Processed != 9 || sum.Stopped {
		t.Fatalf("summary %+v", sum)
	}
	if n := srv.Open(); n != 0 {
		t.Fatalf("%d conversations still open", n)
	}
	for _, r := range results {
		want := 2
		if slices.ContainsFunc(voice, func(v genesystest.Conversation) bool { return v.ID == r.ConversationID }) {
			want = 3
		}
		if len(r.Legs) != want {
			t.Errorf("%s (%s): %d legs disconnected, want %d (system legs too)", r.ConversationID, r.MediaType, len(r.Legs), want)
		}
	}
	// Again: the re-read decides, nothing is disconnected twice.
	patches := srv.CountOp(genesystest.OpPatchParticipant)
	sum, _ = sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{})
	if sum.Total != 0 {
		t.Fatalf("second sweep found %d", sum.Total)
	}
	if got := srv.CountOp(genesystest.OpPatchParticipant); got != patches {
		t.Errorf("second sweep sent %d PATCHes", got-patches)
	}
}

func TestSweepDryRunSendsNoPatch(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	srv.AddStuck(4, genesystest.StuckSpec{Age: 5 * time.Hour})
	c := newSweepClient(t, srv, nil)
	sum, results := sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{DryRun: true})
	if sum.Counts[SweepWouldClear] != 4 {
		t.Fatalf("summary %+v", sum)
	}
	if len(results[0].Legs) != 2 || results[0].Legs[0].Outcome != "would_disconnect" {
		t.Errorf("legs %+v", results[0].Legs)
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet && r.Op != genesystest.OpQueryConversations && r.Op != genesystest.OpToken {
			t.Errorf("dry run sent %s %s", r.Method, r.Path)
		}
	}
	if srv.Open() != 4 {
		t.Errorf("dry run ended conversations")
	}
}

func TestSweepFailingConversationAmongGood(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	srv.AddStuck(6, genesystest.StuckSpec{Age: 5 * time.Hour})
	c := newSweepClient(t, srv, func(c *Config) { c.RetryBudget = 200 * time.Millisecond })
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: 400, Code: "conversation.error.cannot.disconnect.call", Count: 1})
	sum, results := sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{Concurrency: 1})
	if sum.Counts[SweepFailed] != 1 || sum.Counts[SweepCleared] != 5 {
		t.Fatalf("summary %+v", sum.Counts)
	}
	for _, r := range results {
		if r.Outcome == SweepFailed && (r.Reason != "HTTP 400 conversation.error.cannot.disconnect.call" || r.CorrelationID == "") {
			t.Errorf("failure %+v", r)
		}
	}
	// A persistent 503 on one conversation is retried, then reported
	// failed; it does not stop the rest.
	srv.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: 503, Count: 8})
	sum, _ = sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{Concurrency: 1})
	if sum.Processed != sum.Total || sum.Counts[SweepCleared] < 2 {
		t.Fatalf("after 503s: %+v", sum.Counts)
	}
}

func TestSweepLostAnswerIsJudgedByReread(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	srv.AddStuck(2, genesystest.StuckSpec{Age: 5 * time.Hour})
	c := newSweepClient(t, srv, func(c *Config) { c.RetryBudget = time.Millisecond })
	// Every PATCH is carried out, and its answer lost.
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: 504, AfterApply: true})
	sum, results := sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{})
	if sum.Counts[SweepCleared] != 2 {
		t.Fatalf("summary %+v, results %+v", sum.Counts, results)
	}
	for _, r := range results {
		for _, l := range r.Legs {
			if l.Outcome != "disconnected" {
				t.Errorf("leg %+v: a leg gone after a lost answer is disconnected", l)
			}
		}
	}
}

func TestSweepTeardown(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	srv.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour, IgnoreDisconnects: true})
	c := newSweepClient(t, srv, func(c *Config) { c.ConfirmTimeout = 100 * time.Millisecond })
	sum, _ := sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{})
	if sum.Counts[SweepStillOpen] != 3 || srv.CountOp(genesystest.OpTeardown) != 0 {
		t.Fatalf("without teardown: %+v, %d teardowns", sum.Counts, srv.CountOp(genesystest.OpTeardown))
	}
	sum, _ = sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{Teardown: true})
	if sum.Counts[SweepTornDown] != 3 || srv.CountOp(genesystest.OpTeardown) != 3 || srv.Open() != 0 {
		t.Fatalf("teardown: %+v, %d teardowns, %d open", sum.Counts, srv.CountOp(genesystest.OpTeardown), srv.Open())
	}
}

func TestSweep429Pauses(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	srv.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	// A retry budget shorter than Retry-After: the 429s reach the sweep.
	c := newSweepClient(t, srv, func(c *Config) { c.RetryBudget = 100 * time.Millisecond })
	list := findAll(t, c, StuckFilter{OlderThan: 4 * time.Hour})
	srv.RateLimit(genesystest.OpGetConversation, 2, time.Second)
	start := time.Now()
	sum := c.Sweep(context.Background(), list.Candidates, SweepOptions{OlderThan: 4 * time.Hour})
	if sum.Counts[SweepCleared] != 3 {
		t.Fatalf("summary %+v", sum.Counts)
	}
	if c.Budget().RateLimited != 2 {
		t.Fatalf("%d 429s seen, want 2", c.Budget().RateLimited)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the sweep went on before Retry-After (1 s) had passed: it took %s", d)
	}
}

func TestSweepWithinBudgetGets0429s(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t, genesystest.WithRateLimit(100, 2*time.Second))
	srv.AddStuck(10, genesystest.StuckSpec{Age: 5 * time.Hour})
	// 40 a second, one second of burst: at most 120 in any 2 s window.
	c := newSweepClient(t, srv, func(c *Config) { c.RequestsPerMinute = 1200 })
	sum, _ := sweepAll(t, c, StuckFilter{OlderThan: 4 * time.Hour}, SweepOptions{Concurrency: 8})
	if sum.Counts[SweepCleared] != 10 {
		t.Fatalf("summary %+v", sum.Counts)
	}
	if n := srv.RateLimited(); n != 0 {
		t.Errorf("%d 429s under the budget", n)
	}
}

func TestSweepStopsCleanly(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	srv.AddStuck(40, genesystest.StuckSpec{Age: 5 * time.Hour})
	c := newSweepClient(t, srv, nil)
	list := findAll(t, c, StuckFilter{OlderThan: 4 * time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	reported := map[string]int{}
	sum := c.Sweep(ctx, list.Candidates, SweepOptions{Concurrency: 2, OnResult: func(r ClearResult) {
		mu.Lock()
		defer mu.Unlock()
		reported[r.ConversationID]++
		if len(reported) == 5 {
			cancel()
		}
	}})
	if !sum.Stopped || sum.Processed >= sum.Total || sum.Processed < 5 {
		t.Fatalf("summary %+v", sum)
	}
	for id, n := range reported {
		if n != 1 {
			t.Errorf("%s reported %d times", id, n)
		}
	}
	if open := srv.Open(); open != sum.Total-sum.Counts[SweepCleared] {
		t.Errorf("%d open, but the summary says %d of %d cleared", open, sum.Counts[SweepCleared], sum.Total)
	}
}

func TestConcurrentSweepsNeverDoubleCount(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t, genesystest.WithDisconnectDelay(10*time.Millisecond))
	srv.AddStuck(20, genesystest.StuckSpec{Age: 5 * time.Hour})
	c := newSweepClient(t, srv, nil)
	list := findAll(t, c, StuckFilter{OlderThan: 4 * time.Hour})
	var wg sync.WaitGroup
	sums := make([]SweepSummary, 2)
	for i := range sums {
		wg.Go(func() { sums[i] = c.Sweep(context.Background(), list.Candidates, SweepOptions{Concurrency: 3}) })
	}
	wg.Wait()
	cleared := sums[0].Counts[SweepCleared] + sums[1].Counts[SweepCleared]
	ended := sums[0].Counts[SweepAlreadyEnded] + sums[1].Counts[SweepAlreadyEnded]
	if cleared != 20 || ended != 20 {
		t.Fatalf("cleared %d, already ended %d; want 20 and 20 (%+v)", cleared, ended, sums)
	}
	if got := srv.CountOp(genesystest.OpPatchParticipant); got != 40 {
		t.Errorf("%d PATCHes for 40 legs", got)
	}
}

func TestReadForSweepMedia(t *testing.T) {
	t.Parallel()
	srv := newSweepServer(t)
	c := newSweepClient(t, srv, nil)
	for _, m := range StuckMedia {
		conv := srv.AddStuck(1, genesystest.StuckSpec{Age: time.Hour, MediaType: m, Legs: 3})[0]
		got, err := c.ReadForSweep(context.Background(), conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.MediaType != m || len(got.Legs) != 3 || got.Ended() || !got.Legs[1].Live() || got.Legs[1].Purpose != "acd" {
			t.Errorf("%s: %+v", m, got)
		}
	}
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"4h": 4 * time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, " 2H ": 2 * time.Hour} {
		got, err := ParseAge(in)
		if err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := ParseAge(FormatAge(got)); back != got {
			t.Errorf("FormatAge(%v) = %q does not read back", got, FormatAge(got))
		}
	}
	for _, in := range []string{"", "4", "h", "30s", "1.5h", "-4h", "0m", "4h!", "9999999d", "4 h", "1e3h"} {
		if _, err := ParseAge(in); ErrorKind(err) != KindInput {
			t.Errorf("ParseAge(%q) = %v, want an input error", in, err)
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"4h", "1d12h", "90m", "", "30s", "99999999999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAge(s)
		if err == nil && d <= 0 {
			t.Fatalf("ParseAge(%q) = %v without error", s, d)
		}
	})
}
