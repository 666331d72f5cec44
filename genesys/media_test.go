package genesys

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixtureCase is what a correct reader sees in one file of
// testdata/conversations (its README describes each).
type fixtureCase struct {
	file   string
	family EndpointFamily
	media  []Media
	label  string
	// live maps the id suffix of each active participant to the label of
	// the session it is on, with flags.
	live map[string]string
}

var fixtureCases = []fixtureCase{
	{"callback-duplicate-legs.json", FamilyGeneric, []Media{MediaCallback}, "callback",
		map[string]string{"000000000001": "callback", "000000000013": "callback"}},
	{"message-whatsapp.json", FamilyGeneric, []Media{MediaMessage}, "WhatsApp message",
		map[string]string{"000000000001": "WhatsApp message", "000000000004": "WhatsApp message"}},
	{"message-sms.json", FamilyGeneric, []Media{MediaMessage}, "SMS message",
		map[string]string{"000000000001": "SMS message", "000000000004": "SMS message alerting"}},
	{"message-webmessaging.json", FamilyGeneric, []Media{MediaMessage}, "web message + message (rcs)",
		map[string]string{"000000000001": "web message", "000000000003": "message (rcs)"}},
	{"email.json", FamilyGeneric, []Media{MediaEmail}, "e-mail",
		map[string]string{"000000000001": "e-mail", "000000000003": "e-mail held"}},
	{"chat-deprecated.json", FamilyGeneric, []Media{MediaChat}, "chat",
		map[string]string{"000000000001": "chat", "000000000003": "chat held"}},
	{"video.json", FamilyGeneric, []Media{MediaVideo}, "video",
		map[string]string{"000000000001": "video", "000000000002": "video muted"}},
	{"multimedia-call-message.json", FamilyGeneric, []Media{MediaVoice, MediaMessage}, "voice call",
		map[string]string{"000000000001": "voice call held", "000000000002": "voice call muted"}},
	{"screenshare-cobrowse.json", FamilyGeneric, []Media{MediaVoice, MediaCobrowse, MediaScreenshare}, "voice call",
		map[string]string{"000000000001": "voice call", "000000000002": "voice call"}},
	{"family-messages-whatsapp.json", FamilyMessages, []Media{MediaMessage}, "WhatsApp message",
		map[string]string{"000000000001": "WhatsApp message", "000000000004": "WhatsApp message"}},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "conversations", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFixture(t *testing.T, fam EndpointFamily, data []byte) *Conversation {
	t.Helper()
	w := newWireConversation(fam)
	if err := decodeJSON("application/json", data, w); err != nil {
		t.Fatal(err)
	}
	conv, err := conversationFrom(opGetConversation, apiResponse{status: 200}, w)
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func describe(p Participant) string {
	d := p.Label()
	if p.State != StateConnected {
		d += " " + string(p.State)
	}
	if p.Held {
		d += " held"
	}
	if p.Muted {
		d += " muted"
	}
	return d
}

// TestMediaFixtures reads every synthesized conversation and checks the
// live legs, their media and the conversation's media; and that a selector
// by user never picks one of a user's ended legs.
func TestMediaFixtures(t *testing.T) {
	t.Parallel()
	for _, tc := range fixtureCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			conv := decodeFixture(t, tc.family, readFixture(t, tc.file))
			if diff := cmp.Diff(tc.media, conv.Media); diff != "" {
				t.Errorf("media (-want +got):\n%s", diff)
			}
			if got := conv.MediaLabel(); got != tc.label {
				t.Errorf("MediaLabel %q, want %q", got, tc.label)
			}
			got := map[string]string{}
			for _, p := range conv.ActiveParticipants() {
				got[p.ID[len(p.ID)-12:]] = describe(p)
			}
			if diff := cmp.Diff(tc.live, got); diff != "" {
				t.Errorf("active participants (-want +got):\n%s", diff)
			}
			// The duplicate-leg trap, on every medium.
			users := map[string]bool{}
			for _, p := range conv.Participants {
				if p.UserID != "" {
					users[p.UserID] = true
				}
			}
			for u := range users {
				picked, err := (*Client)(nil).Identify(context.Background(), conv, Selector{Kind: SelectUserID, Value: u})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range picked {
					if !p.State.Live() {
						t.Errorf("user %s: picked the %s leg %s", u, p.State, p.ID)
					}
				}
			}
			if conv.Ended() {
				t.Error("an in-progress conversation reads as ended")
			}
		})
	}
}

// TestDuplicateLegCallbackFixture: of Jane's five legs, the one live.
func TestDuplicateLegCallbackFixture(t *testing.T) {
	t.Parallel()
	conv := decodeFixture(t, FamilyGeneric, readFixture(t, "callback-duplicate-legs.json"))
	jane := "5f1c2a9e-7d4b-4e0a-9c3f-1b2d3e4f5a60"
	legs := 0
	for _, p := range conv.Participants {
		if p.UserID == jane {
			legs++
		}
	}
	picked, err := (*Client)(nil).Identify(context.Background(), conv, Selector{Kind: SelectUserID, Value: jane})
	if err != nil {
		t.Fatal(err)
	}
	if legs != 5 || len(picked) != 1 || !strings.HasSuffix(picked[0].ID, "000000000013") {
		t.Fatalf("%d legs, picked %+v", legs, picked)
	}
	p := picked[0]
	if p.Media != MediaCallback || len(p.Communications) != 1 || p.Communications[0].ID == "" {
		t.Errorf("live leg %+v", p)
	}
	// The leg with the unknown disconnect type keeps it, and is ended.
	last := conv.Participants[len(conv.Participants)-1]
	if last.State != StateDisconnected || last.DisconnectType != "endpoint.timeout" || last.EndTime.IsZero() {
		t.Errorf("ended leg %+v", last)
	}
}

func TestMessageCommunications(t *testing.T) {
	t.Parallel()
	conv := decodeFixture(t, FamilyGeneric, readFixture(t, "message-whatsapp.json"))
	c := conv.Participants[0].Communications[0]
	want := Communication{
		Media: MediaMessage, ID: "m0000000-2222-4222-8222-222222222222", State: StateConnected, Direction: "inbound",
		ConnectedTime: time.Date(2026, 11, 30, 14, 0, 5, 0, time.UTC), MessageType: "whatsapp",
		FromAddress: "+5511987650123", ToAddress: "+18005550111",
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A multi-media participant lists every session, in array order.
	mm := decodeFixture(t, FamilyGeneric, readFixture(t, "screenshare-cobrowse.json"))
	var media []Media
	for _, c := range mm.Participants[0].Communications {
		media = append(media, c.Media)
	}
	if diff := cmp.Diff([]Media{MediaVoice, MediaCobrowse, MediaScreenshare}, media); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
}

func TestParticipantStateRules(t *testing.T) {
	t.Parallel()
	end := `"endTime":"2026-11-30T14:00:00.000Z"`
	tests := []struct {
		name, participant string
		want              State
		active            bool
	}{
		{"own state, no sessions", `"state":"connected"`, StateConnected, true},
		{"own state ended", `"state":"disconnected"`, StateDisconnected, false},
		{"one live session of several", `"emails":[{"state":"disconnected"}],"messages":[{"state":"alerting"}]`, StateAlerting, true},
		{"offering is live", `"callbacks":[{"state":"offering"}]`, StateOffering, true},
		{"all ended", `"chats":[{"state":"terminated"}],"videos":[{"state":"disconnected"}]`, StateDisconnected, false},
		{"parked, no end", `"messages":[{"state":"parked"}]`, StateParked, false},
		{"scheduled callback with an end", `"callbacks":[{"state":"scheduled"}],` + end, StateDisconnected, false},
		{"unknown state is not live", `"messages":[{"state":"typing"}]`, State("typing"), false},
		{"no sessions, end time", end, StateDisconnected, false},
		{"nothing at all", `"name":"x"`, StateNone, false},
		{"sessions win over a stale own state", `"state":"connected","calls":[{"state":"terminated"}]`, StateTerminated, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := `{"id":"3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11","participants":[{"id":"a1111111-1111-4111-8111-111111111111","purpose":"customer",` + tc.participant + `}]}`
			conv := decodeFixture(t, FamilyGeneric, []byte(body))
			p := conv.Participants[0]
			if p.State != tc.want || p.Active() != tc.active {
				t.Errorf("state %q active %v, want %q %v", p.State, p.Active(), tc.want, tc.active)
			}
		})
	}
}

func TestMediaLabels(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"whatsapp": "WhatsApp message", "SMS": "SMS message", "webmessaging": "web message", "open": "Open Messaging message",
		"": "message", "unknown": "message", "rcs": "message (rcs)", "<!here>": "message", strings.Repeat("a", 40): "message",
	}
	for in, want := range tests {
		if got := MessageLabel(in); got != want {
			t.Errorf("MessageLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for _, m := range mediaOrder {
		if m.Label() == "" || m.Label() == "unknown media" {
			t.Errorf("%s has no label", m)
		}
	}
	for _, in := range []string{"voice", "Callback", " chat ", "e-mail", "email", "message", "whatsapp", "call"} {
		m, err := ParseMedia(in)
		if err != nil || !slices.Contains(FindMedia, m) {
			t.Errorf("ParseMedia(%q) = %q, %v", in, m, err)
		}
	}
	if _, err := ParseMedia("fax"); ErrorKind(err) != KindInput || !strings.Contains(UserMessage(err), "voice, callback, chat, email, message") {
		t.Errorf("ParseMedia(fax): %v", err)
	}
}
