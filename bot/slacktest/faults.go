package slacktest

import (
	"strconv"
	"time"
)

// Always as Fault.Times makes a fault hit every call until ClearFaults.
const Always = -1

// MethodResponseURL is the method name under which response_url posts are
// recorded and faults for them are injected.
const MethodResponseURL = "response_url"

// Fault describes how the next call(s) of a method misbehave. Method names
// are Web API names ("chat.postMessage", "apps.connections.open", ...) or
// MethodResponseURL.
type Fault struct {
	// Times is how many calls the fault affects; 0 means 1, Always means
	// every call until ClearFaults.
	Times int
	// Error answers HTTP 200 {"ok":false,"error":Error}.
	Error string
	// Status answers with this HTTP status instead. 429 carries a Retry-After
	// header (slack-go turns that into *slack.RateLimitedError); 5xx carry
	// an HTML body, like Slack.
	Status int
	// RetryAfter is the Retry-After header for 429, rounded up to seconds.
	RetryAfter time.Duration
	// Delay holds the answer back (the call still completes afterwards, or
	// ends early when the client gives up).
	Delay time.Duration
}

// InjectFault queues a fault for method. Faults for a method apply in the
// order they were injected.
func (s *Server) InjectFault(method string, f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], &f)
}

// FailNext makes the next n calls of method answer {"ok":false,"error":code}.
func (s *Server) FailNext(method string, n int, code string) {
	s.InjectFault(method, Fault{Times: n, Error: code})
}

// RateLimitNext makes the next n calls of method answer HTTP 429 with a
// Retry-After header and {"ok":false,"error":"ratelimited"}.
func (s *Server) RateLimitNext(method string, n int, retryAfter time.Duration) {
	s.InjectFault(method, Fault{Times: n, Status: 429, RetryAfter: retryAfter})
}

// ServerErrorNext makes the next n calls of method answer with HTTP status
// (500, 502, 503 ...).
func (s *Server) ServerErrorNext(method string, n int, status int) {
	s.InjectFault(method, Fault{Times: n, Status: status})
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*Fault{}
}

// takeFault consumes one use of the first fault queued for method.
func (s *Server) takeFault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[method]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			s.faults[method] = q[1:]
		}
	}
	return *f, true
}

func retryAfterHeader(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 0 {
		secs = 0
	}
	return strconv.FormatInt(secs, 10)
}
