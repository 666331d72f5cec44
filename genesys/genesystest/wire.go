package genesystest

import (
	"time"
)

// The JSON shapes below follow the definitions of the same name in
// openapi-subset.json (schema_test.go checks them). Only fields the
// emulator can fill are present.

// genesysTime is the timestamp format Genesys emits: UTC, milliseconds.
func genesysTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type entityRef struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`
}

// conversationWire is the generic Conversation.
type conversationWire struct {
	ID             string            `json:"id"`
	Name           string            `json:"name,omitempty"`
	StartTime      string            `json:"startTime"`
	EndTime        string            `json:"endTime,omitempty"`
	Participants   []participantWire `json:"participants"`
	RecordingState string            `json:"recordingState"`
	Divisions      []any             `json:"divisions"`
	SelfURI        string            `json:"selfUri"`
}

// participantWire is the generic Participant; call state lives in Calls.
type participantWire struct {
	ID                string            `json:"id"`
	StartTime         string            `json:"startTime,omitempty"`
	EndTime           string            `json:"endTime,omitempty"`
	ConnectedTime     string            `json:"connectedTime,omitempty"`
	Name              string            `json:"name,omitempty"`
	UserURI           string            `json:"userUri,omitempty"`
	UserID            string            `json:"userId,omitempty"`
	ExternalContactID string            `json:"externalContactId,omitempty"`
	QueueID           string            `json:"queueId,omitempty"`
	QueueName         string            `json:"queueName,omitempty"`
	Purpose           string            `json:"purpose"`
	Address           string            `json:"address,omitempty"`
	ANI               string            `json:"ani,omitempty"`
	DNIS              string            `json:"dnis,omitempty"`
	WrapupRequired    bool              `json:"wrapupRequired"`
	Attributes        map[string]string `json:"attributes"`
	mediaArrays
}

// callWire is Call.
type callWire struct {
	State            string `json:"state"`
	ID               string `json:"id"`
	Direction        string `json:"direction"`
	Recording        bool   `json:"recording"`
	RecordingState   string `json:"recordingState"`
	Muted            bool   `json:"muted"`
	Confined         bool   `json:"confined"`
	Held             bool   `json:"held"`
	DisconnectType   string `json:"disconnectType,omitempty"`
	ConnectedTime    string `json:"connectedTime,omitempty"`
	DisconnectedTime string `json:"disconnectedTime,omitempty"`
	Provider         string `json:"provider"`
}

// callConversationWire is CallConversation.
type callConversationWire struct {
	ID             string                `json:"id"`
	Name           string                `json:"name,omitempty"`
	Participants   []callParticipantWire `json:"participants"`
	OtherMediaURIs []string              `json:"otherMediaUris"`
	RecordingState string                `json:"recordingState"`
	SelfURI        string                `json:"selfUri"`
}

// mediaParticipantBase is what every family's participant carries
// (MediaParticipant's fields in the schema); JSON flattens it into each.
type mediaParticipantBase struct {
	ID              string            `json:"id"`
	Name            string            `json:"name,omitempty"`
	Address         string            `json:"address,omitempty"`
	StartTime       string            `json:"startTime,omitempty"`
	ConnectedTime   string            `json:"connectedTime,omitempty"`
	EndTime         string            `json:"endTime,omitempty"`
	Purpose         string            `json:"purpose"`
	State           string            `json:"state"`
	Direction       string            `json:"direction"`
	DisconnectType  string            `json:"disconnectType,omitempty"`
	Held            bool              `json:"held"`
	WrapupRequired  bool              `json:"wrapupRequired"`
	User            *entityRef        `json:"user,omitempty"`
	Queue           *entityRef        `json:"queue,omitempty"`
	ExternalContact *entityRef        `json:"externalContact,omitempty"`
	Attributes      map[string]string `json:"attributes"`
	Provider        string            `json:"provider"`
}

// callParticipantWire is CallMediaParticipant: state on the participant,
// related entities as DomainEntityRef.
type callParticipantWire struct {
	mediaParticipantBase
	Muted          bool   `json:"muted"`
	Confined       bool   `json:"confined"`
	Recording      bool   `json:"recording"`
	RecordingState string `json:"recordingState"`
	ANI            string `json:"ani,omitempty"`
	DNIS           string `json:"dnis,omitempty"`
}

// userWire is User.
type userWire struct {
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	Division entityRef `json:"division"`
	Email    string    `json:"email,omitempty"`
	State    string    `json:"state"`
	Username string    `json:"username,omitempty"`
	Version  int       `json:"version"`
	SelfURI  string    `json:"selfUri"`
}

// usersSearchResponse is UsersSearchResponse.
type usersSearchResponse struct {
	Total      int        `json:"total"`
	PageCount  int        `json:"pageCount"`
	PageSize   int        `json:"pageSize"`
	PageNumber int        `json:"pageNumber"`
	Types      []string   `json:"types"`
	Results    []userWire `json:"results"`
}

const homeDivisionID = "6f2d8c1e-0b7a-4c55-9f43-2d1e8a7b9c00"

func conversationJSON(c Conversation) conversationWire {
	out := conversationWire{
		ID:             c.ID,
		Name:           c.Name,
		StartTime:      genesysTime(c.StartTime),
		EndTime:        genesysTime(c.EndTime),
		Participants:   make([]participantWire, 0, len(c.Participants)),
		RecordingState: "NONE",
		Divisions:      []any{},
		SelfURI:        "/api/v2/conversations/" + c.ID,
	}
	for _, p := range c.Participants {
		pw := participantWire{
			ID:                p.ID,
			StartTime:         genesysTime(p.StartTime),
			EndTime:           genesysTime(p.EndTime),
			ConnectedTime:     genesysTime(p.ConnectedTime),
			Name:              p.Name,
			UserID:            p.UserID,
			ExternalContactID: p.ExternalContactID,
			QueueID:           p.QueueID,
			QueueName:         p.QueueName,
			Purpose:           p.Purpose,
			Address:           p.Address,
			ANI:               p.ANI,
			DNIS:              p.DNIS,
			Attributes:        map[string]string{},
			mediaArrays:       newMediaArrays(p),
		}
		if p.UserID != "" {
			pw.UserURI = "/api/v2/users/" + p.UserID
		}
		out.Participants = append(out.Participants, pw)
	}
	return out
}

// callState maps participant states onto the Call state enum, which has no
// "parked".
func callState(s string) string {
	if s == "parked" {
		return "connected"
	}
	return s
}

func callConversationJSON(c Conversation) callConversationWire {
	out := callConversationWire{
		ID:             c.ID,
		Name:           c.Name,
		Participants:   make([]callParticipantWire, 0, len(c.Participants)),
		OtherMediaURIs: otherMediaURIs(c, MediaVoice),
		RecordingState: "none",
		SelfURI:        "/api/v2/conversations/calls/" + c.ID,
	}
	for _, p := range c.Participants {
		// The calls family shows only the participants on the call.
		if !p.hasMedia(MediaVoice) {
			continue
		}
		pw := callParticipantWire{
			mediaParticipantBase: mediaParticipantBase{
				ID:             p.ID,
				Name:           p.Name,
				Address:        p.Address,
				StartTime:      genesysTime(p.StartTime),
				ConnectedTime:  genesysTime(p.ConnectedTime),
				EndTime:        genesysTime(p.EndTime),
				Purpose:        p.Purpose,
				State:          p.familyState(MediaVoice),
				Direction:      p.Direction,
				DisconnectType: p.DisconnectType,
				Held:           p.Held,
				Attributes:     map[string]string{},
				Provider:       "Edge",
			},
			Muted:          p.Muted,
			RecordingState: "none",
			ANI:            p.ANI,
			DNIS:           p.DNIS,
		}
		pw.User, pw.Queue, pw.ExternalContact = entityRefs(p)
		out.Participants = append(out.Participants, pw)
	}
	return out
}

// entityRefs are the participant's user, queue and external contact as
// the family shapes carry them (DomainEntityRef), nil when unset.
func entityRefs(p Participant) (user, queue, contact *entityRef) {
	if p.UserID != "" {
		user = &entityRef{ID: p.UserID, SelfURI: "/api/v2/users/" + p.UserID}
	}
	if p.QueueID != "" {
		queue = &entityRef{ID: p.QueueID, Name: p.QueueName, SelfURI: "/api/v2/routing/queues/" + p.QueueID}
	}
	if p.ExternalContactID != "" {
		contact = &entityRef{ID: p.ExternalContactID, SelfURI: "/api/v2/externalcontacts/contacts/" + p.ExternalContactID}
	}
	return user, queue, contact
}

func userJSON(u User) userWire {
	return userWire{
		ID:       u.ID,
		Name:     u.Name,
		Division: entityRef{ID: homeDivisionID, Name: "Home", SelfURI: "/api/v2/authorization/divisions/" + homeDivisionID},
		Email:    u.Email,
		State:    u.State,
		Username: u.Username,
		Version:  1,
		SelfURI:  "/api/v2/users/" + u.ID,
	}
}
