// Command manifestcheck validates disconnectbot's Slack app manifest before a
// human pastes it into api.slack.com, where a mistake only shows up as a
// rejected app creation.
//
// It decodes the YAML strictly (unknown keys are errors, which catches typos
// that Slack would otherwise reject with "Additional properties are not
// allowed") into slack-go's Manifest type, then checks the length limits of
// slackapi/manifest-schema 1.0.0 and the settings the bot relies on: Socket
// Mode, interactivity without a request URL, the /disconnect command and the
// bot scopes it calls Slack with.
//
// Usage:
//
//	go run ./deploy/tools/manifestcheck deploy/slack-app-manifest.yaml
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"
)

// requiredBotScopes are the scopes the bot's Web API calls need; a manifest
// without one of them installs fine and then fails at run time.
var requiredBotScopes = []string{
	"commands",         // receive /disconnect
	"chat:write",       // post the outcome
	"usergroups:read",  // expand allowed user groups
	"users:read",       // look up users
	"users:read.email", // map an @agent mention to a Genesys user
}

// requiredCommand is the slash command the bot registers handlers for.
const requiredCommand = "/disconnect"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: manifestcheck MANIFEST.yaml")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "manifestcheck:", err)
		os.Exit(1)
	}
	m, problems := check(data)
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "manifestcheck: %s: %d problem(s):\n", os.Args[1], len(problems))
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "  -", p)
		}
		os.Exit(1)
	}
	fmt.Printf("manifestcheck: %s: ok (app %q, %d slash command(s), %d bot scope(s))\n",
		os.Args[1], m.Display.Name, len(m.Features.SlashCommands), len(m.OAuthConfig.Scopes.Bot))
}

// check decodes a manifest and returns every problem found, so that one run
// reports all of them rather than the first.
func check(data []byte) (*slack.Manifest, []string) {
	m, problem := decodeManifest(data)
	if problem != "" {
		return nil, []string{problem}
	}
	r := &report{}
	if m.Metadata.MajorVersion != 0 && m.Metadata.MajorVersion != 1 {
		r.bad("_metadata.major_version: %d, this checker knows schema 1 only", m.Metadata.MajorVersion)
	}
	r.length("display_information.name", m.Display.Name, 1, 35)
	r.optLength("display_information.description", m.Display.Description, 1, 140)
	r.optLength("display_information.long_description", m.Display.LongDescription, 175, 4000)
	r.length("features.bot_user.display_name", m.Features.BotUser.DisplayName, 1, 80)
	r.checkCommands(m)
	r.checkScopes(m.OAuthConfig.Scopes.Bot)
	r.checkSettings(m)
	return m, r.problems
}

// decodeManifest reads exactly one YAML document with no unknown fields.
func decodeManifest(data []byte) (*slack.Manifest, string) {
	var m slack.Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, "empty manifest"
		}
		return nil, "YAML: " + err.Error()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, "more than one YAML document; Slack expects exactly one"
	}
	return &m, ""
}

// report collects what is wrong with a manifest.
type report struct{ problems []string }

func (r *report) bad(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *report) length(field, s string, minLen, maxLen int) {
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen {
		r.bad("%s: length %d, want %d..%d", field, n, minLen, maxLen)
	}
}

func (r *report) optLength(field, s string, minLen, maxLen int) {
	if s != "" {
		r.length(field, s, minLen, maxLen)
	}
}

func (r *report) checkCommands(m *slack.Manifest) {
	var found bool
	for i, c := range m.Features.SlashCommands {
		f := fmt.Sprintf("features.slash_commands[%d]", i)
		r.length(f+".command", c.Command, 2, 32)
		if !strings.HasPrefix(c.Command, "/") {
			r.bad("%s.command %q: must start with /", f, c.Command)
		}
		r.length(f+".description", c.Description, 1, 2000)
		r.optLength(f+".usage_hint", c.UsageHint, 1, 1000)
		if c.Url != "" && m.Settings.SocketModeEnabled {
			r.bad("%s.url: not used in Socket Mode; remove it", f)
		}
		if c.Command == requiredCommand {
			found = true
		}
	}
	if !found {
		r.bad("features.slash_commands: %s is missing", requiredCommand)
	}
}

func (r *report) checkScopes(scopes []string) {
	for i, s := range scopes {
		r.length(fmt.Sprintf("oauth_config.scopes.bot[%d]", i), s, 1, 50)
	}
	for _, s := range requiredBotScopes {
		if !slices.Contains(scopes, s) {
			r.bad("oauth_config.scopes.bot: %s is missing", s)
		}
	}
	if slices.Contains(scopes, "chat:write.public") && !slices.Contains(scopes, "chat:write") {
		r.bad("oauth_config.scopes.bot: chat:write.public requires chat:write")
	}
	if slices.Contains(scopes, "connections:write") {
		r.bad("oauth_config.scopes.bot: connections:write belongs to the app-level token, which is generated by hand, not to the bot")
	}
}

func (r *report) checkSettings(m *slack.Manifest) {
	if !m.Settings.SocketModeEnabled {
		r.bad("settings.socket_mode_enabled: must be true (the bot only speaks Socket Mode)")
	}
	if m.Settings.Interactivity == nil || !m.Settings.Interactivity.IsEnabled {
		r.bad("settings.interactivity.is_enabled: must be true (the participant buttons need it)")
	} else if m.Settings.Interactivity.RequestUrl != "" {
		r.bad("settings.interactivity.request_url: not used in Socket Mode; remove it")
	}
	if m.Settings.TokenRotationEnabled {
		r.bad("settings.token_rotation_enabled: must be false (the bot does not refresh its token)")
	}
}
