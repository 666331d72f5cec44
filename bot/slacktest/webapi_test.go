package slacktest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func TestAuthTest(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	got, err := newAPI(s).AuthTest()
	if err != nil {
		t.Fatal(err)
	}
	want := &slack.AuthTestResponse{
		URL: "https://" + DefaultTeamDomain + ".slack.com/", Team: DefaultTeamName, User: DefaultBotUserName,
		TeamID: DefaultTeamID, UserID: DefaultBotUserID, BotID: DefaultBotID,
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Header" }, cmp.Ignore())); diff != "" {
		t.Errorf("auth.test (-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ token, want string }{
		{"xoxb-wrong", "invalid_auth"},
		{s.AppToken(), "not_allowed_token_type"},
	} {
		_, err := slack.New(tt.token, slack.OptionAPIURL(s.APIURL())).AuthTest()
		if got := slackErr(err); got != tt.want {
			t.Errorf("token %q: %s, want %s", tt.token, got, tt.want)
		}
	}
	if _, body := postRaw(t, s, "auth.test", nil); body["error"] != "not_authed" {
		t.Errorf("no token: %v", body)
	}
	// Bearer header and GET are accepted too.
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"auth.test", nil)
	req.Header.Set("Authorization", "Bearer "+s.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := s.CallsTo("auth.test"); c[len(c)-1].Error != "" || c[len(c)-1].HTTPMethod != http.MethodGet {
		t.Errorf("bearer GET call = %+v", c[len(c)-1])
	}
}

func TestUnknownMethod(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	_, body := postRaw(t, s, "chat.frobnicate", url.Values{"token": {s.BotToken()}})
	if body["ok"] != false || body["error"] != "unknown_method" {
		t.Errorf("body = %v", body)
	}
}

var testBlocks = []slack.Block{
	slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*db1*", false, false), nil, nil),
	slack.NewActionBlock("actions_db1",
		slack.NewButtonBlockElement("disconnect", "p1", slack.NewTextBlockObject(slack.PlainTextType, "Disconnect", false, false)).WithStyle(slack.StyleDanger)),
}

func TestChatMethods(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	api := newAPI(s)

	ch, ts, err := api.PostMessage("C1", slack.MsgOptionText("hello", false), slack.MsgOptionBlocks(testBlocks...))
	if err != nil || ch != "C1" || ts == "" {
		t.Fatalf("PostMessage = %q %q %v", ch, ts, err)
	}
	ets, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("only you", false))
	if err != nil || ets == "" || ets == ts {
		t.Fatalf("PostEphemeral = %q %v", ets, err)
	}

	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("messages = %+v", msgs)
	}
	if m := msgs[0]; m.Kind != KindPost || m.Channel != "C1" || m.TS != ts || m.Text != "hello" || m.User != "" || !strings.Contains(string(m.Blocks), `"action_id":"disconnect"`) {
		t.Errorf("post = %+v", m)
	}
	if m := msgs[1]; m.Kind != KindEphemeral || m.User != "U1" || m.TS != ets || m.Blocks != nil {
		t.Errorf("ephemeral = %+v", m)
	}
	if cur, ok := s.Current(msgs[0]); !ok || cur.Text != "hello" {
		t.Errorf("current = %+v %v", cur, ok)
	}
	if vis := s.Visible("C1", "U1"); len(vis) != 2 {
		t.Errorf("U1 sees %d messages", len(vis))
	}
	if vis := s.Visible("C1", "U2"); len(vis) != 1 {
		t.Errorf("U2 sees %d messages", len(vis))
	}

	errCases := []struct {
		name string
		call func() error
		want string
	}{
		{"post no text", func() error { _, _, err := api.PostMessage("C1"); return err }, "no_text"},
		{"post bad channel", func() error { _, _, err := api.PostMessage("nope", slack.MsgOptionText("x", false)); return err }, "channel_not_found"},
		{"post too long", func() error {
			_, _, err := api.PostMessage("C1", slack.MsgOptionText(strings.Repeat("x", 40001), false))
			return err
		}, "msg_too_long"},
		{"ephemeral no user", func() error { _, err := api.PostEphemeral("C1", "", slack.MsgOptionText("x", false)); return err }, "user_not_in_channel"},
	}
	for _, tt := range errCases {
		if got := slackErr(tt.call()); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("failed calls recorded messages: %d", n)
	}
	s.ResetRecordings()
	if len(s.Messages()) != 0 || len(s.Calls()) != 0 {
		t.Error("ResetRecordings kept recordings")
	}
	if _, ok := s.Current(msgs[0]); !ok {
		t.Error("ResetRecordings dropped visible messages")
	}
}

func TestConfiguredChannels(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.AddChannel(Channel{ID: "C1", Name: "ops"})
	api := newAPI(s)
	if _, _, err := api.PostMessage("C2", slack.MsgOptionText("x", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("unknown channel: %v", err)
	}
	if ch, _, err := api.PostMessage("#ops", slack.MsgOptionText("x", false)); err != nil || ch != "C1" {
		t.Errorf("by name: %q %v", ch, err)
	}
}

func TestUsersAndGroups(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.AddUser(User{ID: "U1", Name: "jdoe", RealName: "Jane Doe", Email: "jane@example.com"})
	s.AddUserGroup("S1", "U1", "U2")
	api := newAPI(s)

	u, err := api.GetUserInfo("U1")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "U1" || u.TeamID != DefaultTeamID || u.Name != "jdoe" || u.RealName != "Jane Doe" || u.Profile.Email != "jane@example.com" ||
		u.Profile.RealName != "Jane Doe" || u.Profile.DisplayName != "jdoe" || u.IsBot || u.Deleted || u.Locale != "en-US" {
		t.Errorf("user = %+v", u)
	}
	if _, err := api.GetUserInfo("U404"); slackErr(err) != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}

	members, err := api.GetUserGroupMembers("S1")
	if err != nil || !cmp.Equal(members, []string{"U1", "U2"}) {
		t.Errorf("members = %v %v", members, err)
	}
	s.SetUserGroupMembers("S1")
	if members, err := api.GetUserGroupMembers("S1"); err != nil || len(members) != 0 {
		t.Errorf("emptied group = %v %v", members, err)
	}
	if _, err := api.GetUserGroupMembers("S404"); slackErr(err) != "no_such_subteam" {
		t.Errorf("unknown group: %v", err)
	}
	// Once users are configured, ephemeral messages need a known user.
	if _, err := api.PostEphemeral("C1", "U404", slack.MsgOptionText("x", false)); slackErr(err) != "user_not_in_channel" {
		t.Errorf("ephemeral to unknown user: %v", err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	api := newAPI(s)
	post := func() error {
		_, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false))
		return err
	}

	s.RateLimitNext("chat.postMessage", 1, 2*time.Second)
	var rl *slack.RateLimitedError
	if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("rate limited: %v", err)
	}
	s.ServerErrorNext("chat.postMessage", 1, http.StatusServiceUnavailable)
	var sc slack.StatusCodeError
	if err := post(); !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Errorf("5xx: %v", err)
	}
	s.FailNext("chat.postMessage", 2, "not_in_channel")
	for range 2 {
		if err := post(); slackErr(err) != "not_in_channel" {
			t.Errorf("fail: %v", err)
		}
	}
	if err := post(); err != nil {
		t.Errorf("after faults: %v", err)
	}
	s.InjectFault("auth.test", Fault{Times: Always, Error: "token_revoked"})
	for range 3 {
		if _, err := api.AuthTest(); slackErr(err) != "token_revoked" {
			t.Errorf("always: %v", err)
		}
	}
	s.ClearFaults()
	if _, err := api.AuthTest(); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
	// A delayed answer lets client timeouts be tested.
	s.InjectFault("auth.test", Fault{Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := api.AuthTestContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("delayed: %v", err)
	}

	calls := s.CallsTo("chat.postMessage")
	var got []string
	for _, c := range calls {
		got = append(got, c.Error)
	}
	if want := []string{"ratelimited", "", "not_in_channel", "not_in_channel", ""}; !cmp.Equal(got, want) {
		t.Errorf("recorded errors = %q, want %q", got, want)
	}
	if calls[0].Status != 429 || calls[1].Status != 503 {
		t.Errorf("recorded statuses %d %d", calls[0].Status, calls[1].Status)
	}
}

func TestTokensRedacted(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	api := newAPI(s)
	if _, err := api.AuthTest(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("my token is "+s.BotToken(), false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.StartSocketModeContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls = %+v", calls)
	}
	if got := calls[0].Values.Get("token"); got != "xoxb-REDACTED" {
		t.Errorf("token recorded as %q", got)
	}
	for _, c := range calls {
		all := c.Values.Encode() + string(c.Body)
		if strings.Contains(all, s.BotToken()) || strings.Contains(all, s.AppToken()) ||
			strings.Contains(all, strings.TrimPrefix(s.BotToken(), "xoxb-")) {
			t.Errorf("%s call leaks a token: %s", c.Method, all)
		}
	}
	if calls[2].Method != "apps.connections.open" || calls[2].Error != "" {
		t.Errorf("open call = %+v", calls[2])
	}
}

func TestInvalidBlocks(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	rep := strings.Repeat
	btn := func(extra string) string {
		return `{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"Go"}` + extra + `}]}`
	}
	confirm := func(title, text, yes, no, style string) string {
		return btn(`,"confirm":{"title":{"type":"plain_text","text":"` + title + `"},"text":{"type":"mrkdwn","text":"` + text +
			`"},"confirm":{"type":"plain_text","text":"` + yes + `"},"deny":{"type":"plain_text","text":"` + no + `"}` + style + `}`)
	}
	section := func(text string) string {
		return `{"type":"section","text":{"type":"mrkdwn","text":"` + text + `"}}`
	}
	many := func(n int, item string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = strings.ReplaceAll(item, "#", string(rune('a'+i%26))+strings.Repeat("x", i/26))
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name   string
		blocks string
		want   string // substring of the single expected error, "" for valid
	}{
		{"valid", "[" + section("hi") + "," + btn(`,"style":"danger","value":"v"`) + `,{"type":"divider"},{"type":"header","text":{"type":"plain_text","text":"H"}},{"type":"context","elements":[{"type":"mrkdwn","text":"c"}]},{"type":"rich_text","elements":[]}]`, ""},
		{"51 blocks", "[" + many(51, `{"type":"divider"}`) + "]", "[json-pointer:/blocks]"},
		{"50 blocks ok", "[" + many(50, `{"type":"divider"}`) + "]", ""},
		{"unknown block", `[{"type":"carousel_x"}]`, "[json-pointer:/blocks/0/type]"},
		{"26 actions", `[{"type":"actions","elements":[` + many(26, `{"type":"button","action_id":"#","text":{"type":"plain_text","text":"b"}}`) + `]}]`, "[json-pointer:/blocks/0/elements]"},
		{"25 actions ok", `[{"type":"actions","elements":[` + many(25, `{"type":"button","action_id":"#","text":{"type":"plain_text","text":"b"}}`) + `]}]`, ""},
		{"11 context", `[{"type":"context","elements":[` + many(11, `{"type":"mrkdwn","text":"#"}`) + `]}]`, "[json-pointer:/blocks/0/elements]"},
		{"section text empty", "[" + section("") + "]", "more than 0 characters [json-pointer:/blocks/0/text/text]"},
		{"section text 3001", "[" + section(rep("x", 3001)) + "]", "less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"section text 3000 ok", "[" + section(rep("x", 3000)) + "]", ""},
		{"section nothing", `[{"type":"section"}]`, "[json-pointer:/blocks/0]"},
		{"11 fields", `[{"type":"section","fields":[` + many(11, `{"type":"mrkdwn","text":"#"}`) + `]}]`, "[json-pointer:/blocks/0/fields]"},
		{"field 2001", `[{"type":"section","fields":[{"type":"mrkdwn","text":"` + rep("x", 2001) + `"}]}]`, "[json-pointer:/blocks/0/fields/0/text]"},
		{"header 151", `[{"type":"header","text":{"type":"plain_text","text":"` + rep("x", 151) + `"}}]`, "[json-pointer:/blocks/0/text/text]"},
		{"header mrkdwn", `[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]`, "[json-pointer:/blocks/0/text/type]"},
		{"block_id 256", `[{"type":"divider","block_id":"` + rep("b", 256) + `"}]`, "[json-pointer:/blocks/0/block_id]"},
		{"duplicate block_id", `[{"type":"divider","block_id":"b"},{"type":"divider","block_id":"b"}]`, "[json-pointer:/blocks/1/block_id]"},
		{"action_id 256", `[{"type":"actions","elements":[{"type":"button","action_id":"` + rep("a", 256) + `","text":{"type":"plain_text","text":"b"}}]}]`, "[json-pointer:/blocks/0/elements/0/action_id]"},
		{"duplicate action_id", `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"b"}},{"type":"button","action_id":"a","text":{"type":"plain_text","text":"c"}}]}]`, "[json-pointer:/blocks/0/elements/1/action_id]"},
		{"same action_id in two blocks ok", "[" + btn("") + "," + btn("") + "]", ""},
		{"button text 76", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"` + rep("x", 76) + `"}}]}]`, "[json-pointer:/blocks/0/elements/0/text/text]"},
		{"button text 75 ok", `[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"` + rep("é", 75) + `"}}]}]`, ""},
		{"button mrkdwn", `[{"type":"actions","elements":[{"type":"button","text":{"type":"mrkdwn","text":"x"}}]}]`, "[json-pointer:/blocks/0/elements/0/text/type]"},
		{"button value 2001", "[" + btn(`,"value":"`+rep("v", 2001)+`"`) + "]", "[json-pointer:/blocks/0/elements/0/value]"},
		{"button style", "[" + btn(`,"style":"default"`) + "]", "[json-pointer:/blocks/0/elements/0/style]"},
		{"confirm ok", "[" + confirm("T", "Sure?", "Yes", "No", `,"style":"danger"`) + "]", ""},
		{"confirm title 101", "[" + confirm(rep("t", 101), "x", "Y", "N", "") + "]", "[json-pointer:/blocks/0/elements/0/confirm/title/text]"},
		{"confirm text 301", "[" + confirm("T", rep("t", 301), "Y", "N", "") + "]", "[json-pointer:/blocks/0/elements/0/confirm/text/text]"},
		{"confirm yes 31", "[" + confirm("T", "x", rep("y", 31), "N", "") + "]", "[json-pointer:/blocks/0/elements/0/confirm/confirm/text]"},
		{"confirm deny 31", "[" + confirm("T", "x", "Y", rep("n", 31), "") + "]", "[json-pointer:/blocks/0/elements/0/confirm/deny/text]"},
		{"confirm style", "[" + confirm("T", "x", "Y", "N", `,"style":"default"`) + "]", "[json-pointer:/blocks/0/elements/0/confirm/style]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, body := postRaw(t, s, "chat.postMessage", url.Values{"token": {s.BotToken()}, "channel": {"C1"}, "blocks": {tt.blocks}})
			if tt.want == "" {
				if body["ok"] != true {
					t.Fatalf("valid blocks rejected: %v", body)
				}
				return
			}
			if body["ok"] != false || body["error"] != "invalid_blocks" {
				t.Fatalf("body = %v", body)
			}
			errs, _ := body["errors"].([]any)
			if len(errs) != 1 || !strings.Contains(errs[0].(string), tt.want) {
				t.Errorf("errors = %q, want one containing %q", errs, tt.want)
			}
		})
	}
}

func TestInvalidBlocksThroughSlackGo(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	api := newAPI(s)
	long := slack.NewButtonBlockElement("a", "v", slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("x", 76), false, false))
	_, _, err := api.PostMessage("C1", slack.MsgOptionBlocks(slack.NewActionBlock("b", long)))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" || len(se.Errors) != 1 || se.Errors[0].Message == nil ||
		!strings.HasSuffix(*se.Errors[0].Message, "[json-pointer:/blocks/0/elements/0/text/text]") {
		t.Errorf("err = %#v", err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionBlocks()); slackErr(err) != "no_text" {
		t.Errorf("empty blocks: %v", err)
	}
	_, body := postRaw(t, s, "chat.postMessage", url.Values{"token": {s.BotToken()}, "channel": {"C1"}, "blocks": {"{not json"}})
	if body["error"] != "invalid_blocks_format" {
		t.Errorf("bad json: %v", body)
	}
	// chat.postEphemeral validates too.
	if _, err := api.PostEphemeral("C1", "U1", slack.MsgOptionBlocks(slack.NewActionBlock("b", long))); slackErr(err) != "invalid_blocks" {
		t.Errorf("ephemeral: %v", err)
	}
}

// TestChatUpdate: chat.update replaces a posted message in place (Current
// shows the new content under the same ts), keeps the blocks when it sends
// none, and refuses ephemeral, unknown and other-channel messages as Slack
// does.
func TestChatUpdate(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	api := newAPI(s)
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("hello", false), slack.MsgOptionBlocks(testBlocks...))
	if err != nil {
		t.Fatal(err)
	}
	uch, uts, utext, err := api.UpdateMessage("C1", ts, slack.MsgOptionText("updated", false))
	if err != nil || uch != "C1" || uts != ts || utext != "updated" {
		t.Fatalf("UpdateMessage = %q %q %q %v", uch, uts, utext, err)
	}
	msgs := s.Messages()
	if m := msgs[len(msgs)-1]; m.Kind != KindUpdate || m.TS != ts || m.Text != "updated" || string(m.Blocks) != string(msgs[0].Blocks) {
		t.Errorf("update = %+v", m)
	}
	if cur, ok := s.Current(msgs[0]); !ok || cur.Text != "updated" {
		t.Errorf("current after the update = %+v %v", cur, ok)
	}
	if _, _, _, err := api.UpdateMessage("C1", ts, slack.MsgOptionText("no buttons", false), slack.MsgOptionBlocks(testBlocks[0])); err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.Current(msgs[0]); len(s.Buttons(cur)) != 0 {
		t.Errorf("the update that dropped the buttons left %d", len(s.Buttons(cur)))
	}
	ets, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("only you", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		channel, ts, want string
	}{
		{"C1", "1.000001", "message_not_found"},
		{"C1", ets, "cant_update_message"},
		{"C2", ts, "message_not_found"},
	} {
		if _, _, _, err := api.UpdateMessage(tc.channel, tc.ts, slack.MsgOptionText("x", false)); slackErr(err) != tc.want {
			t.Errorf("update %s/%s: err %v, want %s", tc.channel, tc.ts, err, tc.want)
		}
	}
}
