package genesystest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// token fetches an access token the way the real client does.
func token(t *testing.T, s *Server) string {
	t.Helper()
	status, body, _ := tokenRequest(t, s, s.ClientID, s.ClientSecret, "grant_type=client_credentials")
	if status != 200 {
		t.Fatalf("token: status %d: %s", status, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.AccessToken == "" || tr.TokenType != "bearer" || tr.ExpiresIn <= 0 {
		t.Fatalf("token response %s", body)
	}
	return tr.AccessToken
}

func tokenRequest(t *testing.T, s *Server, id, secret, form string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/oauth/token", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" || secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return send(t, req)
}

func do(t *testing.T, s *Server, tok, method, path, body string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

type errBody struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	Status    int    `json:"status"`
	ContextID string `json:"contextId"`
}

func decodeErr(t *testing.T, b []byte) errBody {
	t.Helper()
	var e errBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e
}

func TestToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithTokenLifetime(90*time.Second))
	tests := []struct {
		name, id, secret, form string
		status                 int
		code                   string
	}{
		{"ok", s.ClientID, s.ClientSecret, "grant_type=client_credentials", 200, ""},
		{"wrong secret", s.ClientID, "wrong-secret-value", "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong id", "someone", s.ClientSecret, "grant_type=client_credentials", 401, "invalid_client"},
		{"no basic auth", "", "", "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong grant", s.ClientID, s.ClientSecret, "grant_type=password", 400, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body, _ := tokenRequest(t, s, tc.id, tc.secret, tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.code == "" {
				var tr map[string]any
				if err := json.Unmarshal(body, &tr); err != nil {
					t.Fatal(err)
				}
				if tr["expires_in"] != float64(90) || tr["token_type"] != "bearer" {
					t.Errorf("token response %v", tr)
				}
				return
			}
			var raw map[string]string
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			if raw["error"] != tc.code || raw["error_description"] == "" {
				t.Errorf("error body %s, want error %q", body, tc.code)
			}
			if strings.Contains(string(body), s.ClientSecret) {
				t.Error("error body contains the secret")
			}
		})
	}
}

func TestBearerAndExpiry(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	conv := s.ThreePartyConference()
	path := "/api/v2/conversations/" + conv.ID

	status, body, hdr := do(t, s, "", "GET", path, "")
	if e := decodeErr(t, body); status != 401 || e.Code != "authentication.required" || e.ContextID != hdr.Get("ININ-Correlation-Id") || e.ContextID == "" {
		t.Fatalf("no token: %d %+v (correlation %q)", status, e, hdr.Get("ININ-Correlation-Id"))
	}
	tok := token(t, s)
	if status, body, _ := do(t, s, tok, "GET", path, ""); status != 200 {
		t.Fatalf("with token: %d %s", status, body)
	}
	s.ExpireTokens()
	status, body, _ = do(t, s, tok, "GET", path, "")
	if e := decodeErr(t, body); status != 401 || e.Code != "bad.credentials" {
		t.Fatalf("expired: %d %+v", status, e)
	}
	reqs := s.Requests()
	raw, _ := json.Marshal(reqs)
	if strings.Contains(string(raw), tok) || strings.Contains(string(raw), s.ClientSecret) {
		t.Error("request log holds a token or the secret")
	}
	var auth []bool
	for _, r := range reqs {
		if r.Op == OpGetConversation {
			auth = append(auth, r.Authorized)
		}
	}
	if diff := cmp.Diff([]bool{false, true, false}, auth); diff != "" {
		t.Errorf("Authorized flags (-want +got):\n%s", diff)
	}
}

func TestDisconnectStateMachine(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDisconnectDelay(0))
	tok := token(t, s)
	conv := s.ThreePartyConference()
	cust, acd, agent, ext := conv.Participants[0], conv.Participants[1], conv.Participants[2], conv.Participants[3]
	patch := func(family, pid, body string) (int, errBody) {
		t.Helper()
		prefix := "/api/v2/conversations/"
		if family == "calls" {
			prefix += "calls/"
		}
		status, b, _ := do(t, s, tok, "PATCH", prefix+conv.ID+"/participants/"+pid, body)
		if status == 202 {
			if len(b) != 0 {
				t.Errorf("202 with body %q", b)
			}
			return status, errBody{}
		}
		return status, decodeErr(t, b)
	}

	if st, e := patch("generic", ext.ID, `{"state":"held"}`); st != 400 || e.Code != "bad.request" {
		t.Errorf("unsupported body: %d %+v", st, e)
	}
	if st, e := patch("generic", ext.ID, `{"state":`); st != 400 || e.Code != "bad.request" {
		t.Errorf("invalid JSON: %d %+v", st, e)
	}
	if st, e := patch("generic", newID(), `{"state":"disconnected"}`); st != 404 || e.Code != "conversation.error.not.conversation.participant" {
		t.Errorf("unknown participant: %d %+v", st, e)
	}
	if st, e := patch("calls", acd.ID, `{"state":"disconnected"}`); st != 400 || e.Code != "conversation.error.call.disconnected" {
		t.Errorf("ended leg: %d %+v", st, e)
	}
	if st, _ := patch("generic", ext.ID, `{"state":"disconnected"}`); st != 202 {
		t.Fatalf("disconnect external: %d", st)
	}
	got, _ := s.Conversation(conv.ID)
	if p, _ := got.Participant(ext.ID); p.State != "disconnected" || p.DisconnectType != "client" || p.EndTime.IsZero() {
		t.Errorf("external after disconnect: %+v", p)
	}
	if !got.EndTime.IsZero() {
		t.Error("conversation ended with two parties left")
	}
	if st, _ := patch("calls", cust.ID, `{"state":"disconnected"}`); st != 202 {
		t.Fatalf("disconnect customer: %d", st)
	}
	got, _ = s.Conversation(conv.ID)
	if got.EndTime.IsZero() {
		t.Error("conversation still going with one party left")
	}
	if p, _ := got.Participant(agent.ID); p.State != "disconnected" || p.DisconnectType != "peer" {
		t.Errorf("agent after the call ended: %+v", p)
	}
	if st, e := patch("generic", agent.ID, `{"state":"disconnected"}`); st != 400 || e.Code != "conversation.error.call.disconnected" {
		t.Errorf("second disconnect: %d %+v", st, e)
	}

	status, b, _ := do(t, s, tok, "GET", "/api/v2/conversations/calls/"+newID(), "")
	if e := decodeErr(t, b); status != 404 || e.Code != "not.found" {
		t.Errorf("unknown conversation: %d %+v", status, e)
	}
	status, b, _ = do(t, s, tok, "GET", "/api/v2/whatever", "")
	if e := decodeErr(t, b); status != 404 || e.Code != "not.found" {
		t.Errorf("unknown route: %d %+v", status, e)
	}
	req, _ := http.NewRequest("PATCH", s.URL+"/api/v2/conversations/"+conv.ID+"/participants/"+ext.ID, strings.NewReader(`{"state":"disconnected"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "text/plain")
	if status, _, _ := send(t, req); status != 415 {
		t.Errorf("wrong content type: %d", status)
	}
}

func TestDelayedDisconnect(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDisconnectDelay(20*time.Millisecond))
	tok := token(t, s)
	conv := s.ThreePartyConference()
	ext := conv.Participants[3]
	if st, _, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/"+conv.ID+"/participants/"+ext.ID, `{"state":"disconnected"}`); st != 202 {
		t.Fatalf("status %d", st)
	}
	// A second PATCH while the first is pending is accepted again.
	if st, _, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/"+conv.ID+"/participants/"+ext.ID, `{"state":"disconnected"}`); st != 202 {
		t.Fatalf("second status %d", st)
	}
	if c, _ := s.Conversation(conv.ID); c.Participants[3].State != "connected" {
		t.Fatalf("dropped before the delay: %+v", c.Participants[3])
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _ := s.Conversation(conv.ID)
		if c.Participants[3].State == "disconnected" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("participant never dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	conv := s.ThreePartyConference()
	get := func(family string) (int, errBody, http.Header) {
		t.Helper()
		p := "/api/v2/conversations/" + conv.ID
		if family == "calls" {
			p = "/api/v2/conversations/calls/" + conv.ID
		}
		st, b, h := do(t, s, tok, "GET", p, "")
		if st == 200 {
			return st, errBody{}, h
		}
		return st, decodeErr(t, b), h
	}

	s.FailNext(OpGetConversation, 2, 503)
	for i := range 2 {
		if st, e, _ := get("generic"); st != 503 || e.Code != "service.unavailable" {
			t.Errorf("failure %d: %d %+v", i, st, e)
		}
	}
	if st, _, _ := get("calls"); st != 200 {
		t.Errorf("other op affected: %d", st)
	}
	if st, _, _ := get("generic"); st != 200 {
		t.Errorf("after the faults: %d", st)
	}

	s.RateLimit("", 1, 1500*time.Millisecond)
	token(t, s) // "" never matches the token endpoint
	st, e, h := get("calls")
	if st != 429 || e.Code != "too.many.requests.retry.after" || e.Message != "Rate limit exceeded the maximum. Retry the request in [2] seconds" {
		t.Errorf("429: %d %+v", st, e)
	}
	if h.Get("Retry-After") != "2" || h.Get("inin-ratelimit-allowed") == "" || h.Get("inin-ratelimit-count") == "" || h.Get("inin-ratelimit-reset") == "" {
		t.Errorf("429 headers: %v", h)
	}

	s.InjectFault(Fault{Op: OpGetCall, Status: 409, Count: 1})
	if st, e, _ := get("calls"); st != 409 || e.Code != "general.conflict" {
		t.Errorf("409: %d %+v", st, e)
	}

	s.RefuseClientCredentials()
	st, b, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/calls/"+conv.ID+"/participants/"+conv.Participants[3].ID, `{"state":"disconnected"}`)
	if e := decodeErr(t, b); st != 400 || e.Code != "not.a.user" {
		t.Errorf("not.a.user: %d %+v", st, e)
	}
	s.ClearFaults()

	s.DenyPermission(PermConversationView)
	st, e, _ = get("generic")
	if st != 403 || e.Code != "missing.permissions" || !strings.Contains(e.Message, PermConversationView) {
		t.Errorf("denied: %d %+v", st, e)
	}
	if st, _, _ := get("calls"); st != 200 {
		t.Errorf("calls GET needs no permission, got %d", st)
	}
	s.GrantPermission(PermConversationView)

	s.InjectFault(Fault{Op: OpToken, Status: 401, Count: 1})
	if st, _, _ := tokenRequest(t, s, s.ClientID, s.ClientSecret, "grant_type=client_credentials"); st != 401 {
		t.Errorf("token fault: %d", st)
	}
	if got := s.CountOp(OpGetConversation); got != 4 {
		t.Errorf("CountOp(getConversation) = %d, want 4", got)
	}
	if got := s.TokenRequests(); got != 3 {
		t.Errorf("TokenRequests() = %d, want 3", got)
	}
	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	u := s.AddUser(User{Name: "Ann Lee", Email: "Ann.Lee@example.com"})
	s.AddUser(User{Name: "Bob", Email: "bob@example.com"})

	search := func(body string) (int, []byte) {
		st, b, _ := do(t, s, tok, "POST", "/api/v2/users/search", body)
		return st, b
	}
	st, b := search(`{"query":[{"type":"EXACT","fields":["email"],"value":"ann.lee@example.com"}]}`)
	var res struct {
		Total   int `json:"total"`
		Results []struct {
			ID, Email string
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &res); st != 200 || err != nil || res.Total != 1 || res.Results[0].ID != u.ID {
		t.Fatalf("search: %d %s", st, b)
	}
	st, b = search(`{"query":[{"type":"EXACT","fields":["email"],"value":"nobody@example.com"}]}`)
	if err := json.Unmarshal(b, &res); st != 200 || err != nil || res.Total != 0 || len(res.Results) != 0 {
		t.Errorf("empty search: %d %s", st, b)
	}
	if st, _ := search(`{"query":[{"type":"REGEX","fields":["email"],"value":".*"}]}`); st != 400 {
		t.Errorf("unsupported search: %d", st)
	}
	if st, _ := search(`nope`); st != 400 {
		t.Errorf("garbage search: %d", st)
	}
	if st, b, _ := do(t, s, tok, "GET", "/api/v2/users/"+u.ID, ""); st != 200 || !strings.Contains(string(b), `"version":1`) {
		t.Errorf("get user: %d %s", st, b)
	}
	if st, b, _ := do(t, s, tok, "GET", "/api/v2/users/"+newID(), ""); st != 404 || decodeErr(t, b).Code != "general.resource.not.found" {
		t.Errorf("unknown user: %d %s", st, b)
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	s := New()
	conv := s.ThreePartyConference()
	if _, ok := s.Conversation(conv.ID); !ok {
		t.Fatal("conversation not stored")
	}
	s.Close()
	s.Close()
}

// newServer is New, closed when the test ends.
func newServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(opts...)
	tb.Cleanup(s.Close)
	return s
}
