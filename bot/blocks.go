package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// message is what the bot shows: Block Kit blocks plus the plain-text
// fallback that notifications and screen readers use.
type message struct {
	Text   string
	Blocks []slack.Block
}

// Slack's Block Kit limits that the builders stay inside (Slack's Block Kit
// reference: 50 blocks per message, 75 characters of button text, …).
const (
	maxBlocks        = 50
	maxButtonText    = 75
	maxConfirmTitle  = 100
	maxConfirmText   = 300
	maxSectionText   = 3000
	maxContextText   = 2000
	pickerFixedParts = 5 // header, context, left-list, actions, overflow note
	// maxNameLen bounds a name from Genesys wherever it is shown, so one
	// very long name cannot push the rest of a row past Slack's limits.
	maxNameLen = 80
)

// mrkdwn is a mrkdwn text object with verbatim set: Slack then renders
// only the markup the text spells out (escaped outside text has none), and
// does not auto-link URLs or turn "@here" and channel names in a name into
// mentions.
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func section(blockID, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(truncateMrkdwn(text, maxSectionText)), nil, nil, slack.SectionBlockOptionBlockID(blockID))
}

func contextLine(blockID, text string) *slack.ContextBlock {
	return slack.NewContextBlock(blockID, mrkdwn(truncateMrkdwn(text, maxContextText)))
}

func code(s string) string { return "`" + escapeCode(s) + "`" }

// shortID keeps an id recognisable in places where 36 characters are too
// many (button labels, dialog titles).
func shortID(id string) string {
	if len(id) < 12 {
		return id
	}
	return id[:8] + "…" + id[len(id)-4:]
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }

// maskNumber hides the middle of a phone number or address: enough to tell
// two callers apart, not enough to copy the number out of a channel.
func maskNumber(addr string) string {
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "tel:"), "sip:")
	if i := strings.IndexByte(addr, '@'); i > 0 {
		addr = addr[:i]
	}
	var digits []rune
	for _, r := range addr {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 6 {
		return strings.Repeat("•", len(digits))
	}
	prefix := ""
	if strings.HasPrefix(addr, "+") {
		prefix = "+"
	}
	keepHead := 2
	if len(digits) >= 11 {
		keepHead = 4
	}
	return prefix + string(digits[:keepHead]) + strings.Repeat("•", len(digits)-keepHead-4) + string(digits[len(digits)-4:])
}

// displayName is how a participant is named everywhere: the name Genesys
// has, or the masked number, or the purpose.
func displayName(p genesys.Participant) string {
	name := shortName(p.Name)
	if name != "" && !looksLikeNumber(name) {
		return name
	}
	for _, a := range []string{p.Address, p.ANI, name} {
		if a != "" && looksLikeNumber(strings.TrimPrefix(strings.TrimPrefix(a, "tel:"), "sip:")) {
			return maskNumber(a)
		}
	}
	if name != "" {
		return name
	}
	if p.Purpose != "" {
		return "unnamed " + purpose(p)
	}
	return "unnamed participant"
}

// quoteWho shows back the [who] a supervisor typed, a phone number masked
// like every number the bot shows.
func quoteWho(who string) string {
	if n := strings.TrimPrefix(strings.TrimPrefix(who, "tel:"), "sip:"); looksLikeNumber(n) {
		return quote(maskNumber(n))
	}
	return quote(who)
}

func looksLikeNumber(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-(). ", r):
		case r == '@':
			return digits >= 5
		default:
			return false
		}
	}
	return digits >= 5
}

func purpose(p genesys.Participant) string {
	if pp := shortName(p.Purpose); pp != "" {
		return pp
	}
	return "participant"
}

// participantFlags lists what a supervisor needs to tell legs apart at a glance.
func participantFlags(p genesys.Participant, now time.Time) []string {
	var flags []string
	state := escapeText(string(p.State))
	if !p.ConnectedTime.IsZero() && p.State == genesys.StateConnected {
		state += " " + formatDuration(now.Sub(p.ConnectedTime))
	}
	flags = append(flags, state)
	if p.Held {
		flags = append(flags, "on hold")
	}
	if p.Muted {
		flags = append(flags, "muted")
	}
	if p.QueueName != "" {
		flags = append(flags, "queue "+escapeText(shortName(p.QueueName)))
	}
	return flags
}

func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

func helpMessage() message {
	return message{Text: "How to use /disconnect", Blocks: []slack.Block{section("help", usage)}}
}

// errorMessage is an ephemeral reply that says what went wrong and what to do.
func errorMessage(text string) message {
	return message{Text: text, Blocks: []slack.Block{section("error", ":warning: "+text)}}
}

func infoMessage(text string) message {
	return message{Text: text, Blocks: []slack.Block{section("info", text)}}
}

func conversationSummary(conv *genesys.Conversation, now time.Time) string {
	parts := []string{"conversation " + code(conv.ID)}
	switch {
	case len(conv.Media) > 0:
		parts = append(parts, escapeText(conv.MediaLabel()))
	case conv.MediaType != "":
		parts = append(parts, escapeText(conv.MediaType))
	}
	if !conv.StartTime.IsZero() {
		parts = append(parts, "started "+clock(conv.StartTime)+" ("+formatDuration(now.Sub(conv.StartTime))+" ago)")
	}
	return strings.Join(parts, " · ")
}

// pickerMessage draws the ephemeral picker: one row per active participant,
// each with its own Disconnect button behind a confirm dialog that names the
// person and the call; people who already left are listed as text only.
// When filter is not empty the picker only shows the participants that
// matched it.
func pickerMessage(conv *genesys.Conversation, candidates []genesys.Participant, filter string, now time.Time) message {
	title := "Who should leave the call?"
	if nonVoice(conv) {
		title = "Who should leave the conversation?"
	}
	if len(candidates) == 1 {
		title = "Disconnect this participant?"
	}
	blocks := []slack.Block{
		section("picker_title", "*"+title+"*\n"+conversationSummary(conv, now)),
	}
	room := maxBlocks - pickerFixedParts
	shown := candidates
	if len(shown) > room {
		shown = shown[:room]
	}
	for i, p := range shown {
		name := displayName(p)
		row := fmt.Sprintf("*%s* · %s · %s\nparticipant %s", escapeText(name), escapeText(purpose(p)),
			strings.Join(participantFlags(p, now), " · "), code(p.ID))
		if p.Media != "" {
			row += " · " + escapeText(p.Label())
		}
		btn := slack.NewButtonBlockElement(
			fmt.Sprintf("%s:%d", actionDisconnect, i),
			encodeButtonValue(buttonValue{ConversationID: conv.ID, ParticipantID: p.ID}),
			plain(plainLabel("Disconnect "+name+" ("+purpose(p)+")", maxButtonText)),
		).WithStyle(slack.StyleDanger).WithConfirm(confirmDialog(conv, p))
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncateMrkdwn(row, maxSectionText)), nil,
			slack.NewAccessory(btn), slack.SectionBlockOptionBlockID(fmt.Sprintf("participant:%d", i))))
	}
	if len(shown) < len(candidates) {
		blocks = append(blocks, contextLine("picker_more",
			fmt.Sprintf("%d more participants are not shown (Slack allows %d rows). Narrow it down: `/disconnect %s &lt;who&gt;`.", len(candidates)-len(shown), room, escapeCode(conv.ID))))
	}
	var left []string
	for _, p := range conv.Participants {
		if !p.Active() && !containsParticipant(candidates, p.ID) {
			left = append(left, fmt.Sprintf("%s (%s, %s)", escapeText(displayName(p)), escapeText(purpose(p)), escapeText(string(p.State))))
		}
	}
	if filter != "" {
		note := fmt.Sprintf("Showing the %d participants that match %s.", len(candidates), quoteWho(filter))
		if len(candidates) == 1 {
			note = fmt.Sprintf("Showing the participant that matches %s.", quoteWho(filter))
		}
		blocks = append(blocks, contextLine("picker_filter", note))
	} else if len(left) > 0 {
		where := "Not on the call any more, or not a person: "
		if nonVoice(conv) {
			where = "Not in the conversation any more, or not a person: "
		}
		blocks = append(blocks, contextLine("picker_left", where+strings.Join(left, ", ")))
	}
	blocks = append(blocks, slack.NewActionBlock("picker_actions",
		slack.NewButtonBlockElement(actionCancel, "cancel", plain("Cancel"))))
	text := fmt.Sprintf("%s Conversation %s: %d participants can be disconnected.", title, escapeText(conv.ID), len(candidates))
	return message{Text: text, Blocks: blocks}
}

func containsParticipant(ps []genesys.Participant, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

func confirmDialog(conv *genesys.Conversation, p genesys.Participant) *slack.ConfirmationBlockObject {
	name := displayName(p)
	text := fmt.Sprintf("%s (%s) will be dropped from conversation %s. Everyone else stays on the call.",
		escapeText(name), escapeText(purpose(p)), shortID(conv.ID))
	if nonVoiceParticipant(p) {
		text = fmt.Sprintf("%s (%s) will be dropped from the %s, conversation %s. Everyone else stays in the conversation.",
			escapeText(name), escapeText(purpose(p)), escapeText(p.Label()), shortID(conv.ID))
	}
	keep := "Keep on call"
	if nonVoiceParticipant(p) {
		keep = "Keep"
	}
	return slack.NewConfirmationBlockObject(
		plain(plainLabel("Disconnect "+name+"?", maxConfirmTitle)),
		mrkdwn(truncateMrkdwn(text, maxConfirmText)),
		plain("Disconnect"),
		plain(keep),
	).WithStyle(slack.StyleDanger)
}

// noMatchMessage lists who is on the call when a selector matched nobody.
func noMatchMessage(conv *genesys.Conversation, who string, now time.Time) message {
	var lines []string
	for _, p := range conv.ActiveParticipants() {
		lines = append(lines, fmt.Sprintf("• *%s* · %s · participant %s", escapeText(displayName(p)), escapeText(purpose(p)), code(p.ID)))
	}
	text := fmt.Sprintf("No one on the call matches %s.", quoteWho(who))
	body := ":warning: " + text
	if len(lines) > 0 {
		body += " On the call now:\n" + strings.Join(lines, "\n") + "\nRun `/disconnect " + escapeCode(conv.ID) + "` to pick from the list."
	} else {
		body += " Nobody can be disconnected from it right now."
	}
	return message{Text: text, Blocks: []slack.Block{section("no_match", body), contextLine("no_match_conv", conversationSummary(conv, now))}}
}

// progressMessage replaces the picker as soon as a button is clicked, so it
// cannot be clicked twice while Genesys works.
func progressMessage(conv string, p genesys.Participant) message {
	role := escapeText(roleAndMedia(p))
	text := fmt.Sprintf("Disconnecting %s (%s) from conversation %s…", escapeText(displayName(p)), role, escapeText(conv))
	return message{Text: text, Blocks: []slack.Block{section("progress", fmt.Sprintf(":hourglass_flowing_sand: Disconnecting *%s* (%s) from conversation %s…", escapeText(displayName(p)), role, code(conv)))}}
}

// nonVoice reports whether a conversation has media other than voice
// (then the words say "conversation", not "call").
func nonVoice(conv *genesys.Conversation) bool {
	return slices.ContainsFunc(conv.Media, func(m genesys.Media) bool { return m != genesys.MediaVoice })
}

// nonVoiceParticipant reports whether the participant is on another medium
// than a voice call.
func nonVoiceParticipant(p genesys.Participant) bool {
	return p.Media != "" && p.Media != genesys.MediaVoice
}

// onWhat is where the participant is: "on the call", or "in the
// conversation" on other media.
func onWhat(p genesys.Participant) string {
	if nonVoiceParticipant(p) {
		return "in the conversation"
	}
	return "on the call"
}

// roleAndMedia is the participant's purpose, and its medium when that is
// not a voice call: "customer, WhatsApp message".
func roleAndMedia(p genesys.Participant) string {
	if nonVoiceParticipant(p) {
		return purpose(p) + ", " + p.Label()
	}
	return purpose(p)
}

// OutcomeStatus is how a disconnect attempt ended.
type OutcomeStatus string

// The outcomes a channel can see.
const (
	OutcomeConfirmed   OutcomeStatus = "confirmed"   // Genesys accepted and the leg is gone
	OutcomeUnconfirmed OutcomeStatus = "unconfirmed" // accepted, but still on the call when we stopped looking
	OutcomeAlreadyGone OutcomeStatus = "already_gone"
	OutcomeFailed      OutcomeStatus = "failed"
	// OutcomeUnknown: the request went out but Genesys gave no definite
	// answer (timeout, 502/504), so the leg may or may not have dropped.
	OutcomeUnknown OutcomeStatus = "unknown"
)

// Outcome is the result of one disconnect, as posted to the channel.
type Outcome struct {
	Actor          string // Slack user id of the supervisor who clicked
	ConversationID string
	Participant    genesys.Participant
	Status         OutcomeStatus
	Reason         string // safe, user-facing reason for failures
	CorrelationID  string // Genesys ININ-Correlation-Id, when there was one
	At             time.Time
}

// outcomeMessage is the channel message for an outcome: who disconnected whom
// from which conversation, when, and whether Genesys confirmed it.
func outcomeMessage(o Outcome) message {
	name := escapeText(displayName(o.Participant))
	role := escapeText(roleAndMedia(o.Participant))
	who := fmt.Sprintf("*%s* (%s)", name, role)
	actor := "<@" + o.Actor + ">"
	conv := code(o.ConversationID)
	convText := escapeText(o.ConversationID)
	reason := escapeText(o.Reason)
	var body, text string
	switch o.Status {
	case OutcomeConfirmed:
		body = fmt.Sprintf(":white_check_mark: %s disconnected %s from conversation %s. Genesys confirmed it.", actor, who, conv)
		text = fmt.Sprintf("Disconnected %s (%s) from conversation %s; Genesys confirmed it.", name, role, convText)
	case OutcomeUnconfirmed:
		body = fmt.Sprintf(":hourglass: %s asked Genesys to disconnect %s from conversation %s. Genesys accepted the request but had not confirmed it yet: check the call.", actor, who, conv)
		text = fmt.Sprintf("Disconnect of %s requested but not confirmed yet; check the call.", name)
	case OutcomeAlreadyGone:
		body = fmt.Sprintf(":information_source: %s tried to disconnect %s from conversation %s, but they had already left the call. Nothing was changed.", actor, who, conv)
		text = fmt.Sprintf("%s had already left conversation %s.", name, convText)
	case OutcomeUnknown:
		body = fmt.Sprintf(":warning: %s asked Genesys to disconnect %s from conversation %s, but %s, so it is *not confirmed* whether they were disconnected. Check the call before trying again: `/disconnect %s` lists who is still on it.",
			actor, who, conv, reason, escapeCode(o.ConversationID))
		text = fmt.Sprintf("Disconnect of %s not confirmed: %s; check the call.", name, reason)
	default:
		body = fmt.Sprintf(":x: %s could not disconnect %s from conversation %s. %s", actor, who, conv, reason)
		text = fmt.Sprintf("Could not disconnect %s: %s", name, reason)
	}
	ctx := []string{"participant " + code(o.Participant.ID)}
	if o.Participant.Media != "" {
		ctx = append(ctx, escapeText(o.Participant.Label()))
	}
	ctx = append(ctx, clock(o.At))
	if o.CorrelationID != "" {
		ctx = append(ctx, "Genesys correlation id "+code(o.CorrelationID))
	}
	return message{Text: text, Blocks: []slack.Block{
		section("outcome", body),
		contextLine("outcome_details", strings.Join(ctx, " · ")),
	}}
}
