package genesys

// The conversation wire format: the generic and the media families'
// documents as Genesys sends them, and their conversion to the model.

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// wireTime accepts Genesys timestamps and ignores anything unreadable
// instead of failing the whole conversation over one bad time.
type wireTime struct{ time.Time }

func (t *wireTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil || s == "" {
		return nil
	}
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = v.UTC()
	}
	return nil
}

// latest returns the latest of ts.
func latest(ts ...wireTime) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t.Time
		}
	}
	return out
}

type wireRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// wireConversation is the generic Conversation shape.
type wireConversation struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	StartTime    wireTime          `json:"startTime"`
	EndTime      wireTime          `json:"endTime"`
	Participants []wireParticipant `json:"participants"`
}

// wireLeg is what both families' participants carry on the participant
// itself.
type wireLeg struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Purpose       string   `json:"purpose"`
	Address       string   `json:"address"`
	ANI           string   `json:"ani"`
	DNIS          string   `json:"dnis"`
	StartTime     wireTime `json:"startTime"`
	ConnectedTime wireTime `json:"connectedTime"`
	EndTime       wireTime `json:"endTime"`
	// On a media-family participant, the state of its session of that
	// medium. Not in the generic shape, but in the notification shape that
	// Genesys's own tutorials copy onto the participant: read there when a
	// participant has no sessions in its media arrays.
	State          string `json:"state"`
	Held           bool   `json:"held"`
	Muted          bool   `json:"muted"`
	Direction      string `json:"direction"`
	DisconnectType string `json:"disconnectType"`
}

// participant is the model of the leg, its state aside: the families say
// it in different places.
func (l *wireLeg) participant() Participant {
	return Participant{
		ID:            l.ID,
		Name:          l.Name,
		Purpose:       strings.ToLower(l.Purpose),
		Address:       l.Address,
		ANI:           l.ANI,
		DNIS:          l.DNIS,
		StartTime:     l.StartTime.Time,
		ConnectedTime: l.ConnectedTime.Time,
		EndTime:       l.EndTime.Time,
		State:         StateNone,
	}
}

// wireParticipant is the generic Participant: its state lives in its
// sessions, one array per medium.
type wireParticipant struct {
	wireLeg
	UserID            string `json:"userId"`
	ExternalContactID string `json:"externalContactId"`
	QueueID           string `json:"queueId"`
	QueueName         string `json:"queueName"`

	Calls             []wireComm `json:"calls"`
	Callbacks         []wireComm `json:"callbacks"`
	Chats             []wireComm `json:"chats"`
	Cobrowsesessions  []wireComm `json:"cobrowsesessions"`
	Emails            []wireComm `json:"emails"`
	Messages          []wireComm `json:"messages"`
	Screenshares      []wireComm `json:"screenshares"`
	SocialExpressions []wireComm `json:"socialExpressions"`
	Videos            []wireComm `json:"videos"`
}

// wireComm is any element of a participant's media arrays (Call, Callback,
// ConversationChat, Cobrowsesession, Email, Message, Screenshare,
// SocialExpression, Video): the fields they share, and those only some
// have (held, muted, audioMuted, a message's type and addresses).
type wireComm struct {
	ID                string       `json:"id"`
	State             string       `json:"state"`
	Direction         string       `json:"direction"`
	Held              bool         `json:"held"`
	Muted             bool         `json:"muted"`
	AudioMuted        bool         `json:"audioMuted"`
	DisconnectType    string       `json:"disconnectType"`
	StartAlertingTime wireTime     `json:"startAlertingTime"`
	StartHoldTime     wireTime     `json:"startHoldTime"`
	ConnectedTime     wireTime     `json:"connectedTime"`
	DisconnectedTime  wireTime     `json:"disconnectedTime"`
	Type              string       `json:"type"`
	ToAddress         *wireAddress `json:"toAddress"`
	FromAddress       *wireAddress `json:"fromAddress"`
}

// wireAddress is Address.
type wireAddress struct {
	AddressNormalized string `json:"addressNormalized"`
	AddressRaw        string `json:"addressRaw"`
}

func (a *wireAddress) String() string {
	if a == nil {
		return ""
	}
	if a.AddressNormalized != "" {
		return a.AddressNormalized
	}
	return a.AddressRaw
}

func (w wireComm) model(m Media) Communication {
	c := Communication{
		Media:            m,
		ID:               w.ID,
		State:            normState(w.State),
		Direction:        w.Direction,
		Held:             w.Held,
		Muted:            w.Muted || w.AudioMuted,
		ConnectedTime:    w.ConnectedTime.Time,
		DisconnectedTime: w.DisconnectedTime.Time,
		DisconnectType:   w.DisconnectType,
	}
	if m == MediaMessage {
		c.MessageType = strings.ToLower(w.Type)
		c.FromAddress, c.ToAddress = w.FromAddress.String(), w.ToAddress.String()
	}
	return c
}

func (w wireComm) activity() time.Time {
	return latest(w.StartAlertingTime, w.ConnectedTime, w.StartHoldTime, w.DisconnectedTime)
}

// communications lists the participant's sessions of every medium, and
// when each was last active.
func (wp *wireParticipant) communications() ([]Communication, []time.Time) {
	arrays := []struct {
		m  Media
		ws []wireComm
	}{
		{MediaVoice, wp.Calls}, {MediaCallback, wp.Callbacks}, {MediaChat, wp.Chats},
		{MediaCobrowse, wp.Cobrowsesessions}, {MediaEmail, wp.Emails}, {MediaMessage, wp.Messages},
		{MediaScreenshare, wp.Screenshares}, {MediaSocial, wp.SocialExpressions}, {MediaVideo, wp.Videos},
	}
	var (
		out      []Communication
		activity []time.Time
	)
	for _, a := range arrays {
		for _, w := range a.ws {
			out = append(out, w.model(a.m))
			activity = append(activity, w.activity())
		}
	}
	return out, activity
}

// wireFamilyConversation is a media family's conversation:
// CallConversation, CallbackConversation, ChatConversation,
// EmailConversation or MessageConversation.
type wireFamilyConversation struct {
	media          Media
	ID             string                  `json:"id"`
	Name           string                  `json:"name"`
	Participants   []wireFamilyParticipant `json:"participants"`
	OtherMediaURIs []string                `json:"otherMediaUris"`
}

// wireFamilyParticipant is a media family's participant
// (CallMediaParticipant, CallbackMediaParticipant, …): the state of its
// session of that medium on the participant, related entities as
// DomainEntityRef.
type wireFamilyParticipant struct {
	wireLeg
	StartAlertingTime wireTime     `json:"startAlertingTime"`
	StartHoldTime     wireTime     `json:"startHoldTime"`
	User              *wireRef     `json:"user"`
	Queue             *wireRef     `json:"queue"`
	ExternalContact   *wireRef     `json:"externalContact"`
	Type              string       `json:"type"`
	ToAddress         *wireAddress `json:"toAddress"`
	FromAddress       *wireAddress `json:"fromAddress"`
}

// wireConversationDoc is either family's conversation document.
type wireConversationDoc interface {
	conversationID() string
	model() *Conversation
}

// newWireConversation returns the document a family's answer decodes into.
func newWireConversation(fam EndpointFamily) wireConversationDoc {
	if m := familyMedia(fam); m != "" {
		return &wireFamilyConversation{media: m}
	}
	return &wireConversation{}
}

func (w *wireConversation) conversationID() string       { return w.ID }
func (w *wireFamilyConversation) conversationID() string { return w.ID }

// conversationFrom turns a decoded answer to op into the model. It never
// panics on any document.
func conversationFrom(op string, resp apiResponse, w wireConversationDoc) (*Conversation, error) {
	if w.conversationID() == "" {
		return nil, &DecodeError{Operation: op, Status: resp.status, ContentType: "application/json", CorrelationID: resp.correlationID, Err: errors.New("conversation has no id")}
	}
	return w.model(), nil
}

// checkAnswerIDs refuses an answer about another conversation than the one
// asked for, or with a participant id that is not a UUID. Ids from an answer
// go into later URL paths, button values and the messages people read, so
// an answer that would smuggle anything else in is not used at all.
func checkAnswerIDs(op string, resp apiResponse, want string, conv *Conversation) error {
	bad := func(format string, args ...any) error {
		return &DecodeError{Operation: op, Status: resp.status, ContentType: "application/json", CorrelationID: resp.correlationID, Err: fmt.Errorf(format, args...)}
	}
	if !idEqual(conv.ID, want) {
		return bad("the answer is about conversation %q, not %s", shorten(conv.ID, 64), want)
	}
	conv.ID = want
	for _, p := range conv.Participants {
		if !isUUID(p.ID) {
			return bad("participant id %q is not a UUID", shorten(p.ID, 64))
		}
	}
	return nil
}

func normState(s string) State {
	if s == "" {
		return StateNone
	}
	return State(strings.ToLower(s))
}

func (w *wireConversation) model() *Conversation {
	c := &Conversation{
		ID:           w.ID,
		Name:         w.Name,
		StartTime:    w.StartTime.Time,
		EndTime:      w.EndTime.Time,
		Participants: make([]Participant, 0, len(w.Participants)),
	}
	for _, wp := range w.Participants {
		p := wp.participant()
		p.UserID, p.ExternalContactID = wp.UserID, wp.ExternalContactID
		p.QueueID, p.QueueName = wp.QueueID, wp.QueueName
		var activity []time.Time
		p.Communications, activity = wp.communications()
		if len(p.Communications) == 0 {
			// The notification shape: what there is sits on the participant.
			p.Held, p.Muted, p.Direction, p.DisconnectType = wp.Held, wp.Muted, wp.Direction, wp.DisconnectType
		}
		p.applyCommunications(wp.State, activity)
		c.Participants = append(c.Participants, p)
	}
	c.setMedia()
	return c
}

// setMedia fills Media and MediaType from the participants.
func (c *Conversation) setMedia() {
	c.Media = conversationMedia(c.Participants)
	if len(c.Media) > 0 {
		c.MediaType = string(c.Media[0])
	}
}

func (w *wireFamilyConversation) model() *Conversation {
	c := &Conversation{
		ID:           w.ID,
		Name:         w.Name,
		Participants: make([]Participant, 0, len(w.Participants)),
	}
	for _, wp := range w.Participants {
		p := wp.participant()
		if wp.User != nil {
			p.UserID = wp.User.ID
		}
		if wp.Queue != nil {
			p.QueueID, p.QueueName = wp.Queue.ID, wp.Queue.Name
		}
		if wp.ExternalContact != nil {
			p.ExternalContactID = wp.ExternalContact.ID
		}
		// The family shape is one session of the family's medium, its state
		// on the participant.
		comm := wireComm{
			State: wp.State, Direction: wp.Direction, Held: wp.Held, Muted: wp.Muted,
			DisconnectType: wp.DisconnectType, StartAlertingTime: wp.StartAlertingTime,
			StartHoldTime: wp.StartHoldTime, ConnectedTime: wp.ConnectedTime, DisconnectedTime: wp.EndTime,
			Type: wp.Type, ToAddress: wp.ToAddress, FromAddress: wp.FromAddress,
		}
		p.Communications = []Communication{comm.model(w.media)}
		p.applyCommunications(wp.State, []time.Time{comm.activity()})
		// The family shapes have no conversation start time; the earliest
		// participant start is the closest thing.
		if !p.StartTime.IsZero() && (c.StartTime.IsZero() || p.StartTime.Before(c.StartTime)) {
			c.StartTime = p.StartTime
		}
		c.Participants = append(c.Participants, p)
	}
	c.setMedia()
	return c
}

// otherFamilies are the other media families the answer points at
// (otherMediaUris).
func (w *wireFamilyConversation) otherFamilies() []EndpointFamily {
	var out []EndpointFamily
	for _, u := range w.OtherMediaURIs {
		if f, ok := familyFromURI(u, w.ID); ok && f != w.media.family() && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// familyFromURI reads an otherMediaUris entry, e.g.
// /api/v2/conversations/messages/{id}; only the families this client knows,
// for the same conversation.
func familyFromURI(u, convID string) (EndpointFamily, bool) {
	rest, ok := strings.CutPrefix(u, "/api/v2/conversations/")
	if !ok {
		return "", false
	}
	seg, id, ok := strings.Cut(rest, "/")
	if !ok || !idEqual(id, convID) {
		return "", false
	}
	f := EndpointFamily(seg)
	return f, familyMedia(f) != ""
}
