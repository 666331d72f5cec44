package genesystest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Request is one request the emulator received. It never holds a token or
// a secret.
type Request struct {
	Time       time.Time
	Method     string
	Path       string
	Op         string // OpGetConversation, …, OpToken, OpUnknown
	Status     int
	Authorized bool          // carried a valid bearer token (always false for OpToken)
	Duration   time.Duration // time spent answering, injected delays included
	Body       string        // request body of API calls (not recorded for OpToken)
	UserAgent  string
}

// Requests returns a copy of every request received since the last
// ResetRequests, in arrival order of their completion.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountOp returns how many requests for op were received.
func (s *Server) CountOp(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Op == op {
			n++
		}
	}
	return n
}

// TokenRequests returns how many token requests were received.
func (s *Server) TokenRequests() int { return s.CountOp(OpToken) }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// route is the parsed target of a request.
type route struct {
	op       string
	convID   string
	partID   string
	userID   string
	perm     string // permission the request needs, "" = none
	needAuth bool
}

func parseRoute(method, escapedPath string) route {
	var segs []string
	for _, raw := range strings.Split(strings.Trim(escapedPath, "/"), "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return route{op: OpUnknown}
		}
		segs = append(segs, seg)
	}
	is := func(want ...string) bool {
		if len(segs) != len(want) {
			return false
		}
		for i, w := range want {
			if w != "*" && segs[i] != w {
				return false
			}
		}
		return true
	}
	if rt, ok := parseMediaRoute(method, segs); ok {
		return rt
	}
	switch {
	case method == http.MethodPost && is("oauth", "token"):
		return route{op: OpToken}
	case method == http.MethodGet && is("api", "v2", "conversations", "calls", "*"):
		return route{op: OpGetCall, convID: segs[4], needAuth: true}
	case method == http.MethodGet && is("api", "v2", "conversations", "*") && !isFamilySegment(segs[3]):
		return route{op: OpGetConversation, convID: segs[3], perm: PermConversationView, needAuth: true}
	case method == http.MethodPatch && is("api", "v2", "conversations", "calls", "*", "participants", "*"):
		return route{op: OpPatchCallParticipant, convID: segs[4], partID: segs[6], perm: PermConversationDisconnect, needAuth: true}
	case method == http.MethodPost && is("api", "v2", "conversations", "*", "disconnect"): // sweep.go
		return route{op: OpTeardown, convID: segs[3], perm: PermConversationDisconnect, needAuth: true}
	case method == http.MethodPatch && is("api", "v2", "conversations", "*", "participants", "*") && !isFamilySegment(segs[3]):
		return route{op: OpPatchParticipant, convID: segs[3], partID: segs[5], perm: PermConversationDisconnect, needAuth: true}
	case method == http.MethodPost && is("api", "v2", "users", "search"):
		return route{op: OpSearchUsers, perm: PermUserView, needAuth: true}
	case method == http.MethodGet && is("api", "v2", "users", "*") && segs[3] != "search":
		return route{op: OpGetUser, userID: segs[3], needAuth: true}
	case method == http.MethodPost && is("api", "v2", "analytics", "conversations", "details", "query"):
		return route{op: OpQueryConversations, perm: PermAnalyticsConversationView, needAuth: true}
	case method == http.MethodGet && is("api", "v2", "routing", "queues"):
		return route{op: OpGetQueues, perm: PermQueueView, needAuth: true}
	}
	return route{op: OpUnknown, needAuth: strings.HasPrefix(escapedPath, "/api/")}
}

// recorder logs the request when the status is written, before the client
// can see any of the answer: a test that counts requests right after a
// client call returns must see that call.
type recorder struct {
	http.ResponseWriter
	status   int
	onStatus func(status int)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.onStatus(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

const maxRequestBody = 64 << 10

// logRequest adds one request to the log Requests returns.
func (s *Server) logRequest(r *http.Request, rt route, body []byte, start time.Time, authorized bool, status int) {
	entry := Request{
		Time: start, Method: r.Method, Path: r.URL.Path, Op: rt.op,
		Status: status, Authorized: authorized, Duration: time.Since(start),
		UserAgent: r.UserAgent(),
	}
	if rt.op != OpToken {
		entry.Body = string(body)
	}
	s.mu.Lock()
	s.requests = append(s.requests, entry)
	s.mu.Unlock()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt := parseRoute(r.Method, r.URL.EscapedPath())
	corr := newID()

	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	}
	authorized := false
	if rt.op != OpToken {
		authorized = s.bearerValid(r.Header.Get("Authorization"))
	}
	rec := &recorder{ResponseWriter: w, onStatus: func(status int) { s.logRequest(r, rt, body, start, authorized, status) }}
	rec.Header().Set("ININ-Correlation-Id", corr)
	defer func() {
		if rec.status == 0 {
			rec.onStatus(0) // the client went away before an answer
		}
	}()

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if !s.wait(r, latency) {
		return
	}

	if rt.needAuth && !authorized {
		if strings.TrimSpace(r.Header.Get("Authorization")) == "" {
			writeError(rec, corr, http.StatusUnauthorized, "authentication.required", "No authentication bearer token specified in authorization header.", nil)
		} else {
			writeError(rec, corr, http.StatusUnauthorized, "bad.credentials", "Invalid login credentials.", nil)
		}
		return
	}
	if !s.admit(rec, corr, rt) { // ratelimit.go
		return
	}

	s.mu.Lock()
	f := s.takeFaultLocked(rt.op)
	denied := rt.perm != "" && s.denied[rt.perm]
	s.mu.Unlock()
	if f != nil {
		if !s.wait(r, f.Delay) {
			return
		}
		if f.Status != 0 {
			if f.AfterApply {
				// The request takes effect, but its answer is lost: what a
				// gateway timeout after the backend acted looks like.
				s.dispatch(httptest.NewRecorder(), r, corr, rt, body)
			}
			writeFault(rec, corr, rt.op, f)
			return
		}
	}
	if denied {
		msg := fmt.Sprintf("Unable to perform the requested action. You are missing the following permission(s): [%s]", rt.perm)
		writeError(rec, corr, http.StatusForbidden, "missing.permissions", msg, map[string]string{"permissions": rt.perm})
		return
	}

	s.dispatch(rec, r, corr, rt, body)
}

// dispatch runs the operation rt names.
func (s *Server) dispatch(rec http.ResponseWriter, r *http.Request, corr string, rt route, body []byte) {
	switch rt.op {
	case OpToken:
		s.handleToken(rec, r, corr, body)
	case OpGetConversation, OpGetCall, OpGetCallback, OpGetChat, OpGetEmail, OpGetMessage:
		s.handleGetConversation(rec, corr, rt)
	case OpPatchParticipant, OpPatchCallParticipant, OpPatchCallbackParticipant, OpPatchChatParticipant, OpPatchEmailParticipant, OpPatchMessageParticipant:
		s.handlePatch(rec, r, corr, rt, body)
	case OpGetUser:
		s.handleGetUser(rec, corr, rt.userID)
	case OpSearchUsers:
		s.handleSearch(rec, r, corr, body)
	case OpQueryConversations:
		s.handleAnalyticsQuery(rec, r, corr, body)
	case OpGetQueues:
		s.handleGetQueues(rec, r, corr)
	case OpTeardown:
		s.handleTeardown(rec, corr, rt)
	default:
		writeError(rec, corr, http.StatusNotFound, "not.found", "The requested resource was not found.", nil)
	}
}

// wait sleeps d unless the request or the server ends first.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

func (s *Server) bearerValid(h string) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

// ---- responses ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "emulator: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorBody is Genesys's ErrorBody.
type errorBody struct {
	Message           string            `json:"message"`
	Code              string            `json:"code"`
	Status            int               `json:"status"`
	MessageWithParams string            `json:"messageWithParams,omitempty"`
	MessageParams     map[string]string `json:"messageParams"`
	ContextID         string            `json:"contextId"`
	Details           []any             `json:"details"`
	Errors            []any             `json:"errors"`
}

func writeError(w http.ResponseWriter, corr string, status int, code, msg string, params map[string]string) {
	if params == nil {
		params = map[string]string{}
	}
	eb := errorBody{Message: msg, Code: code, Status: status, MessageParams: params, ContextID: corr, Details: []any{}, Errors: []any{}}
	if len(params) > 0 {
		eb.MessageWithParams = msg
		for k, v := range params {
			eb.MessageWithParams = strings.ReplaceAll(eb.MessageWithParams, v, "{"+k+"}")
		}
	}
	writeJSON(w, status, eb)
}

// defaultError gives the standard Genesys code and message for a status.
func defaultError(status int) (code, msg string) {
	switch status {
	case 400:
		return "bad.request", "The request could not be understood by the server due to malformed syntax."
	case 401:
		return "bad.credentials", "Invalid login credentials."
	case 403:
		return "not.authorized", "You are not authorized to perform the requested action."
	case 404:
		return "not.found", "The requested resource was not found."
	case 409:
		return "general.conflict", "The request could not be completed by the server due to a conflict."
	case 415:
		return "unsupported.media.type", "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type value in the header."
	case 429:
		return "too.many.requests.retry.after", ""
	case 500:
		return "internal.server.error", "The server encountered an unexpected condition which prevented it from fulfilling the request."
	case 503:
		return "service.unavailable", "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance)."
	case 504:
		return "request.timeout", "The request timed out."
	}
	return "error", http.StatusText(status)
}

func writeFault(w http.ResponseWriter, corr, op string, f *Fault) {
	code, msg := defaultError(f.Status)
	if f.Code != "" {
		code = f.Code
	}
	if f.Message != "" {
		msg = f.Message
	}
	if op == OpToken && (f.Status == 400 || f.Status == 401) {
		if f.Code == "" {
			code = "invalid_client"
		}
		writeJSON(w, f.Status, map[string]string{"error": code, "description": msg, "error_description": msg})
		return
	}
	if f.Status == http.StatusTooManyRequests {
		secs := 0
		if f.RetryAfter > 0 {
			secs = int(math.Ceil(f.RetryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		w.Header().Set("inin-ratelimit-allowed", "300")
		w.Header().Set("inin-ratelimit-count", "301")
		w.Header().Set("inin-ratelimit-reset", strconv.Itoa(max(secs, 1)))
		if f.Message == "" {
			msg = fmt.Sprintf("Rate limit exceeded the maximum. Retry the request in [%d] seconds", secs)
		}
	}
	writeError(w, corr, f.Status, code, msg, nil)
}

// ---- token ----

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, corr string, body []byte) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "description": desc, "error_description": desc})
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		oauthErr(http.StatusBadRequest, "invalid_request", "content type must be application/x-www-form-urlencoded")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		oauthErr(http.StatusUnauthorized, "invalid_client", "client authentication failed: use HTTP Basic authentication")
		return
	}
	// RFC 6749 §2.3.1 form-encodes both parts before Basic encoding; accept
	// clients that do not.
	if uid, err := url.QueryUnescape(id); err == nil && uid != id && uid == s.ClientID {
		id = uid
	}
	if usec, err := url.QueryUnescape(secret); err == nil && usec != secret && usec == s.ClientSecret {
		secret = usec
	}
	if id != s.ClientID || secret != s.ClientSecret {
		oauthErr(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	s.mu.Lock()
	secs := int64(math.Ceil(s.tokenLifetime.Seconds()))
	if secs < 1 {
		secs = 1
	}
	now := time.Now()
	for t, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, t)
		}
	}
	tok := newToken()
	s.tokens[tok] = now.Add(time.Duration(secs) * time.Second)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": secs})
}

// ---- conversations ----

func (s *Server) handleGetConversation(w http.ResponseWriter, corr string, rt route) {
	if body, ok := s.rawConversation(rt.convID); ok && rt.op == OpGetConversation {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	s.mu.Lock()
	c, ok := s.convs[strings.ToLower(rt.convID)]
	var snap Conversation
	if ok {
		snap = c.snapshot()
	}
	s.mu.Unlock()
	if !ok {
		code, msg := "not.found", "The requested conversation was not found."
		if rt.op != OpGetCall && rt.op != OpGetConversation {
			code, msg = conversationNotFoundAnswer(rt.op)
		}
		writeError(w, corr, http.StatusNotFound, code, msg, nil)
		return
	}
	switch f, isFamily := familyByOp(rt.op); {
	case rt.op == OpGetCall:
		writeJSON(w, http.StatusOK, callConversationJSON(snap))
	case isFamily:
		writeJSON(w, http.StatusOK, familyConversationJSON(snap, f))
	default:
		writeJSON(w, http.StatusOK, conversationJSON(snap))
	}
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, corr string, rt route, body []byte) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		code, msg := defaultError(http.StatusUnsupportedMediaType)
		writeError(w, corr, http.StatusUnsupportedMediaType, code, msg, nil)
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		writeError(w, corr, http.StatusBadRequest, "bad.request", "The request could not be understood by the server due to malformed syntax.", nil)
		return
	}
	var state string
	if raw, ok := req["state"]; !ok || len(req) != 1 || json.Unmarshal(raw, &state) != nil || state != "disconnected" {
		writeError(w, corr, http.StatusBadRequest, "bad.request", "The emulator only supports {\"state\":\"disconnected\"}.", nil)
		return
	}

	convKey := strings.ToLower(rt.convID)
	s.mu.Lock()
	c, ok := s.convs[convKey]
	if !ok {
		s.mu.Unlock()
		writeError(w, corr, http.StatusNotFound, "not.found", "The requested conversation was not found.", nil)
		return
	}
	// A family PATCH acts on the participant's sessions of its medium; a
	// participant without one is, for that family, not in the conversation.
	m := mediaOf(rt.op)
	p := c.find(rt.partID)
	if p == nil || (m != "" && !p.hasMedia(m)) {
		s.mu.Unlock()
		status, code, msg := notParticipantAnswer(rt.op)
		if rt.op == OpPatchParticipant {
			msg = "The participant is not part of the conversation."
		}
		writeError(w, corr, status, code, msg, nil)
		return
	}
	if p.Ended() || p.sessionsEnded(m) {
		s.mu.Unlock()
		status, code, msg := goneAnswer(rt.op, p.hasMedia(MediaVoice))
		writeError(w, corr, status, code, msg, nil)
		return
	}
	pid := p.ID
	if c.IgnoreDisconnects { // sweep.go: accepted, and nothing happens
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if key := pendingKey(pid, m); !c.pending[key] {
		c.pending[key] = true
		if s.disconnectDelay <= 0 {
			s.disconnectLocked(convKey, pid, m)
		} else {
			var t *time.Timer
			t = time.AfterFunc(s.disconnectDelay, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				delete(s.timers, t)
				if !s.closed {
					s.disconnectLocked(convKey, pid, m)
				}
			})
			s.timers[t] = struct{}{}
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// ---- users ----

func (s *Server) handleGetUser(w http.ResponseWriter, corr, id string) {
	s.mu.Lock()
	u := s.findUser(id)
	var snap User
	if u != nil {
		snap = *u
	}
	s.mu.Unlock()
	if u == nil {
		writeError(w, corr, http.StatusNotFound, "general.resource.not.found", "The requested user was not found.", nil)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(snap))
}

type searchCriteria struct {
	Type   string   `json:"type"`
	Fields []string `json:"fields"`
	Value  string   `json:"value"`
	Values []string `json:"values"`
}

type searchRequest struct {
	PageSize   int              `json:"pageSize"`
	PageNumber int              `json:"pageNumber"`
	Query      []searchCriteria `json:"query"`
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, corr string, body []byte) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		code, msg := defaultError(http.StatusUnsupportedMediaType)
		writeError(w, corr, http.StatusUnsupportedMediaType, code, msg, nil)
		return
	}
	var req searchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, corr, http.StatusBadRequest, "bad.request", "The request could not be understood by the server due to malformed syntax.", nil)
		return
	}
	if len(req.Query) == 0 {
		writeError(w, corr, http.StatusBadRequest, "invalid.value", "query must not be empty", nil)
		return
	}
	for _, q := range req.Query {
		if q.Type != "EXACT" || len(q.Fields) == 0 {
			writeError(w, corr, http.StatusBadRequest, "invalid.value", "the emulator supports only EXACT criteria with fields", nil)
			return
		}
		for _, f := range q.Fields {
			switch f {
			case "email", "id", "name", "username":
			default:
				writeError(w, corr, http.StatusBadRequest, "invalid.value", fmt.Sprintf("field %q is not searchable in the emulator", f), nil)
				return
			}
		}
	}
	if req.PageSize <= 0 {
		req.PageSize = 25
	}
	if req.PageNumber <= 0 {
		req.PageNumber = 1
	}

	s.mu.Lock()
	var hits []User
	for _, u := range s.users {
		if matchesAll(*u, req.Query) {
			hits = append(hits, *u)
		}
	}
	s.mu.Unlock()

	results := []userWire{}
	from := (req.PageNumber - 1) * req.PageSize
	for i := from; i < len(hits) && i < from+req.PageSize; i++ {
		results = append(results, userJSON(hits[i]))
	}
	pageCount := (len(hits) + req.PageSize - 1) / req.PageSize
	writeJSON(w, http.StatusOK, usersSearchResponse{
		Total: len(hits), PageCount: pageCount, PageSize: req.PageSize, PageNumber: req.PageNumber,
		Types: []string{"users"}, Results: results,
	})
}

func matchesAll(u User, qs []searchCriteria) bool {
	for _, q := range qs {
		values := q.Values
		if q.Value != "" {
			values = append([]string{q.Value}, values...)
		}
		hit := false
		for _, f := range q.Fields {
			var have string
			switch f {
			case "email":
				have = u.Email
			case "id":
				have = u.ID
			case "name":
				have = u.Name
			case "username":
				have = u.Username
			}
			for _, v := range values {
				if have != "" && strings.EqualFold(have, v) {
					hit = true
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}
