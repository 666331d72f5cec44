package genesystest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Media names, as the analytics mediaType dimension spells them (social
// expressions have no analytics name; they are reported as "unknown").
const (
	MediaVoice       = "voice"       // Participant.calls[], /conversations/calls
	MediaCallback    = "callback"    // Participant.callbacks[], /conversations/callbacks
	MediaChat        = "chat"        // Participant.chats[], /conversations/chats (deprecated)
	MediaCobrowse    = "cobrowse"    // Participant.cobrowsesessions[]
	MediaEmail       = "email"       // Participant.emails[], /conversations/emails
	MediaMessage     = "message"     // Participant.messages[], /conversations/messages
	MediaScreenshare = "screenshare" // Participant.screenshares[]
	MediaSocial      = "social"      // Participant.socialExpressions[]
	MediaVideo       = "video"       // Participant.videos[]
)

// Operations of the media-family endpoints (see Fault.Op and CountOp).
const (
	OpGetCallback              = "getCallback"              // GET /api/v2/conversations/callbacks/{id}
	OpGetChat                  = "getChat"                  // GET /api/v2/conversations/chats/{id}
	OpGetEmail                 = "getEmail"                 // GET /api/v2/conversations/emails/{id}
	OpGetMessage               = "getMessage"               // GET /api/v2/conversations/messages/{id}
	OpPatchCallbackParticipant = "patchCallbackParticipant" // PATCH …/callbacks/{id}/participants/{pid}
	OpPatchChatParticipant     = "patchChatParticipant"     // PATCH …/chats/{id}/participants/{pid}
	OpPatchEmailParticipant    = "patchEmailParticipant"    // PATCH …/emails/{id}/participants/{pid}
	OpPatchMessageParticipant  = "patchMessageParticipant"  // PATCH …/messages/{id}/participants/{pid}
)

// Communication is one media session of a participant: one element of the
// generic Participant's per-media arrays. Zero fields take the
// participant's values. When a participant has a single session, its state,
// hold, mute, end time and disconnect type always are the participant's;
// with several, each session keeps its own and the participant is live
// while any of them is.
type Communication struct {
	Media     string // MediaVoice, MediaCallback, …; "" = MediaVoice
	ID        string // "" = generated
	State     string // "" = the participant's State
	Direction string // "" = the participant's Direction
	// Held exists on calls, callbacks, chats, e-mails, messages and social
	// expressions; Muted on calls (and as audioMuted on videos). Both are
	// dropped for media that have no such field.
	Held, Muted      bool
	ConnectedTime    time.Time // zero = the participant's, for connected or ended sessions
	DisconnectedTime time.Time // zero = the participant's end, for ended sessions
	DisconnectType   string    // "" = the participant's, for ended sessions
	// MessageType is a message's platform (Message.type): sms, whatsapp,
	// webmessaging, facebook, open, …; "" = webmessaging. A value outside
	// the documented enum is sent as "unknown".
	MessageType            string
	FromAddress, ToAddress string // messages: E.164 for sms and whatsapp
	CallbackNumbers        []string
	CallbackScheduledTime  time.Time
	Subject                string // e-mails
}

// liveState is the set of states in which a session is up.
func liveState(s string) bool {
	switch s {
	case "connected", "alerting", "dialing", "contacting", "offering":
		return true
	}
	return false
}

func endedState(s string) bool { return s == "disconnected" || s == "terminated" }

// fillCommunications gives a participant its sessions: the single voice
// call of the classic shape when none are listed, defaults otherwise. The
// participant's state is then what its sessions say.
func fillCommunications(p *Participant, now time.Time) {
	if len(p.Communications) == 0 {
		p.Communications = []Communication{{Media: MediaVoice, ID: p.CallID, Held: p.Held, Muted: p.Muted}}
	} else {
		p.Communications = slices.Clone(p.Communications)
	}
	single := len(p.Communications) == 1
	for i := range p.Communications {
		c := &p.Communications[i]
		if c.Media == "" {
			c.Media = MediaVoice
		}
		if c.ID == "" {
			c.ID = newID()
		}
		if single {
			// A participant with one session is that session: its state,
			// hold, mute and end are the participant's, so a snapshot edited
			// and stored again behaves as it always did.
			c.State, c.Held, c.Muted = p.State, p.Held, p.Muted
			if endedState(p.State) {
				c.DisconnectedTime, c.DisconnectType = p.EndTime, p.DisconnectType
			}
		}
		if c.State == "" {
			c.State = p.State
		}
		if c.Direction == "" {
			c.Direction = p.Direction
		}
		if c.ConnectedTime.IsZero() && (c.State == "connected" || endedState(c.State)) {
			c.ConnectedTime = p.ConnectedTime
		}
		if endedState(c.State) {
			if c.DisconnectedTime.IsZero() {
				c.DisconnectedTime = p.EndTime
				if c.DisconnectedTime.IsZero() {
					c.DisconnectedTime = now
				}
			}
			if c.DisconnectType == "" {
				c.DisconnectType = p.DisconnectType
				if c.DisconnectType == "" {
					c.DisconnectType = "endpoint"
				}
			}
		}
		if c.Media == MediaMessage && c.MessageType == "" {
			c.MessageType = "webmessaging"
		}
	}
	// The first voice session keeps CallID, as it always had.
	for _, c := range p.Communications {
		if c.Media == MediaVoice {
			p.CallID = c.ID
			break
		}
	}
	syncParticipantState(p, now)
}

// syncParticipantState derives the participant's state from its sessions:
// live while any is live, ended once all have ended.
func syncParticipantState(p *Participant, now time.Time) {
	allEnded := len(p.Communications) > 0
	for _, c := range p.Communications {
		if liveState(c.State) {
			if endedState(p.State) {
				p.State, p.EndTime = c.State, time.Time{}
			}
			return
		}
		if !endedState(c.State) {
			allEnded = false
		}
	}
	if allEnded && !endedState(p.State) {
		p.State = "disconnected"
		if p.EndTime.IsZero() {
			p.EndTime = now
		}
	}
}

// hasMedia reports whether the participant has a session of media m.
func (p Participant) hasMedia(m string) bool {
	return slices.ContainsFunc(p.Communications, func(c Communication) bool { return c.Media == m })
}

// HasLive reports whether the participant has a live session of media m
// ("" = any media).
func (p Participant) HasLive(m string) bool {
	return slices.ContainsFunc(p.Communications, func(c Communication) bool {
		return (m == "" || c.Media == m) && liveState(c.State)
	})
}

// sessionsEnded reports whether every session of media m has ended (false
// for m == "").
func (p Participant) sessionsEnded(m string) bool {
	if m == "" {
		return false
	}
	return !slices.ContainsFunc(p.Communications, func(c Communication) bool { return c.Media == m && !endedState(c.State) })
}

// Media returns the media of the participant's sessions, in order, once each.
func (p Participant) Media() []string {
	var out []string
	for _, c := range p.Communications {
		if !slices.Contains(out, c.Media) {
			out = append(out, c.Media)
		}
	}
	return out
}

// familyState is the participant-level state a media-family endpoint
// shows: that of the participant's live session of the family, else of its
// latest session of the family.
func (p Participant) familyState(m string) string {
	state := ""
	for _, c := range p.Communications {
		if c.Media != m {
			continue
		}
		if liveState(c.State) {
			return c.State
		}
		state = c.State
	}
	if state == "" {
		return p.State
	}
	return state
}

// endSessions ends the participant's live sessions of media m ("" = all)
// and, when none is left, the participant. It reports whether the
// participant ended.
func (p *Participant) endSessions(m string, now time.Time, disconnectType string) bool {
	for i := range p.Communications {
		c := &p.Communications[i]
		if (m != "" && c.Media != m) || endedState(c.State) {
			continue
		}
		c.State, c.DisconnectedTime, c.DisconnectType, c.Held = "disconnected", now, disconnectType, false
	}
	if slices.ContainsFunc(p.Communications, func(c Communication) bool { return !endedState(c.State) }) {
		return false
	}
	if !p.Ended() {
		p.State, p.EndTime, p.DisconnectType, p.Held = "disconnected", now, disconnectType, false
	}
	return true
}

// ---- ready-made conversations of every media ----

// Addresses used by the ready-made media conversations.
const (
	WhatsAppCustomerName  = "Ana Souza"
	WhatsAppCustomerPhone = "+5511987650123"
	WhatsAppOrgNumber     = "+18005550111" // the business number on WhatsApp
	SMSCustomerPhone      = "+13175550142"
	EmailCustomerAddress  = "kim.customer@example.net"
	EmailOrgAddress       = "support@example.com"
)

// jane returns the ids of the shared agent Jane Doe and of queue Support,
// creating them on first use.
func (s *Server) jane() (janeID, queueID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.janeID == "" {
		s.janeID = newID()
		s.queueID = newID()
		s.users = append(s.users, &User{ID: s.janeID, Name: JaneDoeName, Email: JaneDoeEmail, Username: JaneDoeEmail, State: "active"})
	}
	return s.janeID, s.queueID
}

// MediaConversation adds an in-progress two-party conversation of media m
// (MediaMessage uses messageType, e.g. "whatsapp" or "sms"; other media
// ignore it): a customer, an ACD leg that already ended, and agent Jane
// Doe, each with one session of that media. It returns the stored copy.
func (s *Server) MediaConversation(m, messageType string) Conversation {
	janeID, queueID := s.jane()
	return s.mediaConversation(m, messageType, User{ID: janeID, Name: JaneDoeName}, queueID)
}

// WhatsAppConversationFor is WhatsAppConversation with agent (a user of the
// org, see AddUser) instead of Jane Doe.
func (s *Server) WhatsAppConversationFor(agent User) Conversation {
	_, queueID := s.jane()
	return s.mediaConversation(MediaMessage, "whatsapp", agent, queueID)
}

func (s *Server) mediaConversation(m, messageType string, agent User, queueID string) Conversation {
	start := time.Now().UTC().Add(-4 * time.Minute)
	session := func() []Communication {
		c := Communication{Media: m}
		switch m {
		case MediaMessage:
			c.MessageType = messageType
			if c.MessageType == "" {
				c.MessageType = "whatsapp"
			}
			switch c.MessageType {
			case "sms":
				c.FromAddress, c.ToAddress = SMSCustomerPhone, OrgPhone
			case "whatsapp":
				c.FromAddress, c.ToAddress = WhatsAppCustomerPhone, WhatsAppOrgNumber
			}
		case MediaCallback:
			c.CallbackNumbers = []string{"tel:" + CustomerPhone}
			c.CallbackScheduledTime = start
		case MediaEmail:
			c.Subject = "Order 4411 arrived damaged"
		}
		return []Communication{c}
	}
	customer := Participant{Name: CustomerName, Purpose: "customer", Direction: "inbound", StartTime: start, Communications: session()}
	switch m {
	case MediaMessage:
		if messageType == "" || messageType == "whatsapp" {
			customer.Name = WhatsAppCustomerName
			customer.Address = WhatsAppCustomerPhone
		} else if messageType == "sms" {
			customer.Address = SMSCustomerPhone
		}
	case MediaEmail:
		customer.Address = EmailCustomerAddress
	case MediaCallback, MediaVoice:
		customer.Address, customer.ANI, customer.DNIS = "tel:"+CustomerPhone, "tel:"+CustomerPhone, "tel:"+OrgPhone
	}
	if m == MediaCallback {
		// A callback's customer is the number to call back, outbound.
		customer.Direction = "outbound"
	}
	return s.AddConversation(Conversation{
		StartTime: start,
		Participants: []Participant{
			customer,
			{
				Name: QueueName, Purpose: "acd", QueueID: queueID, QueueName: QueueName, Direction: "inbound",
				State: "disconnected", DisconnectType: "transfer", StartTime: start, EndTime: start.Add(15 * time.Second),
				Communications: session(),
			},
			{
				Name: agent.Name, Purpose: "agent", UserID: agent.ID, QueueID: queueID, QueueName: QueueName,
				Address: "sip:" + agent.ID + "@localhost", Direction: "inbound", StartTime: start.Add(15 * time.Second),
				Communications: session(),
			},
		},
	})
}

// WhatsAppConversation adds an in-progress WhatsApp messaging interaction:
// customer WhatsAppCustomerName (WhatsAppCustomerPhone) with agent Jane Doe.
func (s *Server) WhatsAppConversation() Conversation {
	return s.MediaConversation(MediaMessage, "whatsapp")
}

// DuplicateLegCallback adds an in-progress callback in which agent Jane Doe
// holds five participant legs: four ended (declined, timed out, transferred)
// and one connected, the last but one in the list. Picking the wrong leg
// does nothing on a real org.
func (s *Server) DuplicateLegCallback() Conversation {
	janeID, queueID := s.jane()
	start := time.Now().UTC().Add(-20 * time.Minute)
	cb := func(state, disc string) []Communication {
		return []Communication{{Media: MediaCallback, State: state, DisconnectType: disc, CallbackNumbers: []string{"tel:" + CustomerPhone}, CallbackScheduledTime: start}}
	}
	agent := func(i int, state, disc string) Participant {
		p := Participant{
			Name: JaneDoeName, Purpose: "agent", UserID: janeID, QueueID: queueID, QueueName: QueueName,
			Address: "sip:" + janeID + "@localhost", Direction: "outbound", State: state, DisconnectType: disc,
			StartTime: start.Add(time.Duration(i) * 2 * time.Minute), Communications: cb(state, disc),
		}
		if endedState(state) {
			p.EndTime = p.StartTime.Add(time.Minute)
		}
		return p
	}
	return s.AddConversation(Conversation{
		StartTime: start,
		Participants: []Participant{
			{Name: CustomerName, Purpose: "customer", Address: "tel:" + CustomerPhone, Direction: "outbound", StartTime: start, Communications: cb("", "")},
			{Name: QueueName, Purpose: "acd", QueueID: queueID, QueueName: QueueName, Direction: "outbound", State: "disconnected", DisconnectType: "transfer", StartTime: start, EndTime: start.Add(time.Minute), Communications: cb("disconnected", "transfer")},
			agent(1, "disconnected", "transfer.noanswer"),
			agent(2, "terminated", "client"),
			agent(3, "disconnected", "transfer.notavailable"),
			agent(4, "connected", ""),
			agent(5, "disconnected", "timeout"),
		},
	})
}

// ---- media-family routes ----

// family is one media-family endpoint set.
type family struct {
	segment  string // URL segment: calls, callbacks, …
	media    string
	getOp    string
	patchOp  string
	wireName string // the family conversation definition
}

var families = []family{
	{"calls", MediaVoice, OpGetCall, OpPatchCallParticipant, "CallConversation"},
	{"callbacks", MediaCallback, OpGetCallback, OpPatchCallbackParticipant, "CallbackConversation"},
	{"chats", MediaChat, OpGetChat, OpPatchChatParticipant, "ChatConversation"},
	{"emails", MediaEmail, OpGetEmail, OpPatchEmailParticipant, "EmailConversation"},
	{"messages", MediaMessage, OpGetMessage, OpPatchMessageParticipant, "MessageConversation"},
}

func familyBySegment(seg string) (family, bool) {
	for _, f := range families {
		if f.segment == seg {
			return f, true
		}
	}
	return family{}, false
}

func familyByOp(op string) (family, bool) {
	for _, f := range families {
		if f.getOp == op || f.patchOp == op {
			return f, true
		}
	}
	return family{}, false
}

// parseMediaRoute recognises the callbacks, chats, emails and messages
// family endpoints (calls are routed in handler.go).
func parseMediaRoute(method string, segs []string) (route, bool) {
	if len(segs) < 5 || segs[0] != "api" || segs[1] != "v2" || segs[2] != "conversations" {
		return route{}, false
	}
	f, ok := familyBySegment(segs[3])
	if !ok || f.media == MediaVoice {
		return route{}, false
	}
	switch {
	case method == "GET" && len(segs) == 5:
		return route{op: f.getOp, convID: segs[4], needAuth: true}, true
	case method == "PATCH" && len(segs) == 7 && segs[5] == "participants":
		return route{op: f.patchOp, convID: segs[4], partID: segs[6], perm: PermConversationDisconnect, needAuth: true}, true
	}
	return route{}, false
}

// isFamilySegment reports whether seg names a media family, so that
// /conversations/{seg} is not read as a conversation id.
func isFamilySegment(seg string) bool {
	_, ok := familyBySegment(seg)
	return ok
}

// ---- documented errors ----

// DocumentedError is one error code an operation's official documentation
// lists (x-inin-error-codes), with its status and official message.
type DocumentedError struct {
	Status  int
	Message string
}

// documentedErrors are the operation-specific codes (the standard set every
// operation shares is left out), copied from the schema data's
// x-inin-error-codes; media_schema_test.go checks the copy.
var documentedErrors = map[string]map[string]DocumentedError{
	OpPatchParticipant: {
		"conversation.error.hold.alerting":                       {400, "An alerting call cannot be placed on hold"},
		"conversation.error.wrapup.code.required":                {400, "Wrapup code is a required field and cannot be empty."},
		"conversation.error.participant.attribute.null":          {400, "Cannot update participant attribute map to a null value."},
		"conversation.error.cannot.disconnect.call":              {400, "The call for this request cannot be disconnected."},
		"conversation.error.participant.no.active.conversations": {400, "Participant has no active conversations"},
		"conversation.error.not.conversation.participant":        {404, "User is not a participant in the conversation."},
	},
	OpPatchCallParticipant: {
		"conversation.error.hold.alerting":            {400, "An alerting call cannot be placed on hold."},
		"conversation.error.cannot.create.conference": {400, "Unable to create a conference."},
		"not.a.user": {400, "This request requires a user context. Client credentials cannot be used for requests to this resource."},
		"conversation.error.cannot.confine.party":             {400, "The participant for this request cannot be confined."},
		"conversation.error.wrapup.code.required":             {400, "Wrapup code is a required field and cannot be empty."},
		"conversation.error.call.disconnected":                {400, "The call is already disconnected."},
		"conversation.error.wrapup.cannot.skip":               {400, "Wrap-up cannot be skipped for this participant."},
		"conversation.error.forbidden.not.active.participant": {403, "User is not active on call and cannot alter recordingState"},
		"conversation.error.not.conversation.participant":     {404, "User is not a participant in the conversation."},
	},
	OpPatchCallbackParticipant: {
		"conversation.error.participant.no.active.conversations": {400, "The participant has no active conversation."},
		"conversation.error.not.conversation.participant":        {404, "User is not a participant in the conversation."},
	},
	OpPatchChatParticipant: {
		"conversation.error.wrapup.code.required":                {400, "Wrapup code is a required field and cannot be empty."},
		"conversation.error.wrapup.cannot.skip":                  {400, "Wrap-up cannot be skipped for this participant."},
		"conversation.error.participant.no.active.conversations": {400, "The participant has no active conversation."},
		"conversation.error.forbidden.not.active.participant":    {403, "User is not active on call and cannot alter recordingState"},
	},
	OpPatchEmailParticipant: {
		"postino.error.answer.not.alerting":                      {400, "Only alerting calls can be answered."},
		"postino.error.transfer.canceled":                        {400, "Answer failed because a pending attended transfer was canceled."},
		"postino.error.wrong.org":                                {400, "Request organization is incorrect for this conversation."},
		"conversation.error.participant.no.active.conversations": {400, "The participant has no active conversation."},
		"conversation.error.forbidden.not.active.participant":    {403, "User is not active on call and cannot alter recordingState"},
	},
	OpPatchMessageParticipant: {},
	OpGetCall: {
		"conversation.error.conversation.not.found": {404, "The conversation does not exist."},
	},
	OpGetCallback: {},
	OpGetChat: {
		"conversation.error.conversation.not.found": {404, "The conversation does not exist."},
	},
	OpGetEmail: {
		"postino.error.wrong.org":                   {400, "Request organization is incorrect for this conversation."},
		"conversation.error.conversation.not.found": {404, "The conversation does not exist."},
	},
	OpGetMessage: {
		"conversation.error.conversation.not.found": {404, "The conversation does not exist."},
	},
}

// DocumentedErrors returns the operation-specific error codes Genesys
// documents for op (x-inin-error-codes, without the standard set), with
// their statuses and official messages.
func DocumentedErrors(op string) map[string]DocumentedError {
	out := map[string]DocumentedError{}
	for k, v := range documentedErrors[op] {
		out[k] = v
	}
	return out
}

// InjectDocumentedError makes the next count requests for op (0 = every
// one) fail with code, at the status and with the message Genesys
// documents for that operation. It refuses a code the operation does not
// document, so tests cannot rely on errors Genesys never sends there.
func (s *Server) InjectDocumentedError(op, code string, count int) error {
	e, ok := documentedErrors[op][code]
	if !ok {
		return fmt.Errorf("genesystest: %s documents no error %q", op, code)
	}
	s.InjectFault(Fault{Op: op, Status: e.Status, Code: code, Message: e.Message, Count: count})
	return nil
}

// notParticipantAnswer is how a participant PATCH says the participant is
// not (or not in this medium) part of the conversation: the documented
// code where the operation lists it, else the standard 404.
func notParticipantAnswer(op string) (status int, code, msg string) {
	if e, ok := documentedErrors[op]["conversation.error.not.conversation.participant"]; ok {
		return e.Status, "conversation.error.not.conversation.participant", e.Message
	}
	return 404, "not.found", "The requested resource was not found."
}

// goneAnswer is how a participant PATCH says the participant already left.
// Calls (and the generic PATCH of a voice leg, as this emulator always did)
// answer call.disconnected; the other families document
// participant.no.active.conversations (the messages family documents no
// specific code; the same code is assumed).
func goneAnswer(op string, voice bool) (status int, code, msg string) {
	if op == OpPatchCallParticipant || (op == OpPatchParticipant && voice) {
		return 400, "conversation.error.call.disconnected", "The call is already disconnected"
	}
	if e, ok := documentedErrors[op]["conversation.error.participant.no.active.conversations"]; ok {
		return e.Status, "conversation.error.participant.no.active.conversations", e.Message
	}
	return 400, "conversation.error.participant.no.active.conversations", "The participant has no active conversation."
}

// conversationNotFoundAnswer is a family GET's 404.
func conversationNotFoundAnswer(op string) (code, msg string) {
	if e, ok := documentedErrors[op]["conversation.error.conversation.not.found"]; ok {
		return "conversation.error.conversation.not.found", e.Message
	}
	return "not.found", "The requested conversation was not found."
}

// mediaOf reports the family medium an operation acts on ("" = generic).
func mediaOf(op string) string {
	if f, ok := familyByOp(op); ok {
		return f.media
	}
	return ""
}

// otherMediaURIs lists the family URIs of the media a conversation has
// besides m, as the family conversations' otherMediaUris do.
func otherMediaURIs(c Conversation, m string) []string {
	out := []string{}
	for _, f := range families {
		if f.media == m {
			continue
		}
		if slices.ContainsFunc(c.Participants, func(p Participant) bool { return p.hasMedia(f.media) }) {
			out = append(out, "/api/v2/conversations/"+f.segment+"/"+c.ID)
		}
	}
	return out
}

// ServeRawConversation makes the generic GET of conversation id answer
// body verbatim (200, application/json): a conversation captured from a
// real org, or synthesized, tried through the real client. A stored
// conversation with the same id is not consulted for that GET.
func (s *Server) ServeRawConversation(id string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw == nil {
		s.raw = map[string][]byte{}
	}
	s.raw[strings.ToLower(id)] = slices.Clone(body)
}

// rawConversation returns what ServeRawConversation set for id.
func (s *Server) rawConversation(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.raw[strings.ToLower(id)]
	return b, ok
}
