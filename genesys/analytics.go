package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// opQueryConversations is the analytics details query.
const opQueryConversations = "queryConversations"

// Paging of FindConversations.
const (
	// DefaultFindPageSize is the analytics page size (Genesys's default).
	DefaultFindPageSize = 25
	// MaxFindPageSize is the largest page FindConversations asks for.
	MaxFindPageSize = 100
	// DefaultFindMaxPages bounds how many pages one search reads: with the
	// default page size, 100 conversations. More than that is not "the call
	// I mean" any more, and each page is one request against the rate limit.
	DefaultFindMaxPages = 4
	// maxFindPages is the hard cap on ConversationFilter.MaxPages.
	maxFindPages = 20
	// liveReadParallel bounds concurrent re-reads in LiveConversations.
	liveReadParallel = 4
)

// ConversationFilter says which in-progress voice conversations
// FindConversations looks for. At least one of UserID, Phone and QueueID is
// required; when several are set, a conversation must match all of them.
type ConversationFilter struct {
	// UserID is a Genesys user id: conversations the user (an agent) is on.
	UserID string
	// Phone is an E.164 number ("+13175550123", see NormalizePhone):
	// conversations where it is the ANI or the DNIS of a leg.
	Phone string
	// QueueID is a queue id: conversations that went through the queue.
	QueueID string
	// Media narrows the search to one medium (voice, callback, chat, email,
	// message); "" finds conversations of every medium.
	Media Media
	// PageSize is the analytics page size; 0 means DefaultFindPageSize, at
	// most MaxFindPageSize.
	PageSize int
	// MaxPages bounds the pages read; 0 means DefaultFindMaxPages.
	MaxPages int
}

// String describes the filter for logs.
func (f ConversationFilter) String() string {
	var parts []string
	if f.UserID != "" {
		parts = append(parts, "user "+f.UserID)
	}
	if f.Phone != "" {
		parts = append(parts, "phone "+f.Phone)
	}
	if f.QueueID != "" {
		parts = append(parts, "queue "+f.QueueID)
	}
	if f.Media != "" {
		parts = append(parts, "media "+string(f.Media))
	}
	return strings.Join(parts, ", ")
}

// ConversationSummary is one conversation as the analytics details query
// reports it. Analytics lags behind the calls themselves and may be stale:
// re-read the conversation (GetConversation, or LiveConversations) before
// acting on it.
type ConversationSummary struct {
	ID        string    `json:"id"`
	StartTime time.Time `json:"startTime,omitzero"`
	Direction string    `json:"direction,omitempty"` // originatingDirection: inbound or outbound
	QueueIDs  []string  `json:"queueIds,omitempty"`  // queues its segments went through, in order of first use
	// Media are the media of its sessions (analytics mediaType), each once.
	Media        []Media              `json:"media,omitempty"`
	Participants []SummaryParticipant `json:"participants"`
}

// SummaryParticipant is one participant of a ConversationSummary.
type SummaryParticipant struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Purpose string `json:"purpose,omitempty"`
	UserID  string `json:"userId,omitempty"`
	ANI     string `json:"ani,omitempty"`
	DNIS    string `json:"dnis,omitempty"`
}

// FindResult is what FindConversations found.
type FindResult struct {
	// Conversations are the matches, newest first.
	Conversations []ConversationSummary
	// Total is the number of matches Genesys reported (totalHits).
	Total int
	// Truncated is set when more matches exist than were read (the page cap
	// was reached).
	Truncated bool
	// Since is the start of the searched interval: conversations that
	// started earlier are not found.
	Since time.Time
	// Pages is the number of analytics requests made.
	Pages int
}

// ---- query body (ConversationQuery) ----

type queryPredicate struct {
	Type      string `json:"type"`
	Dimension string `json:"dimension"`
	Operator  string `json:"operator,omitempty"`
	Value     string `json:"value,omitempty"`
}

type queryFilter struct {
	Type       string           `json:"type"`
	Predicates []queryPredicate `json:"predicates"`
}

type queryPaging struct {
	PageSize   int `json:"pageSize"`
	PageNumber int `json:"pageNumber"`
}

type conversationQuery struct {
	Interval            string        `json:"interval"`
	Order               string        `json:"order"`
	OrderBy             string        `json:"orderBy"`
	Paging              queryPaging   `json:"paging"`
	ConversationFilters []queryFilter `json:"conversationFilters"`
	SegmentFilters      []queryFilter `json:"segmentFilters"`
}

func dimension(dim, value string) queryPredicate {
	return queryPredicate{Type: "dimension", Dimension: dim, Value: value}
}

// analyticsTime is the interval format: UTC with milliseconds.
func analyticsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// findInterval covers yesterday and today (UTC) up to a minute from now.
// Genesys returns "only conversations that started on a day touched by the
// interval": starting at yesterday's midnight finds calls that started
// before midnight and are still going; the extra minute absorbs clock skew
// between us and Genesys.
func findInterval(now time.Time) (start, end time.Time) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, -1), now.Add(time.Minute).Truncate(time.Second)
}

// buildQuery is the ConversationQuery for one page: conversations of every
// medium unless f.Media narrows it.
//
// The phone number is sent twice for each of ani and dnis: as "tel:+1…"
// (how Genesys stores the numbers of telephony legs) and as "+1…" (how
// other sources, and some trunks, store them), all OR-ed, because the
// analytics dimensions match the stored string exactly and which form a
// given org has is not documented.
func buildQuery(f ConversationFilter, start, end time.Time, pageSize, page int) conversationQuery {
	q := conversationQuery{
		Interval: analyticsTime(start) + "/" + analyticsTime(end),
		Order:    "desc",
		OrderBy:  "conversationStart",
		Paging:   queryPaging{PageSize: pageSize, PageNumber: page},
		ConversationFilters: []queryFilter{{Type: "and", Predicates: []queryPredicate{
			{Type: "dimension", Dimension: "conversationEnd", Operator: "notExists"},
		}}},
	}
	seg := queryFilter{Type: "and"}
	if f.Media != "" {
		seg.Predicates = append(seg.Predicates, dimension("mediaType", string(f.Media)))
	}
	if f.UserID != "" {
		seg.Predicates = append(seg.Predicates, dimension("userId", strings.ToLower(f.UserID)))
	}
	if f.QueueID != "" {
		seg.Predicates = append(seg.Predicates, dimension("queueId", strings.ToLower(f.QueueID)))
	}
	if len(seg.Predicates) > 0 {
		q.SegmentFilters = []queryFilter{seg}
	}
	if f.Phone != "" {
		digits := strings.TrimPrefix(f.Phone, "+")
		q.SegmentFilters = append(q.SegmentFilters, queryFilter{Type: "or", Predicates: []queryPredicate{
			dimension("ani", "tel:"+f.Phone), dimension("ani", f.Phone),
			dimension("dnis", "tel:"+f.Phone), dimension("dnis", f.Phone),
			// Messaging sessions (SMS, WhatsApp) carry the number as their
			// from or to address, with or without the "+".
			dimension("addressFrom", f.Phone), dimension("addressFrom", digits),
			dimension("addressTo", f.Phone), dimension("addressTo", digits),
		}})
	}
	return q
}

// ---- response (AnalyticsConversationQueryResponse) ----

type wireAnalyticsResponse struct {
	Conversations []wireAnalyticsConversation `json:"conversations"`
	TotalHits     int                         `json:"totalHits"`
}

type wireAnalyticsConversation struct {
	ConversationID       string                     `json:"conversationId"`
	ConversationStart    wireTime                   `json:"conversationStart"`
	ConversationEnd      wireTime                   `json:"conversationEnd"`
	OriginatingDirection string                     `json:"originatingDirection"`
	Participants         []wireAnalyticsParticipant `json:"participants"`
}

type wireAnalyticsParticipant struct {
	ParticipantID   string                 `json:"participantId"`
	ParticipantName string                 `json:"participantName"`
	Purpose         string                 `json:"purpose"`
	UserID          string                 `json:"userId"`
	Sessions        []wireAnalyticsSession `json:"sessions"`
}

type wireAnalyticsSession struct {
	MediaType string                 `json:"mediaType"`
	ANI       string                 `json:"ani"`
	DNIS      string                 `json:"dnis"`
	Direction string                 `json:"direction"`
	Segments  []wireAnalyticsSegment `json:"segments"`
}

type wireAnalyticsSegment struct {
	SegmentType  string   `json:"segmentType"`
	SegmentStart wireTime `json:"segmentStart"`
	SegmentEnd   wireTime `json:"segmentEnd"`
	QueueID      string   `json:"queueId"`
}

func (w wireAnalyticsConversation) model() ConversationSummary {
	s := ConversationSummary{
		ID:           strings.ToLower(w.ConversationID),
		StartTime:    w.ConversationStart.Time,
		Direction:    w.OriginatingDirection,
		Participants: make([]SummaryParticipant, 0, len(w.Participants)),
	}
	queues := map[string]bool{}
	for _, wp := range w.Participants {
		p := SummaryParticipant{ID: wp.ParticipantID, Name: wp.ParticipantName, Purpose: strings.ToLower(wp.Purpose), UserID: wp.UserID}
		for _, ses := range wp.Sessions {
			if m := Media(strings.ToLower(ses.MediaType)); m != "" && !slices.Contains(s.Media, m) {
				s.Media = append(s.Media, m)
			}
			if p.ANI == "" {
				p.ANI = ses.ANI
			}
			if p.DNIS == "" {
				p.DNIS = ses.DNIS
			}
			for _, seg := range ses.Segments {
				if q := strings.ToLower(seg.QueueID); q != "" && !queues[q] {
					queues[q] = true
					s.QueueIDs = append(s.QueueIDs, q)
				}
			}
		}
		s.Participants = append(s.Participants, p)
	}
	return s
}

func (f ConversationFilter) validate() (pageSize, maxPages int, err error) {
	if f.UserID == "" && f.Phone == "" && f.QueueID == "" {
		return 0, 0, &InputError{Field: "filter", Message: "say what to search for: an agent (user id), a phone number or a queue"}
	}
	if f.Media != "" && !slices.Contains(mediaOrder, f.Media) {
		return 0, 0, &InputError{Field: "media", Value: shorten(string(f.Media), 32), Message: fmt.Sprintf("media %q is not one of voice, callback, chat, email, message", shorten(string(f.Media), 32))}
	}
	if f.UserID != "" {
		if err := ValidateID("user id", f.UserID); err != nil {
			return 0, 0, err
		}
	}
	if f.QueueID != "" {
		if err := ValidateID("queue id", f.QueueID); err != nil {
			return 0, 0, err
		}
	}
	if f.Phone != "" {
		if err := validateE164(f.Phone); err != nil {
			return 0, 0, err
		}
	}
	pageSize, maxPages = f.PageSize, f.MaxPages
	if pageSize == 0 {
		pageSize = DefaultFindPageSize
	}
	if pageSize < 1 || pageSize > MaxFindPageSize {
		return 0, 0, &InputError{Field: "page size", Message: fmt.Sprintf("page size %d is out of range (1 to %d)", f.PageSize, MaxFindPageSize)}
	}
	if maxPages == 0 {
		maxPages = DefaultFindMaxPages
	}
	if maxPages < 1 || maxPages > maxFindPages {
		return 0, 0, &InputError{Field: "max pages", Message: fmt.Sprintf("max pages %d is out of range (1 to %d)", f.MaxPages, maxFindPages)}
	}
	return pageSize, maxPages, nil
}

// FindConversations searches Genesys analytics for voice conversations in
// progress that match f, newest first
// (POST /api/v2/analytics/conversations/details/query; needs
// analytics:conversationDetail:view). It follows pages until every match is
// read or f.MaxPages pages were, and then sets Truncated.
//
// Analytics data lags the calls and can be stale: a listed conversation may
// have ended since. Re-read the candidates (LiveConversations) before
// showing or acting on them. Conversations analytics itself reports as
// ended, or whose id is not a Genesys id, are left out.
func (c *Client) FindConversations(ctx context.Context, f ConversationFilter) (FindResult, error) {
	pageSize, maxPages, err := f.validate()
	if err != nil {
		return FindResult{}, err
	}
	start, end := findInterval(time.Now())
	res := FindResult{Since: start}
	seen := map[string]bool{}
	read := 0
	for page := 1; ; page++ {
		body, err := json.Marshal(buildQuery(f, start, end, pageSize, page))
		if err != nil {
			return FindResult{}, err
		}
		req := apiRequest{op: opQueryConversations, method: http.MethodPost, path: "/api/v2/analytics/conversations/details/query", body: body}
		var w wireAnalyticsResponse
		if _, err := c.do(ctx, req, &w); err != nil {
			return FindResult{}, err
		}
		res.Pages++
		res.Total = w.TotalHits
		read += len(w.Conversations)
		for _, wc := range w.Conversations {
			if !isUUID(wc.ConversationID) || !wc.ConversationEnd.IsZero() {
				continue
			}
			s := wc.model()
			if seen[s.ID] {
				// Pages shift when calls start during the search.
				continue
			}
			seen[s.ID] = true
			res.Conversations = append(res.Conversations, s)
		}
		more := len(w.Conversations) >= pageSize && (w.TotalHits == 0 || read < w.TotalHits)
		if !more {
			break
		}
		if page >= maxPages {
			res.Truncated = true
			break
		}
	}
	if res.Total < len(res.Conversations) {
		res.Total = len(res.Conversations)
	}
	return res, nil
}

// LiveResult is what LiveConversations kept and dropped.
type LiveResult struct {
	// Conversations are the candidates still in progress, in candidate order.
	Conversations []*Conversation
	// Ended counts candidates dropped because they had ended, no longer
	// exist (404), or the filter's agent has left them.
	Ended int
	// Failed counts candidates that could not be read (other errors).
	Failed int
	// Unchecked counts candidates not read because limit was reached.
	Unchecked int
}

// LiveConversations re-reads candidates (GetConversation, one request each)
// and keeps those still in progress, in order, until limit are kept. This
// is the check that analytics cannot give: its data lags, so a call that
// just ended can still be listed as in progress. When f has a UserID, a
// conversation that the user has left (all of their legs ended) is dropped
// too, since it is no longer that agent's call.
//
// Reads run a few at a time. It fails only when no candidate could be kept
// and at least one read failed for another reason than 404; the error is
// the first such failure.
func (c *Client) LiveConversations(ctx context.Context, f ConversationFilter, candidates []ConversationSummary, limit int) (LiveResult, error) {
	var res LiveResult
	if limit <= 0 {
		res.Unchecked = len(candidates)
		return res, nil
	}
	var firstErr error
	next := 0
	for next < len(candidates) && len(res.Conversations) < limit {
		window := candidates[next:min(len(candidates), next+limit-len(res.Conversations))]
		next += len(window)
		convs := make([]*Conversation, len(window))
		errs := make([]error, len(window))
		var g errgroup.Group
		g.SetLimit(liveReadParallel)
		for i, cand := range window {
			g.Go(func() error {
				convs[i], errs[i] = c.GetConversation(ctx, cand.ID)
				return nil
			})
		}
		_ = g.Wait()
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for i, conv := range convs {
			switch err := errs[i]; {
			case err == nil && !conv.Ended() && !(f.UserID != "" && userLeft(conv, f.UserID)):
				res.Conversations = append(res.Conversations, conv)
			case err == nil || isConversationGone(err):
				res.Ended++
			default:
				res.Failed++
				if firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	res.Unchecked = len(candidates) - next
	if len(res.Conversations) == 0 && firstErr != nil {
		return res, firstErr
	}
	return res, nil
}

// userLeft reports whether userID has legs on conv and all of them ended.
// A conversation without any leg of the user (the shapes differ between
// analytics and the conversation API) is not judged.
func userLeft(conv *Conversation, userID string) bool {
	has := false
	for _, p := range conv.Participants {
		if idEqual(p.UserID, userID) {
			if !p.State.Ended() {
				return false
			}
			has = true
		}
	}
	return has
}
