package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// The end-to-end tests of the /disconnect flow: the real bot (bot.New)
// over slack-go's socketmode client, between the fake Slack and the Genesys
// emulator. Faults are in e2e_faults_test.go, authorization and forgery in
// e2e_security_test.go.

// TestE2EPickerShowsParticipants checks what the supervisor sees: only they
// see the picker; one labelled button per active participant, each behind a
// confirm dialog naming the person and the call; people who left as text.
func TestE2EPickerShowsParticipants(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.AddConversation(genesystest.Conversation{
		Participants: []genesystest.Participant{
			{Purpose: "customer", Address: "tel:+13175550123", ANI: "tel:+13175550123"}, // no name: masked number
			{Name: "Support", Purpose: "acd", State: "disconnected"},
			{Name: "Jane Doe", Purpose: "agent", Held: true},
			{Name: "Sam Lee", Purpose: "external", Address: "tel:+13175550199", Muted: true},
			{Name: "Old Agent", Purpose: "agent", State: "disconnected"},
		},
	})
	type want struct{ name, purpose string }
	active := map[string]want{ // participant id → how its button names it
		conv.Participants[0].ID: {"+1317•••0123", "customer"},
		conv.Participants[2].ID: {"Jane Doe", "agent"},
		conv.Participants[3].ID: {"Sam Lee", "external"},
	}

	picker := h.slash(supervisor, conv.ID)
	if picker.User != supervisor || !picker.Ephemeral() {
		t.Fatalf("picker is visible to %q, want only %s", picker.User, supervisor)
	}
	text := h.rendered(picker)
	for _, want := range []string{conv.ID, "voice", "started", "on hold", "muted", "Old Agent (agent, disconnected)"} {
		if !strings.Contains(text, want) {
			t.Errorf("picker lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "3175550123") || strings.Contains(text, "3175550199") {
		t.Errorf("picker shows a full phone number:\n%s", text)
	}
	buttons := h.slack.Buttons(picker)
	if len(buttons) != len(active)+1 {
		t.Fatalf("picker has %d buttons, want %d participants + Cancel:\n%s", len(buttons), len(active), text)
	}
	if last := buttons[len(buttons)-1]; last.Text != "Cancel" || last.Confirm != nil {
		t.Errorf("last button = %+v, want a plain Cancel", last)
	}
	for pid, w := range active {
		b := h.buttonFor(picker, pid)
		if label := "Disconnect " + w.name + " (" + w.purpose + ")"; b.Text != label {
			t.Errorf("button %q, want %q", b.Text, label)
		}
		if b.Confirm == nil || b.Style != "danger" {
			t.Fatalf("button %q has no confirm dialog or is not red: %+v", b.Text, b)
		}
		if !strings.Contains(b.Confirm.Title, w.name) || !strings.Contains(b.Confirm.Text, w.name) || !strings.Contains(b.Confirm.Text, conv.ID[:8]) {
			t.Errorf("confirm dialog %+v does not name %q and the call %s", b.Confirm, w.name, conv.ID)
		}
	}
	if n := h.patches(); n != 0 {
		t.Errorf("showing the picker sent %d PATCHes", n)
	}
}

// TestE2EConfirmedDisconnectReplacesPicker: a click disconnects exactly one
// participant, the outcome goes to the channel, and the picker is replaced
// so that it cannot be clicked again.
func TestE2EConfirmedDisconnectReplacesPicker(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv, ext, picker := h.pickerOn(t, "external")
	final := h.click(supervisor, picker, h.buttonFor(picker, ext.ID))
	if final.TS != picker.TS || !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("picker %s replaced by %s %q, want the confirmed outcome in its place", picker.TS, final.TS, final.Text)
	}
	cur, ok := h.slack.Current(picker)
	if !ok || len(h.slack.Buttons(cur)) != 0 {
		t.Fatalf("the picker still has buttons after the click:\n%s", h.rendered(cur))
	}
	if _, err := h.slack.Click(h.ctx(), supervisor, picker, "disconnect:2", ""); err == nil {
		t.Fatal("the old picker could be clicked again")
	}
	posts := h.channelPosts(channel)
	if len(posts) != 1 {
		t.Fatalf("%d channel posts, want 1", len(posts))
	}
	out := h.rendered(posts[0])
	for _, want := range []string{"@sam disconnected", genesystest.ExternalName, "(external)", conv.ID, ext.ID, "UTC", "Genesys confirmed", "correlation id"} {
		if !strings.Contains(out, want) {
			t.Errorf("channel outcome lacks %q:\n%s", want, out)
		}
	}
	h.waitState(conv.ID, ext.ID, "disconnected")
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want 1", n)
	}
}

// TestE2EWhoSelector: /disconnect <conv> <who> skips the full picker.
func TestE2EWhoSelector(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	jane := h.genesys.AddUser(genesystest.User{Name: "Jane Doe", Email: "jane.doe@example.com"})
	bob := h.genesys.AddUser(genesystest.User{Name: "Bob Roe", Email: "bob.roe@example.com"})
	contact := "6a1d3c57-6c1f-4b0e-9c1e-3f0e2b8a9d01"
	conv := h.genesys.AddConversation(genesystest.Conversation{
		Participants: []genesystest.Participant{
			{Name: "Pat Smith", Purpose: "customer", Address: "tel:+13175550123", ANI: "tel:+13175550123"},
			{Name: "Jane Doe", Purpose: "agent", UserID: jane.ID, Address: "sip:jane@localhost", ANI: "tel:+13175550123"},
			{Name: "Bob Roe", Purpose: "agent", UserID: bob.ID},
			{Name: "Sam Lee", Purpose: "external", ExternalContactID: contact, Address: "tel:+13175550199"},
			{Name: "Gone Guy", Purpose: "external", Address: "tel:+13175550111", State: "disconnected"},
		},
	})
	customer, janeP, bobP, ext := conv.Participants[0], conv.Participants[1], conv.Participants[2], conv.Participants[3]

	tests := []struct {
		name string
		who  string
		want []string // participant ids offered, in order; nil = no match
	}{
		{"participant id", ext.ID, []string{ext.ID}},
		{"upper-case participant id", strings.ToUpper(bobP.ID), []string{bobP.ID}},
		{"user e-mail", "jane.doe@example.com", []string{janeP.ID}},
		{"mailto wrapper", "<mailto:bob.roe@example.com|bob.roe@example.com>", []string{bobP.ID}},
		{"genesys user id", jane.ID, []string{janeP.ID}},
		{"external contact id", contact, []string{ext.ID}},
		{"phone number", "+13175550199", []string{ext.ID}},
		{"tel wrapper", "<tel:+13175550199|+1 317 555 0199>", []string{ext.ID}},
		{"customer", "customer", []string{customer.ID}},
		{"external", "external", []string{ext.ID}},
		{"several agents", "agent", []string{janeP.ID, bobP.ID}},
		{"unknown e-mail", "nobody@example.com", nil},
		{"phone of someone who left", "+13175550111", nil},
	}
	// One harness, one command at a time: answers are matched by order.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.apiRequests()
			patches := h.patches()
			msg := h.slash(supervisor, conv.ID+" "+tt.who)
			text := h.rendered(msg)
			buttons := h.slack.Buttons(msg)
			if tt.want == nil {
				if len(buttons) != 0 {
					t.Fatalf("no match should show no buttons:\n%s", text)
				}
				for _, want := range []string{"No one on the call matches", customer.ID, janeP.ID, bobP.ID, ext.ID} {
					if !strings.Contains(text, want) {
						t.Errorf("no-match answer lacks %q:\n%s", want, text)
					}
				}
				if strings.Contains(text, "Gone Guy") {
					t.Errorf("no-match answer lists someone who left:\n%s", text)
				}
				return
			}
			if len(buttons) != len(tt.want)+1 {
				t.Fatalf("got %d buttons, want %d + Cancel:\n%s", len(buttons), len(tt.want), text)
			}
			for i, pid := range tt.want {
				if !strings.HasSuffix(buttons[i].Value, ":"+pid) || buttons[i].Confirm == nil {
					t.Errorf("button %d = %+v, want participant %s behind a confirm dialog", i, buttons[i], pid)
				}
			}
			if len(tt.want) == 1 && !strings.Contains(text, "Disconnect this participant?") {
				t.Errorf("single match is not a single confirm:\n%s", text)
			}
			if len(tt.want) > 1 && !strings.Contains(text, "match") {
				t.Errorf("filtered picker does not say it is filtered:\n%s", text)
			}
			if h.patches() != patches || h.apiRequests() == before {
				t.Errorf("selector: %d new PATCHes, %d Genesys requests; want 0 and >0", h.patches()-patches, h.apiRequests()-before)
			}
		})
	}
}

// TestE2EHelp: /disconnect alone or with help gives the usage.
func TestE2EHelp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	for _, text := range []string{"", "help", "  HELP ", "--help"} {
		msg := h.slash(supervisor, text)
		out := h.rendered(msg)
		if msg.User != supervisor || !strings.Contains(out, "Usage:") || !strings.Contains(out, "/disconnect <call> [who]") {
			t.Errorf("/disconnect %q answered %q to %q, want the usage to the caller", text, out, msg.User)
		}
	}
	if n := len(h.genesys.Requests()); n != 0 {
		t.Errorf("help made %d Genesys requests", n)
	}
	h.auditLine(map[string]string{"outcome": "help", "slack_user": supervisor})
}

// TestE2EBadInput sends bad commands through the real socket: each gets a
// precise private error, no Genesys request, and the bot keeps working.
func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	tests := []struct {
		name, text, want string
	}{
		{"word", "abc", "is not a conversation id"},
		// Fixed, with hex letters: a random cut of all digits reads as a phone number.
		{"cut uuid", "3f2a9c1e-8b4d", "is not a complete conversation id"},
		{"uuid with a typo", strings.Replace(conv.ID, conv.ID[3:4], "x", 1), "is not"},
		{"path traversal", "../../api/v2/users/me", "is not a conversation id"},
		{"mailto first", "<mailto:jane.doe@example.com|jane.doe@example.com>", "Give the Genesys conversation id"},
		{"tel first", "<tel:+13175550123|(317) 555-0123>", "Give the Genesys conversation id"},
		{"mention first", "<@" + supervisor2 + "|sue>", "Give the Genesys conversation id"},
		{"mention as who", conv.ID + " <@" + supervisor2 + "|sue>", "is not a way to pick a participant"},
		{"mailto around the id", "<mailto:" + conv.ID + "|" + conv.ID + ">", "is not an e-mail address"},
		{"tel around junk", "<tel:abc|abc>", "neither a phone number nor a conversation id"},
		{"channel as who", conv.ID + " <#C0SUPPORT1|support>", "is not a way to pick a participant"},
		{"channel", "<#C0SUPPORT1|support>", "Slack channel"},
		{"broadcast", "<!channel>", "broadcast"},
		{"link", "<https://evil.example/x|click>", "That is a link"},
		{"extra words", conv.ID + " the customer please", "I don't understand"},
		{"who then junk", conv.ID + " <mailto:a@b.co|a@b.co> now", "I don't understand"},
		{"10 kB", strings.Repeat("a", 10<<10), "10240 characters"},
		{"NUL", conv.ID + "\x00", "control character"},
		{"bell in who", conv.ID + " cust\x07omer", "control character"},
		{"bidi override", "\u202e" + conv.ID, "control character"},
		{"zero width space", conv.ID + "\u200b", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := h.slash(supervisor, tt.text)
			out := h.rendered(msg)
			if msg.User != supervisor {
				t.Errorf("error is visible to %q, want only the caller", msg.User)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("answer %q, want it to contain %q", out, tt.want)
			}
			if len(h.slack.Buttons(msg)) != 0 {
				t.Errorf("bad input got a picker:\n%s", out)
			}
			if strings.Contains(out, "@sue") || strings.Contains(out, "@channel") {
				t.Errorf("the error turned the input into a live mention:\n%s", out)
			}
			if len(out) > 1000 {
				t.Errorf("the error is %d bytes long", len(out))
			}
		})
	}
	if n := h.apiRequests(); n != 0 {
		t.Errorf("bad input made %d Genesys requests", n)
	}
	if strings.Contains(h.logs.String(), "panicked") {
		t.Error("the handler panicked")
	}
	// Still alive and serving.
	if picker := h.slash(supervisor, conv.ID); len(h.slack.Buttons(picker)) != 4 {
		t.Fatalf("after bad input the bot answered:\n%s", h.rendered(picker))
	}
}

// TestE2ECancel: Cancel replaces the picker and disconnects nobody.
func TestE2ECancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	picker := h.slash(supervisor, conv.ID)
	final := h.click(supervisor, picker, h.slack.Buttons(picker)[3])
	if final.TS != picker.TS || !strings.Contains(final.Text, "Cancelled") {
		t.Fatalf("Cancel answered %q (ts %s), want the picker replaced by Cancelled", final.Text, final.TS)
	}
	if n := h.patches(); n != 0 {
		t.Errorf("Cancel sent %d PATCHes", n)
	}
	if n := len(h.channelPosts(channel)); n != 0 {
		t.Errorf("Cancel posted %d channel messages", n)
	}
	h.auditLine(map[string]string{"action": "cancel", "outcome": "cancelled", "slack_user": supervisor})
}

// TestE2EDoubleClick: two clicks on the same button before the picker is
// replaced disconnect once and post once.
func TestE2EDoubleClick(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv, agent, picker := h.pickerOn(t, "agent")
	b := h.buttonFor(picker, agent.ID)
	// A slow PATCH keeps the first click busy while the second arrives.
	h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Delay: 300 * time.Millisecond, Count: 1})

	concurrently(t, 2, func(int) error {
		_, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
			ChannelID: picker.Channel, UserID: supervisor, ActionID: b.ActionID, BlockID: b.BlockID,
			Value: b.Value, MessageTS: picker.TS, IsEphemeral: true,
		})
		return err
	})
	h.waitState(conv.ID, agent.ID, "disconnected")
	lines := waitAudits(h, "click", 2)
	outcomes := map[string]int{}
	for _, l := range lines {
		outcomes[l["outcome"].(string)]++
	}
	if outcomes["confirmed"] != 1 || outcomes["duplicate"]+outcomes["stale"] != 1 {
		t.Errorf("click outcomes %v, want one confirmed and one duplicate (or stale)", outcomes)
	}
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want exactly 1", n)
	}
	if n := len(h.channelPosts(channel)); n != 1 {
		t.Errorf("%d channel outcomes, want exactly 1", n)
	}
}

// TestE2ERedeliveredEnvelope: Slack redelivers envelopes whose ack it did
// not get. The bot handles each command and click once: one picker, one
// PATCH, one channel post.
func TestE2ERedeliveredEnvelope(t *testing.T) {
	t.Parallel()
	t.Run("ack lost with the socket", func(t *testing.T) {
		t.Parallel()
		// LoseNextAcks drops the socket right after writing the envelope.
		// Whether the bot still reads that first copy is a race inside
		// slack-go (it drops a frame it read when the socket dies), so
		// this case checks the counts only; "late acks" below proves the
		// deduplication itself.
		h := newHarness(t, harnessOptions{slack: slacktest.Options{AckDeadline: 600 * time.Millisecond}})
		conv := h.genesys.ThreePartyConference()
		agent := participantByPurpose(t, conv, "agent")
		h.slack.LoseNextAcks(1)
		d, err := h.slack.SendSlashCommand(h.ctx(), slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: "/disconnect", Text: conv.ID})
		if err != nil {
			t.Fatal(err)
		}
		if d.RetryAttempt == 0 {
			t.Fatalf("the slash command was not redelivered: %+v", d)
		}
		picker, err := h.slack.WaitMessage(h.ctx(), func(m slacktest.Message) bool { return len(h.slack.Buttons(m)) > 0 })
		if err != nil {
			t.Fatal(err)
		}
		h.slack.LoseNextAcks(1)
		b := h.buttonFor(picker, agent.ID)
		if d, err = h.slack.Click(h.ctx(), supervisor, picker, b.ActionID, b.Value); err != nil {
			t.Fatal(err)
		}
		if d.RetryAttempt == 0 {
			t.Fatalf("the click was not redelivered: %+v", d)
		}
		h.waitState(conv.ID, agent.ID, "disconnected")
		waitAudits(h, "click", 1)
		checkOnce(t, h)
	})
	t.Run("same envelope twice", func(t *testing.T) {
		t.Parallel()
		// Slack redelivers the payload it sent before, under a new
		// envelope id: same trigger_id, same response_url, same action_ts.
		h := newHarness(t, harnessOptions{})
		conv := h.genesys.ThreePartyConference()
		agent := participantByPurpose(t, conv, "agent")
		cmd := slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: "/disconnect", Text: conv.ID}
		d, err := h.slack.SendSlashCommand(h.ctx(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		picker, err := h.slack.WaitMessage(h.ctx(), func(m slacktest.Message) bool { return len(h.slack.Buttons(m)) > 0 })
		if err != nil {
			t.Fatal(err)
		}
		again := map[string]any{
			"token": "x", "team_id": slacktest.DefaultTeamID, "team_domain": slacktest.DefaultTeamDomain,
			"channel_id": channel, "channel_name": "support", "user_id": supervisor, "user_name": "sam",
			"command": cmd.Command, "text": cmd.Text, "api_app_id": slacktest.DefaultAppID,
			"response_url": d.ResponseURL, "trigger_id": d.TriggerID,
		}
		if _, err := h.slack.SendEnvelope(h.ctx(), slacktest.Envelope{Type: "slash_commands", Payload: again, AcceptsResponsePayload: true}); err != nil {
			t.Fatal(err)
		}
		waitLines(t, h, "dropping redelivered command", 1)

		b := h.buttonFor(picker, agent.ID)
		click := map[string]any{
			"type":       "block_actions",
			"user":       map[string]any{"id": supervisor, "username": "sam", "name": "sam", "team_id": slacktest.DefaultTeamID},
			"api_app_id": slacktest.DefaultAppID, "token": "x",
			"container":  map[string]any{"type": "message", "message_ts": picker.TS, "channel_id": channel, "is_ephemeral": true},
			"trigger_id": "4242.4242.redelivered", "team": map[string]any{"id": slacktest.DefaultTeamID, "domain": slacktest.DefaultTeamDomain},
			"channel":      map[string]any{"id": channel, "name": "support"},
			"state":        map[string]any{"values": map[string]any{}},
			"response_url": d.ResponseURL,
			"actions": []any{map[string]any{
				"action_id": b.ActionID, "block_id": b.BlockID, "type": "button", "value": b.Value, "action_ts": "1700000000.000042",
				"text": map[string]any{"type": "plain_text", "text": b.Text},
			}},
		}
		for range 2 {
			if _, err := h.slack.SendEnvelope(h.ctx(), slacktest.Envelope{Type: "interactive", Payload: click}); err != nil {
				t.Fatal(err)
			}
		}
		waitLines(t, h, "dropping redelivered click", 1)
		h.waitState(conv.ID, agent.ID, "disconnected")
		waitAudits(h, "click", 1)
		checkOnce(t, h)
	})
}

// checkOnce checks that one command and one click were handled once.
func checkOnce(t *testing.T, h *harness) {
	t.Helper()
	pickers := 0
	for _, m := range h.slack.Messages() {
		if len(h.slack.Buttons(m)) > 0 {
			pickers++
		}
	}
	if pickers != 1 {
		t.Errorf("%d pickers shown, want 1", pickers)
	}
	if n := h.patches(); n != 1 {
		t.Errorf("%d PATCHes, want exactly 1", n)
	}
	if n := len(h.channelPosts(channel)); n != 1 {
		t.Errorf("%d channel outcomes, want exactly 1", n)
	}
	time.Sleep(50 * time.Millisecond) // a late duplicate would be audited by now
	if n := len(h.logs.Lines("audit")); n != 2 {
		t.Errorf("%d audit lines, want 2 (one command, one click)", n)
	}
}

// TestE2EStaleButton: the participant left between the picker and the
// click. Nothing is sent to Genesys but a read, and the user is told.
func TestE2EStaleButton(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv, cust, picker := h.pickerOn(t, "customer")
	h.setState(conv.ID, cust.ID, "disconnected")

	final := h.click(supervisor, picker, h.buttonFor(picker, cust.ID))
	out := h.rendered(final)
	for _, want := range []string{genesystest.CustomerName, "no longer on the call", "Nothing was disconnected", "/disconnect " + conv.ID} {
		if !strings.Contains(out, want) {
			t.Errorf("stale click answer lacks %q:\n%s", want, out)
		}
	}
	if final.TS != picker.TS {
		t.Error("the stale picker was not replaced")
	}
	if n := h.patches(); n != 0 {
		t.Errorf("%d PATCHes for a participant who left", n)
	}
	if n := len(h.channelPosts(channel)); n != 0 {
		t.Errorf("%d channel posts for nothing done", n)
	}
	h.auditLine(map[string]string{"action": "click", "outcome": "stale", "participant_id": cust.ID, "reason": "participant_not_active"})
}

// TestE2EConversationEnded covers a call that is over before the command,
// that ends between picker and click, and one Genesys no longer knows.
func TestE2EConversationEnded(t *testing.T) {
	t.Parallel()
	t.Run("before the command", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		conv := h.genesys.ThreePartyConference()
		conv.EndTime = time.Now()
		for i := range conv.Participants {
			conv.Participants[i].State = "disconnected"
		}
		h.genesys.AddConversation(conv)
		msg := h.slash(supervisor, conv.ID)
		if out := h.rendered(msg); !strings.Contains(out, "has ended") || len(h.slack.Buttons(msg)) != 0 {
			t.Fatalf("ended call answered with:\n%s", out)
		}
		h.auditLine(map[string]string{"outcome": "conversation_ended", "conversation_id": conv.ID})
	})
	t.Run("between picker and click", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		conv, agent, picker := h.pickerOn(t, "agent")
		conv.EndTime = time.Now()
		for i := range conv.Participants {
			conv.Participants[i].State = "disconnected"
		}
		h.genesys.AddConversation(conv)
		final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
		if out := h.rendered(final); !strings.Contains(out, "no longer on the call") || !strings.Contains(out, "Nothing was disconnected") {
			t.Fatalf("click on an ended call answered:\n%s", out)
		}
		if n := h.patches(); n != 0 {
			t.Errorf("%d PATCHes on an ended call", n)
		}
	})
	t.Run("purged", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		conv, agent, picker := h.pickerOn(t, "agent")
		h.genesys.DeleteConversation(conv.ID)
		final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
		out := h.rendered(final)
		if !strings.Contains(out, "ended or the id is wrong") || !strings.Contains(out, "Nothing was disconnected") || !strings.Contains(out, "correlation id") {
			t.Fatalf("click on a purged call answered:\n%s", out)
		}
		if n := h.patches(); n != 0 {
			t.Errorf("%d PATCHes on a purged call", n)
		}
		h.auditLine(map[string]string{"action": "click", "outcome": "genesys_error", "genesys_status": "404"})
	})
}

// TestE2EAuditLines: every decision is one structured line with the stable
// keys, and the click's line matches what the channel was told.
func TestE2EAuditLines(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")
	h.slash(stranger, conv.ID)
	picker := h.slash(supervisor, conv.ID)
	h.click(supervisor, picker, h.buttonFor(picker, agent.ID))

	lines := waitAudits(h, "", 3)
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3 (denied command, command, click)", len(lines))
	}
	keys := []string{"slack_user", "channel", "conversation_id", "participant_id", "purpose", "outcome", "genesys_status", "correlation_id", "duration_ms"}
	for _, l := range lines {
		for _, k := range keys {
			if _, ok := l[k]; !ok {
				t.Errorf("audit line lacks %q: %v", k, l)
			}
		}
		if _, ok := l["genesys_status"].(float64); !ok {
			t.Errorf("genesys_status is not a number: %v", l)
		}
		if _, ok := l["duration_ms"].(float64); !ok {
			t.Errorf("duration_ms is not a number: %v", l)
		}
	}
	h.auditLine(map[string]string{"slack_user": stranger, "outcome": "denied", "reason": "not_in_allow_list", "channel": channel})
	click := h.auditLine(map[string]string{
		"action": "click", "slack_user": supervisor, "channel": channel, "conversation_id": conv.ID,
		"participant_id": agent.ID, "purpose": "agent", "outcome": "confirmed", "genesys_status": "202",
	})
	corr, _ := click["correlation_id"].(string)
	if corr == "" {
		t.Fatalf("click audit line has no correlation id: %v", click)
	}
	if post := h.rendered(h.channelPosts(channel)[0]); !strings.Contains(post, corr) {
		t.Errorf("the channel outcome does not carry the audited correlation id %s:\n%s", corr, post)
	}
}

// TestE2EAuditChannelCopy: the audit channel gets a copy of each outcome.
func TestE2EAuditChannelCopy(t *testing.T) {
	t.Parallel()
	const audit = "C0AUDIT001"
	h := newHarness(t, harnessOptions{auditChannel: audit})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")
	h.slash(stranger, conv.ID) // a refusal is not an outcome
	picker := h.slash(supervisor, conv.ID)
	h.click(supervisor, picker, h.buttonFor(picker, agent.ID))

	posts, copies := h.channelPosts(channel), h.channelPosts(audit)
	if len(posts) != 1 || len(copies) != 1 {
		t.Fatalf("%d channel posts and %d audit copies, want 1 and 1", len(posts), len(copies))
	}
	if posts[0].Text != copies[0].Text || string(posts[0].Blocks) != string(copies[0].Blocks) {
		t.Errorf("audit copy differs:\n%s\nvs\n%s", h.rendered(copies[0]), h.rendered(posts[0]))
	}
}

// waitAudits waits for n audit lines of action ("" = any) and returns them.
func waitAudits(h *harness, action string, n int) []map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out []map[string]any
		for _, l := range h.logs.Lines("audit") {
			if action == "" || l["action"] == action {
				out = append(out, l)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			if len(out) < n {
				h.t.Fatalf("%d %q audit lines, want %d", len(out), action, n)
			}
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLines waits for n log lines with message msg.
func waitLines(t *testing.T, h *harness, msg string, n int) {
	t.Helper()
	if got := len(h.waitLines(msg, n)); got != n {
		t.Fatalf("%d log lines %q, want %d", got, msg, n)
	}
}

// waitLog waits for a log line with message msg.
func waitLog(t *testing.T, h *harness, msg string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if lines := h.logs.Lines(msg); len(lines) > 0 {
			return lines[0]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no log line %q", msg)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestE2EAckBeforeWork: the bot acks an envelope before it talks to
// Genesys, so a slow Genesys never makes Slack time out (and redeliver).
// The check is on order, not time: when the ack arrives, the answer that
// needs Genesys does not exist yet.
func TestE2EAckBeforeWork(t *testing.T) {
	t.Parallel()
	const slow = 500 * time.Millisecond
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")

	h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpGetConversation, Delay: slow, Count: 1})
	before := h.slack.MessageCount()
	if _, err := h.slack.SendSlashCommand(h.ctx(), slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: "/disconnect", Text: conv.ID}); err != nil {
		t.Fatal(err)
	}
	if n := h.slack.MessageCount(); n != before {
		t.Fatalf("the command was acked after the bot answered it")
	}
	picker := h.answerTo(supervisor, before)

	h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Delay: slow, Count: 1})
	b := h.buttonFor(picker, agent.ID)
	if _, err := h.slack.Click(h.ctx(), supervisor, picker, b.ActionID, b.Value); err != nil {
		t.Fatal(err)
	}
	if n := len(h.channelPosts(channel)); n != 0 {
		t.Fatalf("the click was acked after the outcome was posted")
	}
	if _, err := h.slack.WaitMessage(h.ctx(), func(m slacktest.Message) bool { return m.Kind == slacktest.KindPost }); err != nil {
		t.Fatal(err)
	}
	for _, a := range h.slack.Acks() {
		if a.Late || len(a.Payload) != 0 {
			t.Errorf("ack %+v: want in time and empty", a)
		}
	}
}

// TestE2ECommandInstalledUnderAnotherName: Slack sends the app only its own
// commands, so one an admin named /hangup is served like /disconnect.
func TestE2ECommandInstalledUnderAnotherName(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	before := h.slack.MessageCount()
	if _, err := h.slack.SendSlashCommand(h.ctx(), slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: "/hangup", Text: conv.ID}); err != nil {
		t.Fatal(err)
	}
	msg, err := h.slack.WaitMessageAfter(h.ctx(), before, func(slacktest.Message) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.slack.Buttons(msg)); n != 4 {
		t.Fatalf("/hangup answered with %d buttons, want the picker:\n%s", n, h.rendered(msg))
	}
}
