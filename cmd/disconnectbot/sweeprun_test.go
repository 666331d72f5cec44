package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// The bot as `run` wires it: the sweep allow-list comes from
// authz.sweep_users, is empty by default, and a sweep started in Slack
// stops cleanly with its summary when the process is told to stop.
func TestRunSweepWiring(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{}, genesystest.WithDisconnectDelay(0))
	f.genesys.AddStuck(30, genesystest.StuckSpec{Age: 5 * time.Hour})

	off := startBot(t, f, botOptions{})
	off.waitConnected()
	if msg := f.slash(t, supervisor, "stuck", 0); !strings.Contains(msg.Text, "authz.sweep_users") {
		t.Fatalf("deny by default: %s", msg.Text)
	}
	if err := off.stop(); err != nil {
		t.Fatal(err)
	}

	b := startBot(t, f, botOptions{env: env{
		"DISCONNECTBOT_AUTHZ_SWEEP_USERS":           supervisor,
		"DISCONNECTBOT_GENESYS_REQUESTS_PER_MINUTE": "120", // 2 a second: slow enough to stop midway
	}})
	b.waitConnected()
	summary := f.slash(t, supervisor, "stuck older:4h", 0)
	var run slacktest.Button
	for _, btn := range f.slack.Buttons(summary) {
		if btn.ActionID == "sweep:run" {
			run = btn
		}
	}
	if run.Text != "Disconnect all 30" {
		t.Fatalf("summary: %s", f.slack.Render(summary))
	}
	before := f.slack.MessageCount()
	if _, err := f.slack.Click(waitCtx(t), supervisor, summary, run.ActionID, run.Value); err != nil {
		t.Fatal(err)
	}
	progress, err := f.slack.WaitMessageAfter(waitCtx(t), before, func(m slacktest.Message) bool {
		return m.Kind == slacktest.KindPost && strings.Contains(m.Text, "stuck interactions")
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "a first conversation swept", func() bool {
		cur, _ := f.slack.Current(progress)
		m := regexp.MustCompile(`: (\d+) of 30`).FindStringSubmatch(cur.Text)
		return m != nil && m[1] != "0"
	})
	samples := b.scrape()
	if v, ok := metric(samples, "disconnectbot_sweeps_started_total", nil); !ok || v != 1 {
		t.Errorf("sweeps_started_total = %v %v", v, ok)
	}
	if v, ok := metric(samples, "disconnectbot_genesys_budget_requests_per_minute", nil); !ok || v != 120 {
		t.Errorf("budget_requests_per_minute = %v %v", v, ok)
	}
	if err := b.stop(); err != nil { // SIGTERM
		t.Fatal(err)
	}
	cur, _ := f.slack.Current(progress)
	final := f.slack.Render(cur)
	if !strings.Contains(final, "Stopped after ") || !strings.Contains(final, "of 30; run it again to finish") {
		t.Fatalf("final summary after SIGTERM:\n%s", final)
	}
}

func TestCLISweepShiftingPages(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	gen.AddStuck(120, genesystest.StuckSpec{Age: 5 * time.Hour})
	// A call starts between every two analytics pages (of 100).
	gen.OnAnalyticsPage(func(int) {
		gen.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{{Purpose: "customer"}}})
	})
	res := runCLI(t, cliRun{env: sweepEnv(gen)}, "sweep", "--older-than", "4h", "--yes", "--json")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	convs, sum := jsonLines(t, res.stdout)
	seen := map[string]bool{}
	for _, c := range convs {
		id := c["conversationId"].(string)
		if seen[id] {
			t.Fatalf("%s swept twice", id)
		}
		seen[id] = true
	}
	if len(convs) != 120 || sum["counts"].(map[string]any)["cleared"] != 120.0 {
		t.Fatalf("%d lines, summary %v", len(convs), sum)
	}
}

func TestCLISweep429Pauses(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	gen.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	// Retry-After (1 s) longer than what the client waits on its own.
	gen.RateLimit(genesystest.OpGetConversation, 2, time.Second)
	start := time.Now()
	res := runCLI(t, cliRun{env: sweepEnv(gen)}, "sweep", "--older-than", "4h", "--yes")
	res.check(t, exitOK, []string{"3 cleared", "0 failed"}, nil)
	if d := time.Since(start); d < time.Second {
		t.Errorf("done in %s: the sweep did not wait out Retry-After", d)
	}
}
