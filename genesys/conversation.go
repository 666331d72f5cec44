package genesys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	w := newWireConversation(fam)
	resp, err := c.do(ctx, req, w)
	if err != nil {
		return nil, err
	}
	return conversationFrom(req.op, resp, w)
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
		req := apiRequest{method: http.MethodPatch, body: disconnectBody, settled: c.legGone(conversationID, participantID)}
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
		res = DisconnectResult{Outcome: DisconnectAccepted, CorrelationID: resp.correlationID, SettledByReread: resp.settled}
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
