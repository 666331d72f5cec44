package genesys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// disconnectBody is the exact MediaParticipantRequest the PATCH sends.
var disconnectBody = []byte(`{"state":"disconnected"}`)

// withFamily runs fn on the endpoint family to use: the configured one, or
// in auto mode the generic family, or the media family (mediaFamily) once
// Genesys has refused client credentials (400 not.a.user) on the generic
// one. In auto mode a not.a.user answer is tried once more on the other
// side, and the side that worked is remembered for the life of the Client.
// mediaFamily returning "" means the medium has no family of its own.
func (c *Client) withFamily(ctx context.Context, mediaFamily func() (EndpointFamily, error), fn func(EndpointFamily) error) (EndpointFamily, error) {
	if c.endpoints != FamilyAuto {
		return c.endpoints, fn(c.endpoints)
	}
	fam := FamilyGeneric
	if c.preferCalls.Load() {
		f, err := mediaFamily()
		if err != nil {
			return fam, err
		}
		if f != "" {
			fam = f
		}
	}
	err := fn(fam)
	if err == nil || ErrorKind(err) != KindNotAUser {
		return fam, err
	}
	other := FamilyGeneric
	if fam == FamilyGeneric {
		f, ferr := mediaFamily()
		if ferr != nil || f == "" {
			return fam, err // nowhere else to go: report the refusal
		}
		other = f
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "genesys refused client credentials on this endpoint family; trying the other",
		slog.String("from", string(fam)), slog.String("to", string(other)), slog.String("correlation_id", CorrelationID(err)))
	if err2 := fn(other); err2 != nil {
		if ErrorKind(err2) == KindNotAUser {
			return fam, err // both refuse: report the first
		}
		c.preferCalls.Store(other != FamilyGeneric)
		return other, err2
	}
	c.preferCalls.Store(other != FamilyGeneric)
	return other, nil
}

// GetConversation reads a conversation and its participants, every medium,
// normalized to the same model whichever endpoint family answered. Read
// through the calls family (genesys.endpoints calls, or in auto mode after
// the generic family refused client credentials), a conversation with
// other media is completed from their families (otherMediaUris) in auto
// mode; with calls forced, a conversation nobody is on a call in is a
// *MediaError.
func (c *Client) GetConversation(ctx context.Context, conversationID string) (*Conversation, error) {
	if err := ValidateID("conversation id", conversationID); err != nil {
		return nil, err
	}
	var conv *Conversation
	calls := func() (EndpointFamily, error) { return FamilyCalls, nil }
	_, err := c.withFamily(ctx, calls, func(fam EndpointFamily) error {
		var err error
		conv, err = c.readFamilies(ctx, conversationID, fam, c.endpoints == FamilyAuto)
		if err != nil && fam == FamilyCalls && c.endpoints == FamilyAuto && isConversationGone(err) {
			// The calls family may not know a conversation of other media at
			// all: before calling it gone (which a confirmation would take
			// for "disconnected"), ask the generic family, which refused
			// only a disconnect, maybe not a read.
			if g, gerr := c.readFamilies(ctx, conversationID, FamilyGeneric, false); gerr == nil {
				conv, err = g, nil
			} else if ErrorKind(gerr) != KindNotAUser {
				err = gerr
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	c.hints.remember(conv)
	return conv, nil
}

// validateParticipantPath checks both ids that go into a participant URL.
func validateParticipantPath(conversationID, participantID string) error {
	if err := ValidateID("conversation id", conversationID); err != nil {
		return err
	}
	return ValidateID("participant id", participantID)
}

// DisconnectParticipant asks Genesys to drop one participant, on whatever
// medium it is: the generic participant PATCH first and, when Genesys
// refuses client credentials there (400 not.a.user), the participant's
// media family (calls, callbacks, chats, emails or messages). Genesys
// answers 202 before the leg actually drops: use ConfirmDisconnect to wait
// for it. A participant that is already gone is not an error
// (Outcome DisconnectAlreadyGone). The medium comes from the client's last
// read of the conversation; without one the calls family is tried first,
// and the participant is read when the calls family does not know it.
func (c *Client) DisconnectParticipant(ctx context.Context, conversationID, participantID string) (DisconnectResult, error) {
	if err := validateParticipantPath(conversationID, participantID); err != nil {
		return DisconnectResult{}, err
	}
	known, haveHint := c.hints.mediaOf(conversationID, participantID)
	if c.endpoints == FamilyCalls && haveHint && known != MediaVoice {
		return DisconnectResult{}, &MediaError{ConversationID: conversationID, Media: []Media{known}}
	}
	guessed := false
	mediaFamily := func() (EndpointFamily, error) {
		if haveHint {
			return known.family(), nil
		}
		guessed = true
		return FamilyCalls, nil // voice: what an unread participant most likely is
	}
	var (
		res      DisconnectResult
		rerouted EndpointFamily
		refusal  error // the generic family's not.a.user
	)
	fam, err := c.withFamily(ctx, mediaFamily, func(fam EndpointFamily) error {
		r, err := c.patchParticipant(ctx, fam, conversationID, participantID)
		if fam == FamilyGeneric && ErrorKind(err) == KindNotAUser {
			refusal = err
		}
		if err != nil && guessed && fam == FamilyCalls && isNotParticipant(err) {
			// Not on a call: read which medium it is on, and ask that family.
			f, ferr := c.participantFamily(ctx, conversationID, participantID)
			switch {
			case ferr == nil && f != "" && f != FamilyCalls:
				rerouted = f
				r, err = c.patchParticipant(ctx, f, conversationID, participantID)
			case ferr == nil && f == "" && refusal != nil:
				return refusal // its medium has no family: the refusal stands
			}
		}
		res = r
		return err
	})
	if rerouted != "" {
		fam = rerouted
	}
	if err != nil {
		return DisconnectResult{}, err
	}
	res.Family = fam
	c.hints.disconnectedVia(conversationID, participantID, familyMedia(fam))
	return res, nil
}

func isNotParticipant(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.Code == codeNotParticipant
}

// ConfirmDisconnect re-reads the conversation until the participant's state
// is disconnected or terminated (on every medium: the same sessions
// GetConversation reads; when a media family took the disconnect, until
// that medium's sessions ended), for at most Config.ConfirmTimeout. Running
// out of time is not an error: it returns Confirmed=false. A conversation
// that no longer exists (404) counts as confirmed.
func (c *Client) ConfirmDisconnect(ctx context.Context, conversationID, participantID string) (Confirmation, error) {
	if err := validateParticipantPath(conversationID, participantID); err != nil {
		return Confirmation{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, c.confirmTimeout)
	defer cancel()

	var conf Confirmation
	via := c.hints.viaOf(conversationID, participantID)
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
			// A media family ends that medium's sessions; others of the
			// participant (a co-browse beside the call) may go on.
			if p.State.Ended() || !conv.EndTime.IsZero() || (via != "" && sessionsEnded(p, via)) {
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
