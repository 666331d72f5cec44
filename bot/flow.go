package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// Genesys is what the flow needs from the Genesys client.
type Genesys interface {
	GetConversation(ctx context.Context, conversationID string) (*genesys.Conversation, error)
	DisconnectParticipant(ctx context.Context, conversationID, participantID string) (genesys.DisconnectResult, error)
	ConfirmDisconnect(ctx context.Context, conversationID, participantID string) (genesys.Confirmation, error)
	Identify(ctx context.Context, conv *genesys.Conversation, sel genesys.Selector) ([]genesys.Participant, error)
}

// Authorizer decides who may act.
type Authorizer interface {
	Authorize(ctx context.Context, r authz.Request) authz.Decision
}

// RespondOptions says how a response_url reply treats the message it answers.
type RespondOptions struct {
	Replace   bool // replace the message the button was on
	Delete    bool // delete it
	InChannel bool // visible to the whole channel rather than only the user
}

// Responder is the Slack side the flow talks to.
type Responder interface {
	// Respond answers through a slash command's or a click's response_url.
	Respond(ctx context.Context, responseURL string, msg Message, opts RespondOptions) error
	// Post posts a message to a channel and returns its timestamp.
	Post(ctx context.Context, channel string, msg Message) (string, error)
	// PostEphemeral shows msg to one user in a channel (chat.postEphemeral):
	// the fallback when a response_url does not work.
	PostEphemeral(ctx context.Context, channel, user string, msg Message) error
}

// replyTo is where a private answer goes: the request's response_url, and the
// channel and user for chat.postEphemeral if the response_url fails.
type replyTo struct {
	url, channel, user string
	// replace makes every answer replace the message the click came from.
	replace bool
}

func (r SlashRequest) replyTo() replyTo {
	return replyTo{url: r.ResponseURL, channel: r.ChannelID, user: r.UserID}
}

func (r ClickRequest) replyTo() replyTo {
	return replyTo{url: r.ResponseURL, channel: r.ChannelID, user: r.UserID}
}

// SlashRequest is one /disconnect invocation.
type SlashRequest struct {
	TeamID, ChannelID, UserID, UserName string
	Text                                string
	ResponseURL                         string
	TriggerID                           string
}

// ClickRequest is one button click on a message the bot drew.
type ClickRequest struct {
	TeamID, ChannelID, UserID string
	ActionID, Value           string
	ResponseURL               string
	TriggerID                 string
	ActionTS                  string
	// Redelivered is set when Slack sent this envelope again because it
	// missed the ack of an earlier delivery (retry_attempt > 0).
	Redelivered bool
}

// Handler runs the /disconnect flow. It is safe for concurrent use; every
// exported field must be set before the first call.
type Handler struct {
	Genesys Genesys
	Authz   Authorizer
	Slack   Responder
	Log     *slog.Logger
	Metrics Metrics
	// AuditChannel, when set, receives a copy of every outcome message.
	AuditChannel string
	// Finder, when set, lets /disconnect start from an agent, a phone number
	// or a queue instead of a conversation id (see find.go).
	Finder Finder
	// SlackUsers resolves a Slack mention to the person's e-mail, for Finder.
	SlackUsers SlackUsers
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	inflight map[string]string // conversation/participant → Slack user acting on it
	recent   *recentSet        // trigger ids already handled, against redelivery
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) metrics() Metrics {
	if h.Metrics == nil {
		return nopMetrics{}
	}
	return h.Metrics
}

// firstTime records a delivery key and reports whether it is new. Slack may
// redeliver an envelope whose ack it missed; the payload (and so its
// trigger_id) is the same, so the second delivery is dropped here.
// A delivery without any id to remember is always handled.
func (h *Handler) firstTime(kind string, ids ...string) bool {
	if strings.Join(ids, "") == "" {
		return true
	}
	key := kind + ":" + strings.Join(ids, ":")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.recent == nil {
		h.recent = newRecentSet(4096, 30*time.Minute)
	}
	return h.recent.add(key, h.now())
}

// audit writes the one structured line that every decision gets.
type auditEntry struct {
	action, user, team, channel, conversation, participant, purpose string
	outcome, reason, correlationID                                  string
	genesysStatus                                                   int
	start                                                           time.Time
}

func (h *Handler) audit(e auditEntry) {
	h.Log.LogAttrs(context.Background(), slog.LevelInfo, "audit",
		slog.String("event", "audit"),
		slog.String("action", e.action),
		slog.String("slack_user", e.user),
		slog.String("slack_team", e.team),
		slog.String("channel", e.channel),
		slog.String("conversation_id", e.conversation),
		slog.String("participant_id", e.participant),
		slog.String("purpose", e.purpose),
		slog.String("outcome", e.outcome),
		slog.String("reason", e.reason),
		slog.Int("genesys_status", e.genesysStatus),
		slog.String("correlation_id", e.correlationID),
		slog.Int64("duration_ms", time.Since(e.start).Milliseconds()),
	)
}

// genesysFailure turns a Genesys error into the safe text a user sees and the
// detail the audit line keeps.
func genesysFailure(err error) (text string, status int, correlationID string) {
	text = genesys.UserMessage(err)
	correlationID = genesys.CorrelationID(err)
	if apiErr, ok := errors.AsType[*genesys.APIError](err); ok {
		status = apiErr.Status
	}
	return text, status, correlationID
}

// replyTimeout bounds telling the user what happened once the work itself
// is over (or out of time).
const replyTimeout = 10 * time.Second

// detached returns a context for reporting to Slack: it keeps ctx's values
// but not its deadline or cancellation. The work context may have run out
// exactly because Genesys was slow, and a disconnect that may have happened
// must still be reported: a late outcome beats a lost one.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
}

// noDefiniteAnswer reports whether a failed disconnect may nevertheless have
// been carried out: Genesys never answered (timeout, connection lost), or a
// gateway gave up waiting for the backend (502, 504). Saying "could not
// disconnect" would then be a guess.
func noDefiniteAnswer(err error) bool {
	if apiErr, ok := errors.AsType[*genesys.APIError](err); ok {
		return apiErr.Status == http.StatusBadGateway || apiErr.Status == http.StatusGatewayTimeout
	}
	if _, ok := errors.AsType[*genesys.TransportError](err); ok {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
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

func withCorrelation(text, correlationID string) string {
	if correlationID == "" {
		return text
	}
	return text + " (Genesys correlation id " + code(correlationID) + ")"
}

// reply answers the user privately. Reply failures are logged, not returned:
// there is nobody else to tell.
func (h *Handler) reply(ctx context.Context, to replyTo, msg Message, opts RespondOptions) {
	ctx, cancel := detached(ctx)
	defer cancel()
	if to.replace {
		opts.Replace = true
	}
	err := errors.New("no response_url to answer on")
	if to.url != "" {
		err = h.Slack.Respond(ctx, to.url, msg, opts)
	}
	if err == nil {
		return
	}
	if to.channel == "" || to.user == "" {
		h.Log.Error("slack reply failed", "err", err, "text", msg.Text)
		return
	}
	// A response_url can expire (30 min, 5 uses) or be refused; the user
	// must still get the answer, as a new ephemeral message.
	h.Log.Warn("slack reply through response_url failed; posting it as an ephemeral message", "err", err, "channel", to.channel)
	if err := h.Slack.PostEphemeral(ctx, to.channel, to.user, msg); err != nil {
		h.Log.Error("slack reply failed", "err", err, "text", msg.Text)
	}
}

// authorize asks the allow-list about one user and, when it says no, tells
// the user why and counts the denial.
func (h *Handler) authorize(ctx context.Context, team, user, channel string, to replyTo) authz.Decision {
	decision := h.Authz.Authorize(ctx, authz.Request{TeamID: team, UserID: user, ChannelID: channel})
	if !decision.Allowed {
		if decision.Err != nil {
			h.Log.Error("authorization lookup failed", "err", decision.Err, "slack_user", user)
		}
		h.reply(ctx, to, errorMessage(decision.Message()), RespondOptions{})
		h.metrics().Denied(decision.Reason)
	}
	return decision
}

// HandleSlash runs a /disconnect command after it has been acked.
func (h *Handler) HandleSlash(ctx context.Context, req SlashRequest) {
	start := time.Now()
	entry := auditEntry{action: "command", user: req.UserID, team: req.TeamID, channel: req.ChannelID, start: start}
	finish := func(outcome, reason string) {
		entry.outcome, entry.reason = outcome, reason
		h.audit(entry)
		h.metrics().Command(outcome)
	}
	if !h.firstTime("slash", req.TriggerID) {
		h.Log.Info("dropping redelivered command", "trigger_id", req.TriggerID, "slack_user", req.UserID)
		return
	}
	cmd, err := ParseCommand(req.Text)
	if err != nil {
		h.reply(ctx, req.replyTo(), errorMessage(err.Error()), RespondOptions{})
		finish("bad_input", err.Error())
		return
	}
	if cmd.Help {
		h.reply(ctx, req.replyTo(), helpMessage(), RespondOptions{})
		finish("help", "")
		return
	}
	if decision := h.authorize(ctx, req.TeamID, req.UserID, req.ChannelID, req.replyTo()); !decision.Allowed {
		finish("denied", decision.Reason)
		return
	}
	if cmd.Target.Kind != TargetConversation && h.Finder != nil { // find.go
		h.handleFind(ctx, req, cmd, &entry)
		finish(entry.outcome, entry.reason)
		return
	}
	if cmd.Target.Kind != TargetConversation {
		h.reply(ctx, req.replyTo(), errorMessage("Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`. Finding a call by agent, phone number or queue is not enabled in this bot."), RespondOptions{})
		finish("bad_input", "find_not_enabled")
		return
	}
	entry.conversation = cmd.Target.Value
	conv, err := h.Genesys.GetConversation(ctx, cmd.Target.Value)
	if err != nil {
		if genesys.ErrorKind(err) == genesys.KindNotFound && h.findByUserID(ctx, req, cmd, &entry) { // find.go: an agent's user id?
			finish(entry.outcome, entry.reason)
			return
		}
		text, status, corr := genesysFailure(err)
		entry.genesysStatus, entry.correlationID = status, corr
		h.Log.Error("reading conversation failed", "err", err, "conversation_id", cmd.Target.Value)
		h.reply(ctx, req.replyTo(), errorMessage(withCorrelation(text, corr)), RespondOptions{})
		finish("genesys_error", text)
		return
	}
	entry.genesysStatus = 200
	h.showPicker(ctx, req.replyTo(), conv, cmd, &entry)
	finish(entry.outcome, entry.reason)
}

// showPicker replies with the participants of conv (filtered by the
// command's selector, if any) as buttons.
func (h *Handler) showPicker(ctx context.Context, to replyTo, conv *genesys.Conversation, cmd Command, entry *auditEntry) {
	now := h.now()
	if conv.Ended() {
		h.reply(ctx, to, infoMessage(fmt.Sprintf(":information_source: Conversation %s has ended; there is nobody to disconnect.", code(conv.ID))), RespondOptions{})
		entry.outcome, entry.reason = "conversation_ended", ""
		return
	}
	candidates := conv.ActiveParticipants()
	if cmd.Selector != nil {
		matched, err := h.Genesys.Identify(ctx, conv, *cmd.Selector)
		if errors.Is(err, genesys.ErrUserNotFound) {
			// Nobody with that e-mail is on the call either: say who is.
			matched, err = nil, nil
		}
		if err != nil {
			text, status, corr := genesysFailure(err)
			entry.genesysStatus, entry.correlationID = status, corr
			h.reply(ctx, to, errorMessage(withCorrelation(text, corr)), RespondOptions{})
			entry.outcome, entry.reason = "genesys_error", text
			return
		}
		if len(matched) == 0 {
			h.reply(ctx, to, noMatchMessage(conv, cmd.Who, now), RespondOptions{})
			entry.outcome, entry.reason = "no_match", ""
			return
		}
		candidates = matched
	}
	if len(candidates) == 0 {
		h.reply(ctx, to, infoMessage(fmt.Sprintf(":information_source: Nobody on conversation %s can be disconnected right now (only system legs or people who already left).", code(conv.ID))), RespondOptions{})
		entry.outcome, entry.reason = "nobody_active", ""
		return
	}
	filter := ""
	if cmd.Selector != nil {
		filter = cmd.Who
	}
	h.reply(ctx, to, PickerMessage(conv, candidates, filter, now), RespondOptions{})
	if len(candidates) == 1 {
		entry.participant, entry.purpose = candidates[0].ID, candidates[0].Purpose
	}
	entry.outcome = "picker_shown"
}

// HandleClick runs a button click after it has been acked.
func (h *Handler) HandleClick(ctx context.Context, req ClickRequest) {
	start := time.Now()
	entry := auditEntry{action: "click", user: req.UserID, team: req.TeamID, channel: req.ChannelID, start: start}
	if !h.firstTime("click", req.TriggerID, req.ActionTS) {
		h.Log.Info("dropping redelivered click", "trigger_id", req.TriggerID, "slack_user", req.UserID)
		return
	}
	switch {
	case req.ActionID == actionCancel:
		h.reply(ctx, req.replyTo(), infoMessage("Cancelled. Nobody was disconnected."), RespondOptions{Replace: true})
		entry.action, entry.outcome = "cancel", "cancelled"
		h.audit(entry)
		return
	case strings.HasPrefix(req.ActionID, actionConversation+":"): // find.go
		h.handleConversationClick(ctx, req, &entry)
		return
	case !strings.HasPrefix(req.ActionID, actionDisconnect+":"):
		h.Log.Warn("unknown action", "action_id", truncate(req.ActionID, 64), "slack_user", req.UserID)
		h.reply(ctx, req.replyTo(), errorMessage("That button is not one disconnectbot knows. Run `/disconnect` again."), RespondOptions{})
		entry.outcome, entry.reason = "bad_button", "unknown_action"
		h.audit(entry)
		h.metrics().Disconnect("bad_button")
		return
	}
	value, err := DecodeButtonValue(req.Value)
	if err != nil {
		h.Log.Warn("rejected button value", "slack_user", req.UserID, "value_len", len(req.Value))
		h.reply(ctx, req.replyTo(), errorMessage("That button is not valid: "+err.Error()+"."), RespondOptions{})
		entry.outcome, entry.reason = "bad_button", "invalid_value"
		h.audit(entry)
		h.metrics().Disconnect("bad_button")
		return
	}
	entry.conversation, entry.participant = value.ConversationID, value.ParticipantID
	outcome := h.disconnect(ctx, req, value, &entry)
	entry.outcome = string(outcome)
	h.audit(entry)
	h.metrics().Disconnect(entry.outcome)
}

// disconnect authorizes the clicking user again, re-reads the call, and
// disconnects. It returns the audit outcome.
func (h *Handler) disconnect(ctx context.Context, req ClickRequest, value ButtonValue, entry *auditEntry) OutcomeStatus {
	if decision := h.authorize(ctx, req.TeamID, req.UserID, req.ChannelID, req.replyTo()); !decision.Allowed {
		entry.reason = decision.Reason
		return "denied"
	}

	key := value.ConversationID + "/" + value.ParticipantID
	h.mu.Lock()
	if h.inflight == nil {
		h.inflight = make(map[string]string)
	}
	if other, busy := h.inflight[key]; busy {
		h.mu.Unlock()
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":hourglass_flowing_sand: <@%s> is already disconnecting this participant. Watch the channel for the outcome.", other)), RespondOptions{})
		entry.reason = "in_flight"
		return "duplicate"
	}
	h.inflight[key] = req.UserID
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.inflight, key)
		h.mu.Unlock()
	}()

	// The picker may be minutes old: act only on what Genesys says now.
	conv, err := h.Genesys.GetConversation(ctx, value.ConversationID)
	if err != nil {
		text, status, corr := genesysFailure(err)
		entry.genesysStatus, entry.correlationID, entry.reason = status, corr, text
		h.Log.Error("re-reading conversation failed", "err", err, "conversation_id", value.ConversationID)
		h.reply(ctx, req.replyTo(), errorMessage(withCorrelation("Nothing was disconnected. "+text, corr)), RespondOptions{Replace: true})
		return "genesys_error"
	}
	p, found := conv.Participant(value.ParticipantID)
	if !found {
		h.reply(ctx, req.replyTo(), errorMessage("That participant is not part of this conversation. Nothing was disconnected. Run `/disconnect "+conv.ID+"` again."), RespondOptions{})
		entry.reason = "participant_not_in_conversation"
		return "bad_button"
	}
	entry.purpose = p.Purpose
	if !p.Active() {
		if req.Redelivered {
			// Slack delivered this click again (its first ack was lost),
			// maybe to another replica that already disconnected and
			// replaced the picker with the outcome: leave that in place.
			h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: *%s* (%s) is no longer on the call (%s). Slack delivered your click a second time; it was not repeated. The outcome is in the channel.",
				escapeText(displayName(p)), escapeText(purpose(p)), escapeText(string(p.State)))), RespondOptions{})
			entry.reason = "participant_not_active_redelivered"
			return "stale"
		}
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: *%s* (%s) is no longer on the call (%s). Nothing was disconnected. Run `/disconnect %s` for the current list.",
			escapeText(displayName(p)), escapeText(purpose(p)), escapeText(string(p.State)), conv.ID)), RespondOptions{Replace: true})
		entry.reason = "participant_not_active"
		return "stale"
	}

	// The progress message goes out while Genesys works: waiting for Slack
	// here would add a Slack round trip before every PATCH. publishOutcome
	// waits for it, so it can never replace the outcome.
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		h.reply(ctx, req.replyTo(), progressMessage(conv.ID, p), RespondOptions{Replace: true})
	}()
	outcome := Outcome{Actor: req.UserID, ConversationID: conv.ID, Participant: p}
	result, err := h.Genesys.DisconnectParticipant(ctx, conv.ID, p.ID)
	switch {
	case err != nil:
		text, status, corr := genesysFailure(err)
		h.Log.Error("disconnect failed", "err", err, "conversation_id", conv.ID, "participant_id", p.ID)
		outcome.Status, outcome.Reason, outcome.CorrelationID = OutcomeFailed, text, corr
		if noDefiniteAnswer(err) {
			outcome.Status, outcome.Reason = OutcomeUnknown, noAnswerReason(err)
		}
		entry.genesysStatus, entry.reason = status, outcome.Reason
	case result.Outcome == genesys.DisconnectAlreadyGone:
		outcome.Status, outcome.CorrelationID = OutcomeAlreadyGone, result.CorrelationID
	default:
		outcome.CorrelationID = result.CorrelationID
		entry.genesysStatus = 202
		conf, err := h.Genesys.ConfirmDisconnect(ctx, conv.ID, p.ID)
		switch {
		case err != nil:
			h.Log.Warn("confirming disconnect failed", "err", err, "conversation_id", conv.ID, "participant_id", p.ID)
			outcome.Status = OutcomeUnconfirmed
		case conf.Confirmed:
			outcome.Status = OutcomeConfirmed
		default:
			outcome.Status = OutcomeUnconfirmed
		}
	}
	entry.correlationID = outcome.CorrelationID
	outcome.At = h.now()
	h.publishOutcome(ctx, req, outcome, progressDone)
	return outcome.Status
}

// publishOutcome posts the outcome in the channel (the audit trail), copies
// it to the audit channel, and replaces the picker with it. If the channel
// post fails the outcome still reaches the user, so nothing is lost.
func (h *Handler) publishOutcome(ctx context.Context, req ClickRequest, o Outcome, progressDone <-chan struct{}) {
	ctx, cancel := detached(ctx)
	defer cancel()
	msg := OutcomeMessage(o)
	posted := false
	if _, err := h.Slack.Post(ctx, req.ChannelID, msg); err != nil {
		h.Log.Error("posting outcome to channel failed; answering in channel through response_url", "err", err, "channel", req.ChannelID)
		if err := h.Slack.Respond(ctx, req.ResponseURL, msg, RespondOptions{InChannel: true}); err != nil {
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
	h.reply(ctx, req.replyTo(), private, RespondOptions{Replace: true})
}
