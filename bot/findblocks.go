package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/genesys"
)

func sinceText(since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return " (started since " + since.UTC().Format("Mon 2 Jan 15:04 UTC") + ")"
}

// noCallFoundMessage says that nothing was found and what was searched.
func noCallFoundMessage(s search, res genesys.FindResult, live genesys.LiveResult) message {
	text := fmt.Sprintf("No call in progress found for %s.", escapeText(s.plain))
	body := fmt.Sprintf(":information_source: No call in progress found for %s. I searched Genesys analytics for %s that have not ended%s", s.what, searchedMedia(s.filter.Media), sinceText(res.Since))
	if live.Ended > 0 {
		body += fmt.Sprintf(", and re-read the %d that analytics still listed: they have ended", live.Ended)
	}
	body += ". Analytics can take a few seconds to see a call that just started: try again shortly, or give the conversation id."
	return message{Text: text, Blocks: []slack.Block{section("find_none", body)}}
}

// searchedMedia says what a search looked for.
func searchedMedia(m genesys.Media) string {
	if m == "" {
		return "callbacks, chats, e-mails, messages and voice calls"
	}
	return escapeText(m.Label()) + "s"
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

// conversationPickerMessage draws the list of calls a search found, newest
// first: when each started, its queue, who is on it, and a button that
// shows that call's participant picker.
func conversationPickerMessage(convs []*genesys.Conversation, what, who string, notes []string, now time.Time) message {
	if len(convs) > maxConversationRows {
		convs = convs[:maxConversationRows]
	}
	title, noun := "Which call?", "calls"
	if slices.ContainsFunc(convs, nonVoice) {
		title, noun = "Which conversation?", "conversations"
	}
	blocks := []slack.Block{
		section("find_title", fmt.Sprintf("*%s* %d %s in progress for %s, newest first.", title, len(convs), noun, what)),
	}
	for i, conv := range convs {
		var head []string
		if !conv.StartTime.IsZero() {
			head = append(head, "*"+clock(conv.StartTime)+"* ("+formatDuration(now.Sub(conv.StartTime))+" ago)")
		}
		if len(conv.Media) > 0 {
			head = append(head, escapeText(conv.MediaLabel()))
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
			encodeConversationButton(conv.ID, who),
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
	text := fmt.Sprintf("%s %d %s in progress, newest first.", title, len(convs), noun)
	return message{Text: text, Blocks: blocks}
}

// buttonLabel tells calls apart at a glance: two calls that started in the
// same minute still differ by seconds and by who is on them.
func buttonLabel(conv *genesys.Conversation) string {
	label := "Show participants"
	var parts []string
	if !conv.StartTime.IsZero() {
		parts = append(parts, conv.StartTime.UTC().Format("15:04:05"))
	}
	if nonVoice(conv) {
		parts = append(parts, conv.MediaLabel())
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
