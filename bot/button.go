package bot

import (
	"errors"
	"strings"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// Buttons are stateless: the value carries a version and the two ids, and
// nothing else, so any replica can handle the click and nothing the user
// could tamper with changes who is acted on without also being re-checked
// against Genesys and the allow-list.
const buttonVersion = "v1"

// Action ids. Slack requires action ids to be unique within a block, so the
// participant buttons carry an index suffix (disconnect:0, disconnect:1, …).
const (
	actionDisconnect = "disconnect"
	actionCancel     = "cancel"
)

// buttonValue is the decoded value of a participant button.
type buttonValue struct {
	ConversationID string
	ParticipantID  string
}

// errBadButton is deliberately vague: a forged value gets no hint about the format.
var errBadButton = errors.New("this button is not one disconnectbot made (or it is from an incompatible version); run /disconnect again")

// encodeButtonValue returns the value string for a participant button.
func encodeButtonValue(v buttonValue) string {
	return buttonVersion + ":" + v.ConversationID + ":" + v.ParticipantID
}

// decodeButtonValue parses and validates a button value. Anything that is not
// exactly what encodeButtonValue makes is rejected.
func decodeButtonValue(s string) (buttonValue, error) {
	if len(s) != len(buttonVersion)+2+36+36 {
		return buttonValue{}, errBadButton
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != buttonVersion {
		return buttonValue{}, errBadButton
	}
	if !isUUID(parts[1]) || !isUUID(parts[2]) {
		return buttonValue{}, errBadButton
	}
	return buttonValue{ConversationID: strings.ToLower(parts[1]), ParticipantID: strings.ToLower(parts[2])}, nil
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

// encodeConversationButton returns the value of a conversation button.
// who is the [who] the supervisor typed after the agent, number or queue
// ("" for none): it travels with the button so the participant picker
// after the click is filtered the same way. It is user text, so the decoder
// checks it again as strictly as the command parser did.
func encodeConversationButton(conversationID, who string) string {
	v := conversationButtonVersion + ":" + conversationID
	if who != "" {
		v += ":" + who
	}
	return v
}

// maxButtonWho bounds the [who] a conversation button carries.
const maxButtonWho = 300

// decodeConversationButton parses and validates a conversation button
// value. Anything that is not exactly what encodeConversationButton makes
// is rejected.
func decodeConversationButton(s string) (conversationID, who string, err error) {
	prefix := conversationButtonVersion + ":"
	if len(s) < len(prefix)+36 || len(s) > len(prefix)+36+1+maxButtonWho || !strings.HasPrefix(s, prefix) {
		return "", "", errBadButton
	}
	id, rest := s[len(prefix):len(prefix)+36], s[len(prefix)+36:]
	if !isUUID(id) {
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
