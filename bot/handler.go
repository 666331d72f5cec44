package bot

import (
	"context"
	"errors"
	"log/slog"
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

// authorizer decides who may act.
type authorizer interface {
	Authorize(ctx context.Context, r authz.Request) authz.Decision
}

// respondOptions says how a response_url reply treats the message it answers.
type respondOptions struct {
	Replace   bool // replace the message the button was on
	InChannel bool // visible to the whole channel rather than only the user
}

// responder is the Slack side the flow talks to.
type responder interface {
	// Respond answers through a slash command's or a click's response_url.
	Respond(ctx context.Context, responseURL string, msg message, opts respondOptions) error
	// Post posts a message to a channel and returns its timestamp.
	Post(ctx context.Context, channel string, msg message) (string, error)
	// PostEphemeral shows msg to one user in a channel (chat.postEphemeral):
	// the fallback when a response_url does not work.
	PostEphemeral(ctx context.Context, channel, user string, msg message) error
	// Update replaces a message the bot posted (chat.update): an approval
	// request, once decided.
	Update(ctx context.Context, channel, ts string, msg message) error
}

// slashRequest is one /disconnect invocation.
type slashRequest struct {
	TeamID, ChannelID, UserID string
	Text                      string
	ResponseURL               string
	TriggerID                 string
}

// clickRequest is one button click on a message the bot drew.
type clickRequest struct {
	TeamID, ChannelID, UserID string
	ActionID, Value           string
	ResponseURL               string
	TriggerID                 string
	ActionTS                  string
	// Redelivered is set when Slack sent this envelope again because it
	// missed the ack of an earlier delivery (retry_attempt > 0).
	Redelivered bool
	// MessageTS is the message the button is on (container.message_ts);
	// MessageBlockIDs are the block ids of that message as Slack sent it
	// with the click, which tell whether an approval request is still
	// pending (decidedState).
	MessageTS       string
	MessageBlockIDs []string
}

// replyTo is where a private answer goes: the request's response_url, and the
// channel and user for chat.postEphemeral if the response_url fails.
type replyTo struct {
	url, channel, user string
	// replace makes every answer replace the message the click came from.
	replace bool
}

func (r slashRequest) replyTo() replyTo {
	return replyTo{url: r.ResponseURL, channel: r.ChannelID, user: r.UserID}
}

func (r clickRequest) replyTo() replyTo {
	return replyTo{url: r.ResponseURL, channel: r.ChannelID, user: r.UserID}
}

// handler runs the /disconnect flow. It is safe for concurrent use; every
// exported field must be set before the first call.
type handler struct {
	Genesys Genesys
	Authz   authorizer
	Slack   responder
	Log     *slog.Logger
	Metrics Metrics
	// AuditChannel, when set, receives a copy of every outcome message.
	AuditChannel string
	// Finder, when set, lets /disconnect start from an agent, a phone number
	// or a queue instead of a conversation id (see find.go).
	Finder Finder
	// SlackUsers resolves a Slack mention to the person's e-mail, for Finder.
	SlackUsers slackUsers
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Approval, when set, is the four-eyes policy (approvalflow.go).
	Approval *approvalSetup
	// Sweeps runs approved sweeps; nil until the bulk sweep is wired.
	Sweeps sweepRunner
	// Sweeper, when set, runs /disconnect stuck (sweep.go).
	Sweeper *Sweeper

	approvals approvals // what this replica saw of approval requests
	mu        sync.Mutex
	inflight  map[string]string // conversation/participant → Slack user acting on it
	recent    *recentSet        // trigger ids already handled, against redelivery
}

func (h *handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *handler) metrics() Metrics {
	if h.Metrics == nil {
		return nopMetrics{}
	}
	return h.Metrics
}

// firstTime records a delivery key and reports whether it is new. Slack may
// redeliver an envelope whose ack it missed; the payload (and so its
// trigger_id) is the same, so the second delivery is dropped here.
// A delivery without any id to remember is always handled.
func (h *handler) firstTime(kind string, ids ...string) bool {
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

// replyTimeout bounds telling the user what happened once the work itself
// is over (or out of time).
const replyTimeout = 10 * time.Second

// detached returns a context for reporting to Slack: it keeps ctx's values
// but not its deadline or cancellation. The work context may have run out
// exactly because Genesys was slow, and a disconnect that may have happened
// must still be reported: a late outcome beats a lost one. It still ends
// after replyTimeout, and at the end of a shutdown's grace period
// (shutdown.go).
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
	if stop, ok := reportStopOf(ctx); ok {
		unhook := context.AfterFunc(stop.ctx, cancel)
		return rctx, func() { unhook(); cancel() }
	}
	return rctx, cancel
}

// reply answers the user privately. Reply failures are logged, not returned:
// there is nobody else to tell.
func (h *handler) reply(ctx context.Context, to replyTo, msg message, opts respondOptions) {
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
// the user why. The denial is counted from the result (outcomeDenied).
func (h *handler) authorize(ctx context.Context, team, user, channel string, to replyTo) authz.Decision {
	decision := h.Authz.Authorize(ctx, authz.Request{TeamID: team, UserID: user, ChannelID: channel})
	if !decision.Allowed {
		if decision.Err != nil {
			h.Log.Error("authorization lookup failed", "err", decision.Err, "slack_user", user)
		}
		h.reply(ctx, to, errorMessage(decision.Message()), respondOptions{})
	}
	return decision
}

// record writes the audit line of one command or click and counts its
// denial, if it was one.
func (h *handler) record(e auditEntry) {
	h.audit(e)
	if e.outcome == outcomeDenied {
		h.metrics().Denied(e.reason)
	}
}

// HandleSlash runs a /disconnect command after it has been acked.
func (h *handler) HandleSlash(ctx context.Context, req slashRequest) {
	start := time.Now()
	if !h.firstTime("slash", req.TriggerID) {
		h.Log.Info("dropping redelivered command", "trigger_id", req.TriggerID, "slack_user", req.UserID)
		return
	}
	r := h.command(ctx, req)
	h.record(auditEntry{action: "command", user: req.UserID, team: req.TeamID, channel: req.ChannelID, start: start, result: r})
	h.metrics().Command(r.outcome)
}

// findNotEnabled answers a search when the bot has no Finder.
const findNotEnabled = "Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`. Finding a call by agent, phone number or queue is not enabled in this bot."

// command decides what a /disconnect command comes to.
func (h *handler) command(ctx context.Context, req slashRequest) result {
	to := req.replyTo()
	cmd, err := parseCommand(req.Text)
	if err != nil {
		h.reply(ctx, to, errorMessage(err.Error()), respondOptions{})
		return done(outcomeBadInput, err.Error())
	}
	if cmd.Help {
		h.reply(ctx, to, helpMessage(), respondOptions{})
		return done(outcomeHelp, "")
	}
	if decision := h.authorize(ctx, req.TeamID, req.UserID, req.ChannelID, to); !decision.Allowed {
		return done(outcomeDenied, decision.Reason)
	}
	if cmd.Stuck != nil { // sweep.go: the sweep allow-list too
		return h.sweepCommand(ctx, req, *cmd.Stuck)
	}
	if cmd.Target.Kind != TargetConversation {
		if h.Finder == nil {
			h.reply(ctx, to, errorMessage(findNotEnabled), respondOptions{})
			return done(outcomeBadInput, "find_not_enabled")
		}
		return h.handleFind(ctx, to, cmd) // find.go
	}
	conv, err := h.Genesys.GetConversation(ctx, cmd.Target.Value)
	if err != nil {
		if genesys.ErrorKind(err) == genesys.KindNotFound {
			if r, ok := h.findByUserID(ctx, to, cmd); ok { // find.go: an agent's user id?
				return r
			}
		}
		r := h.genesysError(ctx, to, err, failedCall{log: "reading conversation failed", attrs: []any{"conversation_id", cmd.Target.Value}})
		r.conversation = cmd.Target.Value
		return r
	}
	r := h.showPicker(ctx, to, conv, cmd)
	r.conversation = cmd.Target.Value
	if r.outcome != outcomeGenesysError {
		r.genesysStatus = 200 // the conversation read succeeded
	}
	return r
}

// HandleClick runs a button click after it has been acked.
func (h *handler) HandleClick(ctx context.Context, req clickRequest) {
	start := time.Now()
	if !h.firstTime("click", req.TriggerID, req.ActionTS) {
		h.Log.Info("dropping redelivered click", "trigger_id", req.TriggerID, "slack_user", req.UserID)
		return
	}
	e := auditEntry{action: "click", user: req.UserID, team: req.TeamID, channel: req.ChannelID, start: start}
	kind := clickKind(req.ActionID)
	switch kind {
	case clickCancel:
		e.action = "cancel"
	case clickConversation:
		e.action = "pick_conversation"
	case clickApproval:
		e.action = "approval"
	case clickSweep:
		e.action = "sweep_click"
	}
	// Every click is authorized before anything else is done with it,
	// whatever its action id: a Cancel or an unknown action from a stranger
	// is refused like a Disconnect, and changes nothing.
	decision := h.authorize(ctx, req.TeamID, req.UserID, req.ChannelID, req.replyTo())
	switch {
	case !decision.Allowed:
		e.result = done(outcomeDenied, decision.Reason)
		// For the audit line only: which participant the click was for.
		if v, err := decodeButtonValue(req.Value); err == nil {
			e.conversation, e.participant = v.ConversationID, v.ParticipantID
		}
		if kind == clickApproval {
			e.step = stepRefused
		}
	case kind == clickCancel:
		h.reply(ctx, req.replyTo(), infoMessage("Cancelled. Nobody was disconnected."), respondOptions{Replace: true})
		e.result = done(outcomeCancelled, "")
	case kind == clickConversation:
		e.result = h.handleConversationClick(ctx, req) // find.go
	case kind == clickSweep:
		e.result = h.sweepClick(ctx, req) // sweep.go: the sweep allow-list too
	case kind == clickUnknown:
		h.Log.Warn("unknown action", "action_id", truncate(req.ActionID, 64), "slack_user", req.UserID)
		h.reply(ctx, req.replyTo(), errorMessage("That button is not one disconnectbot knows. Run `/disconnect` again."), respondOptions{})
		e.result = done(outcomeBadButton, "unknown_action")
	case kind == clickApproval:
		e.result = h.approvalClick(ctx, req) // approvalflow.go
	default:
		e.result = h.disconnectClick(ctx, req)
	}
	h.record(e)
	h.metrics().Click(kind, e.outcome)
	if kind == clickDisconnect || kind == clickUnknown || e.step == stepExecuted {
		h.metrics().Disconnect(e.outcome)
	}
}

// clickKind says which kind of button an action id belongs to.
func clickKind(actionID string) string {
	switch {
	case actionID == actionCancel:
		return clickCancel
	case strings.HasPrefix(actionID, actionConversation+":"):
		return clickConversation
	case strings.HasPrefix(actionID, actionSweepPrefix):
		return clickSweep
	case strings.HasPrefix(actionID, actionDisconnect+":"):
		return clickDisconnect
	case approvalAction(actionID) != 0:
		return clickApproval
	}
	return clickUnknown
}
