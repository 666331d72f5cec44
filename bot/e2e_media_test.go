package bot_test

import (
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// The end-to-end tests of other media than voice: the real bot over
// slack-go's socketmode client, the Genesys emulator holding callbacks,
// chats, e-mails, messages (WhatsApp, SMS, web messaging) and video.

type e2eMedium struct {
	name, media, messageType, label string
	patchOp                         string // the family PATCH; "" = none
}

var e2eMedia = []e2eMedium{
	{"whatsapp", genesystest.MediaMessage, "whatsapp", "WhatsApp message", genesystest.OpPatchMessageParticipant},
	{"sms", genesystest.MediaMessage, "sms", "SMS message", genesystest.OpPatchMessageParticipant},
	{"webmessaging", genesystest.MediaMessage, "webmessaging", "web message", genesystest.OpPatchMessageParticipant},
	{"callback", genesystest.MediaCallback, "", "callback", genesystest.OpPatchCallbackParticipant},
	{"email", genesystest.MediaEmail, "", "e-mail", genesystest.OpPatchEmailParticipant},
	{"chat", genesystest.MediaChat, "", "chat", genesystest.OpPatchChatParticipant},
	{"video", genesystest.MediaVideo, "", "video", ""},
}

// TestE2EMediaPickerAndDisconnect: for every medium, the picker names it,
// a click disconnects exactly the agent, the channel outcome names the
// medium and Genesys confirmed it.
func TestE2EMediaPickerAndDisconnect(t *testing.T) {
	t.Parallel()
	for _, m := range e2eMedia {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			conv := h.genesys.MediaConversation(m.media, m.messageType)
			agent := conv.Participants[2]
			picker := h.slash(supervisor, conv.ID)
			text := h.rendered(picker)
			for _, want := range []string{"Who should leave the conversation?", conv.ID, m.label, "participant `" + agent.ID + "` · " + m.label} {
				if !strings.Contains(text, want) {
					t.Errorf("picker lacks %q:\n%s", want, text)
				}
			}
			if n := len(h.slack.Buttons(picker)); n != 3 {
				t.Fatalf("%d buttons, want the customer, the agent and Cancel:\n%s", n, text)
			}
			b := h.buttonFor(picker, agent.ID)
			if b.Confirm == nil || !strings.Contains(b.Confirm.Text, m.label) {
				t.Errorf("confirm dialog %+v does not name the %s", b.Confirm, m.label)
			}
			final := h.click(supervisor, picker, b)
			if !strings.Contains(final.Text, "confirmed") {
				t.Fatalf("final answer %q", final.Text)
			}
			h.waitState(conv.ID, agent.ID, "disconnected")
			posts := h.channelPosts(channel)
			if len(posts) != 1 {
				t.Fatalf("%d channel posts", len(posts))
			}
			out := h.rendered(posts[0])
			for _, want := range []string{"@sam disconnected", genesystest.JaneDoeName, "(agent, " + m.label + ")", "Genesys confirmed", agent.ID} {
				if !strings.Contains(out, want) {
					t.Errorf("channel outcome lacks %q:\n%s", want, out)
				}
			}
			if n := h.genesys.CountOp(genesystest.OpPatchParticipant); n != 1 {
				t.Errorf("%d generic PATCHes, want 1", n)
			}
		})
	}
}

// TestE2EMediaAlreadyGone: the agent left the WhatsApp conversation (or
// the e-mail) before the click: the supervisor is told, nothing is sent;
// and when Genesys itself answers that the participant has no active
// conversation, the channel hears "already left".
func TestE2EMediaAlreadyGone(t *testing.T) {
	t.Parallel()
	for _, m := range []e2eMedium{e2eMedia[0], e2eMedia[4]} {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			conv := h.genesys.MediaConversation(m.media, m.messageType)
			agent := conv.Participants[2]
			picker := h.slash(supervisor, conv.ID)
			h.setState(conv.ID, agent.ID, "disconnected")
			final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
			if text := h.rendered(final); !strings.Contains(text, "is no longer in the conversation") || !strings.Contains(text, "Nothing was disconnected") {
				t.Errorf("stale click answer:\n%s", text)
			}
			if n := h.genesys.CountOp(genesystest.OpPatchParticipant); n != 0 {
				t.Errorf("%d PATCHes for a participant who left", n)
			}
			// Genesys says so itself: the customer is gone by the time the
			// PATCH arrives.
			cust := conv.Participants[0]
			picker = h.slash(supervisor, conv.ID)
			if err := h.genesys.InjectDocumentedError(genesystest.OpPatchParticipant, "conversation.error.participant.no.active.conversations", 1); err != nil {
				t.Fatal(err)
			}
			h.click(supervisor, picker, h.buttonFor(picker, cust.ID))
			posts := h.channelPosts(channel)
			if len(posts) != 1 || !strings.Contains(h.rendered(posts[0]), "had already left") || !strings.Contains(h.rendered(posts[0]), m.label) {
				t.Fatalf("channel posts %v", posts)
			}
		})
	}
}

// TestE2EMediaFamilyFallback: Genesys refuses the generic PATCH to client
// credentials (not.a.user); the participant's own media family takes it.
func TestE2EMediaFamilyFallback(t *testing.T) {
	t.Parallel()
	for _, m := range e2eMedia[:5] {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			h.genesys.RefuseClientCredentials(genesystest.OpPatchParticipant)
			conv := h.genesys.MediaConversation(m.media, m.messageType)
			cust := conv.Participants[0]
			picker := h.slash(supervisor, conv.ID)
			final := h.click(supervisor, picker, h.buttonFor(picker, cust.ID))
			if !strings.Contains(final.Text, "confirmed") {
				t.Fatalf("final answer %q", final.Text)
			}
			h.waitState(conv.ID, cust.ID, "disconnected")
			if n := h.genesys.CountOp(m.patchOp); n != 1 {
				t.Errorf("%d %s, want 1", n, m.patchOp)
			}
			if n := h.genesys.CountOp(genesystest.OpPatchCallParticipant); n != 0 {
				t.Errorf("a calls PATCH went out for a %s", m.label)
			}
		})
	}
}

// TestE2EMediaMappedErrors: the families' documented refusals reach the
// channel as what happened and what to do, never as a raw code.
func TestE2EMediaMappedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, media, op, code, want string
		refuseGeneric               bool
	}{
		{"email wrong org", genesystest.MediaEmail, genesystest.OpPatchEmailParticipant, "postino.error.wrong.org", "another organization", true},
		{"chat wrap-up", genesystest.MediaChat, genesystest.OpPatchChatParticipant, "conversation.error.wrapup.code.required", "wrap-up code", true},
		{"message wrap-up (generic)", genesystest.MediaMessage, genesystest.OpPatchParticipant, "conversation.error.wrapup.code.required", "wrap-up code", false},
		{"callback cannot disconnect (generic)", genesystest.MediaCallback, genesystest.OpPatchParticipant, "conversation.error.cannot.disconnect.call", "Disconnect Interactions", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			if tc.refuseGeneric {
				h.genesys.RefuseClientCredentials(genesystest.OpPatchParticipant)
			}
			conv := h.genesys.MediaConversation(tc.media, "")
			if err := h.genesys.InjectDocumentedError(tc.op, tc.code, 0); err != nil {
				t.Fatal(err)
			}
			picker := h.slash(supervisor, conv.ID)
			h.click(supervisor, picker, h.buttonFor(picker, conv.Participants[2].ID))
			posts := h.channelPosts(channel)
			if len(posts) != 1 {
				t.Fatalf("%d channel posts", len(posts))
			}
			out := h.rendered(posts[0])
			if !strings.Contains(out, tc.want) || strings.Contains(out, tc.code) {
				t.Errorf("outcome does not say %q in words:\n%s", tc.want, out)
			}
		})
	}
}

// TestE2ECallbackDuplicateLegs: Jane holds five legs of a callback, one
// live: /disconnect <conv> <Jane's user id> goes to that leg, and only it
// is disconnected.
func TestE2ECallbackDuplicateLegs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.DuplicateLegCallback()
	jane := conv.Participants[2].UserID
	var live genesystest.Participant
	for _, p := range conv.Participants {
		if p.UserID == jane && !p.Ended() {
			live = p
		}
	}
	picker := h.slash(supervisor, conv.ID+" "+jane)
	text := h.rendered(picker)
	if !strings.Contains(text, "Disconnect this participant?") || !strings.Contains(text, live.ID) {
		t.Fatalf("want the picker of Jane's live leg %s:\n%s", live.ID, text)
	}
	if n := len(h.slack.Buttons(picker)); n != 2 {
		t.Fatalf("%d buttons, want one leg and Cancel:\n%s", n, text)
	}
	final := h.click(supervisor, picker, h.buttonFor(picker, live.ID))
	if !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("final answer %q", final.Text)
	}
	h.waitState(conv.ID, live.ID, "disconnected")
	if out := h.rendered(h.channelPosts(channel)[0]); !strings.Contains(out, "(agent, callback)") {
		t.Errorf("outcome does not name the callback:\n%s", out)
	}
	for _, r := range h.genesys.Requests() {
		if r.Method == "PATCH" && !strings.HasSuffix(r.Path, live.ID) {
			t.Errorf("a PATCH went to another leg: %s", r.Path)
		}
	}
}

// TestE2EFindMedia: a search covers every medium, media: narrows it, and a
// WhatsApp number finds the WhatsApp conversation.
func TestE2EFindMedia(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	voice := h.genesys.ThreePartyConference()
	wa := h.genesys.WhatsAppConversation()
	cb := h.genesys.MediaConversation(genesystest.MediaCallback, "")

	list := h.slash(supervisor, genesystest.JaneDoeEmail)
	text := h.rendered(list)
	for _, want := range []string{"Which conversation?", "3 conversations in progress", voice.ID, wa.ID, cb.ID, "WhatsApp message", "callback", "voice call"} {
		if !strings.Contains(text, want) {
			t.Errorf("conversation picker lacks %q:\n%s", want, text)
		}
	}
	if n := len(buttonsWithPrefix(h, list, "conversation:")); n != 3 {
		t.Errorf("%d conversation buttons, want 3", n)
	}

	picker := h.slash(supervisor, genesystest.JaneDoeEmail+" media:message")
	if text := h.rendered(picker); !strings.Contains(text, wa.ID) || !strings.Contains(text, "Who should leave the conversation?") {
		t.Errorf("media:message: want the WhatsApp picker:\n%s", text)
	}
	picker = h.slash(supervisor, "media:voice "+genesystest.JaneDoeEmail)
	wantParticipantPicker(t, h, picker, voice, "media:voice")

	picker = h.slash(supervisor, genesystest.WhatsAppCustomerPhone)
	if text := h.rendered(picker); !strings.Contains(text, wa.ID) || !strings.Contains(text, "WhatsApp message") {
		t.Errorf("WhatsApp number: want the WhatsApp picker:\n%s", text)
	}

	none := h.slash(supervisor, genesystest.JaneDoeEmail+" media:chat")
	wantText(t, h, none, "media:chat", "No call in progress found", "chats only", "analytics for chats")

	bad := h.slash(supervisor, genesystest.JaneDoeEmail+" media:fax")
	wantText(t, h, bad, "media:fax", "is not a medium I can search", "media:message")
	_ = genesys.MediaVoice
}

// TestE2ECallsEndpointsOnOtherMedia: with genesys.endpoints calls (voice
// only) a WhatsApp conversation gets a clear refusal, and nothing is
// disconnected; a voice call works as before.
func TestE2ECallsEndpointsOnOtherMedia(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{genesysCfg: func(c *genesys.Config) { c.Endpoints = genesys.FamilyCalls }})
	wa := h.genesys.WhatsAppConversation()
	answer := h.slash(supervisor, wa.ID)
	wantText(t, h, answer, "calls on WhatsApp", "is a message, not a voice call", "set them to auto")
	if n := len(h.slack.Buttons(answer)); n != 0 {
		t.Errorf("%d buttons on a refusal", n)
	}
	if n := h.genesys.CountOp(genesystest.OpGetConversation) + h.genesys.CountOp(genesystest.OpPatchCallParticipant); n != 0 {
		t.Errorf("%d requests outside the calls GET", n)
	}
	conf := h.genesys.ThreePartyConference()
	wantParticipantPicker(t, h, h.slash(supervisor, conf.ID), conf, "voice with calls endpoints")
}
