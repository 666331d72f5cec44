package bot

import (
	"context"
	"errors"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// settleFailedDisconnect decides what the channel is told about a
// disconnect whose PATCH ended in an error. What is posted there is the
// audit trail, so it must be true:
//
//   - nothing reached the endpoint (no access token): a plain failure that
//     says so;
//   - Genesys answered definitely (a 4xx): a failure with its reason;
//   - an attempt may have taken effect (sent, then a 5xx, a timeout or a
//     lost answer): the call is re-read (for up to genesys.ConfirmTimeout),
//     and the participant having left is a confirmed disconnect, still
//     being there a failure, and a re-read that fails too is unknown
//     ("check the call"). When the last attempt got no answer at all, the
//     request may still be on its way through Genesys, so a participant
//     still there is unknown too, not a failure: "could not disconnect"
//     must never be posted about someone the request then drops.
func (h *handler) settleFailedDisconnect(ctx context.Context, conversationID string, p genesys.Participant, err error) (OutcomeStatus, string) {
	text := genesys.UserMessage(err)
	switch {
	case genesys.NothingSent(err):
		return OutcomeFailed, "Nothing was sent to Genesys: the bot could not get a Genesys access token. " + text
	case !genesys.MaybeApplied(err):
		return OutcomeFailed, text
	}
	// Only Genesys's state of the call says whether it happened. The work
	// context may be what ran out; the answer is still owed.
	rctx, cancel := detached(ctx)
	defer cancel()
	if left, shuttingDown := reportTimeLeft(ctx); shuttingDown {
		// Half of what the shutdown leaves: the outcome must still be
		// posted after the re-read.
		var cancelReread context.CancelFunc
		rctx, cancelReread = context.WithTimeout(rctx, left/2)
		defer cancelReread()
	}
	conf, cerr := h.Genesys.ConfirmDisconnect(rctx, conversationID, p.ID)
	switch {
	case cerr != nil:
		h.Log.Warn("re-reading the call after an uncertain disconnect failed", "err", cerr, "conversation_id", conversationID, "participant_id", p.ID)
		return OutcomeUnknown, noAnswerReason(err) + " and the call could not be read back"
	case conf.Confirmed:
		h.Log.Info("disconnect confirmed by re-reading the call after an uncertain answer", "err", err, "conversation_id", conversationID, "participant_id", p.ID)
		return OutcomeConfirmed, ""
	}
	if _, lost := errors.AsType[*genesys.TransportError](err); lost {
		return OutcomeUnknown, noAnswerReason(err) + " and they were still on the call when the bot looked again"
	}
	return OutcomeFailed, "They are still on the call. " + text
}
