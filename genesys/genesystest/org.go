package genesystest

import (
	"slices"
	"strings"
	"time"
)

// Phone numbers and names used by ThreePartyConference.
const (
	JaneDoeName   = "Jane Doe"
	JaneDoeEmail  = "jane.doe@example.com"
	CustomerName  = "Pat Smith"
	CustomerPhone = "+13175550123"
	ExternalName  = "Sam Lee"
	ExternalPhone = "+13175550199"
	OrgPhone      = "+18005550100" // the number the customer dialled
	QueueName     = "Support"
)

// User is a Genesys user of the fake org.
type User struct {
	ID       string // "" = generated
	Name     string
	Email    string
	Username string // "" = Email
	State    string // "" = active
}

// Participant is one leg of a fake conversation. Zero fields get defaults
// in AddConversation.
type Participant struct {
	ID                string // "" = generated
	Name              string
	Purpose           string // customer, agent, user, external, acd, ivr, voicemail, …
	UserID            string
	ExternalContactID string
	QueueID           string
	QueueName         string
	Address           string
	ANI               string
	DNIS              string
	Direction         string // "" = inbound
	State             string // "" = connected
	Held, Muted       bool
	StartTime         time.Time // zero = the conversation's start
	ConnectedTime     time.Time // zero = StartTime, for legs that got connected
	EndTime           time.Time // zero = now, for legs created ended
	DisconnectType    string
	CallID            string // the id of its call in calls[]; "" = generated
	// Communications are the participant's media sessions, as the generic
	// Participant lists them in its per-media arrays (calls, callbacks,
	// chats, cobrowsesessions, emails, messages, screenshares,
	// socialExpressions, videos). Empty means one voice call whose id is
	// CallID and whose state, hold and mute are the participant's: the
	// shape every voice test has always used. See media.go.
	Communications []Communication
}

// Ended reports whether the leg is over.
func (p Participant) Ended() bool { return p.State == "disconnected" || p.State == "terminated" }

// Conversation is a fake voice conversation.
type Conversation struct {
	ID           string // "" = generated
	Name         string
	StartTime    time.Time // zero = 5 minutes ago
	EndTime      time.Time // set when the conversation ends
	Participants []Participant
	// Stuck and IgnoreDisconnects make a stuck conversation (sweep.go).
	Stuck, IgnoreDisconnects bool
}

// Participant returns the participant with the given id.
func (c Conversation) Participant(id string) (Participant, bool) {
	for _, p := range c.Participants {
		if p.ID == id {
			return p, true
		}
	}
	return Participant{}, false
}

// conversation is the stored state; pending marks participants (per
// medium, see pendingKey) whose disconnect was accepted but has not taken
// effect.
type conversation struct {
	Conversation
	pending map[string]bool
}

func (c *conversation) find(pid string) *Participant {
	for i := range c.Participants {
		if strings.EqualFold(c.Participants[i].ID, pid) {
			return &c.Participants[i]
		}
	}
	return nil
}

func (c *conversation) snapshot() Conversation {
	out := c.Conversation
	out.Participants = slices.Clone(c.Participants)
	for i := range out.Participants {
		// Sessions change under the lock; a snapshot is read without it.
		out.Participants[i].Communications = slices.Clone(out.Participants[i].Communications)
	}
	return out
}

// AddUser adds a user to the org and returns it with defaults filled in.
func (s *Server) AddUser(u User) User {
	if u.ID == "" {
		u.ID = newID()
	}
	if u.Username == "" {
		u.Username = u.Email
	}
	if u.State == "" {
		u.State = "active"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.users {
		if old.ID == u.ID {
			s.users[i] = &u
			return u
		}
	}
	s.users = append(s.users, &u)
	return u
}

// User returns the user with the given id.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.findUser(id); u != nil {
		return *u, true
	}
	return User{}, false
}

func (s *Server) findUser(id string) *User {
	for _, u := range s.users {
		if strings.EqualFold(u.ID, id) {
			return u
		}
	}
	return nil
}

// AddConversation stores c (replacing one with the same id) and returns
// the stored copy, with generated ids and defaults filled in.
func (s *Server) AddConversation(c Conversation) Conversation {
	now := time.Now().UTC()
	if c.ID == "" {
		c.ID = newID()
	}
	if c.StartTime.IsZero() {
		c.StartTime = now.Add(-5 * time.Minute)
	}
	c.Participants = slices.Clone(c.Participants)
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.ID == "" {
			p.ID = newID()
		}
		if p.CallID == "" {
			p.CallID = newID()
		}
		if p.State == "" {
			p.State = "connected"
		}
		if p.Direction == "" {
			p.Direction = "inbound"
		}
		if p.StartTime.IsZero() {
			p.StartTime = c.StartTime
		}
		if p.ConnectedTime.IsZero() && (p.State == "connected" || p.Ended()) {
			p.ConnectedTime = p.StartTime
		}
		if p.Ended() {
			if p.EndTime.IsZero() {
				p.EndTime = now
			}
			if p.DisconnectType == "" {
				p.DisconnectType = "endpoint"
			}
		}
		fillCommunications(p, now)
	}
	stored := &conversation{Conversation: c, pending: map[string]bool{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convs[strings.ToLower(c.ID)] = stored
	return stored.snapshot()
}

// Conversation returns a snapshot of the stored conversation.
func (s *Server) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[strings.ToLower(id)]
	if !ok {
		return Conversation{}, false
	}
	return c.snapshot(), true
}

// DeleteConversation forgets a conversation: reads of it get 404, as for a
// conversation purged long after it ended.
func (s *Server) DeleteConversation(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.convs, strings.ToLower(id))
}

// ThreePartyConference adds a connected three-party call and returns it:
// the customer (CustomerPhone) who called OrgPhone, an ACD leg for queue
// QueueName that already ended, agent Jane Doe (a user with JaneDoeEmail,
// created on first use), and an external party (ExternalPhone) the agent
// conferenced in. The agent leg's ANI carries the customer's number, as in
// real calls. Each call returns a new conversation with new participant ids;
// the user and queue are shared.
func (s *Server) ThreePartyConference() Conversation {
	s.mu.Lock()
	if s.janeID == "" {
		s.janeID = newID()
		s.queueID = newID()
		s.users = append(s.users, &User{ID: s.janeID, Name: JaneDoeName, Email: JaneDoeEmail, Username: JaneDoeEmail, State: "active"})
	}
	janeID, queueID := s.janeID, s.queueID
	s.mu.Unlock()

	start := time.Now().UTC().Add(-3 * time.Minute)
	return s.AddConversation(Conversation{
		StartTime: start,
		Participants: []Participant{
			{
				Name: CustomerName, Purpose: "customer",
				Address: "tel:" + CustomerPhone, ANI: "tel:" + CustomerPhone, DNIS: "tel:" + OrgPhone,
				Direction: "inbound", StartTime: start,
			},
			{
				Name: QueueName, Purpose: "acd", QueueID: queueID, QueueName: QueueName,
				Address: "tel:" + OrgPhone, ANI: "tel:" + CustomerPhone, DNIS: "tel:" + OrgPhone,
				Direction: "inbound", State: "disconnected", DisconnectType: "transfer",
				StartTime: start, EndTime: start.Add(20 * time.Second),
			},
			{
				Name: JaneDoeName, Purpose: "agent", UserID: janeID, QueueID: queueID, QueueName: QueueName,
				Address: "sip:" + janeID + "@localhost", ANI: "tel:" + CustomerPhone, DNIS: "tel:" + OrgPhone,
				Direction: "inbound", StartTime: start.Add(20 * time.Second),
			},
			{
				Name: ExternalName, Purpose: "external",
				Address: "tel:" + ExternalPhone, ANI: "tel:" + OrgPhone, DNIS: "tel:" + ExternalPhone,
				Direction: "outbound", StartTime: start.Add(90 * time.Second),
			},
		},
	})
}

// partyPurposes are the legs that count as people on the call.
var partyPurposes = map[string]bool{"customer": true, "external": true, "agent": true, "user": true}

// disconnectLocked applies an accepted disconnect of the participant's
// sessions of media m ("" = all of them, as the generic PATCH does). Caller
// holds s.mu.
func (s *Server) disconnectLocked(convID, pid, m string) {
	c, ok := s.convs[convID]
	if !ok {
		return
	}
	delete(c.pending, pendingKey(pid, m))
	p := c.find(pid)
	if p == nil || p.Ended() {
		return
	}
	now := time.Now().UTC()
	if !p.endSessions(m, now, "client") {
		return // another medium of the participant is still up
	}
	if c.Stuck { // sweep.go
		endIfAllEndedLocked(c, now)
		return
	}

	// A call with at most one person left is over: everyone else drops.
	if !c.EndTime.IsZero() {
		return
	}
	live := 0
	for _, q := range c.Participants {
		if partyPurposes[q.Purpose] && !q.Ended() {
			live++
		}
	}
	if live > 1 {
		return
	}
	for i := range c.Participants {
		q := &c.Participants[i]
		if q.Ended() {
			continue
		}
		disc := "system"
		if partyPurposes[q.Purpose] {
			disc = "peer"
		}
		q.endSessions("", now, disc)
		q.State, q.EndTime, q.Held, q.DisconnectType = "disconnected", now, false, disc
		c.forgetPending(q.ID)
	}
	c.EndTime = now
}

// pendingKey keys the pending map: a participant, and the medium a family
// PATCH asked to end ("" = the whole participant).
func pendingKey(pid, m string) string { return strings.ToLower(pid) + "/" + m }

// forgetPending drops every pending disconnect of a participant.
func (c *conversation) forgetPending(pid string) {
	prefix := strings.ToLower(pid) + "/"
	for k := range c.pending {
		if strings.HasPrefix(k, prefix) {
			delete(c.pending, k)
		}
	}
}
