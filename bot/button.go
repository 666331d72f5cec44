package bot

import (
	"errors"
	"strings"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/approval"
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

// The buttons of an approval request. Unlike the picker's they are in the
// channel, for everyone to see; who may click which is decided on the click.
// Their values are signed (package approval): each carries the whole
// request and the action it does, so the action id must agree with it.
const (
	actionApprove  = "approval_approve"
	actionDeny     = "approval_deny"
	actionWithdraw = "approval_withdraw"
)

// approvalButtons are the signed values of a request's three buttons.
type approvalButtons struct{ approve, deny, withdraw string }

// signApprovalButtons signs r into the values of its three buttons.
func signApprovalButtons(s *approval.Signer, r approval.Request) (approvalButtons, error) {
	var b approvalButtons
	for _, x := range []struct {
		dst    *string
		action approval.Action
	}{{&b.approve, approval.Approve}, {&b.deny, approval.Deny}, {&b.withdraw, approval.Withdraw}} {
		v, err := s.Sign(r, x.action)
		if err != nil {
			return approvalButtons{}, err
		}
		*x.dst = v
	}
	return b, nil
}

// approvalAction is the action an approval button's id names (0 for any
// other id).
func approvalAction(actionID string) approval.Action {
	switch actionID {
	case actionApprove:
		return approval.Approve
	case actionDeny:
		return approval.Deny
	case actionWithdraw:
		return approval.Withdraw
	}
	return 0
}

// verifyApprovalButton checks a click on an approval button: the signature
// and expiry (approval.Signer.Verify), that the value signs the action of
// the button it came from, and that it is clicked in the channel it was
// posted to. An expired request comes back with approval.ErrExpired.
func verifyApprovalButton(s *approval.Signer, actionID, value, channel string, now time.Time) (approval.Request, approval.Action, error) {
	r, action, err := s.Verify(value, now)
	if err != nil {
		return r, action, err
	}
	if action != approvalAction(actionID) || r.ChannelID != channel {
		return approval.Request{}, 0, errApprovalMisplaced
	}
	return r, action, nil
}

// errApprovalMisplaced: a genuine value under another button or in another
// channel. Refused like a forged one.
var errApprovalMisplaced = errors.New("approval button value used out of place")
