package genesys

import (
	"context"
	"errors"
	"time"
)

// NothingSent reports whether err ended a request before any attempt of it
// reached the endpoint: the bot could not get an access token.
func NothingSent(err error) bool {
	if err == nil || MaybeApplied(err) {
		return false
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.Operation == opToken
	}
	if tErr, ok := errors.AsType[*TransportError](err); ok {
		return tErr.Operation == opToken
	}
	if dErr, ok := errors.AsType[*DecodeError](err); ok {
		return dErr.Operation == opToken
	}
	return false
}

// settleTimeout bounds the re-read that decides whether a PATCH must be
// sent again.
const settleTimeout = 2 * time.Second

// legGone returns the apiRequest.settled check for a participant PATCH:
// before the PATCH is sent again after an attempt that may have taken
// effect, the conversation is re-read, and a participant that has left (or
// a conversation that is over) means the earlier attempt did the work. A
// re-read that fails says nothing: the PATCH is sent again.
func (c *Client) legGone(conversationID, participantID string, m Media) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		ctx, cancel := context.WithTimeout(ctx, settleTimeout)
		defer cancel()
		conv, err := c.GetConversation(ctx, conversationID)
		if err != nil {
			gone := isConversationGone(err)
			c.log.Debug("re-read before re-sending the PATCH", "conversation_id", conversationID, "participant_id", participantID, "gone", gone, "err", err)
			return gone
		}
		p, ok := findParticipant(conv, participantID)
		// A media family ends that medium's sessions (m); others may go on.
		gone := ok && (p.State.Ended() || m != "" && sessionsEnded(p, m)) || !conv.EndTime.IsZero()
		c.log.Debug("re-read before re-sending the PATCH", "conversation_id", conversationID, "participant_id", participantID, "gone", gone)
		return gone
	}
}
