package genesystest

import (
	"time"
)

// Fault makes matching requests fail or slow down. Inject it with
// InjectFault; faults apply in injection order and each request consumes at
// most one. API requests are checked for a valid bearer token first, as the
// real gateway does, so a fault never hides a 401.
type Fault struct {
	// Op is the operation to affect (OpGetConversation, OpPatchParticipant,
	// …, or OpToken for the token endpoint). "" matches every API
	// operation but not the token endpoint.
	Op string
	// Status is the HTTP status to answer with; 0 answers normally (use
	// with Delay for a slow answer).
	Status int
	// Code and Message override the Genesys error code and message that go
	// with Status (e.g. 400 "not.a.user").
	Code, Message string
	// Count is how many matching requests the fault affects; 0 means every
	// one until ClearFaults.
	Count int
	// RetryAfter is sent in Retry-After (rounded up to whole seconds) with a
	// 429; 0 leaves the header out.
	RetryAfter time.Duration
	// Delay is waited before answering.
	Delay time.Duration
	// AfterApply carries the request out before answering with Status:
	// the work is done but the client sees a failure (e.g. a 504 from a
	// gateway after the backend acted, or a 500 from a backend that
	// failed after acting).
	AfterApply bool
	// Skip lets the first Skip matching requests through untouched before
	// the fault starts to apply (the click's own re-read succeeds, the
	// ones after the PATCH fail).
	Skip int
}

type faultState struct {
	Fault
	left int // remaining uses; -1 = unlimited
	skip int // matching requests still to let through
}

// InjectFault adds a fault. Safe to call while requests are running.
func (s *Server) InjectFault(f Fault) {
	left := f.Count
	if left <= 0 {
		left = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f, left: left, skip: f.Skip})
}

// ClearFaults removes all faults, including RefuseClientCredentials.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// RateLimit makes the next n requests for op (or for any API operation when
// op is "") answer 429 with the given Retry-After.
func (s *Server) RateLimit(op string, n int, retryAfter time.Duration) {
	s.InjectFault(Fault{Op: op, Status: 429, Count: n, RetryAfter: retryAfter})
}

// FailNext makes the next n requests for op answer with the given status
// (for example 503).
func (s *Server) FailNext(op string, n, status int) {
	s.InjectFault(Fault{Op: op, Status: status, Count: n})
}

// RefuseClientCredentials makes every request for the given operations
// answer 400 not.a.user, as Genesys does on endpoints that need a user
// context. With no ops it refuses OpPatchCallParticipant, the endpoint
// whose documentation lists that error. Undo with ClearFaults.
func (s *Server) RefuseClientCredentials(ops ...string) {
	if len(ops) == 0 {
		ops = []string{OpPatchCallParticipant}
	}
	for _, op := range ops {
		s.InjectFault(Fault{Op: op, Status: 400, Code: "not.a.user", Message: "This request requires a user context. Client credentials cannot be used for requests to this resource."})
	}
}

// takeFault returns the fault to apply to a request for op, consuming one
// use of it. Caller holds s.mu.
func (s *Server) takeFaultLocked(op string) *Fault {
	for i, f := range s.faults {
		if f.Op != op && (f.Op != "" || op == OpToken) {
			continue
		}
		if f.skip > 0 {
			f.skip--
			continue
		}
		out := f.Fault
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &out
	}
	return nil
}
