package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// showPicker replies with the participants of conv (filtered by the
// command's selector, if any) as buttons.
func (h *handler) showPicker(ctx context.Context, to replyTo, conv *genesys.Conversation, cmd Command) result {
	now := h.now()
	if conv.Ended() {
		h.reply(ctx, to, infoMessage(fmt.Sprintf(":information_source: Conversation %s has ended; there is nobody to disconnect.", code(conv.ID))), respondOptions{})
		return done(outcomeConversationEnded, "")
	}
	candidates := conv.ActiveParticipants()
	if cmd.Selector != nil {
		matched, err := h.Genesys.Identify(ctx, conv, *cmd.Selector)
		if errors.Is(err, genesys.ErrUserNotFound) {
			// Nobody with that e-mail is on the call either: say who is.
			matched, err = nil, nil
		}
		if err != nil {
			return h.genesysError(ctx, to, err, failedCall{log: "identifying the participant failed", attrs: []any{"conversation_id", conv.ID}})
		}
		if len(matched) == 0 {
			h.reply(ctx, to, noMatchMessage(conv, cmd.Who, now), respondOptions{})
			return done(outcomeNoMatch, "")
		}
		candidates = matched
	}
	if len(candidates) == 0 {
		h.reply(ctx, to, infoMessage(fmt.Sprintf(":information_source: Nobody on conversation %s can be disconnected right now (only system legs or people who already left).", code(conv.ID))), respondOptions{})
		return done(outcomeNobodyActive, "")
	}
	filter := ""
	if cmd.Selector != nil {
		filter = cmd.Who
	}
	h.reply(ctx, to, pickerMessage(conv, candidates, filter, now), respondOptions{})
	r := done(outcomePickerShown, "")
	if len(candidates) == 1 {
		r.participant, r.purpose = candidates[0].ID, candidates[0].Purpose
	}
	return r
}

// disconnectClick runs a click on a participant button.
func (h *handler) disconnectClick(ctx context.Context, req clickRequest) result {
	value, err := decodeButtonValue(req.Value)
	if err != nil {
		h.Log.Warn("rejected button value", "slack_user", req.UserID, "value_len", len(req.Value))
		h.reply(ctx, req.replyTo(), errorMessage("That button is not valid: "+err.Error()+"."), respondOptions{})
		return done(outcomeBadButton, "invalid_value")
	}
	r := h.disconnect(ctx, req, value)
	r.conversation, r.participant = value.ConversationID, value.ParticipantID
	return r
}

// disconnect re-reads the call and disconnects, for a click HandleClick
// has authorized.
func (h *handler) disconnect(ctx context.Context, req clickRequest, value buttonValue) result {
	release, other := h.claim(value, req.UserID)
	if release == nil {
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":hourglass_flowing_sand: <@%s> is already disconnecting this participant. Watch the channel for the outcome.", other)), respondOptions{})
		return done(outcomeDuplicate, "in_flight")
	}
	defer release()

	// The picker may be minutes old: act only on what Genesys says now.
	conv, err := h.Genesys.GetConversation(ctx, value.ConversationID)
	if err != nil {
		return h.genesysError(ctx, req.replyTo(), err, failedCall{
			log: "re-reading conversation failed", prefix: "Nothing was disconnected. ",
			opts: respondOptions{Replace: true}, attrs: []any{"conversation_id", value.ConversationID},
		})
	}
	p, found := conv.Participant(value.ParticipantID)
	if !found {
		h.reply(ctx, req.replyTo(), errorMessage("That participant is not part of this conversation. Nothing was disconnected. Run `/disconnect "+escapeCode(conv.ID)+"` again."), respondOptions{})
		return done(outcomeBadButton, "participant_not_in_conversation")
	}
	if !p.Active() {
		r := h.stale(ctx, req, conv, p)
		r.purpose = p.Purpose
		return r
	}
	if h.approvalRequired(p.Purpose) {
		// Nothing goes to Genesys; the participant is free for the
		// approver's claim as soon as the request is in the channel.
		release()
		return h.requestApproval(ctx, req, conv, p) // approvalflow.go
	}
	r := h.carryOut(ctx, req, conv, p)
	r.purpose = p.Purpose
	return r
}

// claim marks a participant as being disconnected by user. It returns the
// function that ends the claim (safe to call more than once), or nil and
// the user who holds it already.
func (h *handler) claim(value buttonValue, user string) (release func(), holder string) {
	key := value.ConversationID + "/" + value.ParticipantID
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inflight == nil {
		h.inflight = make(map[string]string)
	}
	if other, busy := h.inflight[key]; busy {
		return nil, other
	}
	h.inflight[key] = user
	return sync.OnceFunc(func() {
		h.mu.Lock()
		delete(h.inflight, key)
		h.mu.Unlock()
	}), ""
}

// stale answers a click on a participant who has left the call since the
// picker was drawn.
func (h *handler) stale(ctx context.Context, req clickRequest, conv *genesys.Conversation, p genesys.Participant) result {
	if req.Redelivered {
		// Slack delivered this click again (its first ack was lost),
		// maybe to another replica that already disconnected and
		// replaced the picker with the outcome: leave that in place.
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: *%s* (%s) is no longer %s (%s). Slack delivered your click a second time; it was not repeated. The outcome is in the channel.",
			escapeText(displayName(p)), escapeText(roleAndMedia(p)), onWhat(p), escapeText(string(p.State)))), respondOptions{})
		return done(outcomeStale, "participant_not_active_redelivered")
	}
	h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: *%s* (%s) is no longer %s (%s). Nothing was disconnected. Run `/disconnect %s` for the current list.",
		escapeText(displayName(p)), escapeText(roleAndMedia(p)), onWhat(p), escapeText(string(p.State)), escapeCode(conv.ID))), respondOptions{Replace: true})
	return done(outcomeStale, "participant_not_active")
}

// carryOut disconnects p, confirms it, and publishes the outcome.
func (h *handler) carryOut(ctx context.Context, req clickRequest, conv *genesys.Conversation, p genesys.Participant) result {
	// The progress message goes out while Genesys works: waiting for Slack
	// here would add a Slack round trip before every PATCH. publishOutcome
	// waits for it, so it can never replace the outcome.
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		h.reply(ctx, req.replyTo(), progressMessage(conv.ID, p), respondOptions{Replace: true})
	}()
	outcome, r := h.execute(ctx, conv, p, req.UserID)
	h.publishOutcome(ctx, req, outcome, progressDone)
	return r
}

// execute disconnects p on actor's behalf and confirms it: the Genesys part
// of a disconnect, shared by a direct click and an approval.
func (h *handler) execute(ctx context.Context, conv *genesys.Conversation, p genesys.Participant, actor string) (Outcome, result) {
	outcome := Outcome{Actor: actor, ConversationID: conv.ID, Participant: p}
	var r result
	dr, err := h.Genesys.DisconnectParticipant(ctx, conv.ID, p.ID)
	switch {
	case err != nil:
		_, status, corr := genesysFailure(err)
		h.Log.Error("disconnect failed", "err", err, "conversation_id", conv.ID, "participant_id", p.ID)
		outcome.Status, outcome.Reason = h.settleFailedDisconnect(ctx, conv.ID, p, err) // settle.go
		outcome.CorrelationID = corr
		r.genesysStatus, r.reason = status, outcome.Reason
	case dr.Outcome == genesys.DisconnectAlreadyGone:
		outcome.Status, outcome.CorrelationID = OutcomeAlreadyGone, dr.CorrelationID
	default:
		outcome.Status, outcome.CorrelationID = h.confirm(ctx, conv.ID, p.ID), dr.CorrelationID
		r.genesysStatus = http.StatusAccepted
	}
	r.outcome, r.correlationID = string(outcome.Status), outcome.CorrelationID
	outcome.At = h.now()
	return outcome, r
}

// confirm waits for Genesys to show the participant gone.
func (h *handler) confirm(ctx context.Context, conversationID, participantID string) OutcomeStatus {
	conf, err := h.Genesys.ConfirmDisconnect(ctx, conversationID, participantID)
	switch {
	case err != nil:
		h.Log.Warn("confirming disconnect failed", "err", err, "conversation_id", conversationID, "participant_id", participantID)
		return OutcomeUnconfirmed
	case conf.Confirmed:
		return OutcomeConfirmed
	}
	return OutcomeUnconfirmed
}

// noAnswerReason is the safe cause shown with OutcomeUnknown. It avoids
// genesys.UserMessage's "try again": trying again blindly is what the user
// must not do before checking the call.
func noAnswerReason(err error) string {
	if apiErr, ok := errors.AsType[*genesys.APIError](err); ok {
		return fmt.Sprintf("Genesys answered HTTP %d", apiErr.Status)
	}
	return "Genesys did not answer in time"
}

// publishOutcome posts the outcome in the channel (the audit trail), copies
// it to the audit channel, and replaces the picker with it. If the channel
// post fails the outcome still reaches the user, so nothing is lost.
func (h *handler) publishOutcome(ctx context.Context, req clickRequest, o Outcome, progressDone <-chan struct{}) {
	ctx, cancel := detached(ctx)
	defer cancel()
	msg := outcomeMessage(o)
	posted := false
	if _, err := h.Slack.Post(ctx, req.ChannelID, msg); err != nil {
		h.Log.Error("posting outcome to channel failed; answering in channel through response_url", "err", err, "channel", req.ChannelID)
		if err := h.Slack.Respond(ctx, req.ResponseURL, msg, respondOptions{InChannel: true}); err != nil {
			h.Log.Error("posting outcome through response_url failed", "err", err)
		} else {
			posted = true
		}
	} else {
		posted = true
	}
	if h.AuditChannel != "" && h.AuditChannel != req.ChannelID {
		if _, err := h.Slack.Post(ctx, h.AuditChannel, msg); err != nil {
			h.Log.Error("posting outcome to audit channel failed", "err", err, "channel", h.AuditChannel)
		}
	}
	private := msg
	if !posted {
		private.Blocks = append(private.Blocks, contextLine("outcome_not_posted",
			":warning: This outcome could not be posted in the channel. Invite the bot to the channel (`/invite @disconnectbot`) so outcomes are recorded there."))
	}
	<-progressDone
	h.reply(ctx, req.replyTo(), private, respondOptions{Replace: true})
}
