package genesys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// disconnectBody is the exact MediaParticipantRequest the PATCH sends.
var disconnectBody = []byte(`{"state":"disconnected"}`)

// family returns the endpoint family to try first.
func (c *Client) family() EndpointFamily {
	if c.endpoints != FamilyAuto {
		return c.endpoints
	}
	if c.preferCalls.Load() {
		return FamilyCalls
	}
	return FamilyGeneric
}

// withFamily runs fn on the preferred family and, in auto mode, once more on
// the other family when Genesys refuses client credentials (400 not.a.user).
// The family that worked is remembered for the life of the Client.
func (c *Client) withFamily(ctx context.Context, fn func(EndpointFamily) error) (EndpointFamily, error) {
	fam := c.family()
	err := fn(fam)
	if err == nil || c.endpoints != FamilyAuto || ErrorKind(err) != KindNotAUser {
		return fam, err
	}
	other := FamilyCalls
	if fam == FamilyCalls {
		other = FamilyGeneric
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "genesys refused client credentials on this endpoint family; trying the other",
		slog.String("from", string(fam)), slog.String("to", string(other)), slog.String("correlation_id", CorrelationID(err)))
	if err2 := fn(other); err2 != nil {
		if ErrorKind(err2) == KindNotAUser {
			return fam, err // both refuse: report the first
		}
		c.preferCalls.Store(other == FamilyCalls)
		return other, err2
	}
	c.preferCalls.Store(other == FamilyCalls)
	return other, nil
}

// GetConversation reads a conversation and its participants, normalized to
// the same model whichever endpoint family answered.
func (c *Client) GetConversation(ctx context.Context, conversationID string) (*Conversation, error) {
	if err := ValidateID("conversation id", conversationID); err != nil {
		return nil, err
	}
	var conv *Conversation
	_, err := c.withFamily(ctx, func(fam EndpointFamily) error {
		var err error
		conv, err = c.getConversation(ctx, conversationID, fam)
		return err
	})
	if err != nil {
		return nil, err
	}
	return conv, nil
}

func (c *Client) getConversation(ctx context.Context, id string, fam EndpointFamily) (*Conversation, error) {
	req := apiRequest{method: http.MethodGet}
	if fam == FamilyCalls {
		req.op, req.path = opGetCall, "/api/v2/conversations/calls/"+url.PathEscape(id)
	} else {
		req.op, req.path = opGetConversation, "/api/v2/conversations/"+url.PathEscape(id)
	}
	// Decoded straight into the wire type: a detour through
	// json.RawMessage scanned every answer twice.
	var (
		model func() (*Conversation, string)
		out   any
	)
	if fam == FamilyCalls {
		var w wireCallConversation
		out, model = &w, func() (*Conversation, string) { return w.model(), w.ID }
	} else {
		var w wireConversation
		out, model = &w, func() (*Conversation, string) { return w.model(), w.ID }
	}
	resp, err := c.do(ctx, req, out)
	if err != nil {
		return nil, err
	}
	conv, id := model()
	if id == "" {
		return nil, &DecodeError{Operation: req.op, Status: resp.status, ContentType: "application/json", CorrelationID: resp.correlationID, Err: errors.New("conversation has no id")}
	}
	return conv, nil
}

// validateParticipantPath checks both ids that go into a participant URL.
func validateParticipantPath(conversationID, participantID string) error {
	if err := ValidateID("conversation id", conversationID); err != nil {
		return err
	}
	return ValidateID("participant id", participantID)
}

// DisconnectParticipant asks Genesys to drop one participant. Genesys
// answers 202 before the leg actually drops: use ConfirmDisconnect to wait
// for it. A participant that is already gone is not an error
// (Outcome DisconnectAlreadyGone).
func (c *Client) DisconnectParticipant(ctx context.Context, conversationID, participantID string) (DisconnectResult, error) {
	if err := validateParticipantPath(conversationID, participantID); err != nil {
		return DisconnectResult{}, err
	}
	var res DisconnectResult
	fam, err := c.withFamily(ctx, func(fam EndpointFamily) error {
		req := apiRequest{method: http.MethodPatch, body: disconnectBody}
		if fam == FamilyCalls {
			req.op = opPatchCallParticipant
			req.path = "/api/v2/conversations/calls/" + url.PathEscape(conversationID) + "/participants/" + url.PathEscape(participantID)
		} else {
			req.op = opPatchParticipant
			req.path = "/api/v2/conversations/" + url.PathEscape(conversationID) + "/participants/" + url.PathEscape(participantID)
		}
		resp, err := c.do(ctx, req, nil)
		if err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest &&
				(apiErr.Code == codeCallDisconnected || apiErr.Code == codeNoActiveConversation) {
				res = DisconnectResult{Outcome: DisconnectAlreadyGone, CorrelationID: apiErr.CorrelationID}
				if apiErr.AfterUncertainAttempt {
					// Our own earlier attempt most likely dropped the leg
					// and its 202 was lost: not "someone else did it".
					res.Outcome = DisconnectAccepted
				}
				return nil
			}
			return err
		}
		res = DisconnectResult{Outcome: DisconnectAccepted, CorrelationID: resp.correlationID}
		return nil
	})
	if err != nil {
		return DisconnectResult{}, err
	}
	res.Family = fam
	return res, nil
}

// ConfirmDisconnect re-reads the conversation until the participant's state
// is disconnected or terminated, for at most Config.ConfirmTimeout. Running
// out of time is not an error: it returns Confirmed=false. A conversation
// that no longer exists (404) counts as confirmed.
func (c *Client) ConfirmDisconnect(ctx context.Context, conversationID, participantID string) (Confirmation, error) {
	if err := validateParticipantPath(conversationID, participantID); err != nil {
		return Confirmation{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, c.confirmTimeout)
	defer cancel()

	var conf Confirmation
	interval := c.confirmInterval
	for {
		conv, err := c.GetConversation(cctx, conversationID)
		conf.Polls++
		switch {
		case err == nil:
			p, ok := findParticipant(conv, participantID)
			if !ok {
				return conf, fmt.Errorf("%w (participant %s, conversation %s)", ErrParticipantNotFound, participantID, conversationID)
			}
			conf.Participant = p
			if p.State.Ended() || !conv.EndTime.IsZero() {
				conf.Confirmed = true
				return conf, nil
			}
		case isConversationGone(err):
			conf.Confirmed = true
			return conf, nil
		case ctx.Err() != nil:
			return conf, ctx.Err()
		case cctx.Err() != nil:
			return conf, nil // out of time: not confirmed, not an error
		default:
			return conf, err
		}
		if err := sleep(cctx, interval); err != nil {
			if ctx.Err() != nil {
				return conf, ctx.Err()
			}
			return conf, nil
		}
		interval = min(interval+interval/2, maxConfirmInterval)
	}
}

func isConversationGone(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.Code != codeNotParticipant
}

func findParticipant(conv *Conversation, id string) (Participant, bool) {
	for _, p := range conv.Participants {
		if idEqual(p.ID, id) {
			return p, true
		}
	}
	return Participant{}, false
}

// ---- wire format ----

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

// wireParticipant is the generic Participant: its call state lives in calls[].
type wireParticipant struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Purpose           string     `json:"purpose"`
	UserID            string     `json:"userId"`
	ExternalContactID string     `json:"externalContactId"`
	QueueID           string     `json:"queueId"`
	QueueName         string     `json:"queueName"`
	Address           string     `json:"address"`
	ANI               string     `json:"ani"`
	DNIS              string     `json:"dnis"`
	StartTime         wireTime   `json:"startTime"`
	ConnectedTime     wireTime   `json:"connectedTime"`
	EndTime           wireTime   `json:"endTime"`
	Calls             []wireCall `json:"calls"`
	// Not in the generic shape, but in the notification shape that
	// Genesys's own tutorials copy onto the participant: read as a fallback
	// when a participant has no calls[].
	State          string `json:"state"`
	Held           bool   `json:"held"`
	Muted          bool   `json:"muted"`
	Direction      string `json:"direction"`
	DisconnectType string `json:"disconnectType"`
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
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Purpose         string   `json:"purpose"`
	Address         string   `json:"address"`
	ANI             string   `json:"ani"`
	DNIS            string   `json:"dnis"`
	State           string   `json:"state"`
	Direction       string   `json:"direction"`
	Held            bool     `json:"held"`
	Muted           bool     `json:"muted"`
	DisconnectType  string   `json:"disconnectType"`
	StartTime       wireTime `json:"startTime"`
	ConnectedTime   wireTime `json:"connectedTime"`
	EndTime         wireTime `json:"endTime"`
	User            *wireRef `json:"user"`
	Queue           *wireRef `json:"queue"`
	ExternalContact *wireRef `json:"externalContact"`
}

// decodeConversation turns either family's JSON into the model. It never
// panics on any input.
func decodeConversation(fam EndpointFamily, data []byte) (*Conversation, error) {
	if fam == FamilyCalls {
		var w wireCallConversation
		if err := decodeJSON("application/json", data, &w); err != nil {
			return nil, err
		}
		if w.ID == "" {
			return nil, errors.New("conversation has no id")
		}
		return w.model(), nil
	}
	var w wireConversation
	if err := decodeJSON("application/json", data, &w); err != nil {
		return nil, err
	}
	if w.ID == "" {
		return nil, errors.New("conversation has no id")
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
		p := Participant{
			ID:                wp.ID,
			Name:              wp.Name,
			Purpose:           strings.ToLower(wp.Purpose),
			UserID:            wp.UserID,
			ExternalContactID: wp.ExternalContactID,
			QueueID:           wp.QueueID,
			QueueName:         wp.QueueName,
			Address:           wp.Address,
			ANI:               wp.ANI,
			DNIS:              wp.DNIS,
			StartTime:         wp.StartTime.Time,
			ConnectedTime:     wp.ConnectedTime.Time,
			EndTime:           wp.EndTime.Time,
			State:             StateNone,
		}
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
			p.State = normState(wp.State)
			p.Held, p.Muted, p.Direction, p.DisconnectType = wp.Held, wp.Muted, wp.Direction, wp.DisconnectType
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
		p := Participant{
			ID:             wp.ID,
			Name:           wp.Name,
			Purpose:        strings.ToLower(wp.Purpose),
			Address:        wp.Address,
			ANI:            wp.ANI,
			DNIS:           wp.DNIS,
			Direction:      wp.Direction,
			State:          normState(wp.State),
			Held:           wp.Held,
			Muted:          wp.Muted,
			StartTime:      wp.StartTime.Time,
			ConnectedTime:  wp.ConnectedTime.Time,
			EndTime:        wp.EndTime.Time,
			DisconnectType: wp.DisconnectType,
		}
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
