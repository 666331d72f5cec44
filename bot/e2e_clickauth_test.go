package bot_test

import (
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

// TestE2EAuthorizeEveryClick: every click is authorized before anything
// else is done with it, whatever its action id: a Cancel, an action the bot
// does not know, a garbled value and a conversation pick are refused to a
// stranger just like a Disconnect, and so are clicks from another team or
// from a channel the allow-list does not cover. A refused click changes
// nothing (the picker stays as it was), reaches Genesys not at all, and is
// audited as denied.
func TestE2EAuthorizeEveryClick(t *testing.T) {
	t.Parallel()
	onlyChannel := func(c *authz.Config) { c.AllowedChannels = []string{channel} }
	tests := []struct {
		name     string
		opts     harnessOptions
		user     string
		team     string // "" = the workspace's own
		channel  string // "" = the picker's channel
		actionID string // "" = the agent's Disconnect button
		value    string // "" = that button's value
		reason   string
		say      string
	}{
		{name: "Cancel by a stranger", user: stranger, actionID: "cancel", value: "cancel", reason: authz.ReasonNotInAllowList, say: "allow-list"},
		{name: "unknown action by a stranger", user: stranger, actionID: "delete_everything", reason: authz.ReasonNotInAllowList, say: "allow-list"},
		{name: "garbled value by a stranger", user: stranger, value: "v1:garbage", reason: authz.ReasonNotInAllowList, say: "allow-list"},
		{name: "conversation pick by a stranger", user: stranger, actionID: "conversation:0", value: "c1:garbage", reason: authz.ReasonNotInAllowList, say: "allow-list"},
		{name: "Disconnect from another team", user: supervisor, team: "T0OTHER001", reason: authz.ReasonWrongTeam, say: "its own Slack workspace"},
		{name: "Cancel from another team", user: supervisor, team: "T0OTHER001", actionID: "cancel", value: "cancel", reason: authz.ReasonWrongTeam, say: "its own Slack workspace"},
		{name: "Disconnect from a channel not allowed", user: supervisor, channel: "C0RANDOM01", opts: harnessOptions{authz: onlyChannel},
			reason: authz.ReasonChannelNotAllowed, say: "can't be used in this channel"},
		{name: "Cancel from a channel not allowed", user: supervisor, channel: "C0RANDOM01", actionID: "cancel", value: "cancel", opts: harnessOptions{authz: onlyChannel},
			reason: authz.ReasonChannelNotAllowed, say: "can't be used in this channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.opts)
			conv := h.genesys.ThreePartyConference()
			agent := participantByPurpose(t, conv, "agent")
			picker := h.slash(supervisor, conv.ID)
			b := h.buttonFor(picker, agent.ID)
			if tt.actionID != "" {
				b.ActionID = tt.actionID
			}
			if tt.value != "" {
				b.Value = tt.value
			}
			ch := tt.channel
			if ch == "" {
				ch = picker.Channel
			}
			requests := len(h.genesys.Requests())
			before := h.slack.MessageCount()
			if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
				TeamID: tt.team, ChannelID: ch, UserID: tt.user, ActionID: b.ActionID, BlockID: b.BlockID,
				Value: b.Value, MessageTS: picker.TS, IsEphemeral: true,
			}); err != nil {
				t.Fatal(err)
			}
			answer := h.answerTo(tt.user, before)
			if out := h.rendered(answer); !strings.Contains(out, tt.say) {
				t.Errorf("refusal %q, want it to say %q", out, tt.say)
			}
			if answer.ReplaceOriginal {
				t.Error("the refusal replaced the message the button was on")
			}
			h.auditLine(map[string]string{"slack_user": tt.user, "outcome": "denied", "reason": tt.reason})
			if n := len(h.genesys.Requests()) - requests; n != 0 {
				t.Errorf("a refused click made %d Genesys requests", n)
			}
			if cur, ok := h.slack.Current(picker); !ok || len(h.slack.Buttons(cur)) != 4 {
				t.Error("a refused click changed the supervisor's picker")
			}
			if n := len(h.channelPosts(channel)); n != 0 {
				t.Errorf("%d channel posts", n)
			}
		})
	}
}
