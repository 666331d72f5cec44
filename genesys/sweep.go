package genesys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// A sweep finds conversations that should have ended long ago ("stuck" or
// "ghost" interactions) and clears them in bulk:
//
//  1. FindStuck lists candidates from the analytics details query.
//  2. Sweep re-reads each candidate and acts only on what Genesys says now:
//     it disconnects every leg still live, people and system legs (acd,
//     ivr) alike, then waits for the conversation to end.
//  3. Optionally (Teardown), a conversation that stays open is torn down
//     with POST /api/v2/conversations/{id}/disconnect.
//
// All of it runs at bulk priority (WithBulkPriority): it uses what
// interactive requests leave of the Client's budget.

// Operation names of the sweep's own requests.
const (
	opTeardown = "teardownConversation"
)

// Defaults of StuckFilter and SweepOptions.
const (
	DefaultStuckMaxAge      = 7 * 24 * time.Hour
	DefaultStuckLimit       = 1000
	DefaultStuckPageSize    = 100
	DefaultSweepConcurrency = 4
	// MaxStuckLimit bounds StuckFilter.Limit.
	MaxStuckLimit = 100000
	// maxStuckPasses bounds how often the pages are read again when they
	// shifted during a read.
	maxStuckPasses = 2
	// maxRateLimitedRetries bounds how often one step waits out a 429.
	maxRateLimitedRetries = 20
)

// StuckMedia are the media a sweep can be narrowed to (FindMedia), as
// analytics names them.
var StuckMedia = func() []string {
	out := make([]string, len(FindMedia))
	for i, m := range FindMedia {
		out[i] = string(m)
	}
	return out
}()

// StuckFilter says which conversations FindStuck lists.
type StuckFilter struct {
	// OlderThan is required: only conversations that started at least this
	// long ago are candidates.
	OlderThan time.Duration
	// QueueID narrows to conversations that went through a queue.
	QueueID string
	// MediaType narrows to one medium (see StuckMedia).
	MediaType string
	// MaxAge is how far back the search reaches; 0 means DefaultStuckMaxAge.
	MaxAge time.Duration
	// Limit bounds the candidates returned; 0 means DefaultStuckLimit.
	Limit int
	// PageSize is the analytics page size; 0 means DefaultStuckPageSize.
	PageSize int
}

func (f *StuckFilter) normalize() error {
	if f.MaxAge == 0 {
		f.MaxAge = DefaultStuckMaxAge
	}
	if f.Limit == 0 {
		f.Limit = DefaultStuckLimit
	}
	if f.PageSize == 0 {
		f.PageSize = DefaultStuckPageSize
	}
	switch {
	case f.OlderThan <= 0:
		return &InputError{Field: "OlderThan", Message: "say how old a conversation must be to count as stuck (for example 4h)"}
	case f.MaxAge <= f.OlderThan:
		return &InputError{Field: "MaxAge", Message: fmt.Sprintf("the search reaches back %s, which is not more than the age asked for (%s)", FormatAge(f.MaxAge), FormatAge(f.OlderThan))}
	case f.Limit < 1 || f.Limit > MaxStuckLimit:
		return &InputError{Field: "Limit", Message: fmt.Sprintf("limit %d is out of range (1 to %d)", f.Limit, MaxStuckLimit)}
	case f.PageSize < 1 || f.PageSize > MaxFindPageSize:
		return &InputError{Field: "PageSize", Message: fmt.Sprintf("page size %d is out of range (1 to %d)", f.PageSize, MaxFindPageSize)}
	}
	if f.QueueID != "" {
		if err := ValidateID("queue id", f.QueueID); err != nil {
			return err
		}
		f.QueueID = strings.ToLower(f.QueueID)
	}
	f.MediaType = strings.ToLower(strings.TrimSpace(f.MediaType))
	if f.MediaType != "" && !slices.Contains(StuckMedia, f.MediaType) {
		return &InputError{Field: "MediaType", Message: fmt.Sprintf("media %q is not one of %s", shorten(f.MediaType, 32), strings.Join(StuckMedia, ", "))}
	}
	return nil
}

// StuckCandidate is one conversation that analytics lists as in progress
// and that started long enough ago.
type StuckCandidate struct {
	ID           string               `json:"id"`
	StartTime    time.Time            `json:"startTime"`
	MediaType    string               `json:"mediaType,omitempty"`
	QueueIDs     []string             `json:"queueIds,omitempty"`
	Participants []SummaryParticipant `json:"participants"`
}

// StuckList is what FindStuck found, oldest first.
type StuckList struct {
	Candidates []StuckCandidate
	// More is set when more candidates exist than Limit allowed.
	More bool
	// Since is the start of the searched interval.
	Since time.Time
	// Pages is the number of analytics requests made.
	Pages int
}

// FindStuck lists conversations that analytics reports without an end and
// that started between f.MaxAge and f.OlderThan ago, oldest first. It reads
// every page (pages shift while calls start and end, so the list is
// deduplicated by conversation id, and read a second time when the total
// changed under it) and stops at f.Limit, setting More.
//
// Analytics lags: re-read before acting (Sweep does).
func (c *Client) FindStuck(ctx context.Context, f StuckFilter) (StuckList, error) {
	if err := f.normalize(); err != nil {
		return StuckList{}, err
	}
	ctx = WithBulkPriority(ctx)
	now := time.Now().UTC()
	// Intervals select whole days: the interval only has to touch the
	// days the candidates started on; their real start is checked below.
	newest := now.Add(-f.OlderThan)
	oldest := now.Add(-f.MaxAge)
	res := StuckList{Since: oldest}
	seen := map[string]bool{}
	for pass := 0; pass < maxStuckPasses; pass++ {
		firstTotal, lastTotal := -1, -1
		for page := 1; ; page++ {
			q := stuckQuery(f, oldest, newest, page)
			body, err := json.Marshal(q)
			if err != nil {
				return StuckList{}, err
			}
			var w wireAnalyticsResponse
			err = retryRateLimited(ctx, func() error {
				_, err := c.do(ctx, apiRequest{op: opQueryConversations, method: http.MethodPost, path: "/api/v2/analytics/conversations/details/query", body: body}, &w)
				return err
			})
			if err != nil {
				return StuckList{}, err
			}
			res.Pages++
			if firstTotal < 0 {
				firstTotal = w.TotalHits
			}
			lastTotal = w.TotalHits
			for _, wc := range w.Conversations {
				if !isUUID(wc.ConversationID) || !wc.ConversationEnd.IsZero() {
					continue
				}
				start := wc.ConversationStart.Time
				if start.IsZero() || start.After(newest) || start.Before(oldest) {
					continue
				}
				id := strings.ToLower(wc.ConversationID)
				if seen[id] {
					continue
				}
				if len(res.Candidates) >= f.Limit {
					res.More = true
					break
				}
				seen[id] = true
				res.Candidates = append(res.Candidates, stuckCandidate(wc))
			}
			if res.More || len(w.Conversations) < f.PageSize {
				break
			}
		}
		if res.More || firstTotal == lastTotal {
			break
		}
	}
	slices.SortStableFunc(res.Candidates, func(a, b StuckCandidate) int { return a.StartTime.Compare(b.StartTime) })
	return res, nil
}

func stuckQuery(f StuckFilter, oldest, newest time.Time, page int) conversationQuery {
	q := conversationQuery{
		Interval: analyticsTime(oldest) + "/" + analyticsTime(newest),
		Order:    "desc",
		OrderBy:  "conversationStart",
		Paging:   queryPaging{PageSize: f.PageSize, PageNumber: page},
		ConversationFilters: []queryFilter{{Type: "and", Predicates: []queryPredicate{
			{Type: "dimension", Dimension: "conversationEnd", Operator: "notExists"},
		}}},
	}
	var seg []queryPredicate
	if f.MediaType != "" {
		seg = append(seg, dimension("mediaType", f.MediaType))
	}
	if f.QueueID != "" {
		seg = append(seg, dimension("queueId", f.QueueID))
	}
	if len(seg) > 0 {
		q.SegmentFilters = []queryFilter{{Type: "and", Predicates: seg}}
	}
	return q
}

func stuckCandidate(wc wireAnalyticsConversation) StuckCandidate {
	s := wc.model()
	cand := StuckCandidate{ID: s.ID, StartTime: s.StartTime, QueueIDs: s.QueueIDs, Participants: s.Participants}
	for _, p := range wc.Participants {
		for _, ses := range p.Sessions {
			if cand.MediaType == "" && ses.MediaType != "" {
				cand.MediaType = strings.ToLower(ses.MediaType)
			}
		}
	}
	return cand
}

// ---- re-reading a conversation for the sweep ----

// SweepLeg is one medium of one participant as the sweep sees it.
type SweepLeg struct {
	ParticipantID string `json:"participantId"`
	Name          string `json:"name,omitempty"`
	Purpose       string `json:"purpose,omitempty"`
	UserID        string `json:"userId,omitempty"`
	QueueID       string `json:"queueId,omitempty"`
	QueueName     string `json:"queueName,omitempty"`
	MediaType     string `json:"mediaType"`
	State         State  `json:"state"`
}

// Live reports whether the sweep must disconnect the leg. Unlike
// Participant.Active (what a supervisor may pick), it counts system legs
// (acd, ivr, voicemail, flows) too: in a stuck conversation those are what
// keeps it in the queue. A scheduled callback is waiting, not stuck.
func (l SweepLeg) Live() bool {
	switch l.State {
	case StateDisconnected, StateTerminated, StateNone, "scheduled", "":
		return false
	}
	return true
}

// SweepConversation is a conversation re-read for the sweep.
type SweepConversation struct {
	ID        string     `json:"id"`
	StartTime time.Time  `json:"startTime,omitzero"`
	EndTime   time.Time  `json:"endTime,omitzero"`
	MediaType string     `json:"mediaType,omitempty"`
	Legs      []SweepLeg `json:"legs"`
}

// Ended reports whether nothing is left to disconnect.
func (c *SweepConversation) Ended() bool {
	if !c.EndTime.IsZero() {
		return true
	}
	return !slices.ContainsFunc(c.Legs, SweepLeg.Live)
}

// Waiting reports whether the conversation is only a scheduled callback.
func (c *SweepConversation) Waiting() bool {
	return c.EndTime.IsZero() && !slices.ContainsFunc(c.Legs, SweepLeg.Live) &&
		slices.ContainsFunc(c.Legs, func(l SweepLeg) bool { return l.State == "scheduled" })
}

// ReadForSweep re-reads a conversation (GetConversation) and lists every
// medium of every participant as a leg.
func (c *Client) ReadForSweep(ctx context.Context, conversationID string) (*SweepConversation, error) {
	conv, err := c.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	out := &SweepConversation{ID: strings.ToLower(conv.ID), StartTime: conv.StartTime, EndTime: conv.EndTime, MediaType: conv.MediaType}
	for _, p := range conv.Participants {
		comms := p.Communications
		if len(comms) == 0 {
			comms = []Communication{{Media: p.Media, State: p.State}}
		}
		for _, cm := range comms {
			out.Legs = append(out.Legs, SweepLeg{
				ParticipantID: p.ID, Name: p.Name, Purpose: p.Purpose, UserID: p.UserID,
				QueueID: strings.ToLower(p.QueueID), QueueName: p.QueueName, MediaType: string(cm.Media), State: cm.State,
			})
		}
	}
	return out, nil
}

// TeardownConversation asks Genesys for a full teardown of a conversation
// (POST /api/v2/conversations/{id}/disconnect). Genesys documents it as a
// last resort, not the normal way to end interactions: it disconnects all
// media and applies a system wrap-up code to participants pending wrap-up.
// It returns the correlation id of the accepting answer.
func (c *Client) TeardownConversation(ctx context.Context, conversationID string) (string, error) {
	if err := ValidateID("conversation id", conversationID); err != nil {
		return "", err
	}
	resp, err := c.do(ctx, apiRequest{op: opTeardown, method: http.MethodPost, path: "/api/v2/conversations/" + url.PathEscape(conversationID) + "/disconnect"}, nil)
	if err != nil {
		return "", err
	}
	return resp.correlationID, nil
}

// ---- clearing ----

// SweepOutcome is what happened to one conversation of a sweep.
type SweepOutcome string

// The outcomes of a sweep, also used as metric labels.
const (
	SweepCleared      SweepOutcome = "cleared"       // its live legs were disconnected and it ended
	SweepTornDown     SweepOutcome = "torn_down"     // it ended after a teardown
	SweepAlreadyEnded SweepOutcome = "already_ended" // it had ended when re-read, or someone else ended it
	SweepStillOpen    SweepOutcome = "still_open"    // it did not end within the confirmation window
	SweepFailed       SweepOutcome = "failed"        // Genesys refused or failed; see Reason
	SweepSkipped      SweepOutcome = "skipped"       // too new when re-read, or a scheduled callback
	SweepWouldClear   SweepOutcome = "would_clear"   // dry run: it would have been cleared
)

// LegResult is what happened to one leg.
type LegResult struct {
	ParticipantID string `json:"participantId"`
	Name          string `json:"name,omitempty"`
	Purpose       string `json:"purpose,omitempty"`
	MediaType     string `json:"mediaType"`
	// Outcome is disconnected, already_gone, failed, uncertain (the answer
	// was lost; the re-read decided) or would_disconnect (dry run).
	Outcome       string `json:"outcome"`
	Status        int    `json:"status,omitempty"`
	Reason        string `json:"reason,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
}

// ClearResult is what happened to one conversation.
type ClearResult struct {
	ConversationID string        `json:"conversationId"`
	MediaType      string        `json:"mediaType,omitempty"`
	StartTime      time.Time     `json:"startTime,omitzero"`
	QueueIDs       []string      `json:"queueIds,omitempty"`
	Outcome        SweepOutcome  `json:"outcome"`
	Reason         string        `json:"reason,omitempty"`
	CorrelationID  string        `json:"correlationId,omitempty"`
	Legs           []LegResult   `json:"legs,omitempty"`
	Duration       time.Duration `json:"-"`
}

// SweepOptions configures Sweep.
type SweepOptions struct {
	// OlderThan drops candidates that, re-read, started less than this ago.
	OlderThan time.Duration
	// DryRun re-reads and reports, and sends no disconnect.
	DryRun bool
	// Teardown tears down (POST …/disconnect) the conversations still open
	// after their legs were disconnected.
	Teardown bool
	// Concurrency bounds the conversations cleared at once; 0 means
	// DefaultSweepConcurrency.
	Concurrency int
	// Grace bounds how long conversations already started may take to
	// finish once ctx is done; 0 means the confirmation window plus 10 s.
	Grace time.Duration
	// OnResult, if set, is called once per conversation, from one goroutine
	// at a time.
	OnResult func(ClearResult)
}

// SweepSummary is what a sweep did.
type SweepSummary struct {
	Total     int                  `json:"total"`
	Processed int                  `json:"processed"`
	Counts    map[SweepOutcome]int `json:"counts"`
	// Stopped is set when ctx ended before every candidate was processed.
	Stopped  bool          `json:"stopped"`
	Duration time.Duration `json:"-"`
}

// Sweep clears candidates, a few at a time, at bulk priority. When ctx is
// done no new conversation is started, those in progress finish (within
// SweepOptions.Grace) and the summary says how far it got: every
// conversation is reported at most once and nothing is done twice.
func (c *Client) Sweep(ctx context.Context, candidates []StuckCandidate, opts SweepOptions) SweepSummary {
	start := time.Now()
	conc := opts.Concurrency
	if conc <= 0 {
		conc = DefaultSweepConcurrency
	}
	grace := opts.Grace
	if grace <= 0 {
		grace = c.confirmTimeout + 10*time.Second
	}
	sum := SweepSummary{Total: len(candidates), Counts: map[SweepOutcome]int{}}
	work := make(chan StuckCandidate)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// In-flight work outlives ctx by at most grace: a disconnect already
	// sent must be confirmed and reported truthfully.
	workCtx, cancel := context.WithCancel(WithBulkPriority(context.WithoutCancel(ctx)))
	defer cancel()
	stopAfter := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(workCtx, func() { t.Stop() })
	})
	defer stopAfter()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cand := range work {
				res := c.clearOne(workCtx, cand, opts)
				mu.Lock()
				sum.Processed++
				sum.Counts[res.Outcome]++
				if opts.OnResult != nil {
					opts.OnResult(res)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, cand := range candidates {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- cand:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	sum.Stopped = sum.Processed < sum.Total
	sum.Duration = time.Since(start)
	return sum
}

// sweepClaims makes two sweeps of one process take turns on a conversation:
// the second waits for the first and then re-reads, so it reports what the
// first did as already ended instead of disconnecting anything twice.
type sweepClaims struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func (s *sweepClaims) claim(ctx context.Context, id string) (release func(), err error) {
	for {
		s.mu.Lock()
		if s.m == nil {
			s.m = map[string]chan struct{}{}
		}
		busy, ok := s.m[id]
		if !ok {
			done := make(chan struct{})
			s.m[id] = done
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.m, id)
				s.mu.Unlock()
				close(done)
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// retryRateLimited runs fn again while Genesys answers 429: the budget
// holds bulk requests until the Retry-After has passed, so the retry waits
// for it. A 429 means the request was not carried out.
func retryRateLimited(ctx context.Context, fn func() error) error {
	var err error
	for range maxRateLimitedRetries {
		err = fn()
		if ErrorKind(err) != KindRateLimited || ctx.Err() != nil {
			return err
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			if serr := sleep(ctx, apiErr.RetryAfter); serr != nil {
				return err
			}
		}
	}
	return err
}

// FailureReason is a short, stable, safe description of why a request
// failed, for grouping failures in a summary: "HTTP 503
// service.unavailable", "no answer from Genesys", …
func FailureReason(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if apiErr.Code != "" {
			return fmt.Sprintf("HTTP %d %s", apiErr.Status, shorten(apiErr.Code, 80))
		}
		return fmt.Sprintf("HTTP %d", apiErr.Status)
	}
	var tErr *TransportError
	if errors.As(err, &tErr) || errors.Is(err, context.DeadlineExceeded) {
		return "no answer from Genesys"
	}
	if ErrorKind(err) == KindInput {
		return "invalid input"
	}
	var dErr *DecodeError
	if errors.As(err, &dErr) {
		return "unreadable answer from Genesys"
	}
	return "error"
}

func (c *Client) clearOne(ctx context.Context, cand StuckCandidate, opts SweepOptions) (res ClearResult) {
	start := time.Now()
	res = ClearResult{ConversationID: cand.ID, MediaType: cand.MediaType, StartTime: cand.StartTime, QueueIDs: cand.QueueIDs}
	defer func() { res.Duration = time.Since(start) }()
	release, err := c.claims.claim(ctx, cand.ID)
	if err != nil {
		return res.failed(err)
	}
	defer release()

	conv, done := c.reread(ctx, &res, opts)
	if done {
		return res
	}
	var acted bool // a disconnect was (or may have been) carried out by us
	res.Legs, acted = c.disconnectLegs(ctx, conv)
	ended, last, err := c.waitEnded(ctx, conv.ID, acted)
	if err != nil && !ended {
		// The re-read failed: what the legs answered is all we know.
		if f := firstFailed(res.Legs); f != nil {
			res.Outcome, res.Reason, res.CorrelationID = SweepFailed, f.Reason, f.CorrelationID
			return res
		}
		return res.failed(err)
	}
	judgeLegs(res.Legs, last)
	switch f := firstFailed(res.Legs); {
	case ended && acted:
		res.Outcome = SweepCleared
	case ended:
		res.Outcome = SweepAlreadyEnded // someone (or something) else ended it
	case opts.Teardown:
		return c.teardown(ctx, res)
	case f != nil:
		res.Outcome, res.Reason, res.CorrelationID = SweepFailed, f.Reason, f.CorrelationID
	default:
		res.Outcome = SweepStillOpen
	}
	return res
}

// failed is res reporting err.
func (res ClearResult) failed(err error) ClearResult {
	res.Outcome, res.Reason, res.CorrelationID = SweepFailed, FailureReason(err), CorrelationID(err)
	return res
}

// reread reads the candidate again and decides what analytics could not:
// whether it is still there, still live, old enough. done is set when res
// is final (and, for a dry run, says what would be done).
func (c *Client) reread(ctx context.Context, res *ClearResult, opts SweepOptions) (conv *SweepConversation, done bool) {
	conv, err := c.sweepRead(ctx, res.ConversationID)
	switch {
	case isConversationGone(err):
		res.Outcome = SweepAlreadyEnded
		return nil, true
	case err != nil:
		*res = res.failed(err)
		return nil, true
	}
	if conv.MediaType != "" {
		res.MediaType = conv.MediaType
	}
	if !conv.StartTime.IsZero() {
		res.StartTime = conv.StartTime
	}
	switch {
	case conv.Waiting():
		res.Outcome, res.Reason = SweepSkipped, "scheduled callback"
	case conv.Ended():
		res.Outcome = SweepAlreadyEnded
	case opts.OlderThan > 0 && !res.StartTime.IsZero() && time.Since(res.StartTime) < opts.OlderThan:
		res.Outcome, res.Reason = SweepSkipped, "started less than "+FormatAge(opts.OlderThan)+" ago"
	case opts.DryRun:
		for _, l := range conv.Legs {
			if l.Live() {
				res.Legs = append(res.Legs, LegResult{ParticipantID: l.ParticipantID, Name: l.Name, Purpose: l.Purpose, MediaType: l.MediaType, Outcome: "would_disconnect"})
			}
		}
		res.Outcome = SweepWouldClear
	default:
		return conv, false
	}
	return nil, true
}

// disconnectLegs sends one PATCH per participant with a live leg: the
// generic PATCH ends every medium of it (DisconnectParticipant falls back
// to the medium's family). acted is set when any may have taken effect.
func (c *Client) disconnectLegs(ctx context.Context, conv *SweepConversation) (legs []LegResult, acted bool) {
	patched := map[string]bool{}
	for _, l := range conv.Legs {
		if !l.Live() || patched[strings.ToLower(l.ParticipantID)] {
			continue
		}
		patched[strings.ToLower(l.ParticipantID)] = true
		lr := LegResult{ParticipantID: l.ParticipantID, Name: l.Name, Purpose: l.Purpose, MediaType: l.MediaType}
		var dr DisconnectResult
		err := retryRateLimited(ctx, func() error {
			var err error
			dr, err = c.DisconnectParticipant(ctx, conv.ID, l.ParticipantID)
			return err
		})
		switch {
		case err == nil && dr.Outcome == DisconnectAlreadyGone:
			lr.Outcome, lr.CorrelationID = "already_gone", dr.CorrelationID
		case err == nil:
			lr.Outcome, lr.Status, lr.CorrelationID = "disconnected", http.StatusAccepted, dr.CorrelationID
			acted = true
		case MaybeApplied(err):
			lr.Outcome, lr.Reason, lr.CorrelationID = "uncertain", FailureReason(err), CorrelationID(err)
			acted = true
		default:
			lr.Outcome, lr.Reason, lr.CorrelationID = "failed", FailureReason(err), CorrelationID(err)
			if apiErr, ok := errors.AsType[*APIError](err); ok {
				lr.Status = apiErr.Status
			}
		}
		legs = append(legs, lr)
		if ctx.Err() != nil {
			break
		}
	}
	return legs, acted
}

// firstFailed is the first leg that failed, or nil.
func firstFailed(legs []LegResult) *LegResult {
	for i := range legs {
		if legs[i].Outcome == "failed" {
			return &legs[i]
		}
	}
	return nil
}

// judgeLegs settles uncertain legs from the last read: a leg that is gone
// was disconnected, whatever the lost answer would have said; one still
// live was not, and failed.
func judgeLegs(legs []LegResult, last *SweepConversation) {
	for i := range legs {
		lr := &legs[i]
		if lr.Outcome != "uncertain" {
			continue
		}
		gone := last == nil || last.Ended() || !slices.ContainsFunc(last.Legs, func(l SweepLeg) bool {
			return idEqual(l.ParticipantID, lr.ParticipantID) && l.Live()
		})
		if gone {
			lr.Outcome, lr.Reason = "disconnected", ""
		} else {
			lr.Outcome = "failed"
		}
	}
}

func (c *Client) teardown(ctx context.Context, res ClearResult) ClearResult {
	var corr string
	err := retryRateLimited(ctx, func() error {
		var err error
		corr, err = c.TeardownConversation(ctx, res.ConversationID)
		return err
	})
	if err != nil && !MaybeApplied(err) {
		if isConversationGone(err) {
			res.Outcome = SweepCleared
			return res
		}
		res.Outcome, res.Reason, res.CorrelationID = SweepFailed, "teardown: "+FailureReason(err), CorrelationID(err)
		return res
	}
	res.CorrelationID = corr
	ended, _, rerr := c.waitEnded(ctx, res.ConversationID, true)
	switch {
	case ended:
		res.Outcome, res.Reason = SweepTornDown, ""
	case rerr != nil && err != nil:
		res.Outcome, res.Reason, res.CorrelationID = SweepFailed, "teardown: "+FailureReason(err), CorrelationID(err)
	default:
		res.Outcome, res.Reason = SweepStillOpen, "still open after teardown"
	}
	return res
}

// sweepRead is ReadForSweep that waits out rate limits.
func (c *Client) sweepRead(ctx context.Context, id string) (*SweepConversation, error) {
	var conv *SweepConversation
	err := retryRateLimited(ctx, func() error {
		var err error
		conv, err = c.ReadForSweep(ctx, id)
		return err
	})
	return conv, err
}

// waitEnded re-reads the conversation until it has ended, for at most the
// confirmation window (Config.ConfirmTimeout); without poll it reads once.
// The last read is made even when the window has passed (a sweep's reads
// may have waited for the budget all along): what is reported comes from
// a read, never from running out of time.
func (c *Client) waitEnded(ctx context.Context, id string, poll bool) (bool, *SweepConversation, error) {
	deadline := time.Now().Add(c.confirmTimeout)
	interval := c.confirmInterval
	for {
		if poll {
			// Genesys answers 202 before the legs drop: reading at once
			// would nearly always cost a second read.
			if err := sleep(ctx, min(interval, max(time.Until(deadline), 0))); err != nil {
				return false, nil, err
			}
			interval = min(interval+interval/2, maxConfirmInterval)
		}
		conv, err := c.sweepRead(ctx, id)
		switch {
		case isConversationGone(err):
			return true, nil, nil
		case err != nil:
			return false, nil, err
		case conv.Ended():
			return true, conv, nil
		case !poll || !time.Now().Before(deadline):
			return false, conv, nil
		}
	}
}

// ParseAge reads an age written with minutes, hours and days: "90m", "4h",
// "7d", "1d12h". Seconds and fractions are not accepted: a sweep's ages are
// hours.
func ParseAge(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	bad := &InputError{Field: "age", Value: shorten(in, 32), Message: fmt.Sprintf("%q is not an age; write it like 30m, 4h or 7d", shorten(in, 32))}
	if in == "" {
		return 0, bad
	}
	var total time.Duration
	rest := strings.ToLower(in)
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(rest) {
			return 0, bad
		}
		var n int64
		for _, c := range rest[:i] {
			n = n*10 + int64(c-'0')
		}
		unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[rest[i]]
		if unit == 0 {
			return 0, bad
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if total <= 0 || total > 10*365*24*time.Hour {
		return 0, bad
	}
	return total, nil
}

// FormatAge writes d the way ParseAge reads it, to the minute: "4h", "1d12h", "90m" is "1h30m".
func FormatAge(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "0m"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}

// QueueLabel names the candidate's (first) queue: the name analytics gives
// its acd leg, or the queue id; "" when it went through no queue.
func (c StuckCandidate) QueueLabel() string {
	if len(c.QueueIDs) == 0 {
		return ""
	}
	for _, p := range c.Participants {
		if p.Purpose == "acd" && p.Name != "" {
			return p.Name
		}
	}
	return c.QueueIDs[0]
}

// People lists who is on the candidate (other than queues), as "name
// (purpose)", in participant order.
func (c StuckCandidate) People() []string {
	var out []string
	for _, p := range c.Participants {
		if p.Purpose == "acd" {
			continue
		}
		name := p.Name
		if name == "" {
			name = "unnamed"
		}
		out = append(out, name+" ("+p.Purpose+")")
	}
	return out
}

// Count is one group of an overview.
type Count struct {
	Key string
	N   int
}

// StuckOverview summarizes a StuckList for a person deciding to sweep it.
type StuckOverview struct {
	ByQueue, ByMedia []Count // largest first
	Oldest           *StuckCandidate
}

// Overview counts the candidates by queue and by medium.
func (l StuckList) Overview() StuckOverview {
	var o StuckOverview
	queues, media := map[string]int{}, map[string]int{}
	for i, c := range l.Candidates {
		q := c.QueueLabel()
		if q == "" {
			q = "no queue"
		}
		queues[q]++
		m := c.MediaType
		if m == "" {
			m = "unknown"
		}
		media[m]++
		if o.Oldest == nil || c.StartTime.Before(o.Oldest.StartTime) {
			o.Oldest = &l.Candidates[i]
		}
	}
	o.ByQueue, o.ByMedia = sortedCounts(queues), sortedCounts(media)
	return o
}

func sortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// FailureGroup is the failures of a sweep that share a reason.
type FailureGroup struct {
	Reason string
	// Conversations and CorrelationIDs are in the order they failed; a
	// correlation id is "" when Genesys never answered.
	Conversations, CorrelationIDs []string
}

// GroupFailures groups the failed results by reason, the largest group first.
func GroupFailures(results []ClearResult) []FailureGroup {
	var out []FailureGroup
	idx := map[string]int{}
	for _, r := range results {
		if r.Outcome != SweepFailed {
			continue
		}
		i, ok := idx[r.Reason]
		if !ok {
			i = len(out)
			idx[r.Reason] = i
			out = append(out, FailureGroup{Reason: r.Reason})
		}
		out[i].Conversations = append(out[i].Conversations, r.ConversationID)
		out[i].CorrelationIDs = append(out[i].CorrelationIDs, r.CorrelationID)
	}
	slices.SortStableFunc(out, func(a, b FailureGroup) int { return len(b.Conversations) - len(a.Conversations) })
	return out
}
