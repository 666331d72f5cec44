package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// approvalPolicy is the four-eyes policy (authz.ApprovalPolicy).
type approvalPolicy interface {
	Required(purpose string) bool
	RequiredForSweep() bool
	TTL() time.Duration
	MayApprove(ctx context.Context, requester, approver authz.Request) authz.Decision
}

// approvalSetup turns on four eyes for the disconnects its policy names:
// the click posts a request in the channel instead of disconnecting, and a
// second supervisor approves it.
type approvalSetup struct {
	Policy approvalPolicy
	// Signer signs and verifies the request's buttons; every replica must
	// use the same secret.
	Signer *approval.Signer
	// Approvers names who may approve, as Slack text, in every request
	// ("<@U…>, <!subteam^S…>"); "" when anyone else on the allow-list may.
	Approvers string
}

// Approval steps: the approval_step key of the audit lines.
const (
	stepRequested = "requested"
	stepApproved  = "approved"
	stepDenied    = "denied"
	stepWithdrawn = "withdrawn"
	stepExpired   = "expired"
	stepExecuted  = "executed"
	stepRefused   = "refused"
)

// Audit outcomes of approval steps that are not channel outcomes.
const (
	outcomeApprovalRequested = "approval_requested"
	outcomeApprovalFailed    = "approval_failed" // the request could not be made; nothing was done
	outcomeApprovalDenied    = "approval_denied"
	outcomeApprovalWithdrawn = "approval_withdrawn"
	outcomeApprovalExpired   = "approval_expired"
	outcomeAlreadyDecided    = "already_decided"
)

// clickApproval is the click kind of the three approval buttons.
const clickApproval = "approval"

// approvalRequired reports whether disconnecting a participant with purpose
// needs approval.
func (h *handler) approvalRequired(purpose string) bool {
	return h.Approval != nil && h.Approval.Policy != nil && h.Approval.Policy.Required(purpose)
}

// approvals is what one replica remembers about the requests it has seen
// decided, and the expiry timers of the requests it posted. Nothing here is
// needed for correctness across replicas (the signed value, the message and
// Genesys decide); it lets this replica answer "already approved by @x"
// and mark its own requests expired.
type approvals struct {
	mu      sync.Mutex
	decided map[string]decision // request id → how it was decided
	timers  map[string]*time.Timer
	closed  bool
}

type decision struct {
	state, by string
	until     time.Time // forget it after this
}

func (a *approvals) remember(r approval.Request, state, by string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.decided == nil {
		a.decided = make(map[string]decision)
	}
	for id, d := range a.decided {
		if now.After(d.until) {
			delete(a.decided, id)
		}
	}
	a.decided[r.ID] = decision{state: state, by: by, until: r.Expires.Add(time.Hour)}
	if t := a.timers[r.ID]; t != nil {
		t.Stop()
		delete(a.timers, r.ID)
	}
}

func (a *approvals) lookup(id string) (decision, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.decided[id]
	return d, ok
}

// approvalPurpose keeps a purpose the signed value can carry (a lower-case
// word); anything else is signed as "" and shown as "participant".
func signedPurpose(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if len(p) > 32 {
		return ""
	}
	for _, c := range p {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return ""
		}
	}
	return p
}

// clampBytes shortens s to at most n bytes at a rune boundary.
func clampBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// newApproval builds the four-eyes policy and, when it requires anything,
// the signer. The policy's problems come as an *authz.ConfigError; a
// missing or short secret as an *ApprovalSecretError.
func newApproval(cfg authz.ApprovalConfig, secret string, groups authz.GroupMembers, contact string) (*authz.ApprovalPolicy, *approvalSetup, error) {
	policy, err := authz.NewApproval(cfg, groups, nil, contact)
	if err != nil {
		return nil, nil, err
	}
	if !policy.Enabled() {
		return policy, nil, nil
	}
	signer, err := approval.NewSigner(secret)
	if err != nil {
		return nil, nil, &ApprovalSecretError{Err: err}
	}
	var who []string
	for _, u := range cfg.Approvers {
		if u = strings.TrimSpace(u); u != "" {
			who = append(who, mention(u))
		}
	}
	for _, g := range cfg.ApproverUsergroups {
		if g = strings.TrimSpace(g); g != "" {
			who = append(who, "<!subteam^"+g+">")
		}
	}
	return policy, &approvalSetup{Policy: policy, Signer: signer, Approvers: strings.Join(who, ", ")}, nil
}

// ApprovalSecretError is New's error when approval is on and its signing
// secret is missing or too short.
type ApprovalSecretError struct{ Err error }

func (e *ApprovalSecretError) Error() string { return "approval is on but " + e.Err.Error() }
func (e *ApprovalSecretError) Unwrap() error { return e.Err }

// approvalWhy says why a disconnect needs approval.
func approvalWhy(r approval.Request, all bool) string {
	if r.Kind == approval.KindSweep {
		return "Sweeps need a second supervisor's approval."
	}
	if all {
		return "Every disconnect needs a second supervisor's approval."
	}
	return fmt.Sprintf("Disconnecting a participant with the purpose %s needs a second supervisor's approval.", escapeText(approvalPurpose(r)))
}

// expiresAt is when a request made now expires: a whole second, never
// before now+ttl.
func expiresAt(now time.Time, ttl time.Duration) time.Time {
	t := now.Add(ttl)
	if t.Truncate(time.Second).Equal(t) {
		return t.UTC()
	}
	return t.Truncate(time.Second).Add(time.Second).UTC()
}

// requestApproval posts an approval request for p in the channel instead of
// disconnecting it. Nothing is sent to Genesys.
func (h *handler) requestApproval(ctx context.Context, req clickRequest, conv *genesys.Conversation, p genesys.Participant) result {
	if req.Redelivered {
		// Slack delivered the click again because it missed the ack of
		// the first delivery, which some replica has (almost certainly)
		// turned into a request already: a second one would only be noise.
		// If it had not, asking again is one click; nothing was done.
		h.reply(ctx, req.replyTo(), infoMessage(":information_source: Slack delivered your click a second time; the approval request it made is in the channel (if it is not, run the command again). Nothing has been sent to Genesys."), respondOptions{})
		return result{outcome: outcomeDuplicate, reason: "redelivered", step: stepRefused, conversation: conv.ID, participant: p.ID, purpose: p.Purpose}
	}
	now := h.now()
	r := approval.Request{
		Kind: approval.KindDisconnect, TeamID: req.TeamID, UserID: req.UserID, ChannelID: req.ChannelID,
		ConversationID: strings.ToLower(conv.ID), ParticipantID: strings.ToLower(p.ID),
		Purpose: signedPurpose(p.Purpose), Name: clampBytes(displayName(p), approval.MaxNameLen),
	}
	res := h.postApprovalRequest(ctx, req, r, conversationSummary(conv, now),
		fmt.Sprintf("*%s* (%s) is disconnected only once a second supervisor approves.", escapeText(displayName(p)), escapeText(roleAndMedia(p))))
	res.conversation, res.participant, res.purpose = conv.ID, p.ID, p.Purpose
	return res
}

// sweepNeedsApproval reports whether a sweep must be approved first
// (approval.required_for has sweep).
func (h *handler) sweepNeedsApproval() bool {
	return h.Approval != nil && h.Approval.Policy != nil && h.Approval.Policy.RequiredForSweep()
}

// requestSweepApproval is the hook for sweeps: when sweepNeedsApproval, the
// sweep's "Disconnect all N" click calls it instead of sweeping. It posts a
// request that states the count and the filters; once an approver approves
// (and confirms the count in the dialog), the handler's Sweeps runs it.
func (h *handler) requestSweepApproval(ctx context.Context, req clickRequest, sw approval.Sweep) result {
	r := approval.Request{Kind: approval.KindSweep, TeamID: req.TeamID, UserID: req.UserID, ChannelID: req.ChannelID, Sweep: sw}
	return h.postApprovalRequest(ctx, req, r, "", fmt.Sprintf("Sweeping %d stuck conversations needs a second supervisor.", sw.Count))
}

// postApprovalRequest signs r (with a new id and its expiry), posts it in
// the channel, starts the expiry timer and tells the requester privately.
// summary is the call's one-line summary ("" for sweeps); asked the first
// sentence of the private answer.
func (h *handler) postApprovalRequest(ctx context.Context, req clickRequest, r approval.Request, summary, asked string) result {
	now := h.now()
	r.ID, r.Expires = approval.NewID(), expiresAt(now, h.Approval.Policy.TTL())
	res := result{step: stepRequested, requestID: r.ID, requester: r.UserID}
	fail := func(err error, text string) result {
		h.Log.Error("approval request failed", "err", err, "request_id", r.ID, "conversation_id", r.ConversationID, "participant_id", r.ParticipantID)
		h.reply(ctx, req.replyTo(), errorMessage(text+" Nothing was disconnected."), respondOptions{Replace: true})
		res.outcome, res.reason = outcomeApprovalFailed, text
		return res
	}
	if h.Approval.Signer == nil {
		return fail(errors.New("approval is required but no signing secret is configured"), "This needs a second supervisor's approval, but approval is not fully configured in this bot (approval.secret).")
	}
	buttons, err := signApprovalButtons(h.Approval.Signer, r)
	if err != nil {
		return fail(err, "disconnectbot could not make the approval request.")
	}
	msg := approvalRequestMessage(approvalRequestView{
		req: r, buttons: buttons, why: approvalWhy(r, h.Approval.Policy.Required("")),
		approvers: h.Approval.Approvers, conversation: summary,
	}, now)
	ts, err := h.Slack.Post(ctx, req.ChannelID, msg)
	if err != nil {
		return fail(err, "The approval request could not be posted in this channel. Invite the bot to the channel (`/invite @disconnectbot`) and try again.")
	}
	h.watchExpiry(r, ts)
	h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":raised_hand: %s The request is in the channel until %s; nothing has been sent to Genesys. You can withdraw it there.",
		asked, clock(r.Expires))), respondOptions{Replace: true})
	res.outcome = outcomeApprovalRequested
	return res
}

// approvalClick handles Approve, Deny and Withdraw.
func (h *handler) approvalClick(ctx context.Context, req clickRequest) result {
	refuse := func(outcome, reason, text string) result {
		h.reply(ctx, req.replyTo(), errorMessage(text), respondOptions{})
		return result{outcome: outcome, reason: reason, step: stepRefused}
	}
	if h.Approval == nil || h.Approval.Signer == nil {
		return refuse(outcomeBadButton, "approval_not_configured", "This approval request cannot be handled: approval is not configured in this bot. Nobody was disconnected.")
	}
	now := h.now()
	r, action, err := verifyApprovalButton(h.Approval.Signer, req.ActionID, req.Value, req.ChannelID, now)
	switch {
	case errors.Is(err, approval.ErrExpired):
		return h.expiredClick(ctx, req, r, refuse)
	case err != nil:
		h.Log.Warn("rejected approval button", "err", err, "slack_user", req.UserID, "action_id", truncate(req.ActionID, 64), "value_len", len(req.Value))
		reason := "invalid_signature"
		if errors.Is(err, errApprovalMisplaced) {
			reason = "value_mismatch"
		}
		return refuse(outcomeBadButton, reason, "That approval button is not valid (it was changed, or it is from a bot with another approval.secret). Nobody was disconnected.")
	}
	res := h.decide(ctx, req, r, action)
	res.requestID, res.requester, res.conversation, res.participant = r.ID, r.UserID, r.ConversationID, r.ParticipantID
	if res.purpose == "" {
		res.purpose = r.Purpose
	}
	return res
}

// decide runs a verified Approve, Deny or Withdraw. HandleClick has
// already authorized the user against the allow-list.
func (h *handler) decide(ctx context.Context, req clickRequest, r approval.Request, action approval.Action) result {
	if res, decided := h.alreadyDecided(ctx, req, r); decided {
		return res
	}
	switch action {
	case approval.Withdraw:
		if req.UserID != r.UserID {
			h.reply(ctx, req.replyTo(), errorMessage(fmt.Sprintf("Only %s, who asked, can withdraw this request. Approvers approve or deny it.", mention(r.UserID))), respondOptions{})
			return result{outcome: outcomeDenied, reason: "not_requester", step: stepRefused}
		}
		h.approvals.remember(r, approvalStateWithdrawn, req.UserID, h.now())
		_ = h.updateRequest(ctx, req.ChannelID, req.MessageTS, approvalWithdrawnMessage(r, h.now()), true)
		return result{outcome: outcomeApprovalWithdrawn, step: stepWithdrawn}
	}
	d := h.Approval.Policy.MayApprove(ctx, authz.Request{TeamID: r.TeamID, UserID: r.UserID, ChannelID: r.ChannelID},
		authz.Request{TeamID: req.TeamID, UserID: req.UserID, ChannelID: req.ChannelID})
	if !d.Allowed {
		if d.Err != nil {
			h.Log.Error("approver lookup failed", "err", d.Err, "slack_user", req.UserID)
		}
		h.reply(ctx, req.replyTo(), errorMessage(d.Message()), respondOptions{})
		return result{outcome: outcomeDenied, reason: d.Reason, step: stepRefused}
	}
	if action == approval.Deny {
		h.approvals.remember(r, approvalStateDenied, req.UserID, h.now())
		_ = h.updateRequest(ctx, req.ChannelID, req.MessageTS, approvalDeniedMessage(r, req.UserID, h.now()), true)
		return result{outcome: outcomeApprovalDenied, step: stepDenied}
	}
	return h.approve(ctx, req, r)
}

// expiredClick answers a click on a request past its signed expiry. It
// says "nobody was disconnected" only when that is known: this replica did
// not carry the request out, and a re-read shows the participant still on
// the call (a message left drawn as pending, because a Slack update failed,
// does not prove that nothing happened).
func (h *handler) expiredClick(ctx context.Context, req clickRequest, r approval.Request, refuse func(outcome, reason, text string) result) result {
	fill := func(res result) result {
		res.requestID, res.requester, res.conversation, res.participant, res.purpose = r.ID, r.UserID, r.ConversationID, r.ParticipantID, r.Purpose
		return res
	}
	if d, ok := h.approvals.lookup(r.ID); ok && d.state != approvalStateExpired {
		h.reply(ctx, req.replyTo(), infoMessage(":information_source: "+decidedText(r, d)), respondOptions{})
		return fill(result{outcome: outcomeAlreadyDecided, reason: d.state, step: stepRefused})
	}
	if r.Kind == approval.KindDisconnect && !h.stillOnCall(ctx, r) {
		return fill(refuse(outcomeApprovalExpired, "expired", fmt.Sprintf(":hourglass: This request expired at %s, and the participant is no longer on the call: the channel (or the bot's audit log) says what happened. Nothing more was done.", clock(r.Expires))))
	}
	text := fmt.Sprintf(":hourglass: This request expired at %s; nobody was disconnected. Ask again with `/disconnect %s`.", clock(r.Expires), escapeCode(r.ConversationID))
	if r.Kind != approval.KindDisconnect {
		// Another replica may have run it; only the channel knows.
		text = fmt.Sprintf(":hourglass: This request expired at %s, so it can no longer be approved. Ask again with `/disconnect stuck`.", clock(r.Expires))
	}
	res := fill(refuse(outcomeApprovalExpired, "expired", text))
	if state, _, known := decidedState(req.MessageBlockIDs); known && state == "" && r.Kind == approval.KindDisconnect {
		// Still drawn as pending and the participant still on the call
		// (its replica's timer did not run, e.g. it restarted): say in the
		// channel that it expired.
		_ = h.updateRequest(ctx, req.ChannelID, req.MessageTS, approvalExpiredMessage(r), false)
	}
	return res
}

// stillOnCall re-reads the request's call; a failed read counts as "not
// known to be on it", so nothing is claimed.
func (h *handler) stillOnCall(ctx context.Context, r approval.Request) bool {
	conv, err := h.Genesys.GetConversation(ctx, r.ConversationID)
	if err != nil {
		h.Log.Warn("re-reading the call of an expired approval request failed", "err", err, "request_id", r.ID)
		return false
	}
	p, ok := conv.Participant(r.ParticipantID)
	return ok && p.Active()
}

// alreadyDecided answers a click on a request that was decided already, as
// this replica remembers it or as the message Slack sent with the click
// shows it.
func (h *handler) alreadyDecided(ctx context.Context, req clickRequest, r approval.Request) (result, bool) {
	d, ok := h.approvals.lookup(r.ID)
	if !ok {
		state, by, known := decidedState(req.MessageBlockIDs)
		if !known || state == "" {
			return result{}, false
		}
		d = decision{state: state, by: by}
	}
	h.reply(ctx, req.replyTo(), infoMessage(":information_source: "+decidedText(r, d)), respondOptions{})
	return result{outcome: outcomeAlreadyDecided, reason: d.state, step: stepRefused}, true
}

// decidedText is "This request was already approved by @x; …".
func decidedText(r approval.Request, d decision) string {
	by := ""
	if d.by != "" {
		by = " by " + mention(d.by)
	}
	switch d.state {
	case approvalStateApproving, approvalStateApproved:
		return "This request was already approved" + by + ". It was not carried out a second time; the outcome is on the request message."
	case approvalStateDenied:
		return "This request was already denied" + by + ". Nobody was disconnected."
	case approvalStateWithdrawn:
		return "This request was withdrawn" + by + ". Nobody was disconnected."
	case approvalStateExpired:
		return fmt.Sprintf("This request expired at %s. Nobody was disconnected.", clock(r.Expires))
	}
	return "This request was already decided" + by + "."
}

// sweepRunner runs a sweep once it is approved: the bulk sweep implements
// it. It posts its own progress and summary in r.ChannelID and returns the
// result for the executed audit line.
type sweepRunner interface {
	RunApprovedSweep(ctx context.Context, approver clickRequest, r approval.Request) result
}

// approveSweep starts an approved sweep.
func (h *handler) approveSweep(ctx context.Context, req clickRequest, r approval.Request) result {
	if h.Sweeps == nil {
		h.reply(ctx, req.replyTo(), errorMessage("Sweeps are not enabled in this bot, so this request cannot be carried out. Nothing was swept."), respondOptions{})
		return result{outcome: outcomeBadButton, reason: "sweep_not_enabled", step: stepRefused}
	}
	now := h.now()
	h.approvals.remember(r, approvalStateApproving, req.UserID, now)
	h.auditApproved(req, r, "")
	_ = h.updateRequest(ctx, req.ChannelID, req.MessageTS, approvalApprovingMessage(r, req.UserID, now), true)
	res := h.Sweeps.RunApprovedSweep(ctx, req, r)
	h.approvals.remember(r, approvalStateApproved, req.UserID, h.now())
	res.step = stepExecuted
	return res
}

// auditApproved writes the "approved" step line: the approver passed every
// check and the action starts.
func (h *handler) auditApproved(req clickRequest, r approval.Request, purpose string) {
	h.audit(auditEntry{action: "approval", user: req.UserID, team: req.TeamID, channel: req.ChannelID, start: h.now(),
		result: result{outcome: stepApproved, step: stepApproved, requestID: r.ID, requester: r.UserID,
			conversation: r.ConversationID, participant: r.ParticipantID, purpose: purpose}})
}

// approve carries out an approved disconnect: claim the participant (the
// in-flight guard of this replica), re-read the call, disconnect, confirm,
// and update the request message with the outcome.
func (h *handler) approve(ctx context.Context, req clickRequest, r approval.Request) result {
	if r.Kind == approval.KindSweep {
		return h.approveSweep(ctx, req, r)
	}
	release, other := h.claim(buttonValue{ConversationID: r.ConversationID, ParticipantID: r.ParticipantID}, req.UserID)
	if release == nil {
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":hourglass_flowing_sand: %s is already disconnecting this participant. Watch the request message for the outcome.", mention(other))), respondOptions{})
		return result{outcome: outcomeDuplicate, reason: "in_flight", step: stepRefused}
	}
	defer release()
	// The first Approve may have finished while this one waited for Slack.
	if res, decided := h.alreadyDecided(ctx, req, r); decided {
		return res
	}
	conv, err := h.Genesys.GetConversation(ctx, r.ConversationID)
	if err != nil {
		res := h.genesysError(ctx, req.replyTo(), err, failedCall{
			log: "re-reading conversation for an approval failed", prefix: "Nothing was disconnected; the request is still open. ",
			attrs: []any{"conversation_id", r.ConversationID, "request_id", r.ID},
		})
		res.step = stepRefused
		return res
	}
	p, found := conv.Participant(r.ParticipantID)
	if !found || !p.Active() {
		// Someone else's Approve (on another replica) has done it, or the
		// participant left on their own: either way nothing is sent.
		state := "left"
		if found {
			state = string(p.State)
		}
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: *%s* (%s) is no longer on the call (%s), so nothing was sent to Genesys. If another supervisor approved first, the request message shows the outcome.",
			escapeText(approvalName(r)), escapeText(approvalPurpose(r)), state)), respondOptions{})
		return result{outcome: outcomeStale, reason: "participant_not_active", step: stepRefused}
	}
	now := h.now()
	h.approvals.remember(r, approvalStateApproving, req.UserID, now)
	h.auditApproved(req, r, p.Purpose)
	// The buttons go at once (while Genesys works), so the message cannot
	// be approved again; the outcome waits for this update.
	updated := make(chan struct{})
	go func() {
		defer close(updated)
		_ = h.updateRequest(ctx, req.ChannelID, req.MessageTS, approvalApprovingMessage(r, req.UserID, now), false)
	}()
	outcome, res := h.execute(ctx, conv, p, req.UserID)
	<-updated
	h.approvals.remember(r, approvalStateApproved, req.UserID, h.now())
	h.publishApproval(ctx, req, r, outcome)
	res.step, res.purpose = stepExecuted, p.Purpose
	return res
}

// publishApproval puts the outcome on the request message (the channel's
// record of the whole story) and copies it to the audit channel. When the
// message cannot be updated the outcome is posted as a new message, and if
// that fails too the approver gets it privately: nothing is lost.
func (h *handler) publishApproval(ctx context.Context, req clickRequest, r approval.Request, o Outcome) {
	msg := approvalOutcomeMessage(r, o)
	if err := h.updateRequest(ctx, req.ChannelID, req.MessageTS, msg, true); err != nil {
		h.reply(ctx, req.replyTo(), msg, respondOptions{})
	}
	if h.AuditChannel != "" && h.AuditChannel != req.ChannelID {
		ctx, cancel := detached(ctx)
		defer cancel()
		if _, err := h.Slack.Post(ctx, h.AuditChannel, msg); err != nil {
			h.Log.Error("posting approval outcome to audit channel failed", "err", err, "channel", h.AuditChannel)
		}
	}
}

// updateRequest replaces the request message (chat.update). With fallback,
// a message that cannot be updated (deleted, too old) is posted anew.
func (h *handler) updateRequest(ctx context.Context, channel, ts string, msg message, fallback bool) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	err := errors.New("no message timestamp to update")
	if ts != "" {
		err = h.Slack.Update(ctx, channel, ts, msg)
	}
	if err == nil {
		return nil
	}
	h.Log.Error("updating the approval request message failed", "err", err, "channel", channel, "ts", ts)
	if !fallback {
		return err
	}
	if _, err = h.Slack.Post(ctx, channel, msg); err != nil {
		h.Log.Error("posting the approval outcome failed", "err", err, "channel", channel)
	}
	return err
}

// watchExpiry marks r expired on its message when it expires, unless this
// replica saw it decided first.
func (h *handler) watchExpiry(r approval.Request, ts string) {
	a := &h.approvals
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if a.timers == nil {
		a.timers = make(map[string]*time.Timer)
	}
	a.timers[r.ID] = time.AfterFunc(r.Expires.Sub(h.now()), func() { h.expire(r, ts) })
}

// expire marks a request expired. It re-reads the call first: only while
// the participant is still on it is "nobody was disconnected" certain (an
// Approve on another replica may have carried it out).
func (h *handler) expire(r approval.Request, ts string) {
	a := &h.approvals
	a.mu.Lock()
	delete(a.timers, r.ID)
	closed := a.closed
	a.mu.Unlock()
	if _, decided := a.lookup(r.ID); decided || closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := h.now()
	if r.Kind == approval.KindDisconnect {
		conv, err := h.Genesys.GetConversation(ctx, r.ConversationID)
		if err != nil {
			h.Log.Warn("approval request expired; could not re-read the call, so its message is left as it is", "err", err, "request_id", r.ID)
			return
		}
		if p, ok := conv.Participant(r.ParticipantID); !ok || !p.Active() {
			h.Log.Info("approval request expired after the participant left the call; its message is left as it is", "request_id", r.ID)
			return
		}
	}
	a.remember(r, approvalStateExpired, "", h.now())
	_ = h.updateRequest(ctx, r.ChannelID, ts, approvalExpiredMessage(r), false)
	h.audit(auditEntry{action: "approval", user: r.UserID, team: r.TeamID, channel: r.ChannelID, start: start,
		result: result{outcome: outcomeApprovalExpired, step: stepExpired, requestID: r.ID, requester: r.UserID,
			conversation: r.ConversationID, participant: r.ParticipantID, purpose: r.Purpose}})
}

// stopApprovals stops the expiry timers (at shutdown). A request that
// expires while no replica watches it is marked expired by the first click
// on it; its signed expiry refuses the click either way.
func (h *handler) stopApprovals() {
	a := &h.approvals
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for id, t := range a.timers {
		t.Stop()
		delete(a.timers, id)
	}
}
