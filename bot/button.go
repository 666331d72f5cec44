package bot

import (
	"errors"
	"strings"
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

// ButtonValue is the decoded value of a participant button.
type ButtonValue struct {
	ConversationID string
	ParticipantID  string
}

// errBadButton is deliberately vague: a forged value gets no hint about the format.
var errBadButton = errors.New("this button is not one disconnectbot made (or it is from an incompatible version); run /disconnect again")

// EncodeButtonValue returns the value string for a participant button.
func EncodeButtonValue(v ButtonValue) string {
	return buttonVersion + ":" + v.ConversationID + ":" + v.ParticipantID
}

// DecodeButtonValue parses and validates a button value. Anything that is not
// exactly what EncodeButtonValue makes is rejected.
func DecodeButtonValue(s string) (ButtonValue, error) {
	if len(s) != len(buttonVersion)+2+36+36 {
		return ButtonValue{}, errBadButton
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != buttonVersion {
		return ButtonValue{}, errBadButton
	}
	if !uuidRE.MatchString(parts[1]) || !uuidRE.MatchString(parts[2]) {
		return ButtonValue{}, errBadButton
	}
	return ButtonValue{ConversationID: strings.ToLower(parts[1]), ParticipantID: strings.ToLower(parts[2])}, nil
}
