package main

import (
	"context"
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

const (
	gridOrg      = "E0GRIDORG1"
	gridOrgName  = "Acme Grid"
	otherGridWS  = "T0GRIDWS02" // another workspace of the same org
	orgWideWords = "org-wide"
)

// TestGridOrgWideInstallRefusedAtStartup: an org-wide Enterprise Grid
// install (auth.test says is_enterprise_install) is refused before the bot
// connects, with a message that names the limitation and what to do, and
// `check` fails with the same message. Serving one workspace of the org and
// refusing the others is never an option.
func TestGridOrgWideInstallRefusedAtStartup(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{EnterpriseID: gridOrg, EnterpriseName: gridOrgName, EnterpriseInstall: true})
	cfg, err := loadConfig("", f.env().lookup)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err = runBot(ctx, cfg, newLogger(logs, cfg), runOptions{})
	if err == nil {
		t.Fatal("runBot started as an org-wide install")
	}
	for _, want := range []string{orgWideWords, "Enterprise Grid", gridOrg, "one workspace", "Install the app to each workspace"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start-up error %q does not say %q", err, want)
		}
	}
	if st := f.slack.Stats(); st.Opens != 0 {
		t.Errorf("the refused install opened %d Socket Mode connections", st.Opens)
	}
	if strings.Contains(logs.String(), f.slack.BotToken()) || strings.Contains(err.Error(), f.slack.BotToken()) {
		t.Error("the bot token leaked")
	}

	var out strings.Builder
	if failed := runChecks(ctx, cfg, &out); failed == 0 || !strings.Contains(out.String(), orgWideWords) {
		t.Errorf("check passed an org-wide install (%d failed):\n%s", failed, out.String())
	}
}

// TestGridWorkspaceInstall: a workspace of a Grid org with the app
// installed on that workspace works as any workspace does (payloads carry
// enterprise_id and is_enterprise_install false), and a command from
// another workspace of the same org is refused as from any other team.
func TestGridWorkspaceInstall(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{EnterpriseID: gridOrg, EnterpriseName: gridOrgName})
	b := startBot(t, f, botOptions{})
	b.waitConnected()
	conv := f.genesys.ThreePartyConference()
	picker := f.slash(t, supervisor, conv.ID, 0)
	agent := participantByPurpose(t, conv, "agent")
	before := f.slack.MessageCount()
	if _, err := f.slack.SendBlockAction(waitCtx(t), clickOn(supervisor, picker, f.buttonFor(t, picker, agent.ID), 0)); err != nil {
		t.Fatal(err)
	}
	if final := f.finalAnswer(t, supervisor, before); !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("click in a Grid workspace: %s", f.slack.Render(final))
	}

	before = f.slack.MessageCount()
	if _, err := f.slack.SendSlashCommand(waitCtx(t), slacktest.SlashCommand{TeamID: otherGridWS, ChannelID: channel, UserID: supervisor, Command: "/disconnect", Text: conv.ID}); err != nil {
		t.Fatal(err)
	}
	refusal := f.finalAnswer(t, supervisor, before)
	if r := f.slack.Render(refusal); !strings.Contains(r, "its own Slack workspace") || len(f.slack.Buttons(refusal)) != 0 {
		t.Errorf("a command from another workspace of the org got:\n%s", r)
	}
}
