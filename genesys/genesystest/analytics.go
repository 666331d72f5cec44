package genesystest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Operations and permissions of the analytics query and the queue listing.
const (
	OpQueryConversations = "queryConversations" // POST /api/v2/analytics/conversations/details/query
	OpGetQueues          = "getQueues"          // GET /api/v2/routing/queues

	// PermAnalyticsConversationView is needed by the analytics query.
	PermAnalyticsConversationView = "analytics:conversationDetail:view"
	// PermQueueView is needed by the queue listing.
	PermQueueView = "routing:queue:view"
)

// Paging limits of the emulated endpoints.
const (
	MaxAnalyticsPageSize = 100
	MaxQueuePageSize     = 500
	defaultPageSize      = 25
)

// WithAnalyticsLag makes the analytics query see conversation and leg ends
// only d after they happen, like the real analytics pipeline: a call that
// ended less than d ago is still reported as in progress. Starts are seen
// at once. The conversation endpoints are never late.
func WithAnalyticsLag(d time.Duration) Option {
	return func(s *Server) { s.analyticsLag = d }
}

// SetAnalyticsLag changes the analytics lag (see WithAnalyticsLag).
func (s *Server) SetAnalyticsLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analyticsLag = d
}

// Queue is a routing queue of the fake org.
type Queue struct {
	ID   string // "" = generated
	Name string
}

// AddQueue adds a queue (replacing one with the same id) and returns it with
// its id. Queues named by conversation participants (QueueID and
// QueueName) are known without being added.
func (s *Server) AddQueue(q Queue) Queue {
	if q.ID == "" {
		q.ID = newID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.queues {
		if strings.EqualFold(old.ID, q.ID) {
			s.queues[i] = q
			return q
		}
	}
	s.queues = append(s.queues, q)
	return q
}

// Queues returns every queue the org knows, sorted by name.
func (s *Server) Queues() []Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queuesLocked()
}

func (s *Server) queuesLocked() []Queue {
	seen := map[string]bool{}
	var out []Queue
	for _, q := range s.queues {
		seen[strings.ToLower(q.ID)] = true
		out = append(out, q)
	}
	for _, c := range s.convs {
		for _, p := range c.Participants {
			if p.QueueID != "" && p.QueueName != "" && !seen[strings.ToLower(p.QueueID)] {
				seen[strings.ToLower(p.QueueID)] = true
				out = append(out, Queue{ID: p.QueueID, Name: p.QueueName})
			}
		}
	}
	slices.SortFunc(out, func(a, b Queue) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// EndConversation hangs up every leg of a conversation now, as when the
// customer and the agent both hang up. It reports false when there is no
// such conversation.
func (s *Server) EndConversation(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[strings.ToLower(id)]
	if !ok {
		return false
	}
	hangUpLocked(c, "peer") // sweep.go
	return true
}

// ---- the analytics details query ----

type aqPredicate struct {
	Type      string `json:"type"`
	Dimension string `json:"dimension"`
	Operator  string `json:"operator"`
	Value     string `json:"value"`
	Metric    string `json:"metric"`
	Property  string `json:"property"`
}

type aqClause struct {
	Type       string        `json:"type"`
	Predicates []aqPredicate `json:"predicates"`
}

type aqFilter struct {
	Type       string        `json:"type"`
	Predicates []aqPredicate `json:"predicates"`
	Clauses    []aqClause    `json:"clauses"`
}

type aqRequest struct {
	Interval string `json:"interval"`
	Order    string `json:"order"`
	OrderBy  string `json:"orderBy"`
	Paging   *struct {
		PageSize   int `json:"pageSize"`
		PageNumber int `json:"pageNumber"`
	} `json:"paging"`
	ConversationFilters []aqFilter        `json:"conversationFilters"`
	SegmentFilters      []aqFilter        `json:"segmentFilters"`
	EvaluationFilters   []json.RawMessage `json:"evaluationFilters"`
	SurveyFilters       []json.RawMessage `json:"surveyFilters"`
	ResolutionFilters   []json.RawMessage `json:"resolutionFilters"`
	Aggregations        []json.RawMessage `json:"aggregations"`
}

// The dimensions the emulator can filter on.
var (
	conversationDims = map[string]bool{"conversationEnd": true, "conversationId": true, "conversationStart": true, "originatingDirection": true, "divisionId": true}
	segmentDims      = map[string]bool{"mediaType": true, "messageType": true, "addressFrom": true, "addressTo": true, "userId": true, "queueId": true, "ani": true, "dnis": true, "purpose": true, "direction": true, "participantName": true, "segmentType": true, "segmentEnd": true, "externalContactId": true}
)

// parseInterval reads "start/end" (ISO-8601 instants) and returns the days
// it touches as [from, to).
func parseInterval(s string) (from, to time.Time, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(b, "/") {
		return time.Time{}, time.Time{}, fmt.Errorf("interval %q must be start/end, e.g. 2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z", s)
	}
	start, err1 := time.Parse(time.RFC3339Nano, a)
	end, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("interval %q is not two ISO-8601 date-times", s)
	}
	if !end.After(start) {
		return time.Time{}, time.Time{}, fmt.Errorf("interval %q ends before it starts", s)
	}
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return day(start), day(end.Add(-time.Nanosecond)).AddDate(0, 0, 1), nil
}

func checkFilters(fs []aqFilter, dims map[string]bool, level string) error {
	checkPreds := func(ps []aqPredicate) error {
		for _, p := range ps {
			if p.Type != "" && p.Type != "dimension" {
				return fmt.Errorf("%s predicate type %q is not supported by the emulator (only dimension)", level, p.Type)
			}
			if !dims[p.Dimension] {
				return fmt.Errorf("%s dimension %q is not supported by the emulator", level, p.Dimension)
			}
			switch p.Operator {
			case "", "matches":
				if p.Value == "" {
					return fmt.Errorf("%s predicate on %s needs a value", level, p.Dimension)
				}
			case "exists", "notExists":
			default:
				return fmt.Errorf("%s operator %q is not one of matches, exists, notExists", level, p.Operator)
			}
		}
		return nil
	}
	for _, f := range fs {
		if f.Type != "and" && f.Type != "or" {
			return fmt.Errorf("%s filter type %q must be and or or", level, f.Type)
		}
		if len(f.Predicates) == 0 && len(f.Clauses) == 0 {
			return fmt.Errorf("%s filter has no predicates", level)
		}
		if err := checkPreds(f.Predicates); err != nil {
			return err
		}
		for _, c := range f.Clauses {
			if c.Type != "and" && c.Type != "or" {
				return fmt.Errorf("%s clause type %q must be and or or", level, c.Type)
			}
			if err := checkPreds(c.Predicates); err != nil {
				return err
			}
		}
	}
	return nil
}

// row is what a predicate looks at: dimension name → value ("" = absent).
type row map[string]string

func (r row) test(p aqPredicate) bool {
	v := r[p.Dimension]
	switch p.Operator {
	case "exists":
		return v != ""
	case "notExists":
		return v == ""
	}
	return v != "" && strings.EqualFold(v, p.Value)
}

func combine(typ string, n int, ok func(i int) bool) bool {
	for i := range n {
		if ok(i) != (typ == "and") {
			return typ != "and"
		}
	}
	return typ == "and"
}

func (f aqFilter) match(r row) bool {
	preds := combine(f.Type, len(f.Predicates), func(i int) bool { return r.test(f.Predicates[i]) })
	clauses := combine(f.Type, len(f.Clauses), func(i int) bool {
		c := f.Clauses[i]
		return combine(c.Type, len(c.Predicates), func(j int) bool { return r.test(c.Predicates[j]) })
	})
	if f.Type == "and" {
		return preds && clauses
	}
	// "or" over predicates and clauses together; an empty list adds nothing.
	return (len(f.Predicates) > 0 && preds) || (len(f.Clauses) > 0 && clauses)
}

// analyticsView is a conversation as analytics sees it at one instant.
type analyticsView struct {
	conv     Conversation
	end      time.Time // zero while analytics thinks it is in progress
	horizon  time.Time // ends after this are not visible yet
	convRow  row
	segments []row
}

// conversationEnd is when the call ended: its EndTime, or the last leg's end
// once every leg has ended.
func conversationEnd(c Conversation) time.Time {
	if !c.EndTime.IsZero() {
		return c.EndTime
	}
	var last time.Time
	for _, p := range c.Participants {
		if !p.Ended() {
			return time.Time{}
		}
		if p.EndTime.After(last) {
			last = p.EndTime
		}
	}
	return last
}

func newAnalyticsView(c Conversation, horizon time.Time) analyticsView {
	v := analyticsView{conv: c, horizon: horizon}
	if end := conversationEnd(c); !end.IsZero() && !end.After(horizon) {
		v.end = end
	}
	v.convRow = row{
		"conversationId":       c.ID,
		"conversationStart":    genesysTime(c.StartTime),
		"conversationEnd":      genesysTime(v.end),
		"originatingDirection": originatingDirection(c),
		"divisionId":           homeDivisionID,
	}
	for _, p := range c.Participants {
		for _, cm := range p.Communications {
			ses := sessionOf(p, cm)
			v.segments = append(v.segments, row{
				"mediaType":         ses.MediaType,
				"messageType":       ses.MessageType,
				"addressFrom":       ses.AddressFrom,
				"addressTo":         ses.AddressTo,
				"userId":            p.UserID,
				"queueId":           p.QueueID,
				"ani":               ses.ANI,
				"dnis":              ses.DNIS,
				"purpose":           p.Purpose,
				"direction":         ses.Direction,
				"participantName":   p.Name,
				"segmentType":       "interact",
				"segmentEnd":        genesysTime(v.legEnd(p)),
				"externalContactId": p.ExternalContactID,
			})
		}
	}
	return v
}

// legEnd is the end of a leg as far as analytics knows.
func (v analyticsView) legEnd(p Participant) time.Time {
	if p.Ended() && !p.EndTime.IsZero() && !p.EndTime.After(v.horizon) {
		return p.EndTime
	}
	return time.Time{}
}

func originatingDirection(c Conversation) string {
	for _, p := range c.Participants {
		if p.Purpose == "customer" || p.Purpose == "external" {
			return p.Direction
		}
	}
	if len(c.Participants) > 0 {
		return c.Participants[0].Direction
	}
	return "inbound"
}

func (v analyticsView) matches(req aqRequest) bool {
	for _, f := range req.ConversationFilters {
		if !f.match(v.convRow) {
			return false
		}
	}
	for _, f := range req.SegmentFilters {
		if !slices.ContainsFunc(v.segments, f.match) {
			return false
		}
	}
	return true
}

func (s *Server) handleAnalyticsQuery(w http.ResponseWriter, r *http.Request, corr string, body []byte) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		code, msg := defaultError(http.StatusUnsupportedMediaType)
		writeError(w, corr, http.StatusUnsupportedMediaType, code, msg, nil)
		return
	}
	q, msg := parseAnalyticsQuery(body)
	if msg != "" {
		writeError(w, corr, http.StatusBadRequest, "bad.request", msg, nil)
		return
	}
	hits := s.analyticsHits(q)
	resp := analyticsResponse{TotalHits: len(hits)}
	for i := (q.pageNumber - 1) * q.pageSize; i < len(hits) && i < q.pageNumber*q.pageSize; i++ {
		resp.Conversations = append(resp.Conversations, hits[i].json())
	}
	writeJSON(w, http.StatusOK, resp)
}

// analyticsQuery is a checked details query.
type analyticsQuery struct {
	aqRequest
	from, to             time.Time
	pageSize, pageNumber int
}

// parseAnalyticsQuery reads and checks a details query the way Genesys
// does; msg is the 400 message when it is refused.
func parseAnalyticsQuery(body []byte) (q analyticsQuery, msg string) {
	if err := json.Unmarshal(body, &q.aqRequest); err != nil {
		return q, "The request could not be understood by the server due to malformed syntax."
	}
	if q.Interval == "" {
		return q, "interval is required"
	}
	var err error
	if q.from, q.to, err = parseInterval(q.Interval); err != nil {
		return q, err.Error()
	}
	q.pageSize, q.pageNumber = defaultPageSize, 1
	if q.Paging != nil {
		q.pageSize, q.pageNumber = q.Paging.PageSize, q.Paging.PageNumber
	}
	if q.pageSize < 1 || q.pageSize > MaxAnalyticsPageSize || q.pageNumber < 1 {
		return q, fmt.Sprintf("paging: pageSize must be 1 to %d and pageNumber at least 1", MaxAnalyticsPageSize)
	}
	switch q.Order {
	case "", "asc", "desc", "unordered":
	default:
		return q, fmt.Sprintf("order %q is not asc, desc or unordered", q.Order)
	}
	switch q.OrderBy {
	case "", "conversationStart", "conversationEnd", "segmentStart", "segmentEnd":
	default:
		return q, fmt.Sprintf("orderBy %q is not valid", q.OrderBy)
	}
	if len(q.EvaluationFilters)+len(q.SurveyFilters)+len(q.ResolutionFilters)+len(q.Aggregations) > 0 {
		return q, "the emulator supports only conversationFilters and segmentFilters"
	}
	if err := checkFilters(q.ConversationFilters, conversationDims, "conversation"); err != nil {
		return q, err.Error()
	}
	if err := checkFilters(q.SegmentFilters, segmentDims, "segment"); err != nil {
		return q, err.Error()
	}
	return q, ""
}

// analyticsHits is what the (lagging) analytics index finds for q, in
// order. Every orderBy sorts by conversation start here; ties by id, so
// pages are stable.
func (s *Server) analyticsHits(q analyticsQuery) []analyticsView {
	s.mu.Lock()
	horizon := time.Now().Add(-s.analyticsLag)
	var hits []analyticsView
	for _, c := range s.convs {
		if c.StartTime.Before(q.from) || !c.StartTime.Before(q.to) {
			continue
		}
		v := newAnalyticsView(c.snapshot(), horizon)
		if v.matches(q.aqRequest) {
			hits = append(hits, v)
		}
	}
	hook := s.pageHook // sweep.go
	s.mu.Unlock()
	if hook != nil {
		hook(q.pageNumber) // this page is already read: what the hook starts shifts the next
	}
	slices.SortFunc(hits, func(a, b analyticsView) int {
		if c := a.conv.StartTime.Compare(b.conv.StartTime); c != 0 {
			if q.Order == "desc" {
				return -c
			}
			return c
		}
		return strings.Compare(a.conv.ID, b.conv.ID)
	})
	return hits
}

// ---- the queue listing ----

// globMatch matches name against pattern case-insensitively; "*" matches any
// run of characters, and a pattern without "*" must match exactly.
func globMatch(pattern, name string) bool {
	pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, last)
}

func (s *Server) handleGetQueues(w http.ResponseWriter, r *http.Request, corr string) {
	q := r.URL.Query()
	intParam := func(key string, def int) (int, bool) {
		v := q.Get(key)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	pageSize, ok1 := intParam("pageSize", defaultPageSize)
	pageNumber, ok2 := intParam("pageNumber", 1)
	if !ok1 || !ok2 || pageSize < 1 || pageSize > MaxQueuePageSize || pageNumber < 1 {
		writeError(w, corr, http.StatusBadRequest, "bad.request", fmt.Sprintf("pageSize must be 1 to %d and pageNumber at least 1", MaxQueuePageSize), nil)
		return
	}
	name := q.Get("name")
	var hits []Queue
	for _, qu := range s.Queues() {
		if name == "" || globMatch(name, qu.Name) {
			hits = append(hits, qu)
		}
	}
	resp := queueEntityListing{
		Entities: []queueWire{}, PageSize: pageSize, PageNumber: pageNumber,
		Total: len(hits), PageCount: (len(hits) + pageSize - 1) / pageSize,
	}
	for i := (pageNumber - 1) * pageSize; i < len(hits) && i < pageNumber*pageSize; i++ {
		resp.Entities = append(resp.Entities, queueWire{ID: hits[i].ID, Name: hits[i].Name, SelfURI: "/api/v2/routing/queues/" + hits[i].ID})
	}
	writeJSON(w, http.StatusOK, resp)
}

// ---- wire shapes ----

// analyticsResponse is AnalyticsConversationQueryResponse. conversations is
// left out when nothing matches, as Genesys does.
type analyticsResponse struct {
	Conversations []analyticsConversationWire `json:"conversations,omitempty"`
	TotalHits     int                         `json:"totalHits"`
}

// analyticsConversationWire is AnalyticsConversationWithoutAttributes.
type analyticsConversationWire struct {
	ConversationID       string                     `json:"conversationId"`
	ConversationStart    string                     `json:"conversationStart"`
	ConversationEnd      string                     `json:"conversationEnd,omitempty"`
	OriginatingDirection string                     `json:"originatingDirection"`
	DivisionIDs          []string                   `json:"divisionIds"`
	Participants         []analyticsParticipantWire `json:"participants"`
}

// analyticsParticipantWire is AnalyticsParticipantWithoutAttributes.
type analyticsParticipantWire struct {
	ParticipantID     string                 `json:"participantId"`
	ParticipantName   string                 `json:"participantName,omitempty"`
	Purpose           string                 `json:"purpose"`
	UserID            string                 `json:"userId,omitempty"`
	ExternalContactID string                 `json:"externalContactId,omitempty"`
	Sessions          []analyticsSessionWire `json:"sessions"`
}

// analyticsSessionWire is AnalyticsSession.
type analyticsSessionWire struct {
	SessionID   string                 `json:"sessionId"`
	MediaType   string                 `json:"mediaType"`
	MessageType string                 `json:"messageType,omitempty"`
	AddressFrom string                 `json:"addressFrom,omitempty"`
	AddressTo   string                 `json:"addressTo,omitempty"`
	ANI         string                 `json:"ani,omitempty"`
	DNIS        string                 `json:"dnis,omitempty"`
	Direction   string                 `json:"direction"`
	Segments    []analyticsSegmentWire `json:"segments"`
}

// sessionOf is one session as analytics reports it. Voice and callback
// sessions carry the ANI and DNIS; messaging sessions their from and to
// addresses (E.164 numbers for SMS and WhatsApp) and the platform;
// e-mails the addresses.
func sessionOf(p Participant, c Communication) analyticsSessionWire {
	ses := analyticsSessionWire{SessionID: c.ID, MediaType: c.Media, Direction: c.Direction}
	switch c.Media {
	case MediaVoice, MediaCallback:
		ses.ANI, ses.DNIS = p.ANI, p.DNIS
	case MediaMessage:
		ses.MessageType = c.MessageType
		ses.AddressFrom, ses.AddressTo = c.FromAddress, c.ToAddress
	case MediaEmail:
		if p.Purpose == "customer" || p.Purpose == "external" {
			ses.AddressFrom = p.Address
		}
	case MediaSocial:
		ses.MediaType = "unknown"
	}
	return ses
}

// analyticsSegmentWire is AnalyticsConversationSegment.
type analyticsSegmentWire struct {
	SegmentType    string `json:"segmentType"`
	SegmentStart   string `json:"segmentStart"`
	SegmentEnd     string `json:"segmentEnd,omitempty"`
	QueueID        string `json:"queueId,omitempty"`
	DisconnectType string `json:"disconnectType,omitempty"`
}

// queueWire and queueEntityListing are Queue and QueueEntityListing. They are
// not in openapi-subset.json; the shape is the usual Genesys entity listing.
type queueWire struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	SelfURI string `json:"selfUri"`
}

type queueEntityListing struct {
	Entities   []queueWire `json:"entities"`
	PageSize   int         `json:"pageSize"`
	PageNumber int         `json:"pageNumber"`
	Total      int         `json:"total"`
	PageCount  int         `json:"pageCount"`
}

// analyticsDisconnectType maps the conversation API's disconnect types onto
// the analytics enum, which spells some differently.
func analyticsDisconnectType(s string) string {
	switch s {
	case "", "endpoint", "client", "system", "transfer", "error", "peer", "other", "spam", "inactivity", "takeover":
		return s
	case "transfer.conference":
		return "conferenceTransfer"
	case "transfer.consult":
		return "consultTransfer"
	case "transfer.forward":
		return "forwardTransfer"
	case "transfer.noanswer":
		return "noAnswerTransfer"
	case "transfer.notavailable":
		return "notAvailableTransfer"
	case "transport.failure":
		return "transportFailure"
	case "session.expired":
		return "sessionExpired"
	case "endpoint.donotdisturb":
		return "dndEndpoint"
	case "transfer.donotdisturb":
		return "dndTransfer"
	}
	return "other"
}

func (v analyticsView) json() analyticsConversationWire {
	c := v.conv
	out := analyticsConversationWire{
		ConversationID:       c.ID,
		ConversationStart:    genesysTime(c.StartTime),
		ConversationEnd:      genesysTime(v.end),
		OriginatingDirection: originatingDirection(c),
		DivisionIDs:          []string{homeDivisionID},
		Participants:         make([]analyticsParticipantWire, 0, len(c.Participants)),
	}
	for _, p := range c.Participants {
		seg := analyticsSegmentWire{SegmentType: "interact", SegmentStart: genesysTime(p.StartTime), QueueID: p.QueueID}
		if end := v.legEnd(p); !end.IsZero() {
			seg.SegmentEnd = genesysTime(end)
			seg.DisconnectType = analyticsDisconnectType(p.DisconnectType)
		}
		pw := analyticsParticipantWire{
			ParticipantID:     p.ID,
			ParticipantName:   p.Name,
			Purpose:           p.Purpose,
			UserID:            p.UserID,
			ExternalContactID: p.ExternalContactID,
			Sessions:          make([]analyticsSessionWire, 0, len(p.Communications)),
		}
		for _, cm := range p.Communications {
			ses := sessionOf(p, cm)
			ses.Segments = []analyticsSegmentWire{seg}
			pw.Sessions = append(pw.Sessions, ses)
		}
		out.Participants = append(out.Participants, pw)
	}
	return out
}
