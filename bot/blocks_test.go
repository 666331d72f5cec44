package bot

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/genesys"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var goldenNow = time.Date(2026, 11, 26, 14, 30, 0, 0, time.UTC)

func goldenConversation() *genesys.Conversation {
	start := goldenNow.Add(-7 * time.Minute)
	return &genesys.Conversation{
		ID: convID, MediaType: "voice", StartTime: start,
		Participants: []genesys.Participant{
			{ID: "a1111111-1111-4111-8111-111111111111", Name: "Customer", Purpose: "customer", Address: "tel:+13175550123", ANI: "tel:+13175550123", State: genesys.StateConnected, ConnectedTime: start},
			{ID: "b2222222-2222-4222-8222-222222222222", Name: "Support", Purpose: "acd", State: genesys.StateDisconnected},
			{ID: "c3333333-3333-4333-8333-333333333333", Name: "Jane Doe", Purpose: "agent", UserID: "d4444444-4444-4444-8444-444444444444", QueueName: "Support", State: genesys.StateConnected, Held: true, ConnectedTime: start.Add(time.Minute)},
			{ID: "e5555555-5555-4555-8555-555555555555", Name: "<!channel> Bob", Purpose: "external", Address: "tel:+13175550199", State: genesys.StateConnected, Muted: true, ConnectedTime: start.Add(3 * time.Minute)},
			{ID: "f6666666-6666-4666-8666-666666666666", Name: "Old leg", Purpose: "agent", State: genesys.StateTerminated},
		},
	}
}

// checkGolden compares msg's Block Kit JSON with testdata/golden/name.json.
func checkGolden(t *testing.T, name string, msg message) {
	t.Helper()
	got, err := json.MarshalIndent(map[string]any{"text": msg.Text, "blocks": msg.Blocks}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -run Golden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got); run with -update if the change is intended:\n%s", path, diff)
	}
}

func TestGoldenBlocks(t *testing.T) {
	t.Parallel()
	conv := goldenConversation()
	agent, _ := conv.Participant("c3333333-3333-4333-8333-333333333333")
	tests := []struct {
		name string
		msg  message
	}{
		{"picker", pickerMessage(conv, conv.ActiveParticipants(), "", goldenNow)},
		{"picker_single", pickerMessage(conv, []genesys.Participant{agent}, "agent", goldenNow)},
		{"outcome_confirmed", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: conv.ID, Participant: agent, Status: OutcomeConfirmed, CorrelationID: "corr-123", At: goldenNow})},
		{"outcome_unconfirmed", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: conv.ID, Participant: agent, Status: OutcomeUnconfirmed, At: goldenNow})},
		{"outcome_unknown", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: conv.ID, Participant: agent, Status: OutcomeUnknown, Reason: "Genesys did not answer in time", At: goldenNow})},
		{"outcome_already_gone", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: conv.ID, Participant: agent, Status: OutcomeAlreadyGone, At: goldenNow})},
		{"outcome_failed", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: conv.ID, Participant: conv.Participants[0], Status: OutcomeFailed,
			Reason: "The Genesys OAuth client's role lacks the permission conversation:communication:disconnect. Ask a Genesys admin to add it.", CorrelationID: "corr-403", At: goldenNow})},
		{"no_match", noMatchMessage(conv, "nobody@example.com", goldenNow)},
		{"help", helpMessage()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, tt.name, tt.msg)
		})
	}
}

func TestPickerIsSafeAndWithinLimits(t *testing.T) {
	t.Parallel()
	conv := goldenConversation()
	// 60 active participants with 200-character names: the picker must stay
	// within 50 blocks and 75-character button labels, and say some are hidden.
	for i := 0; i < 60; i++ {
		conv.Participants = append(conv.Participants, genesys.Participant{
			ID:   "a1111111-1111-4111-8111-" + strings.Repeat("0", 10) + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			Name: strings.Repeat("Ω", 200), Purpose: "external", State: genesys.StateConnected,
		})
	}
	msg := pickerMessage(conv, conv.ActiveParticipants(), "", goldenNow)
	if len(msg.Blocks) > maxBlocks {
		t.Fatalf("picker has %d blocks, Slack allows %d", len(msg.Blocks), maxBlocks)
	}
	raw, _ := json.Marshal(msg.Blocks)
	if !strings.Contains(string(raw), "more participants are not shown") {
		t.Error("picker does not say that participants were left out")
	}
	if strings.Contains(string(raw), "<!channel>") {
		t.Error("a participant name reached Slack unescaped")
	}
	var blocks []struct {
		Accessory *struct {
			Text struct{ Text string } `json:"text"`
		} `json:"accessory"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if b.Accessory != nil && len([]rune(b.Accessory.Text.Text)) > maxButtonText {
			t.Fatalf("button label has %d characters: %q", len([]rune(b.Accessory.Text.Text)), b.Accessory.Text.Text)
		}
	}
}

func TestMaskNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"tel:+13175550123":         "+1317•••0123",
		"+44 20 7946 0958":         "+4420••••0958",
		"sip:3175550123@pbx.local": "31••••0123",
		"12":                       "••",
	} {
		if got := maskNumber(in); got != want {
			t.Errorf("maskNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
