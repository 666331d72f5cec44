package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// Finder finds in-progress conversations when the supervisor does not have
// the conversation id. It is implemented by the genesys client.
type Finder interface {
	// FindConversations asks Genesys analytics for in-progress voice calls.
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

// SlackUsers looks up a Slack user (users.info), to turn a mention into an
// e-mail address.
type SlackUsers interface {
	UserEmail(ctx context.Context, userID string) (string, error)
}

// Errors a SlackUsers returns for the cases the flow explains to the user.
var (
	// ErrNoSlackEmail means the Slack user has no e-mail address the bot can
	// see: a bot, a deleted account, or a profile without one.
	ErrNoSlackEmail = errors.New("bot: the Slack user has no e-mail address the bot can see")
	// ErrSlackUserNotFound means Slack does not know the user id.
	ErrSlackUserNotFound = errors.New("bot: Slack has no such user")
	// ErrSlackEmailScope means the bot token lacks users:read.email (or users:read).
	ErrSlackEmailScope = errors.New("bot: the Slack bot token lacks the users:read.email scope")
)

// SlackUserDirectory is SlackUsers over slack-go (users.info; needs the
// users:read and users:read.email scopes).
type SlackUserDirectory struct{ API *slack.Client }

// UserEmail returns the lower-cased e-mail address in the user's profile.
func (d SlackUserDirectory) UserEmail(ctx context.Context, userID string) (string, error) {
	if d.API == nil {
		return "", errors.New("bot: SlackUserDirectory has no Slack client")
	}
	u, err := d.API.GetUserInfoContext(ctx, userID)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			switch se.Err {
			case "user_not_found", "users_not_found":
				return "", ErrSlackUserNotFound
			case "missing_scope":
				return "", ErrSlackEmailScope
			}
		}
		return "", fmt.Errorf("slack users.info: %w", err)
	}
	email := strings.ToLower(strings.TrimSpace(u.Profile.Email))
	if u.Deleted || u.IsBot || email == "" {
		return "", ErrNoSlackEmail
	}
	return email, nil
}

// Conversation buttons. Like participant buttons they are stateless; the
// value is "c1:<conversation-id>" and nothing else.
const (
	conversationButtonVersion = "c1"
	actionConversation        = "conversation"
	// maxConversationRows is how many calls the conversation picker shows:
	// one section block each, well inside Slack's 50 blocks, and as many
	// re-reads as one search may cost.
	maxConversationRows = 20
	// maxRowParticipants bounds the names listed in one row.
	maxRowParticipants = 6
	// maxQueueChoices bounds the queues listed when a name is ambiguous.
	maxQueueChoices = 10
)

// EncodeConversationButton returns the value of a conversation button.
// who is the [who] the supervisor typed after the agent, number or queue
// ("" for none): it travels with the button so the participant picker
// after the click is filtered the same way. It is user text, so the decoder
// checks it again as strictly as the command parser did.
func EncodeConversationButton(conversationID, who string) string {
	v := conversationButtonVersion + ":" + conversationID
	if who != "" {
		v += ":" + who
	}
	return v
}

// maxButtonWho bounds the [who] a conversation button carries.
const maxButtonWho = 300

// DecodeConversationButton parses and validates a conversation button
// value. Anything that is not exactly what EncodeConversationButton makes
// is rejected.
func DecodeConversationButton(s string) (conversationID, who string, err error) {
	prefix := conversationButtonVersion + ":"
	if len(s) < len(prefix)+36 || len(s) > len(prefix)+36+1+maxButtonWho || !strings.HasPrefix(s, prefix) {
		return "", "", errBadButton
	}
	id, rest := s[len(prefix):len(prefix)+36], s[len(prefix)+36:]
	if !uuidRE.MatchString(id) {
		return "", "", errBadButton
	}
	if rest != "" {
		who, ok := strings.CutPrefix(rest, ":")
		if !ok || who == "" || strings.TrimSpace(who) != who {
			return "", "", errBadButton
		}
		if _, err := genesys.GuessSelector(who); err != nil {
			return "", "", errBadButton
		}
		for _, r := range who {
			if r < 0x20 || r == 0x7f {
				return "", "", errBadButton
			}
		}
		return strings.ToLower(id), who, nil
	}
	return strings.ToLower(id), "", nil
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
func (h *Handler) handleFind(ctx context.Context, req SlashRequest, cmd Command, entry *auditEntry) {
	if h.Finder == nil {
		h.reply(ctx, req.replyTo(), errorMessage("Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`. Finding a call by agent, phone number or queue is not enabled in this bot."), RespondOptions{})
		entry.outcome, entry.reason = "bad_input", "find_not_enabled"
		return
	}
	s, ok := h.resolveSearch(ctx, req.replyTo(), cmd, entry)
	if !ok {
		return
	}
	h.runSearch(ctx, req.replyTo(), cmd, s, entry)
}

// findByUserID is the second chance for a UUID that is not a conversation
// (Genesys answered 404): it may be an agent's user id. It reports whether
// it handled the command; when the id is not a user either, the caller
// reports the original 404.
func (h *Handler) findByUserID(ctx context.Context, req SlashRequest, cmd Command, entry *auditEntry) bool {
	if h.Finder == nil || cmd.Target.Kind != TargetConversation {
		return false
	}
	u, err := h.Finder.GetUser(ctx, cmd.Target.Value)
	if err != nil {
		if genesys.ErrorKind(err) != genesys.KindNotFound {
			h.Log.Warn("looking up the id as a user failed", "err", err, "id", cmd.Target.Value)
		}
		return false
	}
	entry.conversation = ""
	h.runSearch(ctx, req.replyTo(), cmd, agentSearch(u), entry)
	return true
}

func agentSearch(u *genesys.User) search {
	name := shortName(u.Name)
	if name == "" {
		name = "user " + u.ID
	}
	s := search{filter: genesys.ConversationFilter{UserID: u.ID}, what: "agent *" + escapeText(name) + "*", plain: "agent " + name}
	if u.Email != "" {
		s.what += " (" + escapeText(u.Email) + ")"
		s.plain += " (" + u.Email + ")"
	}
	return s
}

// resolveSearch turns the target into a filter. On failure it has already
// answered the user and filled entry.
func (h *Handler) resolveSearch(ctx context.Context, to replyTo, cmd Command, entry *auditEntry) (search, bool) {
	fail := func(outcome, reason, text string) (search, bool) {
		h.reply(ctx, to, errorMessage(text), RespondOptions{})
		entry.outcome, entry.reason = outcome, reason
		return search{}, false
	}
	genesysFail := func(err error, what string) (search, bool) {
		text, status, corr := genesysFailure(err)
		entry.genesysStatus, entry.correlationID = status, corr
		h.Log.Error("find: "+what+" failed", "err", err)
		return fail("genesys_error", text, withCorrelation(text, corr))
	}
	t := cmd.Target
	switch t.Kind {
	case TargetAgent:
		email := t.Value
		mention := ""
		if t.SlackUser != "" {
			mention = "<@" + t.SlackUser + ">"
			if h.SlackUsers == nil {
				return fail("bad_input", "mentions_not_enabled", "This bot cannot look up Slack mentions. Give the agent's e-mail address or Genesys user id instead.")
			}
			var err error
			email, err = h.SlackUsers.UserEmail(ctx, t.SlackUser)
			switch {
			case errors.Is(err, ErrNoSlackEmail):
				return fail("bad_input", "mention_without_email", mention+" has no e-mail address in their Slack profile that the bot can see, so they cannot be matched to a Genesys user. Give their Genesys e-mail address or user id instead.")
			case errors.Is(err, ErrSlackUserNotFound):
				return fail("bad_input", "mention_unknown", "Slack does not know "+mention+". Give the agent's e-mail address or Genesys user id instead.")
			case errors.Is(err, ErrSlackEmailScope):
				h.Log.Error("find: users.info refused for lack of a scope", "err", err)
				return fail("slack_error", "missing_scope", "The bot's Slack app lacks the users:read.email scope, so mentions cannot be matched to Genesys users. Give the agent's e-mail address, and ask an admin to add the scope.")
			case err != nil:
				h.Log.Error("find: users.info failed", "err", err, "slack_user_target", t.SlackUser)
				return fail("slack_error", "users_info_failed", "Slack could not tell the bot who "+mention+" is; try again, or give the agent's e-mail address.")
			}
		}
		u, err := h.Finder.FindUserByEmail(ctx, email)
		if errors.Is(err, genesys.ErrUserNotFound) {
			text := fmt.Sprintf("No Genesys user has the e-mail address %s.", code(email))
			if mention != "" {
				text = fmt.Sprintf("No Genesys user has %s's e-mail address (%s).", mention, code(email))
			}
			return fail("find_no_user", "user_not_found", text+" Check it, or give the agent's Genesys user id.")
		}
		if genesys.ErrorKind(err) == genesys.KindInput {
			return fail("bad_input", "bad_email", escapeText(genesys.UserMessage(err)))
		}
		if err != nil {
			return genesysFail(err, "user search")
		}
		return agentSearch(u), true

	case TargetPhone:
		e164, err := h.Finder.NormalizePhone(t.Value)
		if err != nil {
			return fail("bad_input", "bad_phone", escapeText(genesys.UserMessage(err))+". Type it with its country code, e.g. `/disconnect +13175550123`.")
		}
		return search{filter: genesys.ConversationFilter{Phone: e164}, what: "phone number " + code(e164), plain: "phone number " + e164}, true

	case TargetQueue:
		q, err := h.Finder.ResolveQueue(ctx, t.Value)
		var amb *genesys.AmbiguousQueueError
		switch {
		case errors.As(err, &amb):
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
			return fail("find_ambiguous_queue", "ambiguous_queue", fmt.Sprintf("Several queues match %s%s:\n%s\nType the full name (`/disconnect queue:&lt;name&gt;`) or the queue id.", quote(t.Value), more, strings.Join(lines, "\n")))
		case errors.Is(err, genesys.ErrQueueNotFound):
			return fail("find_no_queue", "queue_not_found", fmt.Sprintf("No Genesys queue is named %s (or starts with it). Check the name, or give the queue id.", quote(t.Value)))
		case genesys.ErrorKind(err) == genesys.KindInput:
			return fail("bad_input", "bad_queue", escapeText(genesys.UserMessage(err)))
		case err != nil:
			return genesysFail(err, "queue lookup")
		}
		if q.Name == "" {
			return search{filter: genesys.ConversationFilter{QueueID: q.ID}, what: "queue " + code(q.ID), plain: "queue " + q.ID}, true
		}
		return search{filter: genesys.ConversationFilter{QueueID: q.ID}, what: "queue *" + escapeText(shortName(q.Name)) + "*", plain: "queue " + shortName(q.Name)}, true
	}
	return fail("bad_input", "unknown_target", "Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`.")
}

// runSearch queries analytics, re-reads the candidates, and answers.
func (h *Handler) runSearch(ctx context.Context, to replyTo, cmd Command, s search, entry *auditEntry) {
	genesysFail := func(err error) {
		text, status, corr := genesysFailure(err)
		entry.genesysStatus, entry.correlationID = status, corr
		h.Log.Error("find failed", "err", err, "search", s.plain)
		h.reply(ctx, to, errorMessage(withCorrelation(text, corr)), RespondOptions{})
		entry.outcome, entry.reason = "genesys_error", text
	}
	res, err := h.Finder.FindConversations(ctx, s.filter)
	if err != nil {
		genesysFail(err)
		return
	}
	live, err := h.Finder.LiveConversations(ctx, s.filter, res.Conversations, maxConversationRows)
	if err != nil {
		genesysFail(err)
		return
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
		h.reply(ctx, to, noCallFoundMessage(s, res, live), RespondOptions{})
		entry.outcome, entry.reason = "find_none", s.plain
	case len(convs) == 1 && live.Failed == 0:
		entry.conversation = convs[0].ID
		h.showPicker(ctx, to, convs[0], cmd, entry)
	default:
		h.reply(ctx, to, ConversationPickerMessage(convs, s.what, cmd.Who, findNotes(res, live, len(convs)), now), RespondOptions{})
		entry.outcome, entry.reason = "find_picker_shown", s.plain
	}
}

func sinceText(since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return " (started since " + since.UTC().Format("Mon 2 Jan 15:04 UTC") + ")"
}

// noCallFoundMessage says that nothing was found and what was searched.
func noCallFoundMessage(s search, res genesys.FindResult, live genesys.LiveResult) Message {
	text := fmt.Sprintf("No call in progress found for %s.", escapeText(s.plain))
	body := fmt.Sprintf(":information_source: No call in progress found for %s. I searched Genesys analytics for voice calls that have not ended%s", s.what, sinceText(res.Since))
	if live.Ended > 0 {
		body += fmt.Sprintf(", and re-read the %d that analytics still listed: they have ended", live.Ended)
	}
	body += ". Analytics can take a few seconds to see a call that just started: try again shortly, or give the conversation id."
	return Message{Text: text, Blocks: []slack.Block{section("find_none", body)}}
}

// findNotes are the context lines under the conversation picker.
func findNotes(res genesys.FindResult, live genesys.LiveResult, shown int) []string {
	var notes []string
	if live.Unchecked > 0 || res.Truncated {
		n := live.Unchecked + max(0, res.Total-len(res.Conversations))
		notes = append(notes, fmt.Sprintf("Showing the %d newest calls; %d more match and are not shown. Narrow the search down (an agent or a phone number instead of a queue), or give the conversation id.", shown, n))
	}
	if live.Failed > 0 {
		notes = append(notes, fmt.Sprintf(":warning: %d more calls could not be read from Genesys just now; search again to see them.", live.Failed))
	}
	if live.Ended > 0 {
		notes = append(notes, fmt.Sprintf("%d calls that analytics still listed have ended and are left out.", live.Ended))
	}
	return notes
}

// ConversationPickerMessage draws the list of calls a search found, newest
// first: when each started, its queue, who is on it, and a button that
// shows that call's participant picker.
func ConversationPickerMessage(convs []*genesys.Conversation, what, who string, notes []string, now time.Time) Message {
	if len(convs) > maxConversationRows {
		convs = convs[:maxConversationRows]
	}
	blocks := []slack.Block{
		section("find_title", fmt.Sprintf("*Which call?* %d calls in progress for %s, newest first.", len(convs), what)),
	}
	for i, conv := range convs {
		var head []string
		if !conv.StartTime.IsZero() {
			head = append(head, "*"+clock(conv.StartTime)+"* ("+formatDuration(now.Sub(conv.StartTime))+" ago)")
		}
		if q := queueName(conv); q != "" {
			head = append(head, "queue "+escapeText(shortName(q)))
		}
		var people []string
		active := conv.ActiveParticipants()
		for j, p := range active {
			if j == maxRowParticipants {
				people = append(people, fmt.Sprintf("+%d more", len(active)-j))
				break
			}
			people = append(people, fmt.Sprintf("%s (%s)", escapeText(displayName(p)), escapeText(purpose(p))))
		}
		if len(people) == 0 {
			people = append(people, "nobody who can be disconnected")
		}
		row := strings.Join(head, " · ")
		if row != "" {
			row += "\n"
		}
		row += strings.Join(people, " · ") + "\nconversation " + code(conv.ID)
		btn := slack.NewButtonBlockElement(
			fmt.Sprintf("%s:%d", actionConversation, i),
			EncodeConversationButton(conv.ID, who),
			plain(buttonLabel(conv)),
		)
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncateMrkdwn(row, maxSectionText)), nil,
			slack.NewAccessory(btn), slack.SectionBlockOptionBlockID(fmt.Sprintf("conversation:%d", i))))
	}
	for i, n := range notes {
		blocks = append(blocks, contextLine(fmt.Sprintf("find_note:%d", i), n))
	}
	blocks = append(blocks, slack.NewActionBlock("find_actions",
		slack.NewButtonBlockElement(actionCancel, "cancel", plain("Cancel"))))
	text := fmt.Sprintf("Which call? %d calls in progress, newest first.", len(convs))
	return Message{Text: text, Blocks: blocks}
}

// buttonLabel tells calls apart at a glance: two calls that started in the
// same minute still differ by seconds and by who is on them.
func buttonLabel(conv *genesys.Conversation) string {
	label := "Show participants"
	var parts []string
	if !conv.StartTime.IsZero() {
		parts = append(parts, conv.StartTime.UTC().Format("15:04:05"))
	}
	if active := conv.ActiveParticipants(); len(active) > 0 {
		parts = append(parts, displayName(active[0]))
	}
	if len(parts) > 0 {
		label += " (" + strings.Join(parts, ", ") + ")"
	}
	return plainLabel(label, maxButtonText)
}

// queueName is the first queue named on the call.
func queueName(conv *genesys.Conversation) string {
	for _, p := range conv.Participants {
		if p.QueueName != "" {
			return p.QueueName
		}
	}
	return ""
}

// handleConversationClick runs a click on a conversation picker button: it
// authorizes the clicking user again, re-reads the call, and replaces the
// conversation picker with that call's participant picker.
func (h *Handler) handleConversationClick(ctx context.Context, req ClickRequest, entry *auditEntry) {
	entry.action = "pick_conversation"
	defer func() { h.audit(*entry) }()
	convID, who, err := DecodeConversationButton(req.Value)
	if err != nil {
		h.Log.Warn("rejected conversation button value", "slack_user", req.UserID, "value_len", len(req.Value))
		h.reply(ctx, req.replyTo(), errorMessage("That button is not valid: "+err.Error()+"."), RespondOptions{})
		entry.outcome, entry.reason = "bad_button", "invalid_value"
		return
	}
	entry.conversation = convID
	if decision := h.authorize(ctx, req.TeamID, req.UserID, req.ChannelID, req.replyTo()); !decision.Allowed {
		entry.outcome, entry.reason = "denied", decision.Reason
		return
	}
	conv, err := h.Genesys.GetConversation(ctx, convID)
	if err != nil {
		text, status, corr := genesysFailure(err)
		entry.genesysStatus, entry.correlationID = status, corr
		h.Log.Error("reading conversation failed", "err", err, "conversation_id", convID)
		h.reply(ctx, req.replyTo(), errorMessage(withCorrelation(text, corr)), RespondOptions{})
		entry.outcome, entry.reason = "genesys_error", text
		return
	}
	if conv.Ended() {
		// Keep the list: the other calls on it may still be live.
		h.reply(ctx, req.replyTo(), infoMessage(fmt.Sprintf(":information_source: Conversation %s has ended since the list was made; pick another call, or search again.", code(conv.ID))), RespondOptions{})
		entry.outcome = "conversation_ended"
		return
	}
	// The participant picker takes the place of the conversation picker.
	to := req.replyTo()
	to.replace = true
	cmd := Command{Target: Target{Kind: TargetConversation, Value: conv.ID}}
	if who != "" {
		sel, _ := genesys.GuessSelector(who) // checked by DecodeConversationButton
		cmd.Who, cmd.Selector = who, &sel
	}
	h.showPicker(ctx, to, conv, cmd, entry)
}
