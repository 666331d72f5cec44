package bot_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestE2EAuthorizeCommand: who may run /disconnect. A refusal says whom to
// ask, is audited, and touches Genesys not at all.
func TestE2EAuthorizeCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    harnessOptions
		user    string
		team    string // "" = the workspace's own
		channel string // "" = channel
		allowed bool
		reason  string
		say     string // in the refusal
	}{
		{name: "allowed user", user: supervisor, allowed: true},
		{name: "user group member", user: supervisor2, allowed: true},
		{name: "not on the list", user: stranger, reason: authz.ReasonNotInAllowList, say: "Ask a disconnectbot admin"},
		{name: "other team", user: supervisor, team: "T0OTHER001", reason: authz.ReasonWrongTeam, say: "its own Slack workspace"},
		{name: "channel not allowed", user: supervisor, channel: "C0RANDOM01", reason: authz.ReasonChannelNotAllowed, say: "can't be used in this channel",
			opts: harnessOptions{authz: func(c *authz.Config) { c.AllowedChannels = []string{channel} }}},
		{name: "allowed channel", user: supervisor, allowed: true,
			opts: harnessOptions{authz: func(c *authz.Config) { c.AllowedChannels = []string{channel} }}},
		{name: "empty allow-list refuses everyone", user: supervisor, reason: authz.ReasonAllowListEmpty, say: "Ask a disconnectbot admin",
			opts: harnessOptions{authz: func(c *authz.Config) { c.AllowedUsers, c.AllowedUsergroups = nil, nil }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.opts)
			conv := h.genesys.ThreePartyConference()
			ch := tt.channel
			if ch == "" {
				ch = channel
			}
			before := h.slack.MessageCount()
			if _, err := h.slack.SendSlashCommand(h.ctx(), slacktest.SlashCommand{TeamID: tt.team, ChannelID: ch, UserID: tt.user, Command: "/disconnect", Text: conv.ID}); err != nil {
				t.Fatal(err)
			}
			msg := h.answerTo(tt.user, before)
			out := h.rendered(msg)
			if tt.allowed {
				if len(h.slack.Buttons(msg)) != 4 {
					t.Fatalf("allowed user got:\n%s", out)
				}
				h.auditLine(map[string]string{"slack_user": tt.user, "outcome": "picker_shown"})
				return
			}
			if !strings.Contains(out, tt.say) || len(h.slack.Buttons(msg)) != 0 {
				t.Errorf("refusal %q, want it to say %q and show no buttons", out, tt.say)
			}
			h.auditLine(map[string]string{"slack_user": tt.user, "channel": ch, "outcome": "denied", "reason": tt.reason, "conversation_id": ""})
			if n := len(h.genesys.Requests()); n != 0 {
				t.Errorf("a refused command made %d Genesys requests", n)
			}
		})
	}
}

// TestE2EAuthorizeClick: the click is authorized again, for the user who
// clicks. Another allowed supervisor's click works and is attributed to
// them; a stranger's is refused with no Genesys request; a supervisor
// removed from the allow-list after seeing the picker is refused too.
func TestE2EAuthorizeClick(t *testing.T) {
	t.Parallel()
	t.Run("other allowed supervisor", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		conv, agent, picker := h.pickerOn(t, "agent")
		h.sendClick(supervisor2, picker, h.buttonFor(picker, agent.ID))
		// The answers replace the message the button was on.
		if _, err := h.slack.WaitMessage(h.ctx(), func(m slacktest.Message) bool {
			return m.TS == picker.TS && strings.Contains(m.Text, "confirmed")
		}); err != nil {
			t.Fatalf("no outcome: %v", err)
		}
		h.waitState(conv.ID, agent.ID, "disconnected")
		posts := h.channelPosts(channel)
		if len(posts) != 1 {
			t.Fatalf("%d channel posts, want 1", len(posts))
		}
		if out := h.rendered(posts[0]); !strings.Contains(out, "@sue disconnected") || strings.Contains(out, "@sam") {
			t.Errorf("outcome not attributed to the clicker:\n%s", out)
		}
		h.auditLine(map[string]string{"action": "click", "slack_user": supervisor2, "outcome": "confirmed"})
	})
	t.Run("stranger", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, harnessOptions{})
		_, agent, picker := h.pickerOn(t, "agent")
		requests := len(h.genesys.Requests())
		before := h.slack.MessageCount()
		h.sendClick(stranger, picker, h.buttonFor(picker, agent.ID))
		answer := h.answerTo(stranger, before)
		if out := h.rendered(answer); !strings.Contains(out, "allow-list") {
			t.Errorf("stranger was told %q", out)
		}
		h.auditLine(map[string]string{"action": "click", "slack_user": stranger, "outcome": "denied", "participant_id": agent.ID})
		if n := len(h.genesys.Requests()) - requests; n != 0 {
			t.Errorf("a stranger's click made %d Genesys requests", n)
		}
		if cur, _ := h.slack.Current(picker); len(h.slack.Buttons(cur)) != 4 {
			t.Error("a stranger's click changed the supervisor's picker")
		}
		if n := len(h.channelPosts(channel)); n != 0 {
			t.Errorf("%d channel posts", n)
		}
	})
	t.Run("removed from the allow-list after the picker", func(t *testing.T) {
		t.Parallel()
		// A short group TTL so that the removal is seen at the click.
		h := newHarness(t, harnessOptions{authz: func(c *authz.Config) { c.GroupTTL = time.Millisecond }})
		conv := h.genesys.ThreePartyConference()
		agent := participantByPurpose(t, conv, "agent")
		picker := h.slash(supervisor2, conv.ID)
		h.slack.SetUserGroupMembers(supervisorsGroup)
		time.Sleep(2 * time.Millisecond) // let the cached membership expire
		final := h.click(supervisor2, picker, h.buttonFor(picker, agent.ID))
		if out := h.rendered(final); !strings.Contains(out, "allow-list") {
			t.Errorf("removed supervisor was told %q", out)
		}
		if n := h.patches(); n != 0 {
			t.Errorf("%d PATCHes for a user no longer allowed", n)
		}
	})
}

// TestE2EForgedButton: clicks Slack would never send with the values the
// bot made. A garbled value is refused before any Genesys request; a well
// formed one for a participant not in the call is refused before any PATCH.
func TestE2EForgedButton(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")
	good := "v1:" + conv.ID + ":" + agent.ID
	tests := []struct {
		name, actionID, value string
		say                   string
		genesysOK             bool // may read the conversation (never PATCH)
	}{
		{name: "empty value", actionID: "disconnect:0", value: "", say: "not valid"},
		{name: "garbage", actionID: "disconnect:0", value: "v1:xxx", say: "not valid"},
		{name: "other version", actionID: "disconnect:0", value: "v2" + good[2:], say: "not valid"},
		{name: "path in participant", actionID: "disconnect:0", value: "v1:" + conv.ID + ":../../../../users/me", say: "not valid"},
		{name: "path same length", actionID: "disconnect:0", value: "v1:" + conv.ID + ":" + "..%2f..%2f" + agent.ID[10:], say: "not valid"},
		{name: "query in participant", actionID: "disconnect:0", value: "v1:" + conv.ID + ":" + agent.ID[:30] + "?x=1&y", say: "not valid"},
		{name: "extra part", actionID: "disconnect:0", value: good + ":" + agent.ID, say: "not valid"},
		{name: "json", actionID: "disconnect:0", value: `{"conversation":"` + conv.ID + `"}`, say: "not valid"},
		{name: "newline", actionID: "disconnect:0", value: good[:len(good)-1] + "\n", say: "not valid"},
		{name: "huge", actionID: "disconnect:0", value: strings.Repeat("v1:", 5000), say: "not valid"},
		{name: "unknown action", actionID: "delete_everything", value: good, say: "not one disconnectbot knows"},
		{name: "prefix-only action", actionID: "disconnectx", value: good, say: "not one disconnectbot knows"},
		{name: "participant of another call", actionID: "disconnect:0", value: "v1:" + conv.ID + ":6a1d3c57-6c1f-4b0e-9c1e-3f0e2b8a9d01", say: "not part of this conversation", genesysOK: true},
		{name: "unknown conversation", actionID: "disconnect:0", value: "v1:6a1d3c57-6c1f-4b0e-9c1e-3f0e2b8a9d01:" + agent.ID, say: "ended or the id is wrong", genesysOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requests := len(h.genesys.Requests())
			before := h.slack.MessageCount()
			if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{
				ChannelID: channel, UserID: supervisor, ActionID: tt.actionID, BlockID: "participant:0", Value: tt.value, IsEphemeral: true,
			}); err != nil {
				t.Fatal(err)
			}
			out := h.rendered(h.answerTo(supervisor, before))
			if !strings.Contains(out, tt.say) {
				t.Errorf("forged click answered %q, want %q", out, tt.say)
			}
			if strings.Contains(out, "users/me") || strings.Contains(out, "v1:") {
				t.Errorf("the answer echoes the forged value: %q", out)
			}
			if n := len(h.genesys.Requests()) - requests; !tt.genesysOK && n != 0 {
				t.Errorf("a forged button made %d Genesys requests", n)
			}
			if n := h.patches(); n != 0 {
				t.Fatalf("a forged button made %d PATCHes", n)
			}
		})
	}
	waitAudits(h, "click", len(tests))
	if h.genesys.TokenRequests() > 1 {
		t.Errorf("%d token requests", h.genesys.TokenRequests())
	}
}

// tokenSpy records what crosses the wire to Genesys that must never show up
// anywhere else: the Authorization headers (Basic client credentials and
// Bearer tokens) and the access tokens the token endpoint issues.
type tokenSpy struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (s *tokenSpy) add(v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[v] = true
}

func (s *tokenSpy) secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for v := range s.seen {
		out = append(out, v)
	}
	return out
}

func (s *tokenSpy) RoundTrip(req *http.Request) (*http.Response, error) {
	if auth := req.Header.Get("Authorization"); auth != "" {
		s.add(auth)
		if _, cred, ok := strings.Cut(auth, " "); ok {
			s.add(cred)
		}
	}
	resp, err := s.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/oauth/token") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &tok) == nil {
		s.add(tok.AccessToken)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestE2ESecretsNeverLeak runs the bot with known credentials through the
// happy path and many failure paths, then looks for every credential in
// every log line, every Slack message and every call the bot made to Slack.
func TestE2ESecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		botToken     = "xoxb-4242424242-4242424242-S3CRETb0tT0KENvalue"
		appToken     = "xapp-1-A0DEMO0001-4242424242-S3CRETappT0KENvalue"
		clientID     = "c1d2e3f4-0000-4000-8000-1234567890ab"
		clientSecret = "S3CRET-genesys-client-secret-Zq9"
	)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	spy := &tokenSpy{next: transport}
	h := newHarness(t, harnessOptions{
		slack:       slacktest.Options{BotToken: botToken, AppToken: appToken},
		genesysOpts: []genesystest.Option{genesystest.WithCredentials(clientID, clientSecret)},
		genesysCfg: func(c *genesys.Config) {
			c.ClientID, c.ClientSecret = clientID, clientSecret
			c.HTTPClient = &http.Client{Transport: spy, Timeout: 5 * time.Second}
			c.RetryBudget = 300 * time.Millisecond
		},
		auditChannel: "C0AUDIT001",
	})
	conv := h.genesys.ThreePartyConference()
	agent := participantByPurpose(t, conv, "agent")
	cust := participantByPurpose(t, conv, "customer")
	ext := participantByPurpose(t, conv, "external")

	h.slash(supervisor, "help")
	h.slash(supervisor, "not-a-conversation")
	h.slash(stranger, conv.ID)
	h.slash(supervisor, conv.ID+" nobody@example.com")
	h.slash(supervisor, "6a1d3c57-6c1f-4b0e-9c1e-3f0e2b8a9d01") // 404

	// A disconnect that Genesys refuses (403), one that works after the
	// token expired, and one whose channel post fails.
	picker := h.slash(supervisor, conv.ID)
	h.genesys.DenyPermission(genesystest.PermConversationDisconnect)
	h.click(supervisor, picker, h.buttonFor(picker, cust.ID))
	h.genesys.GrantPermission(genesystest.PermConversationDisconnect)

	picker = h.slash(supervisor, conv.ID)
	h.genesys.ExpireTokens()
	h.slack.FailNext("chat.postMessage", 1, "channel_not_found")
	h.click(supervisor, picker, h.buttonFor(picker, ext.ID))

	// Genesys refuses the client credentials outright.
	picker = h.slash(supervisor, conv.ID)
	h.genesys.ExpireTokens()
	h.genesys.InjectFault(genesystest.Fault{Op: genesystest.OpToken, Status: 401})
	h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
	h.genesys.ClearFaults()

	// A forged click.
	before := h.slack.MessageCount()
	if _, err := h.slack.SendBlockAction(h.ctx(), slacktest.BlockAction{ChannelID: channel, UserID: supervisor, ActionID: "disconnect:0", Value: "v1:" + clientSecret}); err != nil {
		t.Fatal(err)
	}
	h.answerTo(supervisor, before)
	waitAudits(h, "click", 4)

	h.stop() // the runner's error, if any, is checked by stop
	if h.genesys.TokenRequests() < 3 {
		t.Fatalf("only %d token requests: the paths above did not run", h.genesys.TokenRequests())
	}
	basic := base64.StdEncoding.EncodeToString([]byte(clientID + ":" + clientSecret))
	secrets := append([]string{botToken, appToken, clientSecret, basic}, spy.secrets()...)
	if len(secrets) < 8 {
		t.Fatalf("the spy saw only %d credentials: %q", len(secrets), secrets)
	}
	everything := h.everything()
	logs := h.logs.String()
	for _, s := range secrets {
		if strings.Contains(everything, s) {
			t.Errorf("secret %.12s… appears in Slack messages, Slack calls or logs", s)
		}
	}
	// A response_url lets anyone post into the channel: it stays out of logs.
	if strings.Contains(logs, "/response/") {
		t.Error("a response_url appears in the logs")
	}
	if strings.Contains(logs, "ticket=") {
		t.Error("a Socket Mode ticket appears in the logs")
	}
}
