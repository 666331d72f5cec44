package main

import (
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestMetricsCountRealEvents drives a real command, click, denial and
// reconnect through the fakes and reads /metrics the way Prometheus does.
func TestMetricsCountRealEvents(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	b := startBot(t, f, botOptions{})
	b.waitReady(http.StatusOK)

	conv, customer, picker := f.pickerOn(t, "customer")
	before := f.click(t, picker, customer.ID)
	if final := f.finalAnswer(t, supervisor, before); !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("click ended with %q, want a confirmed disconnect", final.Text)
	}
	denied := f.slash(t, stranger, conv.ID, 0)
	if len(f.slack.Buttons(denied)) != 0 {
		t.Fatalf("the stranger got buttons: %s", f.slack.Render(denied))
	}
	f.slack.Disconnect("refresh_requested")
	b.logs.waitLines(t, "slack socket reconnected", 1)
	b.waitReady(http.StatusOK)

	// Counters are bumped after the user is answered: wait for the last.
	var samples []sample
	eventually(t, "the stranger's command to be counted", func() bool {
		samples = b.scrape()
		v, _ := metric(samples, "disconnectbot_commands_total", map[string]string{"outcome": "denied"})
		return v == 1
	})
	eventually(t, "the click to be counted", func() bool {
		samples = b.scrape()
		v, _ := metric(samples, "disconnectbot_disconnects_total", map[string]string{"outcome": "confirmed"})
		return v == 1
	})

	exact := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"disconnectbot_commands_total", map[string]string{"outcome": "picker_shown"}, 1},
		{"disconnectbot_commands_total", map[string]string{"outcome": "denied"}, 1},
		{"disconnectbot_commands_total", nil, 2},
		{"disconnectbot_disconnects_total", map[string]string{"outcome": "confirmed"}, 1},
		{"disconnectbot_disconnects_total", nil, 1},
		{"disconnectbot_clicks_total", map[string]string{"action": "disconnect", "outcome": "confirmed"}, 1},
		{"disconnectbot_clicks_total", nil, 1},
		{"disconnectbot_authz_denials_total", nil, 1},
		{"disconnectbot_genesys_request_duration_seconds_count", map[string]string{"operation": "patchParticipant", "status_class": "2xx"}, 1},
		{"disconnectbot_genesys_request_duration_seconds_count", map[string]string{"operation": "token", "status_class": "2xx"}, 1},
		{"disconnectbot_slack_socket_connected", nil, 1},
		{"disconnectbot_slack_reconnects_total", nil, 1},
		{"disconnectbot_genesys_rate_limited_total", nil, 0},
	}
	for _, m := range exact {
		got, ok := metric(samples, m.name, m.labels)
		if m.want == 0 && !ok {
			continue // a vector with no children yet is not exposed
		}
		if !ok || got != m.want {
			t.Errorf("%s%v = %v (present %v), want %v", m.name, m.labels, got, ok, m.want)
		}
	}
	// getConversation: the picker, the re-read on click, at least one
	// confirm poll; the stranger never reaches Genesys.
	gets, _ := metric(samples, "disconnectbot_genesys_request_duration_seconds_count", map[string]string{"operation": "getConversation"})
	if want := float64(f.genesys.CountOp(genesystest.OpGetConversation)); gets != want || gets < 3 {
		t.Errorf("getConversation count %v, emulator saw %v (want >= 3 and equal)", gets, want)
	}
	if got, _ := metric(samples, "disconnectbot_genesys_request_duration_seconds_count", nil); got != float64(len(f.genesys.Requests())) {
		t.Errorf("genesys requests counted %v, emulator received %d", got, len(f.genesys.Requests()))
	}
	// The histogram has the documented buckets.
	if _, ok := metric(samples, "disconnectbot_genesys_request_duration_seconds_bucket", map[string]string{"operation": "patchParticipant", "le": "0.1"}); !ok {
		t.Error("no le=0.1 bucket for patchParticipant")
	}
	if got, ok := metric(samples, "disconnectbot_build_info", map[string]string{"version": "dev", "goversion": runtime.Version()}); !ok || got != 1 {
		t.Errorf("disconnectbot_build_info{version=dev,goversion=%s} = %v (present %v)", runtime.Version(), got, ok)
	}
	if _, ok := metric(samples, "go_goroutines", nil); !ok {
		t.Error("the Go runtime collector is missing")
	}

	// No label may carry an id of a user, a channel, a team, a call or a
	// participant: they are unbounded and personal.
	ids := []string{supervisor, stranger, channel, slacktest.DefaultTeamID, slacktest.DefaultBotUserID, conv.ID}
	for _, p := range conv.Participants {
		ids = append(ids, p.ID, p.UserID)
	}
	idShape := regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[UWCGTS]0[A-Z0-9]{6,}\b|\+?\d{7,}`)
	for _, s := range samples {
		if !strings.HasPrefix(s.name, "disconnectbot_") {
			continue
		}
		for k, v := range s.labels {
			for _, id := range ids {
				if id != "" && strings.Contains(v, id) {
					t.Errorf("%s has label %s=%q containing the id %s", s.name, k, v, id)
				}
			}
			if idShape.MatchString(v) {
				t.Errorf("%s has label %s=%q that looks like an id or a phone number", s.name, k, v)
			}
		}
	}
}
