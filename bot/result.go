package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// Audit outcomes: the outcome key of the audit line and the outcome label of
// the command and click counters. A disconnect click that reached Genesys
// ends in one of the channel outcomes (OutcomeStatus) instead.
const (
	outcomeBadInput          = "bad_input"
	outcomeHelp              = "help"
	outcomeDenied            = "denied"
	outcomeGenesysError      = "genesys_error"
	outcomeSlackError        = "slack_error"
	outcomeConversationEnded = "conversation_ended"
	outcomeNoMatch           = "no_match"
	outcomeNobodyActive      = "nobody_active"
	outcomePickerShown       = "picker_shown"
	outcomeFindNone          = "find_none"
	outcomeFindPickerShown   = "find_picker_shown"
	outcomeFindNoUser        = "find_no_user"
	outcomeFindNoQueue       = "find_no_queue"
	outcomeFindAmbiguous     = "find_ambiguous_queue"
	outcomeBadButton         = "bad_button"
	outcomeDuplicate         = "duplicate"
	outcomeStale             = "stale"
	outcomeCancelled         = "cancelled"

	// Sweeps (sweep.go).
	outcomeSweepSummary    = "sweep_summary_shown"
	outcomeSweepStarted    = "sweep_started"
	outcomeSweepStopping   = "sweep_stopping"
	outcomeSweepNotRunning = "sweep_not_running"
)

// Click kinds: the action label of disconnectbot_clicks_total.
const (
	clickDisconnect   = "disconnect"
	clickCancel       = "cancel"
	clickConversation = "conversation"
	clickUnknown      = "unknown"
	clickSweep        = "sweep" // sweep.go
)

// result is what one command or click came to. The flow functions return
// it; HandleSlash and HandleClick write the audit line and count it once.
type result struct {
	outcome, reason string
	genesysStatus   int
	correlationID   string
	// The target, as far as the flow got.
	conversation, participant, purpose string
	// Approval steps (approvalflow.go): the request id, the step and who
	// asked; empty for everything else.
	requestID, step, requester string
}

// done is a result with an outcome and a reason only.
func done(outcome, reason string) result { return result{outcome: outcome, reason: reason} }

// auditEntry is the one structured line that every decision gets.
type auditEntry struct {
	action, user, team, channel string
	start                       time.Time
	result
}

func (h *handler) audit(e auditEntry) {
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
		// Only approval lines carry these, so every other line keeps its keys.
		slog.Attr{Key: "request_id", Value: optional(e.requestID)},
		slog.Attr{Key: "approval_step", Value: optional(e.step)},
		slog.Attr{Key: "requested_by", Value: optional(e.requester)},
	)
}

// optional is s as a log value, or an empty group (which slog leaves out of
// the line) when s is "".
func optional(s string) slog.Value {
	if s == "" {
		return slog.GroupValue()
	}
	return slog.StringValue(s)
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

// failedCall is how a Genesys request that failed is reported: the full
// error in the log, a safe message (prefix first) to the user, and the
// genesys_error result for the audit line.
type failedCall struct {
	log    string // the log message: what was being done
	prefix string // put before the user message ("Nothing was disconnected. ")
	opts   respondOptions
	attrs  []any // more log attributes
}

func (h *handler) genesysError(ctx context.Context, to replyTo, err error, f failedCall) result {
	text, status, corr := genesysFailure(err)
	h.Log.Error(f.log, append([]any{"err", err}, f.attrs...)...)
	// UserMessage may quote what the user typed: escape it like any outside text.
	h.reply(ctx, to, errorMessage(withCorrelation(escapeText(f.prefix+text), corr)), f.opts)
	return result{outcome: outcomeGenesysError, reason: text, genesysStatus: status, correlationID: corr}
}

func withCorrelation(text, correlationID string) string {
	if correlationID == "" {
		return text
	}
	return text + " (Genesys correlation id " + code(correlationID) + ")"
}
