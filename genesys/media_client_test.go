package genesys

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
	"github.com/google/go-cmp/cmp"
)

// mediaCase is one medium as the emulator serves it.
type mediaCase struct {
	name        string
	media       Media
	messageType string
	family      EndpointFamily // "" = no family of its own
	patchOp     string
	label       string
}

var mediaCases = []mediaCase{
	{"voice", MediaVoice, "", FamilyCalls, genesystest.OpPatchCallParticipant, "voice call"},
	{"callback", MediaCallback, "", FamilyCallbacks, genesystest.OpPatchCallbackParticipant, "callback"},
	{"chat", MediaChat, "", FamilyChats, genesystest.OpPatchChatParticipant, "chat"},
	{"email", MediaEmail, "", FamilyEmails, genesystest.OpPatchEmailParticipant, "e-mail"},
	{"whatsapp", MediaMessage, "whatsapp", FamilyMessages, genesystest.OpPatchMessageParticipant, "WhatsApp message"},
	{"sms", MediaMessage, "sms", FamilyMessages, genesystest.OpPatchMessageParticipant, "SMS message"},
	{"webmessaging", MediaMessage, "webmessaging", FamilyMessages, genesystest.OpPatchMessageParticipant, "web message"},
	{"video", MediaVideo, "", "", "", "video"},
}

func (mc mediaCase) conversation(srv *genesystest.Server) genesystest.Conversation {
	return srv.MediaConversation(string(mc.media), mc.messageType)
}

func opCounts(srv *genesystest.Server) map[string]int {
	got := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Op != genesystest.OpToken {
			got[r.Op]++
		}
	}
	return got
}

// TestDisconnectEveryMedia: read, pick, disconnect, confirm and "already
// gone" for every medium, through the generic endpoints.
func TestDisconnectEveryMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, mc := range mediaCases {
		t.Run(mc.name, func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			c := newClient(t, srv, nil)
			src := mc.conversation(srv)
			conv, err := c.GetConversation(ctx, src.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Media{mc.media}, conv.Media); diff != "" {
				t.Errorf("media (-want +got):\n%s", diff)
			}
			active := conv.ActiveParticipants()
			if len(active) != 2 || active[0].Purpose != "customer" || active[1].Purpose != "agent" {
				t.Fatalf("active %+v", active)
			}
			for _, p := range active {
				if p.Label() != mc.label || p.Media != mc.media || len(p.Communications) != 1 {
					t.Errorf("participant %s: label %q media %q, %d sessions", p.Purpose, p.Label(), p.Media, len(p.Communications))
				}
			}
			agents, err := c.Identify(ctx, conv, Selector{Kind: SelectPurpose, Value: "agent"})
			if err != nil || len(agents) != 1 {
				t.Fatalf("identify agent: %v, %v", agents, err)
			}
			srv.ResetRequests()
			res, err := c.DisconnectParticipant(ctx, conv.ID, agents[0].ID)
			if err != nil || res.Outcome != DisconnectAccepted || res.Family != FamilyGeneric {
				t.Fatalf("disconnect: %+v, %v", res, err)
			}
			conf, err := c.ConfirmDisconnect(ctx, conv.ID, agents[0].ID)
			if err != nil || !conf.Confirmed {
				t.Fatalf("confirm: %+v, %v", conf, err)
			}
			if conf.Participant.Media != mc.media || !conf.Participant.State.Ended() {
				t.Errorf("confirmed participant %+v", conf.Participant)
			}
			t.Logf("%s: generic disconnect + confirm: %v", mc.name, opCounts(srv))
			res, err = c.DisconnectParticipant(ctx, conv.ID, agents[0].ID)
			if err != nil || res.Outcome != DisconnectAlreadyGone {
				t.Errorf("second disconnect: %+v, %v", res, err)
			}
		})
	}
}

// TestFamilyFallbackEveryMedia: the generic PATCH refuses client
// credentials; the participant's own media family takes the disconnect.
func TestFamilyFallbackEveryMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, mc := range mediaCases {
		for _, read := range []bool{true, false} {
			name := mc.name + "/after a read"
			if !read {
				name = mc.name + "/unread"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv := newEmulator(t)
				srv.RefuseClientCredentials(genesystest.OpPatchParticipant)
				c := newClient(t, srv, nil)
				src := mc.conversation(srv)
				agent := src.Participants[2].ID
				if read {
					if _, err := c.GetConversation(ctx, src.ID); err != nil {
						t.Fatal(err)
					}
				}
				srv.ResetRequests()
				res, err := c.DisconnectParticipant(ctx, src.ID, agent)
				if mc.family == "" {
					// No family of its own: the refusal stands, clearly.
					mustKind(t, err, KindNotAUser)
					return
				}
				if err != nil || res.Outcome != DisconnectAccepted || res.Family != mc.family {
					t.Fatalf("disconnect: %+v, %v", res, err)
				}
				if n := srv.CountOp(mc.patchOp); n != 1 {
					t.Errorf("%d %s, want 1", n, mc.patchOp)
				}
				conf, err := c.ConfirmDisconnect(ctx, src.ID, agent)
				if err != nil || !conf.Confirmed {
					t.Fatalf("confirm: %+v, %v", conf, err)
				}
				t.Logf("%s: fallback disconnect + confirm: %v", name, opCounts(srv))
				// Learned: the next one goes to the family at once, and a
				// participant already gone is "already gone" there too.
				srv.ResetRequests()
				res, err = c.DisconnectParticipant(ctx, src.ID, agent)
				if err != nil || res.Outcome != DisconnectAlreadyGone || res.Family != mc.family {
					t.Errorf("again: %+v, %v", res, err)
				}
				if n := srv.CountOp(genesystest.OpPatchParticipant); n != 0 {
					t.Errorf("generic PATCH tried again after learning (%d)", n)
				}
			})
		}
	}
}

// TestFamilyDocumentedErrors: each family's documented refusals become a
// sentence that says what happened and what to do; "no active
// conversations" stays "already gone".
func TestFamilyDocumentedErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		media      Media
		op, code   string
		want       string // in UserMessage; "" = already gone, no error
		wantKind   Kind
		viaGeneric bool // inject on the generic PATCH instead of the family's
	}{
		{MediaVoice, genesystest.OpPatchCallParticipant, "conversation.error.wrapup.code.required", "wrap-up code", KindBadRequest, false},
		{MediaVoice, genesystest.OpPatchCallParticipant, "conversation.error.wrapup.cannot.skip", "skip wrap-up", KindBadRequest, false},
		{MediaVoice, genesystest.OpPatchCallParticipant, "conversation.error.forbidden.not.active.participant", "no longer active", KindForbidden, false},
		{MediaVoice, genesystest.OpPatchCallParticipant, "conversation.error.call.disconnected", "", 0, false},
		{MediaCallback, genesystest.OpPatchCallbackParticipant, "conversation.error.participant.no.active.conversations", "", 0, false},
		{MediaCallback, genesystest.OpPatchCallbackParticipant, "conversation.error.not.conversation.participant", "not part of the conversation", KindNotFound, false},
		{MediaChat, genesystest.OpPatchChatParticipant, "conversation.error.wrapup.code.required", "wrap-up code", KindBadRequest, false},
		{MediaChat, genesystest.OpPatchChatParticipant, "conversation.error.participant.no.active.conversations", "", 0, false},
		{MediaEmail, genesystest.OpPatchEmailParticipant, "postino.error.wrong.org", "another organization", KindBadRequest, false},
		{MediaEmail, genesystest.OpPatchEmailParticipant, "postino.error.transfer.canceled", "transfer", KindBadRequest, false},
		{MediaEmail, genesystest.OpPatchEmailParticipant, "postino.error.answer.not.alerting", "list the participants again", KindBadRequest, false},
		{MediaEmail, genesystest.OpPatchEmailParticipant, "conversation.error.participant.no.active.conversations", "", 0, false},
		{MediaMessage, genesystest.OpPatchParticipant, "conversation.error.cannot.disconnect.call", "Disconnect Interactions", KindBadRequest, true},
		{MediaMessage, genesystest.OpPatchParticipant, "conversation.error.wrapup.code.required", "wrap-up code", KindBadRequest, true},
		{MediaMessage, genesystest.OpPatchParticipant, "conversation.error.participant.no.active.conversations", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.media)+"/"+tc.code, func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			if !tc.viaGeneric {
				srv.RefuseClientCredentials(genesystest.OpPatchParticipant)
			}
			c := newClient(t, srv, nil)
			src := srv.MediaConversation(string(tc.media), "")
			if _, err := c.GetConversation(ctx, src.ID); err != nil {
				t.Fatal(err)
			}
			if err := srv.InjectDocumentedError(tc.op, tc.code, 1); err != nil {
				t.Fatal(err)
			}
			res, err := c.DisconnectParticipant(ctx, src.ID, src.Participants[2].ID)
			if tc.want == "" {
				if err != nil || res.Outcome != DisconnectAlreadyGone {
					t.Fatalf("want already gone, got %+v, %v", res, err)
				}
				return
			}
			mustKind(t, err, tc.wantKind)
			msg := UserMessage(err)
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "details are in the bot's log") {
				t.Errorf("UserMessage %q, want it to say %q", msg, tc.want)
			}
		})
	}
}

// TestCallsForcedOnOtherMedia: genesys.endpoints calls reads and
// disconnects voice only; other media are a clear error, and no wrong
// request goes out.
func TestCallsForcedOnOtherMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newEmulator(t)
	c := newClient(t, srv, func(cfg *Config) { cfg.Endpoints = FamilyCalls })
	wa := srv.WhatsAppConversation()
	_, err := c.GetConversation(ctx, wa.ID)
	var mErr *MediaError
	if !errorsAs(err, &mErr) || ErrorKind(err) != KindInput {
		t.Fatalf("GET: %v", err)
	}
	if msg := UserMessage(err); !strings.Contains(msg, "message, not a voice call") || !strings.Contains(msg, "set them to auto") {
		t.Errorf("UserMessage %q", msg)
	}
	// A participant known to be on another medium gets no calls PATCH.
	g := newClient(t, srv, nil)
	if _, err := g.GetConversation(ctx, wa.ID); err != nil {
		t.Fatal(err)
	}
	g.endpoints = FamilyCalls
	srv.ResetRequests()
	if _, err := g.DisconnectParticipant(ctx, wa.ID, wa.Participants[2].ID); !errorsAs(err, &mErr) {
		t.Errorf("disconnect: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	// A voice call still works as before.
	conf := srv.ThreePartyConference()
	if got, err := c.GetConversation(ctx, conf.ID); err != nil || len(got.ActiveParticipants()) != 3 {
		t.Errorf("voice: %v, %v", got, err)
	}
}

// TestCallsFamilyFollowsOtherMedia: once the generic GET refuses client
// credentials, the calls answer's otherMediaUris lead to the other
// families, so a WhatsApp conversation still reads whole.
func TestCallsFamilyFollowsOtherMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newEmulator(t)
	srv.RefuseClientCredentials(genesystest.OpGetConversation)
	c := newClient(t, srv, nil)
	wa := srv.WhatsAppConversation()
	conv, err := c.GetConversation(ctx, wa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.ActiveParticipants()) != 2 || conv.MediaLabel() != "WhatsApp message" {
		t.Errorf("conversation %+v", conv)
	}
	want := map[string]int{"getConversation": 1, "getCall": 1, "getMessage": 1}
	if diff := cmp.Diff(want, opCounts(srv)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestConfirmFamilyDisconnectOfOneMedium: the calls family drops the call
// of a customer who also has a co-browse session; the confirmation waits
// for the call, not for the co-browse.
func TestConfirmFamilyDisconnectOfOneMedium(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newEmulator(t)
	srv.RefuseClientCredentials(genesystest.OpPatchParticipant)
	c := newClient(t, srv, nil)
	src := srv.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{
		{Name: "Pat", Purpose: "customer", Address: "tel:+13175550123", Communications: []genesystest.Communication{{Media: "voice"}, {Media: "cobrowse"}}},
		{Name: "Jane", Purpose: "agent", UserID: "5f1c2a9e-7d4b-4e0a-9c3f-1b2d3e4f5a60"},
		{Name: "Sam", Purpose: "external", Address: "tel:+13175550199"},
	}})
	conv, err := c.GetConversation(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Participants[0].Media != MediaVoice {
		t.Fatalf("customer described by %s", conv.Participants[0].Media)
	}
	res, err := c.DisconnectParticipant(ctx, src.ID, src.Participants[0].ID)
	if err != nil || res.Family != FamilyCalls {
		t.Fatalf("%+v, %v", res, err)
	}
	cf, err := c.ConfirmDisconnect(ctx, src.ID, src.Participants[0].ID)
	if err != nil || !cf.Confirmed {
		t.Fatalf("confirm %+v, %v", cf, err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestFindEveryMedia: a search finds in-progress conversations of every
// medium unless narrowed; a phone number finds messaging conversations by
// their addresses.
func TestFindEveryMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	voice := srv.ThreePartyConference()
	wa := srv.WhatsAppConversation()
	cb := srv.MediaConversation(string(MediaCallback), "")
	em := srv.MediaConversation(string(MediaEmail), "")
	agent := voice.Participants[2].UserID
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	found := func(f ConversationFilter) []string {
		t.Helper()
		res, err := c.FindConversations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range res.Conversations {
			out = append(out, s.ID)
			if len(s.Media) == 0 {
				t.Errorf("summary %s has no media", s.ID)
			}
		}
		return sorted(out...)
	}
	tests := []struct {
		name   string
		filter ConversationFilter
		want   []string
	}{
		{"agent, every medium", ConversationFilter{UserID: agent}, sorted(voice.ID, wa.ID, cb.ID, em.ID)},
		{"agent, voice", ConversationFilter{UserID: agent, Media: MediaVoice}, []string{voice.ID}},
		{"agent, message", ConversationFilter{UserID: agent, Media: MediaMessage}, []string{wa.ID}},
		{"agent, callback", ConversationFilter{UserID: agent, Media: MediaCallback}, []string{cb.ID}},
		{"agent, email", ConversationFilter{UserID: agent, Media: MediaEmail}, []string{em.ID}},
		{"agent, chat", ConversationFilter{UserID: agent, Media: MediaChat}, nil},
		{"WhatsApp number", ConversationFilter{Phone: genesystest.WhatsAppCustomerPhone}, []string{wa.ID}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, found(tc.filter)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	if _, err := c.FindConversations(ctx, ConversationFilter{UserID: agent, Media: "fax"}); ErrorKind(err) != KindInput {
		t.Errorf("media fax: %v", err)
	}
	// The phone selector matches the WhatsApp customer's address.
	conv, err := c.GetConversation(ctx, wa.ID)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := GuessSelector(genesystest.WhatsAppCustomerPhone)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Identify(ctx, conv, sel)
	if err != nil || len(got) != 1 || got[0].Purpose != "customer" {
		t.Errorf("identify by WhatsApp number: %+v, %v", got, err)
	}
}

// TestCallsFamilyUnknownConversation: after learning that the generic
// PATCH refuses client credentials, a calls GET that does not know a
// WhatsApp conversation (404) is not taken for "gone": the generic GET
// reads it, and a confirmation is not faked.
func TestCallsFamilyUnknownConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newEmulator(t, genesystest.WithDisconnectDelay(time.Hour))
	c := newClient(t, srv, func(cfg *Config) { cfg.ConfirmTimeout = 50 * time.Millisecond })
	c.preferCalls.Store(true)
	wa := srv.WhatsAppConversation()
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpGetCall, Status: 404, Code: "conversation.error.conversation.not.found", Message: "The conversation does not exist."})
	conv, err := c.GetConversation(ctx, wa.ID)
	if err != nil || len(conv.ActiveParticipants()) != 2 {
		t.Fatalf("%v, %v", conv, err)
	}
	if _, err := c.DisconnectParticipant(ctx, wa.ID, wa.Participants[2].ID); err != nil {
		t.Fatal(err)
	}
	// The leg drops only in an hour: not confirmed, whatever the calls family says.
	cf, err := c.ConfirmDisconnect(ctx, wa.ID, wa.Participants[2].ID)
	if err != nil || cf.Confirmed {
		t.Errorf("confirmation %+v, %v: a 404 from the calls family was taken for gone", cf, err)
	}
	// A conversation that is really gone is still gone.
	srv.DeleteConversation(wa.ID)
	if _, err := c.GetConversation(ctx, wa.ID); !isConversationGone(err) {
		t.Errorf("deleted conversation: %v", err)
	}
}
