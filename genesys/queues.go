package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"
)

// opGetQueues is the queue listing (GET /api/v2/routing/queues).
const opGetQueues = "getQueues"

// queuePageSize is how many queues one FindQueues asks for. A name search
// that matches more than this is too vague to be useful anyway.
const queuePageSize = 100

// maxQueueName bounds a queue name (Genesys allows far less).
const maxQueueName = 256

// ErrQueueNotFound means no queue has the name given.
var ErrQueueNotFound = errors.New("genesys: no such queue")

// Queue is a routing queue.
type Queue struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// AmbiguousQueueError means a queue name matches several queues and none
// of them exactly (or several exactly, differing only in case).
type AmbiguousQueueError struct {
	Name   string
	Queues []Queue // the candidates, sorted by name
	More   bool    // Genesys had more matches than it returned
}

func (e *AmbiguousQueueError) Error() string {
	names := make([]string, 0, len(e.Queues))
	for _, q := range e.Queues {
		names = append(names, q.Name)
	}
	return fmt.Sprintf("genesys: %d queues match %q: %s", len(e.Queues), e.Name, strings.Join(names, ", "))
}

type wireQueueListing struct {
	Entities  []wireRef `json:"entities"`
	Total     int       `json:"total"`
	PageSize  int       `json:"pageSize"`
	PageCount int       `json:"pageCount"`
}

func validateQueueName(name string) error {
	if name == "" || strings.Trim(name, "*") == "" {
		return &InputError{Field: "queue", Message: "give a queue name or id (e.g. queue:Support)"}
	}
	if len(name) > maxQueueName {
		return &InputError{Field: "queue", Value: shorten(name, 64), Message: fmt.Sprintf("queue name %q is too long", shorten(name, 64))}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return &InputError{Field: "queue", Value: shorten(name, 64), Message: "the queue name contains a control character"}
		}
	}
	return nil
}

// FindQueues lists the queues whose name matches name (GET
// /api/v2/routing/queues?name=…; needs routing:queue:view). Genesys treats
// "*" in name as a wildcard ("Support*"); without one the match is exact.
// It returns at most 100 queues, sorted by name, and reports whether
// Genesys has more.
func (c *Client) FindQueues(ctx context.Context, name string) ([]Queue, bool, error) {
	name = strings.TrimSpace(name)
	if err := validateQueueName(name); err != nil {
		return nil, false, err
	}
	q := url.Values{}
	q.Set("name", name)
	q.Set("pageSize", fmt.Sprint(queuePageSize))
	q.Set("pageNumber", "1")
	req := apiRequest{op: opGetQueues, method: http.MethodGet, path: "/api/v2/routing/queues?" + q.Encode()}
	var w wireQueueListing
	if _, err := c.do(ctx, req, &w); err != nil {
		return nil, false, err
	}
	out := make([]Queue, 0, len(w.Entities))
	for _, e := range w.Entities {
		if isUUID(e.ID) {
			out = append(out, Queue{ID: strings.ToLower(e.ID), Name: e.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, w.Total > len(w.Entities), nil
}

// ResolveQueue turns what a supervisor typed after "queue:" into one
// queue. A UUID is taken as the queue id as is (no request). Anything else
// is a name: Genesys is asked for the queues whose name starts with it; an
// exact (case-insensitive) match wins, a single prefix match is accepted,
// and several candidates fail with *AmbiguousQueueError listing them. No
// match fails with an error wrapping ErrQueueNotFound.
func (c *Client) ResolveQueue(ctx context.Context, nameOrID string) (Queue, error) {
	s := strings.TrimSpace(nameOrID)
	if isUUID(s) {
		return Queue{ID: strings.ToLower(s)}, nil
	}
	if err := validateQueueName(s); err != nil {
		return Queue{}, err
	}
	base := strings.TrimRight(s, "*")
	queues, more, err := c.FindQueues(ctx, base+"*")
	if err != nil {
		return Queue{}, err
	}
	var exact []Queue
	for _, q := range queues {
		if strings.EqualFold(q.Name, base) {
			exact = append(exact, q)
		}
	}
	switch {
	case len(exact) == 1:
		return exact[0], nil
	case len(exact) > 1:
		return Queue{}, &AmbiguousQueueError{Name: base, Queues: exact}
	case len(queues) == 1 && !more:
		return queues[0], nil
	case len(queues) == 0:
		return Queue{}, fmt.Errorf("%w named %q", ErrQueueNotFound, shorten(base, 100))
	}
	return Queue{}, &AmbiguousQueueError{Name: base, Queues: queues, More: more}
}
