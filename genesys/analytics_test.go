package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func TestFindInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		now, start, end string
	}{
		{"2024-05-02T10:00:00Z", "2024-05-01T00:00:00Z", "2024-05-02T10:01:00Z"},
		{"2024-03-01T00:00:30.5Z", "2024-02-29T00:00:00Z", "2024-03-01T00:01:30Z"}, // leap day, just after midnight
		{"2025-01-01T23:59:59Z", "2024-12-31T00:00:00Z", "2025-01-02T00:00:59Z"},
		{"2024-05-02T01:00:00+02:00", "2024-04-30T00:00:00Z", "2024-05-01T23:01:00Z"}, // local time is converted to UTC first
	}
	for _, tc := range tests {
		now, _ := time.Parse(time.RFC3339Nano, tc.now)
		start, end := findInterval(now)
		if got := start.Format(time.RFC3339); got != tc.start {
			t.Errorf("findInterval(%s) start %s, want %s", tc.now, got, tc.start)
		}
		if got := end.Format(time.RFC3339); got != tc.end {
			t.Errorf("findInterval(%s) end %s, want %s", tc.now, got, tc.end)
		}
	}
}

// lastBody returns the JSON body of the last request for op, decoded.
func lastBody(t *testing.T, srv *genesystest.Server, op string) map[string]any {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Op == op {
			var m map[string]any
			if err := json.Unmarshal([]byte(reqs[i].Body), &m); err != nil {
				t.Fatalf("%s body %q: %v", op, reqs[i].Body, err)
			}
			return m
		}
	}
	t.Fatalf("no %s request", op)
	return nil
}

func TestFindConversationsQueryBody(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	const user = "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11"
	const queue = "6b1d2f30-1111-4c1b-9d6e-2f1a7b9c0d22"
	inProgress := []any{map[string]any{"type": "and", "predicates": []any{
		map[string]any{"type": "dimension", "dimension": "conversationEnd", "operator": "notExists"},
	}}}
	dim := func(d, v string) any { return map[string]any{"type": "dimension", "dimension": d, "value": v} }
	tests := []struct {
		name   string
		filter ConversationFilter
		segs   []any
	}{
		// Every medium unless narrowed.
		{"user", ConversationFilter{UserID: strings.ToUpper(user)}, []any{
			map[string]any{"type": "and", "predicates": []any{dim("userId", user)}},
		}},
		{"user, voice only", ConversationFilter{UserID: user, Media: MediaVoice}, []any{
			map[string]any{"type": "and", "predicates": []any{dim("mediaType", "voice"), dim("userId", user)}},
		}},
		{"queue, messages only", ConversationFilter{QueueID: queue, PageSize: 10, Media: MediaMessage}, []any{
			map[string]any{"type": "and", "predicates": []any{dim("mediaType", "message"), dim("queueId", queue)}},
		}},
		{"phone", ConversationFilter{Phone: "+13175550123"}, []any{
			map[string]any{"type": "or", "predicates": []any{
				dim("ani", "tel:+13175550123"), dim("ani", "+13175550123"),
				dim("dnis", "tel:+13175550123"), dim("dnis", "+13175550123"),
				dim("addressFrom", "+13175550123"), dim("addressFrom", "13175550123"),
				dim("addressTo", "+13175550123"), dim("addressTo", "13175550123"),
			}},
		}},
		{"all three", ConversationFilter{UserID: user, QueueID: queue, Phone: "+442079460958", Media: MediaCallback}, []any{
			map[string]any{"type": "and", "predicates": []any{dim("mediaType", "callback"), dim("userId", user), dim("queueId", queue)}},
			map[string]any{"type": "or", "predicates": []any{
				dim("ani", "tel:+442079460958"), dim("ani", "+442079460958"),
				dim("dnis", "tel:+442079460958"), dim("dnis", "+442079460958"),
				dim("addressFrom", "+442079460958"), dim("addressFrom", "442079460958"),
				dim("addressTo", "+442079460958"), dim("addressTo", "442079460958"),
			}},
		}},
	}
	for _, tc := range tests {
		before := time.Now().UTC()
		res, err := c.FindConversations(context.Background(), tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		after := time.Now().UTC()
		body := lastBody(t, srv, genesystest.OpQueryConversations)
		interval, _ := body["interval"].(string)
		delete(body, "interval")
		pageSize := 25
		if tc.filter.PageSize != 0 {
			pageSize = tc.filter.PageSize
		}
		want := map[string]any{
			"order": "desc", "orderBy": "conversationStart",
			"paging":              map[string]any{"pageSize": float64(pageSize), "pageNumber": float64(1)},
			"conversationFilters": inProgress,
			"segmentFilters":      tc.segs,
		}
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("%s: query body (-want +got):\n%s", tc.name, diff)
		}
		from, to, ok := strings.Cut(interval, "/")
		start, err1 := time.Parse(time.RFC3339Nano, from)
		end, err2 := time.Parse(time.RFC3339Nano, to)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("%s: interval %q", tc.name, interval)
		}
		yesterday := time.Date(before.Year(), before.Month(), before.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		if !start.Equal(yesterday) && !start.Equal(yesterday.AddDate(0, 0, 1)) {
			t.Errorf("%s: interval starts %s, want yesterday's midnight %s", tc.name, start, yesterday)
		}
		if end.Before(before.Add(59*time.Second)) || end.After(after.Add(time.Minute)) {
			t.Errorf("%s: interval ends %s, want about a minute from now", tc.name, end)
		}
		if !res.Since.Equal(start) || res.Pages != 1 || res.Total != 0 || len(res.Conversations) != 0 || res.Truncated {
			t.Errorf("%s: result %+v", tc.name, res)
		}
	}
}

func TestFindConversationsInput(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	const id = "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11"
	for _, f := range []ConversationFilter{
		{},
		{UserID: "jane"},
		{UserID: id + "/../x"},
		{QueueID: "Support"},
		{Phone: "3175550123"},
		{Phone: "tel:+13175550123"},
		{Phone: "+1 317 555 0123"},
		{UserID: id, PageSize: 101},
		{UserID: id, PageSize: -1},
		{UserID: id, MaxPages: -1},
		{UserID: id, MaxPages: 21},
	} {
		_, err := c.FindConversations(context.Background(), f)
		if ErrorKind(err) != KindInput {
			t.Errorf("FindConversations(%+v) = %v, want an input error", f, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

// findFixture is an org with calls of one agent, in one queue, from one
// number, plus noise.
type findFixture struct {
	srv            *genesystest.Server
	agent, other   genesystest.User
	queue          genesystest.Queue
	newest, oldest genesystest.Conversation // the agent's live calls
	ended          genesystest.Conversation
}

func newFindFixture(t *testing.T, opts ...genesystest.Option) findFixture {
	t.Helper()
	srv := newEmulator(t, opts...)
	f := findFixture{srv: srv}
	f.agent = srv.AddUser(genesystest.User{Name: "Ann Agent", Email: "ann@example.com"})
	f.other = srv.AddUser(genesystest.User{Name: "Bob Agent", Email: "bob@example.com"})
	f.queue = srv.AddQueue(genesystest.Queue{Name: "Billing"})
	now := time.Now().UTC()
	call := func(start time.Time, agent genesystest.User, customer string) genesystest.Conversation {
		return srv.AddConversation(genesystest.Conversation{StartTime: start, Participants: []genesystest.Participant{
			{Name: "Caller", Purpose: "customer", ANI: "tel:" + customer, DNIS: "tel:+18005550100", Address: "tel:" + customer},
			{Name: f.queue.Name, Purpose: "acd", QueueID: f.queue.ID, QueueName: f.queue.Name, State: "disconnected"},
			{Name: agent.Name, Purpose: "agent", UserID: agent.ID, QueueID: f.queue.ID, QueueName: f.queue.Name, ANI: "tel:" + customer},
		}})
	}
	f.oldest = call(now.Add(-10*time.Minute), f.agent, "+13175550123")
	f.newest = call(now.Add(-1*time.Minute), f.agent, "+13175550188")
	call(now.Add(-5*time.Minute), f.other, "+13175550177")
	f.ended = call(now.Add(-3*time.Minute), f.agent, "+13175550123")
	srv.EndConversation(f.ended.ID)
	return f
}

func ids(cs []ConversationSummary) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestFindConversationsAgainstEmulator(t *testing.T) {
	t.Parallel()
	f := newFindFixture(t)
	c := newClient(t, f.srv, nil)
	ctx := context.Background()

	res, err := c.FindConversations(ctx, ConversationFilter{UserID: f.agent.ID})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{f.newest.ID, f.oldest.ID}, ids(res.Conversations)); diff != "" {
		t.Errorf("by agent, newest first (-want +got):\n%s", diff)
	}
	if res.Total != 2 || res.Truncated || res.Pages != 1 {
		t.Errorf("by agent: %+v", res)
	}
	got := res.Conversations[0]
	want := ConversationSummary{
		ID: f.newest.ID, StartTime: f.newest.StartTime.Truncate(time.Millisecond), Direction: "inbound", QueueIDs: []string{f.queue.ID}, Media: []Media{MediaVoice},
		Participants: []SummaryParticipant{
			{ID: f.newest.Participants[0].ID, Name: "Caller", Purpose: "customer", ANI: "tel:+13175550188", DNIS: "tel:+18005550100"},
			{ID: f.newest.Participants[1].ID, Name: "Billing", Purpose: "acd"},
			{ID: f.newest.Participants[2].ID, Name: "Ann Agent", Purpose: "agent", UserID: f.agent.ID, ANI: "tel:+13175550188"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	res, err = c.FindConversations(ctx, ConversationFilter{Phone: "+13175550123"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{f.oldest.ID}, ids(res.Conversations)); diff != "" {
		t.Errorf("by phone (-want +got):\n%s", diff)
	}
	res, err = c.FindConversations(ctx, ConversationFilter{QueueID: f.queue.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conversations) != 3 || res.Total != 3 {
		t.Errorf("by queue: %v", ids(res.Conversations))
	}
	res, err = c.FindConversations(ctx, ConversationFilter{QueueID: f.queue.ID, Phone: "+13175550177"})
	if err != nil || len(res.Conversations) != 1 || res.Conversations[0].Participants[2].UserID != f.other.ID {
		t.Errorf("by queue and phone: %+v, %v", res, err)
	}
	res, err = c.FindConversations(ctx, ConversationFilter{Phone: "+13175550000"})
	if err != nil || len(res.Conversations) != 0 || res.Total != 0 {
		t.Errorf("nobody: %+v, %v", res, err)
	}
}

func TestFindConversationsPaging(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	agent := srv.AddUser(genesystest.User{Name: "Busy", Email: "busy@example.com"})
	var want []string
	now := time.Now().UTC()
	for i := range 7 {
		conv := srv.AddConversation(genesystest.Conversation{StartTime: now.Add(-time.Duration(i+1) * time.Second), Participants: []genesystest.Participant{
			{Name: "Caller", Purpose: "customer", ANI: "tel:+13175550123"},
			{Name: "Busy", Purpose: "agent", UserID: agent.ID},
		}})
		want = append(want, conv.ID)
	}
	tests := []struct {
		pageSize, maxPages, pages int
		truncated                 bool
	}{
		{2, 4, 4, false}, // 2+2+2+1
		{2, 3, 3, true},  // 6 of 7
		{7, 0, 1, false}, // totalHits says the full page was all
		{25, 0, 1, false},
		{3, 1, 1, true},
	}
	for _, tc := range tests {
		srv.ResetRequests()
		res, err := c.FindConversations(context.Background(), ConversationFilter{UserID: agent.ID, PageSize: tc.pageSize, MaxPages: tc.maxPages})
		if err != nil {
			t.Fatal(err)
		}
		n := min(len(want), tc.pageSize*tc.pages)
		if diff := cmp.Diff(want[:n], ids(res.Conversations)); diff != "" {
			t.Errorf("pageSize %d maxPages %d (-want +got):\n%s", tc.pageSize, tc.maxPages, diff)
		}
		if res.Pages != tc.pages || res.Truncated != tc.truncated || res.Total != 7 {
			t.Errorf("pageSize %d maxPages %d: pages %d truncated %v total %d; want %d %v 7", tc.pageSize, tc.maxPages, res.Pages, res.Truncated, res.Total, tc.pages, tc.truncated)
		}
		if got := srv.CountOp(genesystest.OpQueryConversations); got != tc.pages {
			t.Errorf("pageSize %d: %d requests, want %d", tc.pageSize, got, tc.pages)
		}
		page := 0
		for _, r := range srv.Requests() {
			if r.Op != genesystest.OpQueryConversations {
				continue
			}
			page++
			if !strings.Contains(r.Body, fmt.Sprintf(`"pageNumber":%d`, page)) {
				t.Errorf("request %d asks for %s", page, r.Body)
			}
		}
	}
}

// scriptedAnalytics serves the token endpoint and answers analytics queries
// with pages[pageNumber-1] ("" = 500).
func scriptedAnalytics(t *testing.T, pages ...string) (*httptest.Server, func() int) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":86400}`))
			return
		}
		b, _ := io.ReadAll(r.Body)
		var q struct {
			Paging struct{ PageNumber int } `json:"paging"`
		}
		_ = json.Unmarshal(b, &q)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if q.Paging.PageNumber < 1 || q.Paging.PageNumber > len(pages) {
			_, _ = w.Write([]byte(`{"totalHits":0}`))
			return
		}
		if pages[q.Paging.PageNumber-1] == "" {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"status":500,"code":"internal.server.error"}`))
			return
		}
		_, _ = w.Write([]byte(pages[q.Paging.PageNumber-1]))
	}))
	t.Cleanup(srv.Close)
	return srv, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies)
	}
}

func TestFindConversationsDefensive(t *testing.T) {
	t.Parallel()
	const (
		a = "aaaaaaaa-0000-4000-8000-000000000001"
		b = "bbbbbbbb-0000-4000-8000-000000000002"
		d = "dddddddd-0000-4000-8000-000000000004"
	)
	conv := func(id, extra string) string {
		return `{"conversationId":"` + id + `","conversationStart":"2024-05-01T10:00:00.000Z"` + extra + `,"participants":[{"participantId":"p","purpose":"customer","sessions":[{"mediaType":"voice","ani":"tel:+1","segments":[{"segmentType":"interact","queueId":"` + strings.ToUpper(d) + `"}]}]}]}`
	}
	srv, requests := scriptedAnalytics(t,
		// Page 1: a, one analytics already knows ended, one with a bad id. No totalHits.
		`{"conversations":[`+conv(a, "")+`,`+conv(b, `,"conversationEnd":"2024-05-01T10:05:00.000Z"`)+`,`+conv("../../x", "")+`]}`,
		// Page 2: a again (pages shifted) and d; short page ends the search.
		`{"conversations":[`+conv(a, "")+`,`+conv(strings.ToUpper(d), "")+`]}`,
	)
	c, err := New(context.Background(), Config{APIURL: srv.URL, ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.FindConversations(context.Background(), ConversationFilter{QueueID: d, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a, d}, ids(res.Conversations)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if res.Pages != 2 || requests() != 2 || res.Truncated || res.Total != 2 {
		t.Errorf("result %+v after %d requests", res, requests())
	}
	if got := res.Conversations[1].QueueIDs; len(got) != 1 || got[0] != d {
		t.Errorf("queue ids %v, want lower-cased %s", got, d)
	}
}

func TestFindConversationsErrors(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	f := ConversationFilter{Phone: "+13175550123"}

	srv.DenyPermission(genesystest.PermAnalyticsConversationView)
	_, err := c.FindConversations(ctx, f)
	mustKind(t, err, KindForbidden)
	if got := UserMessage(err); !strings.Contains(got, "analytics:conversationDetail:view") {
		t.Errorf("UserMessage %q does not name the permission", got)
	}
	srv.GrantPermission(genesystest.PermAnalyticsConversationView)

	srv.FailNext(genesystest.OpQueryConversations, 1, 503)
	if _, err := c.FindConversations(ctx, f); err != nil {
		t.Errorf("a 503 is retried: %v", err)
	}
	srv.RateLimit(genesystest.OpQueryConversations, 1, 0)
	if _, err := c.FindConversations(ctx, f); err != nil {
		t.Errorf("a 429 is retried: %v", err)
	}
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpQueryConversations, Status: 400, Code: "bad.request", Count: 1})
	_, err = c.FindConversations(ctx, f)
	mustKind(t, err, KindBadRequest)

	// A failure on page 2 fails the search: a partial list would hide calls.
	page1 := `{"totalHits":3,"conversations":[{"conversationId":"aaaaaaaa-0000-4000-8000-000000000001"},{"conversationId":"aaaaaaaa-0000-4000-8000-000000000002"}]}`
	script, requests := scriptedAnalytics(t, page1, "")
	sc, err := New(ctx, Config{APIURL: script.URL, ClientID: "id", ClientSecret: "s", RetryBudget: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.FindConversations(ctx, ConversationFilter{Phone: "+13175550123", PageSize: 2})
	mustKind(t, err, KindUnavailable)
	if requests() < 2 {
		t.Errorf("only %d requests", requests())
	}
}

func TestLiveConversations(t *testing.T) {
	t.Parallel()
	f := newFindFixture(t, genesystest.WithAnalyticsLag(time.Hour))
	c := newClient(t, f.srv, nil)
	ctx := context.Background()
	filter := ConversationFilter{UserID: f.agent.ID}

	// The ended call is still in progress for analytics (lag).
	res, err := c.FindConversations(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{f.newest.ID, f.ended.ID, f.oldest.ID}, ids(res.Conversations)); diff != "" {
		t.Fatalf("analytics with lag (-want +got):\n%s", diff)
	}
	// The agent left the oldest call; the customer is still on it.
	conv, _ := f.srv.Conversation(f.oldest.ID)
	conv.Participants[2].State = "disconnected"
	f.srv.AddConversation(conv)

	f.srv.ResetRequests()
	live, err := c.LiveConversations(ctx, filter, res.Conversations, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range live.Conversations {
		got = append(got, c.ID)
	}
	if diff := cmp.Diff([]string{f.newest.ID}, got); diff != "" {
		t.Errorf("live (-want +got):\n%s", diff)
	}
	if live.Ended != 2 || live.Failed != 0 || live.Unchecked != 0 {
		t.Errorf("counts %+v", live)
	}
	if n := f.srv.CountOp(genesystest.OpGetConversation); n != 3 {
		t.Errorf("%d re-reads, want 3", n)
	}
	// Without the agent filter the oldest call is still live.
	live, _ = c.LiveConversations(ctx, ConversationFilter{QueueID: f.queue.ID}, res.Conversations, 10)
	if len(live.Conversations) != 2 {
		t.Errorf("queue filter kept %d", len(live.Conversations))
	}

	// limit: stop once enough are kept; order is kept.
	f.srv.ResetRequests()
	live, _ = c.LiveConversations(ctx, ConversationFilter{QueueID: f.queue.ID}, res.Conversations, 1)
	if len(live.Conversations) != 1 || live.Conversations[0].ID != f.newest.ID || live.Unchecked != 2 || f.srv.CountOp(genesystest.OpGetConversation) != 1 {
		t.Errorf("limit 1: %+v after %d reads", live, f.srv.CountOp(genesystest.OpGetConversation))
	}

	// 404 (purged) counts as ended; other failures are counted and, when
	// nothing could be kept, returned.
	f.srv.DeleteConversation(f.newest.ID)
	live, err = c.LiveConversations(ctx, filter, res.Conversations, 10)
	if err != nil || len(live.Conversations) != 0 || live.Ended != 3 {
		t.Errorf("all gone: %+v, %v", live, err)
	}
	f.srv.DenyPermission(genesystest.PermConversationView)
	_, err = c.LiveConversations(ctx, ConversationFilter{QueueID: f.queue.ID}, res.Conversations, 10)
	mustKind(t, err, KindForbidden)
}
