package genesys

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func TestResolveQueue(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	support := srv.AddQueue(genesystest.Queue{Name: "Support"})
	tier2 := srv.AddQueue(genesystest.Queue{Name: "Support Tier 2"})
	sales := srv.AddQueue(genesystest.Queue{Name: "Sales"})
	rnd := srv.AddQueue(genesystest.Queue{Name: "R&D / Lab?"})
	billA := srv.AddQueue(genesystest.Queue{Name: "Billing"})
	billB := srv.AddQueue(genesystest.Queue{Name: "BILLING"})

	tests := []struct {
		in   string
		want Queue
		amb  []Queue // ambiguous: these candidates
		none bool
	}{
		{in: "Support", want: Queue{ID: support.ID, Name: "Support"}},           // exact beats the prefix match
		{in: "support", want: Queue{ID: support.ID, Name: "Support"}},           // case-insensitive
		{in: " Support* ", want: Queue{ID: support.ID, Name: "Support"}},        // a typed wildcard is the same
		{in: "support tier", want: Queue{ID: tier2.ID, Name: "Support Tier 2"}}, // one prefix match
		{in: "Sal", want: Queue{ID: sales.ID, Name: "Sales"}},
		{in: "R&D / Lab?", want: Queue{ID: rnd.ID, Name: "R&D / Lab?"}}, // escaped in the query
		{in: "Supp", amb: []Queue{{ID: support.ID, Name: "Support"}, {ID: tier2.ID, Name: "Support Tier 2"}}},
		{in: "billing", amb: []Queue{{ID: billA.ID, Name: "Billing"}, {ID: billB.ID, Name: "BILLING"}}},
		{in: "Marketing", none: true},
		{in: strings.ToUpper(sales.ID), want: Queue{ID: sales.ID}}, // an id needs no request
	}
	for _, tc := range tests {
		got, err := c.ResolveQueue(ctx, tc.in)
		switch {
		case tc.amb != nil:
			var amb *AmbiguousQueueError
			if !errors.As(err, &amb) {
				t.Errorf("ResolveQueue(%q) = %+v, %v; want ambiguous", tc.in, got, err)
				continue
			}
			if !sameSet(tc.amb, amb.Queues) {
				t.Errorf("ResolveQueue(%q) candidates %+v, want %+v", tc.in, amb.Queues, tc.amb)
			}
			mustKind(t, err, KindInput)
			if !strings.Contains(UserMessage(err), "queue id") {
				t.Errorf("UserMessage %q", UserMessage(err))
			}
		case tc.none:
			if !errors.Is(err, ErrQueueNotFound) {
				t.Errorf("ResolveQueue(%q) = %+v, %v; want ErrQueueNotFound", tc.in, got, err)
			}
			mustKind(t, err, KindNotFound)
		default:
			if err != nil || got != tc.want {
				t.Errorf("ResolveQueue(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		}
	}
	var paths []string
	for _, r := range srv.Requests() {
		if r.Op == genesystest.OpGetQueues {
			paths = append(paths, r.Path)
		}
	}
	if len(paths) != len(tests)-1 {
		t.Errorf("%d queue requests, want %d (none for the id)", len(paths), len(tests)-1)
	}
}

func sameSet(a, b []Queue) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[Queue]bool{}
	for _, q := range a {
		m[q] = true
	}
	for _, q := range b {
		if !m[q] {
			return false
		}
	}
	return true
}

func TestFindQueuesRequest(t *testing.T) {
	t.Parallel()
	srv, lastURI := scriptedQueues(t)
	c, err := New(context.Background(), Config{APIURL: srv.URL, ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	qs, more, err := c.FindQueues(context.Background(), " R&D* ")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(lastURI())
	want := url.Values{"name": {"R&D*"}, "pageSize": {"100"}, "pageNumber": {"1"}}
	if diff := cmp.Diff(want, u.Query()); diff != "" || u.Path != "/api/v2/routing/queues" {
		t.Errorf("request %s (-want +got):\n%s", lastURI(), diff)
	}
	// Sorted by name; an entity without a valid id is dropped.
	if diff := cmp.Diff([]Queue{{ID: "aaaaaaaa-0000-4000-8000-000000000001", Name: "a"}, {ID: "bbbbbbbb-0000-4000-8000-000000000002", Name: "B"}}, qs); diff != "" || !more {
		t.Errorf("queues (more=%v) (-want +got):\n%s", more, diff)
	}
}

func TestFindQueuesErrors(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	for _, bad := range []string{"", "  ", "*", "**", strings.Repeat("q", 300), "a\x00b"} {
		if _, err := c.ResolveQueue(ctx, bad); ErrorKind(err) != KindInput {
			t.Errorf("ResolveQueue(%q) = %v, want an input error", bad, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests for bad input", n)
	}
	srv.DenyPermission(genesystest.PermQueueView)
	_, err := c.ResolveQueue(ctx, "Support")
	mustKind(t, err, KindForbidden)
	if got := UserMessage(err); !strings.Contains(got, "routing:queue:view") {
		t.Errorf("UserMessage %q does not name the permission", got)
	}
}

// scriptedQueues serves tokens and one fixed queue listing, and records the
// request URI of the listing.
func scriptedQueues(t *testing.T) (*httptest.Server, func() string) {
	t.Helper()
	var mu sync.Mutex
	var uri string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":86400}`))
			return
		}
		mu.Lock()
		uri = r.URL.RequestURI()
		mu.Unlock()
		_, _ = w.Write([]byte(`{"entities":[{"id":"bbbbbbbb-0000-4000-8000-000000000002","name":"B"},{"id":"../x","name":"evil"},` +
			`{"id":"AAAAAAAA-0000-4000-8000-000000000001","name":"a"}],"pageSize":100,"pageNumber":1,"total":5,"pageCount":1}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() string {
		mu.Lock()
		defer mu.Unlock()
		return uri
	}
}
