package genesys

import "time"

// State is a participant's (or call's) communication state as Genesys reports it.
type State string

// The states Genesys documents for a call participant.
const (
	StateAlerting     State = "alerting"
	StateDialing      State = "dialing"
	StateContacting   State = "contacting"
	StateOffering     State = "offering"
	StateConnected    State = "connected"
	StateDisconnected State = "disconnected"
	StateTerminated   State = "terminated"
	StateConverting   State = "converting"
	StateUploading    State = "uploading"
	StateTransmitting State = "transmitting"
	StateParked       State = "parked"
	StateNone         State = "none"
)

// Ended reports whether the state means the participant has left the call.
func (s State) Ended() bool { return s == StateDisconnected || s == StateTerminated }

// Conversation is one Genesys conversation, normalized from either the generic
// (/api/v2/conversations/{id}) or the calls (/api/v2/conversations/calls/{id}) shape.
type Conversation struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	MediaType string `json:"mediaType,omitempty"` // the first of Media ("voice", "message", …); "" when unknown
	// Media are the media of the participants' sessions (voice, callback,
	// chat, email, message, video, cobrowse, screenshare, social), each
	// once; several when, say, a messaging conversation became a call.
	Media        []Media       `json:"media,omitempty"`
	StartTime    time.Time     `json:"startTime,omitzero"`
	EndTime      time.Time     `json:"endTime,omitzero"`
	Participants []Participant `json:"participants"`
}

// Ended reports whether the conversation is over: it has an end time, or no
// participant is still on it.
func (c *Conversation) Ended() bool {
	if !c.EndTime.IsZero() {
		return true
	}
	for _, p := range c.Participants {
		if !p.State.Ended() {
			return false
		}
	}
	return true
}

// Participant returns the participant with the given id.
func (c *Conversation) Participant(id string) (Participant, bool) {
	for _, p := range c.Participants {
		if p.ID == id {
			return p, true
		}
	}
	return Participant{}, false
}

// ActiveParticipants returns the participants that can be disconnected, in
// conversation order.
func (c *Conversation) ActiveParticipants() []Participant {
	var out []Participant
	for _, p := range c.Participants {
		if p.Active() {
			out = append(out, p)
		}
	}
	return out
}

// Participant is one leg of a conversation.
type Participant struct {
	ID                string    `json:"id"`
	Name              string    `json:"name,omitempty"`
	Purpose           string    `json:"purpose,omitempty"` // agent, user, customer, external, acd, ivr, voicemail, workflow, …
	UserID            string    `json:"userId,omitempty"`
	ExternalContactID string    `json:"externalContactId,omitempty"`
	QueueID           string    `json:"queueId,omitempty"`
	QueueName         string    `json:"queueName,omitempty"`
	Address           string    `json:"address,omitempty"`
	ANI               string    `json:"ani,omitempty"`
	DNIS              string    `json:"dnis,omitempty"`
	Direction         string    `json:"direction,omitempty"`
	State             State     `json:"state"`
	Held              bool      `json:"held,omitempty"`
	Muted             bool      `json:"muted,omitempty"`
	StartTime         time.Time `json:"startTime,omitzero"`
	ConnectedTime     time.Time `json:"connectedTime,omitzero"`
	EndTime           time.Time `json:"endTime,omitzero"`
	DisconnectType    string    `json:"disconnectType,omitempty"`
	// Media is the medium of the session that describes the participant
	// now (its live one, else its latest); MessageType its platform when
	// it is a message (sms, whatsapp, webmessaging, …).
	Media       Media  `json:"media,omitempty"`
	MessageType string `json:"messageType,omitempty"`
	// Communications are all of the participant's sessions, every medium,
	// ended ones included, in the order Genesys lists them.
	Communications []Communication `json:"communications,omitempty"`
}

// Active reports whether the participant is a live, human-facing leg that a
// supervisor may disconnect: connected, alerting, dialing, contacting or
// offering, on any medium, and not a system leg (acd, ivr, flows) or a
// voicemail leg. Disconnecting a stale or system leg does nothing useful:
// Genesys accepts the request and the leg stays up (genesys-cloud-webrtc-sdk
// issue #40); one user can hold several legs of which only one is live.
func (p Participant) Active() bool {
	if !p.State.Live() {
		return false
	}
	switch p.Purpose {
	case "acd", "ivr", "voicemail", "workflow", "botflow":
		return false
	}
	return true
}

// User is the part of a Genesys user the bot needs.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	State    string `json:"state,omitempty"`
}

// DisconnectOutcome says what Genesys did with a disconnect request.
type DisconnectOutcome int

const (
	// DisconnectAccepted means Genesys answered 202: the leg will drop shortly.
	DisconnectAccepted DisconnectOutcome = iota + 1
	// DisconnectAlreadyGone means the participant had already left
	// (400 conversation.error.call.disconnected, or its state was already ended).
	DisconnectAlreadyGone
)

// DisconnectResult is the result of DisconnectParticipant.
type DisconnectResult struct {
	Outcome       DisconnectOutcome
	Family        EndpointFamily // which endpoint family finally took the request
	CorrelationID string         // ININ-Correlation-Id of the accepting response
	// SettledByReread is set when no attempt was answered with success, but
	// a re-read before sending the PATCH again showed the participant gone:
	// an earlier attempt did the work and its answer was a 5xx or lost.
	SettledByReread bool
}

// Confirmation is the result of ConfirmDisconnect.
type Confirmation struct {
	Confirmed   bool        // the participant's state is disconnected or terminated
	Participant Participant // the last state read
	Polls       int         // how many reads it took
}

// EndpointFamily chooses which Genesys endpoints the client uses.
type EndpointFamily string

const (
	// FamilyAuto uses the generic family and falls back to the calls family
	// when Genesys refuses a request with not.a.user.
	FamilyAuto EndpointFamily = "auto"
	// FamilyGeneric is /api/v2/conversations/{id}[/participants/{pid}].
	FamilyGeneric EndpointFamily = "generic"
	// FamilyCalls is /api/v2/conversations/calls/{id}[/participants/{pid}].
	FamilyCalls EndpointFamily = "calls"
)
