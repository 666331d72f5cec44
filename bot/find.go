package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// Finder finds in-progress conversations when the supervisor does not have
// the conversation id. It is implemented by the genesys client.
type Finder interface {
	// FindConversations asks Genesys analytics for in-progress
	// conversations (every medium unless the filter narrows it).
	FindConversations(ctx context.Context, f genesys.ConversationFilter) (genesys.FindResult, error)
	// LiveConversations re-reads candidates and keeps those still in progress.
	LiveConversations(ctx context.Context, f genesys.ConversationFilter, candidates []genesys.ConversationSummary, limit int) (genesys.LiveResult, error)
	// ResolveQueue turns a queue name or id into one queue.
	ResolveQueue(ctx context.Context, nameOrID string) (genesys.Queue, error)
	// FindUserByEmail and GetUser turn an agent into a Genesys user.
	FindUserByEmail(ctx context.Context, email string) (*genesys.User, error)
	GetUser(ctx context.Context, userID string) (*genesys.User, error)
	// NormalizePhone turns a typed number into E.164 with the configured
	// default country.
	NormalizePhone(raw string) (string, error)
}

// search is a resolved find request.
type search struct {
	filter genesys.ConversationFilter
	// what describes the search in mrkdwn ("agent *Jane Doe* (jane@…)"),
	// plain in plain text, for logs and notification text.
	what, plain string
}

// handleFind runs /disconnect <agent|phone|queue:…>: it resolves the
// target, asks Genesys analytics for in-progress calls, re-reads them, and
// shows the participant picker (one call), a conversation picker (several)
// or says that nothing was found.
func (h *handler) handleFind(ctx context.Context, to replyTo, cmd Command) result {
	s, failed := h.resolveSearch(ctx, to, cmd)
	if failed != nil {
		return *failed
	}
	return h.runSearch(ctx, to, cmd, s)
}

// findByUserID is the second chance for a UUID that is not a conversation
// (Genesys answered 404): it may be an agent's user id. It reports whether
// it handled the command; when the id is not a user either, the caller
// reports the original 404.
func (h *handler) findByUserID(ctx context.Context, to replyTo, cmd Command) (result, bool) {
	if h.Finder == nil {
		return result{}, false
	}
	u, err := h.Finder.GetUser(ctx, cmd.Target.Value)
	if err != nil {
		if genesys.ErrorKind(err) != genesys.KindNotFound {
			h.Log.Warn("looking up the id as a user failed", "err", err, "id", cmd.Target.Value)
		}
		return result{}, false
	}
	return h.runSearch(ctx, to, cmd, agentSearch(u, true)), true
}

// agentSearch describes a search for u's calls. withEmail shows u's e-mail
// address; it is false when the agent was given as a Slack mention, whose
// address came from their Slack profile: Slack may hide addresses from
// members, and the bot's users:read.email scope must not get around that.
func agentSearch(u *genesys.User, withEmail bool) search {
	name := shortName(u.Name)
	if name == "" {
		name = "user " + u.ID
	}
	s := search{filter: genesys.ConversationFilter{UserID: u.ID}, what: "agent *" + escapeText(name) + "*", plain: "agent " + name}
	if withEmail && u.Email != "" {
		s.what += " (" + escapeText(u.Email) + ")"
		s.plain += " (" + u.Email + ")"
	}
	return s
}

// resolveSearch turns the target into a filter. On failure it has already
// answered the user and returns what the command came to.
func (h *handler) resolveSearch(ctx context.Context, to replyTo, cmd Command) (search, *result) {
	var (
		s   search
		err error
	)
	switch t := cmd.Target; t.Kind {
	case TargetAgent:
		s, err = h.agentTarget(ctx, t)
	case TargetPhone:
		s, err = h.phoneTarget(t)
	case TargetQueue:
		s, err = h.queueTarget(ctx, t)
	default:
		err = refusal(outcomeBadInput, "unknown_target", "Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`.")
	}
	if err == nil {
		return s, nil
	}
	var r result
	if ref, ok := errors.AsType[*refusedSearch](err); ok {
		h.reply(ctx, to, errorMessage(ref.text), respondOptions{})
		r = done(ref.outcome, ref.reason)
	} else {
		r = h.genesysError(ctx, to, err, failedCall{log: "find: " + lookupOf(cmd.Target.Kind) + " failed"})
	}
	return search{}, &r
}

// lookupOf names the Genesys lookup a target needs, for the log.
func lookupOf(k TargetKind) string {
	if k == TargetQueue {
		return "queue lookup"
	}
	return "user search"
}

// refusedSearch is a search the flow declines with a message of its own
// (not a Genesys failure).
type refusedSearch struct{ outcome, reason, text string }

func (e *refusedSearch) Error() string { return e.reason }

func refusal(outcome, reason, text string) error {
	return &refusedSearch{outcome: outcome, reason: reason, text: text}
}

// slackEmail turns a mention into the e-mail in the person's Slack profile.
func (h *handler) slackEmail(ctx context.Context, slackUser, mention string) (string, error) {
	if h.SlackUsers == nil {
		return "", refusal(outcomeBadInput, "mentions_not_enabled", "This bot cannot look up Slack mentions. Give the agent's e-mail address or Genesys user id instead.")
	}
	email, err := h.SlackUsers.UserEmail(ctx, slackUser)
	switch {
	case errors.Is(err, errNoSlackEmail):
		return "", refusal(outcomeBadInput, "mention_without_email", mention+" has no e-mail address in their Slack profile that the bot can see, so they cannot be matched to a Genesys user. Give their Genesys e-mail address or user id instead.")
	case errors.Is(err, errSlackUserNotFound):
		return "", refusal(outcomeBadInput, "mention_unknown", "Slack does not know "+mention+". Give the agent's e-mail address or Genesys user id instead.")
	case errors.Is(err, errSlackEmailScope):
		h.Log.Error("find: users.info refused for lack of a scope", "err", err)
		return "", refusal(outcomeSlackError, "missing_scope", "The bot's Slack app lacks the users:read.email scope, so mentions cannot be matched to Genesys users. Give the agent's e-mail address, and ask an admin to add the scope.")
	case err != nil:
		h.Log.Error("find: users.info failed", "err", err, "slack_user_target", slackUser)
		return "", refusal(outcomeSlackError, "users_info_failed", "Slack could not tell the bot who "+mention+" is; try again, or give the agent's e-mail address.")
	}
	return email, nil
}

// agentTarget finds the Genesys user an agent target names.
func (h *handler) agentTarget(ctx context.Context, t Target) (search, error) {
	email, mention := t.Value, ""
	if t.SlackUser != "" {
		mention = "<@" + t.SlackUser + ">"
		var err error
		if email, err = h.slackEmail(ctx, t.SlackUser, mention); err != nil {
			return search{}, err
		}
	}
	u, err := h.Finder.FindUserByEmail(ctx, email)
	switch {
	case errors.Is(err, genesys.ErrUserNotFound):
		text := fmt.Sprintf("No Genesys user has the e-mail address %s.", code(email))
		if mention != "" {
			// Not the address itself: it came from their Slack profile.
			text = fmt.Sprintf("No Genesys user has the e-mail address in %s's Slack profile.", mention)
		}
		return search{}, refusal(outcomeFindNoUser, "user_not_found", text+" Check it, or give the agent's Genesys user id.")
	case genesys.ErrorKind(err) == genesys.KindInput:
		return search{}, refusal(outcomeBadInput, "bad_email", escapeText(genesys.UserMessage(err)))
	case err != nil:
		return search{}, err
	}
	return agentSearch(u, mention == ""), nil
}

// phoneTarget reads a typed phone number.
func (h *handler) phoneTarget(t Target) (search, error) {
	e164, err := h.Finder.NormalizePhone(t.Value)
	if err != nil {
		return search{}, refusal(outcomeBadInput, "bad_phone", escapeText(genesys.UserMessage(err))+". Type it with its country code, e.g. `/disconnect +13175550123`.")
	}
	// Masked like every number the bot shows: the reply names the search,
	// not the caller.
	return search{filter: genesys.ConversationFilter{Phone: e164}, what: "phone number " + code(maskNumber(e164)), plain: "phone number " + maskNumber(e164)}, nil
}

// queueTarget finds the one queue a queue target names.
func (h *handler) queueTarget(ctx context.Context, t Target) (search, error) {
	q, err := h.Finder.ResolveQueue(ctx, t.Value)
	if amb, ok := errors.AsType[*genesys.AmbiguousQueueError](err); ok {
		return search{}, refusal(outcomeFindAmbiguous, "ambiguous_queue", ambiguousQueueText(t.Value, amb))
	}
	switch {
	case errors.Is(err, genesys.ErrQueueNotFound):
		return search{}, refusal(outcomeFindNoQueue, "queue_not_found", fmt.Sprintf("No Genesys queue is named %s (or starts with it). Check the name, or give the queue id.", quote(t.Value)))
	case genesys.ErrorKind(err) == genesys.KindInput:
		return search{}, refusal(outcomeBadInput, "bad_queue", escapeText(genesys.UserMessage(err)))
	case err != nil:
		return search{}, err
	}
	if q.Name == "" {
		return search{filter: genesys.ConversationFilter{QueueID: q.ID}, what: "queue " + code(q.ID), plain: "queue " + q.ID}, nil
	}
	return search{filter: genesys.ConversationFilter{QueueID: q.ID}, what: "queue *" + escapeText(shortName(q.Name)) + "*", plain: "queue " + shortName(q.Name)}, nil
}

// ambiguousQueueText lists the queues a name matches.
func ambiguousQueueText(typed string, amb *genesys.AmbiguousQueueError) string {
	var lines []string
	for i, c := range amb.Queues {
		if i == maxQueueChoices {
			lines = append(lines, fmt.Sprintf("• … and %d more", len(amb.Queues)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("• %s (%s)", escapeText(shortName(c.Name)), code(c.ID)))
	}
	more := ""
	if amb.More {
		more = " (and more that are not listed)"
	}
	return fmt.Sprintf("Several queues match %s%s:\n%s\nType the full name (`/disconnect queue:&lt;name&gt;`) or the queue id.", quote(typed), more, strings.Join(lines, "\n"))
}

// runSearch queries analytics, re-reads the candidates, and answers.
func (h *handler) runSearch(ctx context.Context, to replyTo, cmd Command, s search) result {
	if cmd.Media != "" {
		s.filter.Media = cmd.Media
		s.what += " (" + escapeText(cmd.Media.Label()) + "s only)"
		s.plain += " (" + cmd.Media.Label() + "s only)"
	}
	failed := failedCall{log: "find failed", attrs: []any{"search", s.plain}}
	res, err := h.Finder.FindConversations(ctx, s.filter)
	if err != nil {
		return h.genesysError(ctx, to, err, failed)
	}
	live, err := h.Finder.LiveConversations(ctx, s.filter, res.Conversations, maxConversationRows)
	if err != nil {
		return h.genesysError(ctx, to, err, failed)
	}
	h.Log.LogAttrs(ctx, slog.LevelInfo, "find",
		slog.String("search", s.plain),
		slog.Int("analytics_total", res.Total),
		slog.Int("analytics_read", len(res.Conversations)),
		slog.Int("analytics_pages", res.Pages),
		slog.Bool("analytics_truncated", res.Truncated),
		slog.Int("live", len(live.Conversations)),
		slog.Int("ended", live.Ended),
		slog.Int("failed", live.Failed),
		slog.Int("unchecked", live.Unchecked),
	)
	convs := slices.Clone(live.Conversations)
	slices.SortStableFunc(convs, func(a, b *genesys.Conversation) int { return b.StartTime.Compare(a.StartTime) })
	now := h.now()
	switch {
	case len(convs) == 0:
		h.reply(ctx, to, noCallFoundMessage(s, res, live), respondOptions{})
		return done(outcomeFindNone, s.plain)
	case len(convs) == 1 && live.Failed == 0:
		r := h.showPicker(ctx, to, convs[0], cmd)
		r.conversation = convs[0].ID
		return r
	}
	h.reply(ctx, to, conversationPickerMessage(convs, s.what, cmd.Who, findNotes(res, live, len(convs)), now), respondOptions{})
	return done(outcomeFindPickerShown, s.plain)
}

// handleConversationClick runs a click on a conversation picker button
// (authorized by HandleClick): it re-reads the call, and replaces the
// conversation picker with that call's participant picker.
func (h *handler) handleConversationClick(ctx context.Context, req clickRequest) result {
	convID, who, err := decodeConversationButton(req.Value)
	if err != nil {
		h.Log.Warn("rejected conversation button value", "slack_user", req.UserID, "value_len", len(req.Value))
		h.reply(ctx, req.replyTo(), errorMessage("That button is not valid: "+err.Error()+"."), respondOptions{})
		return done(outcomeBadButton, "invalid_value")
	}
	r := h.pickConversation(ctx, req, convID, who)
	r.conversation = convID
	return r
}

func (h *handler) pickConversation(ctx context.Context, req clickRequest, convID, who string) result {
	conv, err := h.Genesys.GetConversation(ctx, convID)
	if err != nil {
		return h.genesysError(ctx, req.replyTo(), err, failedCall{log: "reading conversation failed", attrs: []any{"conversation_id", convID}})
	}
	if conv.Ended() {
		// Keep the list: the other calls on it may still be live.
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: Conversation %s has ended since the list was made; pick another call, or search again.", code(conv.ID))), respondOptions{})
		return done(outcomeConversationEnded, "")
	}
	// The participant picker takes the place of the conversation picker.
	to := req.replyTo()
	to.replace = true
	cmd := Command{Target: Target{Kind: TargetConversation, Value: conv.ID}}
	if who != "" {
		sel, _ := genesys.GuessSelector(who) // checked by decodeConversationButton
		cmd.Who, cmd.Selector = who, &sel
	}
	return h.showPicker(ctx, to, conv, cmd)
}
