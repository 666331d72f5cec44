package bot_test

import (
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func TestDisconnectEndToEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")

	picker := h.slash(supervisor, conv.ID)
	if picker.User != supervisor {
		t.Fatalf("picker is visible to %q, want only the caller", picker.User)
	}
	if got := len(h.slack.Buttons(picker)); got != 4 {
		t.Fatalf("picker has %d buttons, want 3 participants + Cancel:\n%s", got, h.slack.Render(picker))
	}
	b := h.buttonFor(picker, agent.ID)
	if b.Confirm == nil || !strings.Contains(b.Confirm.Title, genesystest.JaneDoeName) {
		t.Fatalf("button has no confirm dialog naming the agent: %+v", b.Confirm)
	}
	final := h.click(supervisor, picker, b)
	if !strings.Contains(final.Text, "Genesys confirmed") {
		t.Fatalf("picker replaced by %q, want the confirmed outcome", final.Text)
	}
	h.waitState(conv.ID, agent.ID, "disconnected")
	posts := h.channelPosts(channel)
	if len(posts) != 1 {
		t.Fatalf("channel got %d posts, want 1 outcome", len(posts))
	}
	rendered := h.slack.Render(posts[0])
	for _, want := range []string{"@sam", genesystest.JaneDoeName, conv.ID, agent.ID, "confirmed"} {
		if !strings.Contains(rendered, want) {
			t.Errorf("channel outcome lacks %q:\n%s", want, rendered)
		}
	}
	// The other legs are untouched.
	c, _ := h.genesys.Conversation(conv.ID)
	for _, p := range c.Participants {
		if p.ID != agent.ID && p.Purpose != "acd" && p.Ended() {
			t.Errorf("%s (%s) was disconnected too", p.Name, p.Purpose)
		}
	}
	if n := h.genesys.CountOp(genesystest.OpPatchParticipant) + h.genesys.CountOp(genesystest.OpPatchCallParticipant); n != 1 {
		t.Errorf("%d PATCH requests, want exactly 1", n)
	}
	if audits := h.waitLines("audit", 2); len(audits) != 2 {
		t.Errorf("%d audit lines, want 2 (command + click)", len(audits))
	}
}
