package bot_test

import (
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestE2EMentionNeverEchoesSlackEmail: `/disconnect @someone` reads the
// person's e-mail address from their Slack profile to find them in
// Genesys. Slack can hide e-mail addresses from members, so the reply must
// not show it: not when the person has no Genesys account, and not when
// they have one. The supervisor sees the mention and the Genesys name.
func TestE2EMentionNeverEchoesSlackEmail(t *testing.T) {
	t.Parallel()
	const (
		hiddenSlack = "U0HIDDEN01"
		hiddenEmail = "hidden.person@example.com"
	)
	h := newFindHarness(t, harnessOptions{})
	h.slack.AddUser(slacktest.User{ID: hiddenSlack, Name: "hidden", RealName: "Hidden Person", Email: hiddenEmail})
	h.janeCall(h.genesys.ThreePartyConference().StartTime)

	for _, tc := range []struct {
		name, who, say string
	}{
		{"no Genesys account", hiddenSlack, "No Genesys user has"},
		{"with a Genesys account", janeSlack, genesystest.JaneDoeName},
	} {
		msg := h.slash(supervisor, "<@"+tc.who+">")
		out := h.rendered(msg)
		if !strings.Contains(out, tc.say) {
			t.Errorf("%s: reply %q does not say %q", tc.name, out, tc.say)
		}
		for _, email := range []string{hiddenEmail, genesystest.JaneDoeEmail} {
			if strings.Contains(msg.Text, email) || strings.Contains(string(msg.Blocks), email) {
				t.Errorf("%s: the reply echoes the Slack e-mail address %s:\n%s", tc.name, email, out)
			}
		}
	}
}

// TestE2EFindReplyMasksPhone: a search by phone number names the number
// masked, like every number the bot shows, in the picker of several calls,
// the participant picker of one, and the reply that found none.
func TestE2EFindReplyMasksPhone(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	full := []string{"+13175550123", "13175550123", "3175550123"}
	check := func(what string, msg slacktest.Message) {
		t.Helper()
		for _, n := range full {
			if strings.Contains(msg.Text, n) || strings.Contains(string(msg.Blocks), n) {
				t.Errorf("%s shows the full number %s:\n%s", what, n, h.rendered(msg))
			}
		}
	}
	check("found nothing", h.slash(supervisor, "+1 317 555 0123"))
	h.genesys.ThreePartyConference()
	check("one call", h.slash(supervisor, "+1 317 555 0123"))
	h.genesys.ThreePartyConference()
	msg := h.slash(supervisor, "(317) 555-0123")
	if !strings.Contains(h.rendered(msg), "phone number `+1317•••0123`") {
		t.Errorf("the conversation picker does not name the masked number:\n%s", h.rendered(msg))
	}
	check("several calls", msg)
}

// TestE2EPickerClickedAgainAfterResponseURLFailed: what the README says
// about a picker Slack would not let the bot replace. Every response_url
// of the click fails, so the outcome comes as a new private message and
// the old picker stays, its buttons still live. Clicking the same button
// again re-reads the call, finds the participant gone, and changes
// nothing: no second PATCH, no second channel post.
func TestE2EPickerClickedAgainAfterResponseURLFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")
	picker := h.slash(supervisor, conv.ID)
	b := h.buttonFor(picker, agent.ID)
	h.slack.InjectFault(slacktest.MethodResponseURL, slacktest.Fault{Times: slacktest.Always, Status: 500})
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, picker, b.ActionID, b.Value); err != nil {
		t.Fatal(err)
	}
	if _, err := h.slack.WaitMessageAfter(h.ctx(), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindEphemeral && strings.Contains(m.Text, "confirmed")
	}); err != nil {
		t.Fatal(err)
	}
	h.waitState(conv.ID, agent.ID, "disconnected")
	// The first click is over (its audit line is its last act).
	h.auditLine(map[string]string{"action": "click", "outcome": "confirmed"})
	cur, ok := h.slack.Current(picker)
	if !ok || len(h.slack.Buttons(cur)) != 4 {
		t.Fatal("the old picker is gone; this test is about the one that stays")
	}
	before = h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, cur, b.ActionID, b.Value); err != nil {
		t.Fatal(err)
	}
	again := h.answerTo(supervisor, before)
	if out := h.rendered(again); !strings.Contains(out, "no longer on the call") || !strings.Contains(out, "Nothing was disconnected") {
		t.Errorf("the second click was answered:\n%s", out)
	}
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want 1", n)
	}
	if n := len(h.channelPosts(channel)); n != 1 {
		t.Errorf("%d channel posts, want 1", n)
	}
}

// TestE2EWhoSelectorMasksPhone: a phone number typed as the [who] after a
// conversation id is shown back masked, whether it matched nobody (the
// list of who is on the call) or one participant (the picker's note).
func TestE2EWhoSelectorMasksPhone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	for _, tc := range []struct{ who, say, full string }{
		{"+1 999 555 0100", "No one on the call matches `+1999•••0100`", "9995550100"},
		{"+1 317 555 0123", "Showing the participant that matches `+1317•••0123`", "3175550123"},
	} {
		msg := h.slash(supervisor, conv.ID+" "+tc.who)
		out := h.rendered(msg)
		if !strings.Contains(out, tc.say) {
			t.Errorf("%s: reply does not say %q:\n%s", tc.who, tc.say, out)
		}
		if strings.Contains(strings.NewReplacer(" ", "", "+", "").Replace(msg.Text+string(msg.Blocks)), tc.full) {
			t.Errorf("%s: the reply shows the full number:\n%s", tc.who, out)
		}
	}
}
