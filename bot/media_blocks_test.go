package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// whatsAppConversation is a WhatsApp interaction as the genesys client
// reads it: a customer and an agent on messages, an ended bot flow, and a
// second agent on a platform Genesys does not document (and a hostile name).
func whatsAppConversation() *genesys.Conversation {
	start := goldenNow.Add(-12 * time.Minute)
	msg := func(state genesys.State, platform string) []genesys.Communication {
		return []genesys.Communication{{Media: genesys.MediaMessage, State: state, MessageType: platform, FromAddress: "+5511987650123", ToAddress: "+18005550111"}}
	}
	return &genesys.Conversation{
		ID: "0a000000-0000-4000-8000-0000000000a2", MediaType: "message", Media: []genesys.Media{genesys.MediaMessage}, StartTime: start,
		Participants: []genesys.Participant{
			{ID: "a1111111-1111-4111-8111-111111111111", Name: "Ana Souza", Purpose: "customer", Address: "+5511987650123", State: genesys.StateConnected, ConnectedTime: start,
				Media: genesys.MediaMessage, MessageType: "whatsapp", Communications: msg(genesys.StateConnected, "whatsapp")},
			{ID: "b2222222-2222-4222-8222-222222222222", Name: "WhatsApp flow", Purpose: "workflow", State: genesys.StateDisconnected,
				Media: genesys.MediaMessage, MessageType: "whatsapp", Communications: msg(genesys.StateDisconnected, "whatsapp")},
			{ID: "c3333333-3333-4333-8333-333333333333", Name: "Jane Doe", Purpose: "agent", UserID: "d4444444-4444-4444-8444-444444444444", QueueName: "Messaging", State: genesys.StateConnected, ConnectedTime: start.Add(time.Minute),
				Media: genesys.MediaMessage, MessageType: "whatsapp", Communications: msg(genesys.StateConnected, "whatsapp")},
			{ID: "e5555555-5555-4555-8555-555555555555", Name: "<!here> Omar", Purpose: "agent", State: genesys.StateAlerting,
				Media: genesys.MediaMessage, MessageType: "rcs", Communications: msg(genesys.StateAlerting, "rcs")},
		},
	}
}

// duplicateLegCallback is a callback where Jane holds four legs and one is
// live: only that one may be a button.
func duplicateLegCallback() *genesys.Conversation {
	start := goldenNow.Add(-20 * time.Minute)
	cb := func(state genesys.State) []genesys.Communication {
		return []genesys.Communication{{Media: genesys.MediaCallback, State: state}}
	}
	jane := func(id string, state genesys.State) genesys.Participant {
		return genesys.Participant{ID: id, Name: "Jane Doe", Purpose: "agent", UserID: "d4444444-4444-4444-8444-444444444444", State: state, Media: genesys.MediaCallback, Communications: cb(state)}
	}
	return &genesys.Conversation{
		ID: "0b000000-0000-4000-8000-0000000000cb", MediaType: "callback", Media: []genesys.Media{genesys.MediaCallback}, StartTime: start,
		Participants: []genesys.Participant{
			{ID: "a1111111-1111-4111-8111-111111111111", Name: "Pat Smith", Purpose: "customer", Address: "tel:+13175550123", State: genesys.StateConnected, ConnectedTime: start, Media: genesys.MediaCallback, Communications: cb(genesys.StateConnected)},
			jane("c0000000-0000-4000-8000-000000000001", genesys.StateDisconnected),
			jane("c0000000-0000-4000-8000-000000000002", genesys.StateTerminated),
			jane("c0000000-0000-4000-8000-000000000003", genesys.StateConnected),
			jane("c0000000-0000-4000-8000-000000000004", genesys.StateDisconnected),
		},
	}
}

func TestGoldenMediaBlocks(t *testing.T) {
	t.Parallel()
	wa := whatsAppConversation()
	ana, _ := wa.Participant("a1111111-1111-4111-8111-111111111111")
	cb := duplicateLegCallback()
	janeLive, _ := cb.Participant("c0000000-0000-4000-8000-000000000003")
	voice := goldenConversation()
	voice.Media = []genesys.Media{genesys.MediaVoice}
	for i := range voice.Participants {
		voice.Participants[i].Media = genesys.MediaVoice
	}
	mixed := &genesys.Conversation{ID: "0d000000-0000-4000-8000-00000000000d", Media: []genesys.Media{genesys.MediaEmail}, StartTime: goldenNow.Add(-time.Hour),
		Participants: []genesys.Participant{{ID: "0d000000-0000-4000-8000-000000000001", Name: "Kim", Purpose: "customer", State: genesys.StateConnected, Media: genesys.MediaEmail}}}
	tests := []struct {
		name string
		msg  message
	}{
		{"picker_whatsapp", pickerMessage(wa, wa.ActiveParticipants(), "", goldenNow)},
		{"picker_callback_duplicate_legs", pickerMessage(cb, cb.ActiveParticipants(), "", goldenNow)},
		{"progress_whatsapp", progressMessage(wa.ID, ana)},
		{"outcome_whatsapp_confirmed", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: wa.ID, Participant: ana, Status: OutcomeConfirmed, CorrelationID: "corr-123", At: goldenNow})},
		{"outcome_callback_already_gone", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: cb.ID, Participant: janeLive, Status: OutcomeAlreadyGone, At: goldenNow})},
		{"outcome_voice_call_confirmed", outcomeMessage(Outcome{Actor: "U012AB3CD", ConversationID: voice.ID, Participant: voice.Participants[2], Status: OutcomeConfirmed, At: goldenNow})},
		{"find_picker_media", conversationPickerMessage([]*genesys.Conversation{wa, cb, voice, mixed}, "agent *Jane Doe* (jane.doe@example.com)", "", nil, goldenNow)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, tt.name, tt.msg)
			raw, _ := json.Marshal(tt.msg)
			for _, bad := range []string{"<!here>", "<!channel>"} {
				if strings.Contains(string(raw), bad) {
					t.Errorf("%s reached Slack unescaped", bad)
				}
			}
		})
	}
}

// TestPickerNamesMedia: rows, confirm dialog and outcome name the medium
// and the platform; the duplicate legs of a callback give one button.
func TestPickerNamesMedia(t *testing.T) {
	t.Parallel()
	wa := whatsAppConversation()
	raw, _ := json.Marshal(pickerMessage(wa, wa.ActiveParticipants(), "", goldenNow))
	for _, want := range []string{"Who should leave the conversation?", "WhatsApp message", "message (rcs)", "dropped from the WhatsApp message", "conversation `" + wa.ID + "` · WhatsApp message + message (rcs)"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("picker lacks %q", want)
		}
	}
	cb := duplicateLegCallback()
	msg := pickerMessage(cb, cb.ActiveParticipants(), "", goldenNow)
	raw, _ = json.Marshal(msg)
	if n := strings.Count(string(raw), `"action_id":"disconnect:`); n != 2 {
		t.Errorf("%d disconnect buttons, want 2 (the customer and Jane's live leg)", n)
	}
	if !strings.Contains(string(raw), "c0000000-0000-4000-8000-000000000003") || strings.Contains(string(raw), `c0000000-0000-4000-8000-000000000001\"`) {
		t.Errorf("the buttons are not on the live leg:\n%s", raw)
	}
	out := outcomeMessage(Outcome{Actor: "U1", ConversationID: cb.ID, Participant: cb.Participants[3], Status: OutcomeConfirmed, At: goldenNow})
	if !strings.Contains(out.Text, "(agent, callback)") {
		t.Errorf("outcome text %q does not name the callback", out.Text)
	}
}

func TestParseMediaFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text  string
		media genesys.Media
		kind  TargetKind
		err   string
	}{
		{"jane@example.com media:message", genesys.MediaMessage, TargetAgent, ""},
		{"media:CALLBACK queue:Support", genesys.MediaCallback, TargetQueue, ""},
		{"+1 317 555 0123 media:voice", genesys.MediaVoice, TargetPhone, ""},
		{"jane@example.com media:email customer", genesys.MediaEmail, TargetAgent, ""},
		{"jane@example.com", "", TargetAgent, ""},
		{"jane@example.com media:fax", "", 0, "is not a medium I can search"},
		{"jane@example.com media:video", "", 0, "is not a medium I can search"},
		{"jane@example.com media:chat media:email", "", 0, "once"},
		{"3f1c2a9e-5b7d-4c2e-9a41-0d6f8b2e7c55 media:voice", "", 0, "already names one conversation"},
		{"media:message", "", 0, "give an agent"},
		{"jane@example.com media:<!here>", "", 0, "&lt;!here&gt;"},
	}
	for _, tc := range tests {
		cmd, err := parseCommand(tc.text)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil || cmd.Media != tc.media || cmd.Target.Kind != tc.kind {
			t.Errorf("%q: %+v, %v", tc.text, cmd, err)
		}
	}
}
