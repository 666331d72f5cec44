package genesystest

import (
	"net/http"
	"strings"
	"time"
)

// OpTeardown is POST /api/v2/conversations/{id}/disconnect, the full
// conversation teardown.
const OpTeardown = "teardownConversation"

// Stuck conversations, for sweeps.
//
// A Conversation with Stuck set does not end by itself when the people
// leave: every leg, system legs (acd, ivr) included, stays connected until
// it is disconnected, and the conversation ends when the last one is. One
// with IgnoreDisconnects also accepts participant PATCHes (202) without any
// effect: only a teardown ends it.

// StuckSpec describes the conversations AddStuck adds.
type StuckSpec struct {
	// Age is how long ago they started.
	Age time.Duration
	// MediaType is voice (""), callback, chat, email or message.
	MediaType string
	// Queue is the queue of the acd leg (zero: a queue named QueueName).
	Queue Queue
	// Legs is 2 (customer and acd) or 3 (and an agent); 0 means 2.
	Legs int
	// IgnoreDisconnects makes them clearable only by a teardown.
	IgnoreDisconnects bool
}

// AddStuck adds n stuck conversations and returns them.
func (s *Server) AddStuck(n int, spec StuckSpec) []Conversation {
	janeID, queueID := s.jane()
	if spec.Queue.ID == "" {
		spec.Queue.ID = queueID
	}
	if spec.Queue.Name == "" {
		spec.Queue.Name = QueueName
	}
	out := make([]Conversation, 0, n)
	for i := range n {
		start := time.Now().UTC().Add(-spec.Age).Add(-time.Duration(i) * time.Millisecond)
		legs := []Participant{
			{Name: CustomerName, Purpose: "customer", Address: "tel:" + CustomerPhone, ANI: "tel:" + CustomerPhone, DNIS: "tel:" + OrgPhone},
			{Name: spec.Queue.Name, Purpose: "acd", QueueID: spec.Queue.ID, QueueName: spec.Queue.Name, Address: "tel:" + OrgPhone},
		}
		if spec.Legs >= 3 {
			legs = append(legs, Participant{Name: JaneDoeName, Purpose: "agent", UserID: janeID, QueueID: spec.Queue.ID, QueueName: spec.Queue.Name})
		}
		if spec.MediaType != "" && spec.MediaType != MediaVoice {
			for j := range legs {
				legs[j].Communications = []Communication{{Media: spec.MediaType}}
			}
		}
		out = append(out, s.AddConversation(Conversation{
			StartTime: start, Participants: legs, Stuck: true, IgnoreDisconnects: spec.IgnoreDisconnects,
		}))
	}
	return out
}

// Open returns how many conversations have not ended.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.convs {
		if conversationEnd(c.Conversation).IsZero() {
			n++
		}
	}
	return n
}

// OnAnalyticsPage calls fn(pageNumber) each time an analytics page has been
// computed, before it is sent: a conversation fn adds (AddConversation)
// shifts the pages read after it, as live calls do on the real API. nil
// removes the hook.
func (s *Server) OnAnalyticsPage(fn func(pageNumber int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageHook = fn
}

// endIfAllEndedLocked ends a stuck conversation once its last leg has.
func endIfAllEndedLocked(c *conversation, now time.Time) {
	for _, p := range c.Participants {
		if !p.Ended() {
			return
		}
	}
	if c.EndTime.IsZero() {
		c.EndTime = now
	}
}

// hangUpLocked drops every leg (every medium) now, with the given
// disconnect type, and ends the conversation.
func hangUpLocked(c *conversation, disconnectType string) {
	now := time.Now().UTC()
	for i := range c.Participants {
		p := &c.Participants[i]
		if !p.Ended() {
			p.endSessions("", now, disconnectType)
			p.State, p.EndTime, p.Held, p.DisconnectType = "disconnected", now, false, disconnectType
		}
		c.forgetPending(p.ID)
	}
	if c.EndTime.IsZero() {
		c.EndTime = now
	}
}

// handleTeardown is the full teardown: every leg drops at once (as system
// disconnects), stuck or not, and the conversation ends. The answer is
// 202 with a JSON string body.
func (s *Server) handleTeardown(w http.ResponseWriter, corr string, rt route) {
	s.mu.Lock()
	c, ok := s.convs[strings.ToLower(rt.convID)]
	if ok {
		hangUpLocked(c, "system")
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, corr, http.StatusNotFound, "not.found", "The requested resource was not found.", nil)
		return
	}
	writeJSON(w, http.StatusAccepted, "")
}
