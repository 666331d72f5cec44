package genesystest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type queryResult struct {
	Conversations []struct {
		ConversationID  string `json:"conversationId"`
		ConversationEnd string `json:"conversationEnd"`
		Participants    []struct {
			Purpose  string `json:"purpose"`
			Sessions []struct {
				Segments []struct {
					SegmentEnd string `json:"segmentEnd"`
				} `json:"segments"`
			} `json:"sessions"`
		} `json:"participants"`
	} `json:"conversations"`
	TotalHits int `json:"totalHits"`
}

func (q queryResult) ids() []string {
	var out []string
	for _, c := range q.Conversations {
		out = append(out, c.ConversationID)
	}
	return out
}

func query(t *testing.T, s *Server, tok, body string) queryResult {
	t.Helper()
	status, b, _ := do(t, s, tok, "POST", "/api/v2/analytics/conversations/details/query", body)
	if status != 200 {
		t.Fatalf("query %s: status %d: %s", body, status, b)
	}
	var r queryResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// interval covers yesterday and today, as the client asks.
func interval() string {
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, -1).Format(time.RFC3339) + "/" + now.Add(time.Minute).Format(time.RFC3339)
}

func inProgressQuery(segmentFilters string, paging string) string {
	if paging == "" {
		paging = `{"pageSize":25,"pageNumber":1}`
	}
	return `{"interval":"` + interval() + `","order":"desc","orderBy":"conversationStart","paging":` + paging +
		`,"conversationFilters":[{"type":"and","predicates":[{"type":"dimension","dimension":"conversationEnd","operator":"notExists"}]}]` +
		`,"segmentFilters":` + segmentFilters + `}`
}

func TestAnalyticsQueryFilters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	ann := s.AddUser(User{Name: "Ann", Email: "ann@example.com"})
	bob := s.AddUser(User{Name: "Bob", Email: "bob@example.com"})
	q := s.AddQueue(Queue{Name: "Billing"})
	add := func(start time.Time, agent User, ani string) Conversation {
		return s.AddConversation(Conversation{StartTime: start, Participants: []Participant{
			{Name: "Caller", Purpose: "customer", ANI: ani, DNIS: "tel:+18005550100"},
			{Name: agent.Name, Purpose: "agent", UserID: agent.ID, QueueID: q.ID, QueueName: q.Name},
		}})
	}
	recent := add(now.Add(-time.Minute), ann, "tel:+13175550123")
	older := add(now.Add(-2*time.Minute), ann, "+13175550123") // stored without tel:
	yesterday := add(today.Add(-time.Hour), ann, "tel:+13175550123")
	twoDaysAgo := add(today.AddDate(0, 0, -2).Add(time.Hour), ann, "tel:+13175550123")
	bobs := add(now.Add(-30*time.Second), bob, "tel:+13175550199")
	ended := add(now.Add(-3*time.Minute), ann, "tel:+13175550123")
	s.EndConversation(ended.ID)

	seg := func(preds ...string) string {
		return `[{"type":"and","predicates":[` + strings.Join(preds, ",") + `]}]`
	}
	dim := func(d, v string) string { return fmt.Sprintf(`{"type":"dimension","dimension":%q,"value":%q}`, d, v) }
	tests := []struct {
		name, segs string
		want       []string
	}{
		{"agent", seg(dim("mediaType", "voice"), dim("userId", ann.ID)), []string{recent.ID, older.ID, yesterday.ID}},
		{"agent upper-case id", seg(dim("userId", strings.ToUpper(bob.ID))), []string{bobs.ID}},
		{"queue", seg(dim("queueId", q.ID)), []string{bobs.ID, recent.ID, older.ID, yesterday.ID}},
		{"not voice", seg(dim("mediaType", "chat")), nil},
		{"tel: form", seg(dim("ani", "tel:+13175550123")), []string{recent.ID, yesterday.ID}},
		{"bare form", seg(dim("ani", "+13175550123")), []string{older.ID}},
		{"either form", `[{"type":"or","predicates":[` + dim("ani", "tel:+13175550123") + `,` + dim("ani", "+13175550123") + `]}]`, []string{recent.ID, older.ID, yesterday.ID}},
		{"dnis", `[{"type":"and","predicates":[` + dim("dnis", "tel:+18005550100") + `]},{"type":"and","predicates":[` + dim("userId", bob.ID) + `]}]`, []string{bobs.ID}},
		// Two filters must both hold, each on some segment.
		{"two filters", `[{"type":"and","predicates":[` + dim("userId", ann.ID) + `]},{"type":"or","predicates":[` + dim("ani", "+13175550123") + `]}]`, []string{older.ID}},
		// Within one filter, predicates hold on the same segment: the agent
		// leg has no ANI here.
		{"same segment", seg(dim("userId", ann.ID), dim("ani", "tel:+13175550123")), nil},
		{"purpose exists", seg(`{"dimension":"userId","operator":"exists"}`, dim("purpose", "agent"), dim("userId", bob.ID)), []string{bobs.ID}},
		{"clauses", `[{"type":"and","clauses":[{"type":"or","predicates":[` + dim("userId", bob.ID) + `,` + dim("ani", "+13175550123") + `]}]}]`, []string{bobs.ID, older.ID}},
	}
	for _, tc := range tests {
		got := query(t, s, tok, inProgressQuery(tc.segs, ""))
		if diff := cmp.Diff(tc.want, got.ids()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		if got.TotalHits != len(tc.want) {
			t.Errorf("%s: totalHits %d", tc.name, got.TotalHits)
		}
	}
	_ = twoDaysAgo

	// Without the in-progress filter the ended call is there, with its end.
	all := query(t, s, tok, `{"interval":"`+interval()+`","order":"desc","segmentFilters":`+seg(dim("userId", ann.ID))+`}`)
	if diff := cmp.Diff([]string{recent.ID, older.ID, ended.ID, yesterday.ID}, all.ids()); diff != "" {
		t.Errorf("all of ann's calls (-want +got):\n%s", diff)
	}
	if all.Conversations[2].ConversationEnd == "" || all.Conversations[0].ConversationEnd != "" {
		t.Errorf("conversationEnd: %+v", all.Conversations)
	}
	// Default order is ascending; the interval selects by start day.
	asc := query(t, s, tok, `{"interval":"`+today.AddDate(0, 0, -2).Format(time.RFC3339)+`/`+today.AddDate(0, 0, -1).Add(time.Second).Format(time.RFC3339)+`","segmentFilters":`+seg(dim("userId", ann.ID))+`}`)
	if diff := cmp.Diff([]string{twoDaysAgo.ID, yesterday.ID}, asc.ids()); diff != "" {
		t.Errorf("two days ago to yesterday (-want +got):\n%s", diff)
	}
	// An interval that ends exactly at midnight does not touch the next day.
	upToToday := query(t, s, tok, `{"interval":"`+today.AddDate(0, 0, -1).Format(time.RFC3339)+`/`+today.Format(time.RFC3339)+`","segmentFilters":`+seg(dim("userId", ann.ID))+`}`)
	if diff := cmp.Diff([]string{yesterday.ID}, upToToday.ids()); diff != "" {
		t.Errorf("yesterday only (-want +got):\n%s", diff)
	}
}

func TestAnalyticsQueryPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	ann := s.AddUser(User{Name: "Ann"})
	var want []string
	now := time.Now().UTC()
	for i := range 5 {
		c := s.AddConversation(Conversation{StartTime: now.Add(-time.Duration(i+1) * time.Second), Participants: []Participant{{Name: "Ann", Purpose: "agent", UserID: ann.ID}}})
		want = append(want, c.ID)
	}
	seg := `[{"type":"and","predicates":[{"dimension":"userId","value":"` + ann.ID + `"}]}]`
	var got []string
	for page := 1; page <= 3; page++ {
		r := query(t, s, tok, inProgressQuery(seg, fmt.Sprintf(`{"pageSize":2,"pageNumber":%d}`, page)))
		if r.TotalHits != 5 {
			t.Errorf("page %d: totalHits %d", page, r.TotalHits)
		}
		got = append(got, r.ids()...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if r := query(t, s, tok, inProgressQuery(seg, `{"pageSize":2,"pageNumber":4}`)); len(r.Conversations) != 0 || r.TotalHits != 5 {
		t.Errorf("past the end: %+v", r)
	}
}

func TestAnalyticsLag(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAnalyticsLag(time.Hour), WithDisconnectDelay(0))
	tok := token(t, s)
	conf := s.ThreePartyConference()
	agent := conf.Participants[2]
	seg := `[{"type":"and","predicates":[{"dimension":"userId","value":"` + agent.UserID + `"}]}]`
	// The agent is disconnected through the API: the conversation API
	// knows at once, analytics does not.
	if status, b, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/"+conf.ID+"/participants/"+agent.ID, `{"state":"disconnected"}`); status != 202 {
		t.Fatalf("PATCH: %d %s", status, b)
	}
	s.EndConversation(conf.ID)
	r := query(t, s, tok, inProgressQuery(seg, ""))
	if len(r.Conversations) != 1 || r.Conversations[0].ConversationEnd != "" {
		t.Fatalf("with lag the ended call is in progress: %+v", r)
	}
	for _, p := range r.Conversations[0].Participants {
		if p.Purpose != "acd" && p.Sessions[0].Segments[0].SegmentEnd != "" {
			t.Errorf("%s leg shows its end through the lag", p.Purpose)
		}
	}
	s.SetAnalyticsLag(0)
	if r := query(t, s, tok, inProgressQuery(seg, "")); len(r.Conversations) != 0 {
		t.Errorf("without lag the ended call is gone: %+v", r)
	}
}

func TestAnalyticsQueryBadRequests(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	iv := interval()
	for _, body := range []string{
		`{}`,
		`not json`,
		`{"interval":""}`,
		`{"interval":"yesterday/today"}`,
		`{"interval":"2024-05-01T00:00:00Z"}`,
		`{"interval":"2024-05-02T00:00:00Z/2024-05-01T00:00:00Z"}`,
		`{"interval":"2024-05-01T00:00:00Z/2024-05-02T00:00:00Z/2024-05-03T00:00:00Z"}`,
		`{"interval":"` + iv + `","paging":{"pageSize":101,"pageNumber":1}}`,
		`{"interval":"` + iv + `","paging":{"pageSize":25,"pageNumber":0}}`,
		`{"interval":"` + iv + `","order":"sideways"}`,
		`{"interval":"` + iv + `","orderBy":"name"}`,
		`{"interval":"` + iv + `","segmentFilters":[{"type":"xor","predicates":[{"dimension":"userId","value":"x"}]}]}`,
		`{"interval":"` + iv + `","segmentFilters":[{"type":"and","predicates":[{"dimension":"shoeSize","value":"9"}]}]}`,
		`{"interval":"` + iv + `","segmentFilters":[{"type":"and","predicates":[{"dimension":"userId"}]}]}`,
		`{"interval":"` + iv + `","segmentFilters":[{"type":"and","predicates":[{"dimension":"userId","operator":"like","value":"x"}]}]}`,
		`{"interval":"` + iv + `","conversationFilters":[{"type":"and","predicates":[{"dimension":"userId","value":"x"}]}]}`,
		`{"interval":"` + iv + `","conversationFilters":[{"type":"and","predicates":[{"type":"metric","metric":"tTalk"}]}]}`,
		`{"interval":"` + iv + `","segmentFilters":[{"type":"and"}]}`,
		`{"interval":"` + iv + `","aggregations":[{}]}`,
	} {
		status, b, _ := do(t, s, tok, "POST", "/api/v2/analytics/conversations/details/query", body)
		var eb errorBody
		_ = json.Unmarshal(b, &eb)
		if status != 400 || eb.Code != "bad.request" || eb.Message == "" {
			t.Errorf("%s: status %d %s, want 400 bad.request", body, status, b)
		}
	}
	// Content type, auth and permission come first.
	if status, _, _ := do(t, s, "", "POST", "/api/v2/analytics/conversations/details/query", `{}`); status != 401 {
		t.Errorf("no token: %d", status)
	}
	s.DenyPermission(PermAnalyticsConversationView)
	status, b, _ := do(t, s, tok, "POST", "/api/v2/analytics/conversations/details/query", `{"interval":"`+iv+`"}`)
	if status != 403 || !strings.Contains(string(b), PermAnalyticsConversationView) {
		t.Errorf("denied: %d %s", status, b)
	}
}

func TestRoutingQueues(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	conf := s.ThreePartyConference() // brings queue "Support"
	tier2 := s.AddQueue(Queue{Name: "Support Tier 2"})
	sales := s.AddQueue(Queue{Name: "Sales"})
	s.AddQueue(Queue{Name: "After-hours support"})
	support := conf.Participants[1].QueueID

	list := func(query string) (names []string, total int) {
		t.Helper()
		status, b, _ := do(t, s, tok, "GET", "/api/v2/routing/queues"+query, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", query, status, b)
		}
		var l queueEntityListing
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		for _, e := range l.Entities {
			names = append(names, e.Name)
			if e.Name == "Support" && e.ID != support || e.Name == "Sales" && e.ID != sales.ID || e.Name == "Support Tier 2" && e.ID != tier2.ID {
				t.Errorf("%s has id %s", e.Name, e.ID)
			}
		}
		return names, l.Total
	}
	tests := []struct {
		query string
		want  []string
		total int
	}{
		{"?name=Support", []string{"Support"}, 1},
		{"?name=support", []string{"Support"}, 1},
		{"?name=Support*", []string{"Support", "Support Tier 2"}, 2},
		{"?name=*support", []string{"After-hours support", "Support"}, 2},
		{"?name=*port*", []string{"After-hours support", "Support", "Support Tier 2"}, 3},
		{"?name=S*s", []string{"Sales"}, 1},
		{"?name=Supp", nil, 0},
		{"", []string{"After-hours support", "Sales", "Support", "Support Tier 2"}, 4},
		{"?pageSize=2&pageNumber=2", []string{"Support", "Support Tier 2"}, 4},
		{"?name=S*&pageSize=1&pageNumber=3", []string{"Support Tier 2"}, 3},
	}
	for _, tc := range tests {
		names, total := list(tc.query)
		if diff := cmp.Diff(tc.want, names); diff != "" || total != tc.total {
			t.Errorf("%s: total %d (-want +got):\n%s", tc.query, total, diff)
		}
	}
	for _, bad := range []string{"?pageSize=0", "?pageSize=501", "?pageNumber=0", "?pageSize=x"} {
		if status, _, _ := do(t, s, tok, "GET", "/api/v2/routing/queues"+bad, ""); status != 400 {
			t.Errorf("%s: %d, want 400", bad, status)
		}
	}
	s.DenyPermission(PermQueueView)
	if status, b, _ := do(t, s, tok, "GET", "/api/v2/routing/queues?name=Sales", ""); status != 403 || !strings.Contains(string(b), PermQueueView) {
		t.Errorf("denied: %d %s", status, b)
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"Support", "support", true},
		{"Support", "Support 2", false},
		{"Sup*", "Support", true},
		{"*port", "Support", true},
		{"*", "anything", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"ab*ab", "ab", false},
		{"**", "", true},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}
