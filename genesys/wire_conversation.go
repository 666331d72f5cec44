package genesys

// The conversation wire format: the generic and the calls family's
// documents as Genesys sends them, and their conversion to the model.

import (
	"encoding/json"
	"errors"
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
	// On a calls-family participant, its call state. Not in the generic
	// shape, but in the notification shape that Genesys's own tutorials
	// copy onto the participant: read there as a fallback when a
	// participant has no calls[].
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

// legState copies the state the leg carries itself into p.
func (l *wireLeg) legState(p *Participant) {
	p.State = normState(l.State)
	p.Held, p.Muted, p.Direction, p.DisconnectType = l.Held, l.Muted, l.Direction, l.DisconnectType
}

// wireParticipant is the generic Participant: its call state lives in calls[].
type wireParticipant struct {
	wireLeg
	UserID            string     `json:"userId"`
	ExternalContactID string     `json:"externalContactId"`
	QueueID           string     `json:"queueId"`
	QueueName         string     `json:"queueName"`
	Calls             []wireCall `json:"calls"`
}

type wireCall struct {
	ID                string   `json:"id"`
	State             string   `json:"state"`
	Direction         string   `json:"direction"`
	Held              bool     `json:"held"`
	Muted             bool     `json:"muted"`
	DisconnectType    string   `json:"disconnectType"`
	StartAlertingTime wireTime `json:"startAlertingTime"`
	StartHoldTime     wireTime `json:"startHoldTime"`
	ConnectedTime     wireTime `json:"connectedTime"`
	DisconnectedTime  wireTime `json:"disconnectedTime"`
}

// wireCallConversation is the calls-family CallConversation.
type wireCallConversation struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	Participants []wireCallParticipant `json:"participants"`
}

// wireCallParticipant is CallMediaParticipant: state on the participant,
// related entities as DomainEntityRef.
type wireCallParticipant struct {
	wireLeg
	User            *wireRef `json:"user"`
	Queue           *wireRef `json:"queue"`
	ExternalContact *wireRef `json:"externalContact"`
}

// wireConversationDoc is either family's conversation document.
type wireConversationDoc interface {
	conversationID() string
	model() *Conversation
}

// newWireConversation returns the document a family's answer decodes into.
func newWireConversation(fam EndpointFamily) wireConversationDoc {
	if fam == FamilyCalls {
		return &wireCallConversation{}
	}
	return &wireConversation{}
}

func (w *wireConversation) conversationID() string     { return w.ID }
func (w *wireCallConversation) conversationID() string { return w.ID }

// conversationFrom turns a decoded answer to op into the model. It never
// panics on any document.
func conversationFrom(op string, resp apiResponse, w wireConversationDoc) (*Conversation, error) {
	if w.conversationID() == "" {
		return nil, &DecodeError{Operation: op, Status: resp.status, ContentType: "application/json", CorrelationID: resp.correlationID, Err: errors.New("conversation has no id")}
	}
	return w.model(), nil
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
		if call := pickCall(wp.Calls); call != nil {
			c.MediaType = "voice"
			p.State = normState(call.State)
			p.Direction = call.Direction
			p.Held = call.Held
			p.Muted = call.Muted
			p.DisconnectType = call.DisconnectType
			if !call.ConnectedTime.IsZero() {
				p.ConnectedTime = call.ConnectedTime.Time
			}
			if p.EndTime.IsZero() && p.State.Ended() {
				p.EndTime = call.DisconnectedTime.Time
			}
		} else if wp.State != "" {
			wp.legState(&p)
		} else if !p.EndTime.IsZero() {
			// No call (another media type): all we know is that it ended.
			p.State = StateDisconnected
		}
		c.Participants = append(c.Participants, p)
	}
	return c
}

// pickCall chooses the call that describes the participant now: a call that
// has not ended beats one that has, and among equals the latest activity
// wins (later entries win ties, Genesys appends new calls).
func pickCall(calls []wireCall) *wireCall {
	var best *wireCall
	for i := range calls {
		cur := &calls[i]
		if best == nil {
			best = cur
			continue
		}
		curEnded, bestEnded := normState(cur.State).Ended(), normState(best.State).Ended()
		if curEnded != bestEnded {
			if !curEnded {
				best = cur
			}
			continue
		}
		if !activity(cur).Before(activity(best)) {
			best = cur
		}
	}
	return best
}

func activity(c *wireCall) time.Time {
	return latest(c.StartAlertingTime, c.ConnectedTime, c.StartHoldTime, c.DisconnectedTime)
}

func (w *wireCallConversation) model() *Conversation {
	c := &Conversation{
		ID:           w.ID,
		Name:         w.Name,
		MediaType:    "voice",
		Participants: make([]Participant, 0, len(w.Participants)),
	}
	for _, wp := range w.Participants {
		p := wp.participant()
		wp.legState(&p)
		if wp.User != nil {
			p.UserID = wp.User.ID
		}
		if wp.Queue != nil {
			p.QueueID, p.QueueName = wp.Queue.ID, wp.Queue.Name
		}
		if wp.ExternalContact != nil {
			p.ExternalContactID = wp.ExternalContact.ID
		}
		// The calls shape has no conversation start time; the earliest
		// participant start is the closest thing.
		if !p.StartTime.IsZero() && (c.StartTime.IsZero() || p.StartTime.Before(c.StartTime)) {
			c.StartTime = p.StartTime
		}
		c.Participants = append(c.Participants, p)
	}
	return c
}
