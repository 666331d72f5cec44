package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
)

// Block ids of approval messages. A request is pending as long as its
// message has the blockApprovalActions block; once decided, the message
// carries a block whose id says how and by whom
// ("approval_state:approved:U0SUPER002"), so that a later click can tell
// what happened from the message Slack sends with it.
const (
	blockApprovalActions = "approval_actions"
	blockApprovalState   = "approval_state"
)

// The states a decided request's message shows.
const (
	approvalStateApproving = "approving" // approved, the disconnect is running
	approvalStateApproved  = "approved"  // approved, with the outcome
	approvalStateDenied    = "denied"
	approvalStateWithdrawn = "withdrawn"
	approvalStateExpired   = "expired"
)

// approvalRequestView is everything an in-channel request shows besides
// what is signed into its buttons.
type approvalRequestView struct {
	req     approval.Request
	buttons approvalButtons
	// why says why approval is needed ("Disconnecting a customer needs a
	// second supervisor."); approvers who may approve, as Slack text.
	why, approvers string
	// conversation is a one-line summary of the call (conversationSummary);
	// empty for sweeps.
	conversation string
}

// approvalTarget says in mrkdwn (escaped) and in plain text (escaped too:
// the text fallback is rendered by Slack's notifications) what a request
// asks for: whom, from which call; or which sweep.
func approvalTarget(r approval.Request) (md, text string) {
	if r.Kind == approval.KindSweep {
		md = fmt.Sprintf("*%d* stuck conversations (%s)", r.Sweep.Count, sweepFilters(r.Sweep, code))
		text = fmt.Sprintf("%d stuck conversations (%s)", r.Sweep.Count, sweepFilters(r.Sweep, escapeText))
		return md, text
	}
	name, p := escapeText(approvalName(r)), escapeText(approvalPurpose(r))
	md = fmt.Sprintf("*%s* (%s) from conversation %s", name, p, code(r.ConversationID))
	text = fmt.Sprintf("%s (%s) from conversation %s", name, p, r.ConversationID)
	return md, text
}

// sweepFilters names a sweep's filters; quoteText formats the queue, which
// is text a user typed.
func sweepFilters(s approval.Sweep, quoteText func(string) string) string {
	parts := []string{"older than " + formatDuration(s.OlderThan)}
	if s.Queue != "" {
		parts = append(parts, "queue "+quoteText(s.Queue))
	}
	if s.Media != "" {
		parts = append(parts, "media "+escapeText(s.Media))
	}
	return strings.Join(parts, ", ")
}

func approvalName(r approval.Request) string {
	if strings.TrimSpace(r.Name) == "" {
		return "unnamed " + approvalPurpose(r)
	}
	return r.Name
}

func approvalPurpose(r approval.Request) string {
	if r.Purpose == "" {
		return "participant"
	}
	return r.Purpose
}

func mention(user string) string { return "<@" + user + ">" }

func approvalVerb(r approval.Request) string {
	if r.Kind == approval.KindSweep {
		return "sweep"
	}
	return "disconnect"
}

// untilWhen is "14:05:00 UTC (in 5m00s)".
func untilWhen(expires, now time.Time) string {
	return clock(expires) + " (in " + formatDuration(expires.Sub(now)) + ")"
}

// approvalDetails is the context line every version of the message ends
// with: the request id (in every audit line too) and the target's ids.
func approvalDetails(r approval.Request, extra ...string) string {
	parts := []string{"request " + code(r.ID)}
	if r.Kind == approval.KindDisconnect {
		parts = append(parts, "participant "+code(r.ParticipantID))
	}
	return strings.Join(append(parts, extra...), " · ")
}

// approvalRequestMessage is the in-channel request: who asks, for whom, from
// which call, why approval is needed and until when, with Approve (behind a
// confirm dialog), Deny and Withdraw.
func approvalRequestMessage(v approvalRequestView, now time.Time) message {
	r := v.req
	md, text := approvalTarget(r)
	body := fmt.Sprintf(":raised_hand: *Approval needed.* %s asks to %s %s.", mention(r.UserID), approvalVerb(r), md)
	if v.conversation != "" {
		body += "\n" + v.conversation
	}
	why := v.why
	if v.approvers != "" {
		why += " Who may approve: " + v.approvers + "."
	}
	why += fmt.Sprintf(" Nothing is done until then. The request expires at %s.", untilWhen(r.Expires, now))
	blocks := []slack.Block{
		section("approval_request", body),
		contextLine("approval_why", strings.TrimSpace(why)),
		slack.NewActionBlock(blockApprovalActions,
			slack.NewButtonBlockElement(actionApprove, v.buttons.approve, plain("Approve")).
				WithStyle(slack.StylePrimary).WithConfirm(approveDialog(r)),
			slack.NewButtonBlockElement(actionDeny, v.buttons.deny, plain("Deny")).WithStyle(slack.StyleDanger),
			slack.NewButtonBlockElement(actionWithdraw, v.buttons.withdraw, plain("Withdraw (requester)")),
		),
		contextLine("approval_details", approvalDetails(r, "requested "+clock(now))),
	}
	return message{
		Text:   fmt.Sprintf("Approval needed: %s asks to %s %s. Expires at %s.", mention(r.UserID), approvalVerb(r), text, clock(r.Expires)),
		Blocks: blocks,
	}
}

// approveDialog is Slack's confirm dialog on Approve: the one step between
// the click and the disconnect, so it names whom (or, for a sweep, repeats
// how many) and who asked.
func approveDialog(r approval.Request) *slack.ConfirmationBlockObject {
	title, confirm := "Disconnect "+approvalName(r)+"?", "Approve and disconnect"
	text := fmt.Sprintf("%s (%s) will be dropped from conversation %s now. Requested by %s.",
		escapeText(approvalName(r)), escapeText(approvalPurpose(r)), shortID(r.ConversationID), mention(r.UserID))
	if r.Kind == approval.KindSweep {
		title, confirm = fmt.Sprintf("Disconnect all %d conversations?", r.Sweep.Count), fmt.Sprintf("Disconnect all %d", r.Sweep.Count)
		text = fmt.Sprintf("Every active leg of the %d stuck conversations (%s) will be disconnected now. Requested by %s.",
			r.Sweep.Count, sweepFilters(r.Sweep, escapeText), mention(r.UserID))
	}
	return slack.NewConfirmationBlockObject(
		plain(truncate(title, maxConfirmTitle)),
		mrkdwn(truncate(text, maxConfirmText)),
		plain(truncate(confirm, maxConfirmButton)),
		plain("Cancel"),
	).WithStyle(slack.StylePrimary)
}

// maxConfirmButton is Slack's limit on a confirm dialog's button labels.
const maxConfirmButton = 30

// approvalStateBlock marks a decided request (see blockApprovalState).
func approvalStateBlock(state, user, text string) slack.Block {
	id := blockApprovalState + ":" + state
	if user != "" {
		id += ":" + user
	}
	return contextLine(id, text)
}

// approvalDecidedMessage is a request that needs nothing more: its buttons
// are gone, and it says what was asked, what happened and who decided.
func approvalDecidedMessage(r approval.Request, state, by, headline, text string, at time.Time) message {
	md, plainTarget := approvalTarget(r)
	return message{
		Text: text + " Requested: " + approvalVerb(r) + " " + plainTarget + ".",
		Blocks: []slack.Block{
			section("approval_request", headline+"\n"+fmt.Sprintf("Requested by %s: %s %s.", mention(r.UserID), approvalVerb(r), md)),
			approvalStateBlock(state, by, approvalDetails(r, clock(at))),
		},
	}
}

// approvalApprovingMessage replaces the buttons as soon as an approver
// confirms, so the request cannot be approved twice from the message while
// Genesys works.
func approvalApprovingMessage(r approval.Request, approver string, at time.Time) message {
	return approvalDecidedMessage(r, approvalStateApproving, approver,
		fmt.Sprintf(":hourglass_flowing_sand: *Approved by %s.* Disconnecting…", mention(approver)),
		fmt.Sprintf("Approved by %s; disconnecting.", mention(approver)), at)
}

func approvalDeniedMessage(r approval.Request, denier string, at time.Time) message {
	return approvalDecidedMessage(r, approvalStateDenied, denier,
		fmt.Sprintf(":no_entry: *Denied by %s* at %s. Nobody was disconnected.", mention(denier), clock(at)),
		fmt.Sprintf("Denied by %s at %s; nobody was disconnected.", mention(denier), clock(at)), at)
}

func approvalWithdrawnMessage(r approval.Request, at time.Time) message {
	return approvalDecidedMessage(r, approvalStateWithdrawn, r.UserID,
		fmt.Sprintf(":leftwards_arrow_with_hook: *Withdrawn by %s* at %s. Nobody was disconnected.", mention(r.UserID), clock(at)),
		fmt.Sprintf("Withdrawn by %s at %s; nobody was disconnected.", mention(r.UserID), clock(at)), at)
}

func approvalExpiredMessage(r approval.Request) message {
	nobody := "nobody was disconnected"
	if r.Kind == approval.KindSweep {
		// A sweep approved on another replica leaves nothing this replica
		// can re-read, so no claim is made about what was swept: the
		// sweep's own summary in the channel says that.
		nobody = "it can no longer be approved"
	}
	return approvalDecidedMessage(r, approvalStateExpired, "",
		fmt.Sprintf(":hourglass: *Expired at %s*, %s. Run the command again to ask again.", clock(r.Expires), nobody),
		fmt.Sprintf("Expired at %s, %s.", clock(r.Expires), nobody), r.Expires)
}

// approvalOutcomeMessage is the request once approved and carried out: who
// asked, who approved, the result and Genesys's correlation id, under the
// same outcome text a direct disconnect posts.
func approvalOutcomeMessage(r approval.Request, o Outcome) message {
	out := outcomeMessage(o)
	header := fmt.Sprintf("*Requested by %s · approved by %s*", mention(r.UserID), mention(o.Actor))
	result := "result: " + string(o.Status)
	if o.CorrelationID != "" {
		result += " · Genesys correlation id " + code(o.CorrelationID)
	}
	blocks := []slack.Block{section("approval_request", header)}
	blocks = append(blocks, out.Blocks...)
	blocks = append(blocks, approvalStateBlock(approvalStateApproved, o.Actor, approvalDetails(r, result)))
	return message{
		Text:   fmt.Sprintf("Requested by %s, approved by %s: %s", mention(r.UserID), mention(o.Actor), out.Text),
		Blocks: blocks,
	}
}

// decidedState reads a request message's blocks, as Slack sends them with
// a click: whether it is still pending, and if not, how it was decided and
// by whom. ok is false when the blocks say nothing either way (no message
// in the payload).
func decidedState(blockIDs []string) (state, by string, ok bool) {
	for _, id := range blockIDs {
		if id == blockApprovalActions {
			return "", "", true
		}
		rest, found := strings.CutPrefix(id, blockApprovalState+":")
		if !found {
			continue
		}
		state, by, _ = strings.Cut(rest, ":")
		if !authz.IsUserID(by) {
			by = ""
		}
		return state, by, true
	}
	return "", "", false
}
