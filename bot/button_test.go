package bot

import (
	"strings"
	"testing"
)

func TestButtonValueRoundTrip(t *testing.T) {
	t.Parallel()
	v := buttonValue{ConversationID: convID, ParticipantID: partID}
	got, err := decodeButtonValue(encodeButtonValue(v))
	if err != nil || got != v {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, v)
	}
	if n := len(encodeButtonValue(v)); n > 2000 {
		t.Fatalf("button value is %d bytes, Slack allows 2000", n)
	}
}

func TestDecodeButtonValueRejectsForgeries(t *testing.T) {
	t.Parallel()
	good := encodeButtonValue(buttonValue{ConversationID: convID, ParticipantID: partID})
	for name, value := range map[string]string{
		"empty":            "",
		"other version":    "v2" + good[2:],
		"missing part":     "v1:" + convID,
		"path segment":     "v1:" + convID + ":../../../../users/me",
		"extra part":       good + ":x",
		"not hex":          "v1:" + strings.Repeat("z", 8) + convID[8:] + ":" + partID,
		"swapped colon":    "v1;" + convID + ":" + partID,
		"huge":             strings.Repeat("v1:", 1000),
		"trailing newline": good + "\n",
		"json":             `{"conversation":"` + convID + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if v, err := decodeButtonValue(value); err == nil {
				t.Fatalf("decodeButtonValue(%q) = %+v, want an error", value, v)
			}
		})
	}
}

// FuzzDecodeButtonValue: whatever a forged click carries, the decoder either
// rejects it or returns two UUIDs that re-encode to the same value.
func FuzzDecodeButtonValue(f *testing.F) {
	f.Add(encodeButtonValue(buttonValue{ConversationID: convID, ParticipantID: partID}))
	f.Add("v1:" + convID + ":" + convID)
	f.Add("v1::")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		v, err := decodeButtonValue(value)
		if err != nil {
			return
		}
		if !isUUID(v.ConversationID) || !isUUID(v.ParticipantID) {
			t.Fatalf("decoded non-UUID ids from %q: %+v", value, v)
		}
		if !strings.EqualFold(encodeButtonValue(v), value) {
			t.Fatalf("decode(%q) re-encodes to %q", value, encodeButtonValue(v))
		}
	})
}
