package genesystest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// The shapes the sweep adds (the other media's arrays, the teardown answer)
// follow the schema data.
func TestSweepResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSchema(t)
	s := New(WithDisconnectDelay(0))
	t.Cleanup(s.Close)
	tok := token(t, s)
	v := &validator{defs: doc.Definitions}
	for _, m := range []string{"voice", "callback", "chat", "email", "message"} {
		c := s.AddStuck(1, StuckSpec{Age: time.Hour, MediaType: m, Legs: 3})[0]
		status, body, _ := do(t, s, tok, "GET", "/api/v2/conversations/"+c.ID, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", m, status, body)
		}
		var val any
		_ = json.Unmarshal(body, &val)
		v.check(m+":Conversation", val, map[string]any{"$ref": "#/definitions/Conversation"})
		var shape map[string]any
		_ = json.Unmarshal(body, &shape)
		p := shape["participants"].([]any)[0].(map[string]any)
		key := map[string]string{"voice": "calls", "callback": "callbacks", "chat": "chats", "email": "emails", "message": "messages"}[m]
		if items, _ := p[key].([]any); len(items) != 1 {
			t.Errorf("%s: participant has no %s[]: %s", m, key, body)
		}

		status, body, _ = do(t, s, tok, "POST", "/api/v2/conversations/"+c.ID+"/disconnect", "")
		var str string
		if status != 202 || json.Unmarshal(body, &str) != nil {
			t.Errorf("%s teardown: %d %s, want 202 and a JSON string", m, status, body)
		}
		if got, _ := s.Conversation(c.ID); got.EndTime.IsZero() {
			t.Errorf("%s: teardown did not end the conversation", m)
		}
	}
	if status, _, _ := do(t, s, tok, "POST", "/api/v2/conversations/"+newID()+"/disconnect", ""); status != 404 {
		t.Errorf("teardown of an unknown conversation: %d", status)
	}
	for _, e := range v.errs {
		t.Error(e)
	}
}

func TestStuckLegsStayUntilDisconnected(t *testing.T) {
	t.Parallel()
	s := New(WithDisconnectDelay(0))
	t.Cleanup(s.Close)
	tok := token(t, s)
	c := s.AddStuck(1, StuckSpec{Age: 5 * time.Hour, Legs: 3})[0]
	// Ordinary calls end when one person is left; a stuck one does not.
	for i, p := range c.Participants {
		do(t, s, tok, "PATCH", "/api/v2/conversations/"+c.ID+"/participants/"+p.ID, `{"state":"disconnected"}`)
		got, _ := s.Conversation(c.ID)
		if last := i == len(c.Participants)-1; got.EndTime.IsZero() == last {
			t.Fatalf("after %d of %d legs: ended %v", i+1, len(c.Participants), !got.EndTime.IsZero())
		}
	}
	ignoring := s.AddStuck(1, StuckSpec{Age: 5 * time.Hour, IgnoreDisconnects: true})[0]
	status, _, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/"+ignoring.ID+"/participants/"+ignoring.Participants[0].ID, `{"state":"disconnected"}`)
	if got, _ := s.Conversation(ignoring.ID); status != 202 || got.Participants[0].Ended() {
		t.Errorf("IgnoreDisconnects: status %d, leg %s", status, got.Participants[0].State)
	}
	if s.Open() != 1 {
		t.Errorf("Open() = %d", s.Open())
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := New(WithRateLimit(3, time.Minute))
	t.Cleanup(s.Close)
	tok := token(t, s)
	path := "/api/v2/users/" + newID()
	for i := 1; i <= 3; i++ {
		status, _, h := do(t, s, tok, "GET", path, "")
		if status != 404 || h.Get("inin-ratelimit-allowed") != "3" || h.Get("inin-ratelimit-count") != strconv.Itoa(i) {
			t.Fatalf("request %d: %d, headers %v", i, status, h)
		}
	}
	status, body, h := do(t, s, tok, "GET", path, "")
	var eb errorBody
	_ = json.Unmarshal(body, &eb)
	secs, _ := strconv.Atoi(h.Get("Retry-After"))
	if status != 429 || eb.Code != "too.many.requests.retry.after" || secs < 1 || secs > 60 || h.Get("inin-ratelimit-reset") == "" {
		t.Fatalf("over the limit: %d %s, headers %v", status, body, h)
	}
	if s.RateLimited() != 1 {
		t.Errorf("RateLimited() = %d", s.RateLimited())
	}
	// A shorter window reports per-minute numbers, as Genesys's are.
	s.SetRateLimit(2, time.Second)
	if _, _, h := do(t, s, tok, "GET", path, ""); h.Get("inin-ratelimit-allowed") != "120" {
		t.Errorf("1 s window: allowed %q, want 120 (per minute)", h.Get("inin-ratelimit-allowed"))
	}
}

func TestAnalyticsPagesShift(t *testing.T) {
	t.Parallel()
	s := New()
	t.Cleanup(s.Close)
	tok := token(t, s)
	s.AddStuck(3, StuckSpec{Age: time.Hour})
	s.OnAnalyticsPage(func(int) { s.AddStuck(1, StuckSpec{}) })
	q := func(page int) []string {
		body := `{"interval":"` + time.Now().Add(-48*time.Hour).UTC().Format(time.RFC3339) + `/` + time.Now().Add(time.Minute).UTC().Format(time.RFC3339) +
			`","order":"desc","orderBy":"conversationStart","paging":{"pageSize":2,"pageNumber":` + strconv.Itoa(page) + `}}`
		status, b, _ := do(t, s, tok, "POST", "/api/v2/analytics/conversations/details/query", body)
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		var resp analyticsResponse
		_ = json.Unmarshal(b, &resp)
		var ids []string
		for _, c := range resp.Conversations {
			ids = append(ids, c.ConversationID)
		}
		return ids
	}
	p1, p2 := q(1), q(2)
	if len(p1) != 2 || len(p2) != 2 || p2[0] != p1[1] {
		t.Fatalf("page 2 %v does not start with the end of page 1 %v", p2, p1)
	}
}
