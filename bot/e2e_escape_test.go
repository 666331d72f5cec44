package bot_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// Names a hostile or careless Genesys admin (or caller ID) can give a leg.
const (
	hostileName   = "<!channel> <https://evil.example/login|Re-login to Genesys> @here"
	hostileQueue  = "<!everyone> <#C0SUPPORT1> Queue"
	entityName    = "&lt;b&gt;Jane&lt;/b&gt; & Co"
	bidiName      = "Bob \u202egnp.exe\u202c\u200b \u2066Zero\u200bWidth\u2069\nsecond line\tand a tab"
	hostileAgent  = "<@U0SUPER001> <!here|here> Agent"
	hostileEmail  = "evil@example.com"
	hostileCaller = "+13175550142"
)

// hostileCall is a live call whose every name is hostile in its own way.
func hostileCall(h *harness, start time.Time) genesystest.Conversation {
	long := strings.Repeat("Ünïcödé名前 ", 120) // 1200 characters, multi-byte
	return h.genesys.AddConversation(genesystest.Conversation{StartTime: start, Participants: []genesystest.Participant{
		{Name: hostileName, Purpose: "customer", Address: "tel:" + hostileCaller, ANI: "tel:" + hostileCaller, DNIS: "tel:" + genesystest.OrgPhone},
		{Name: "Hostile Queue", Purpose: "acd", QueueName: hostileQueue, State: "disconnected"},
		{Name: entityName, Purpose: "agent", QueueName: hostileQueue, UserID: "d4444444-4444-4444-8444-444444444444"},
		{Name: bidiName, Purpose: "external", Address: "tel:+13175550177"},
		{Name: long, Purpose: "external", Address: "tel:+13175550178"},
	}})
}

// TestE2EUntrustedTextNeverMarkup drives every message kind the bot sends
// (conversation picker, participant picker, progress, channel outcome, its
// audit-channel copy and its private copy, a no-match error sent through
// chat.postEphemeral after the response_url failed, a "found nothing"
// reply naming an agent) with hostile names, and checks the complete JSON
// of every Web API call and every response_url post the bot made: every
// mrkdwn field, the top-level text included, carries no markup but the
// bot's own mention of the supervisor; every mrkdwn text object is
// verbatim; plain-text labels have no control or invisible characters and
// stay inside Slack's limits; and the names still read as typed.
func TestE2EUntrustedTextNeverMarkup(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC)
	h := newHarness(t, harnessOptions{auditChannel: "C0AUDIT001", find: true, now: func() time.Time { return clock }})
	h.genesys.AddUser(genesystest.User{Name: hostileAgent, Email: hostileEmail})
	first := hostileCall(h, time.Now().Add(-3*time.Minute))
	hostileCall(h, time.Now().Add(-2*time.Minute))

	// Two calls with the hostile caller: the conversation picker.
	list := h.slash(supervisor, hostileCaller)
	if n := len(buttonsWithPrefix(h, list, "conversation:")); n != 2 {
		t.Fatalf("want a conversation picker with 2 calls, got:\n%s", h.rendered(list))
	}
	// Its first call: the participant picker replaces the list.
	before := h.slack.MessageCount()
	var pick slacktest.Button
	for _, b := range buttonsWithPrefix(h, list, "conversation:") {
		if strings.Contains(b.Value, first.ID) {
			pick = b
		}
	}
	if _, err := h.slack.Click(h.ctx(), supervisor, list, pick.ActionID, pick.Value); err != nil {
		t.Fatal(err)
	}
	picker := h.answerTo(supervisor, before)
	customer := participantByPurpose(t, first, "customer")
	final := h.click(supervisor, picker, h.buttonFor(picker, customer.ID))
	if !strings.Contains(final.Text, "confirmed") {
		t.Fatalf("outcome: %s", h.rendered(final))
	}

	// A selector that matches nobody lists who is on the call; its
	// response_url fails, so the answer goes out with chat.postEphemeral.
	h.slack.ServerErrorNext(slacktest.MethodResponseURL, 1, 500)
	before = h.slack.MessageCount()
	if _, err := h.slack.SendSlashCommand(h.ctx(), slacktest.SlashCommand{ChannelID: channel, UserID: supervisor, Command: "/disconnect", Text: first.ID + " nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	noMatch := h.answerTo(supervisor, before)
	if noMatch.Kind != slacktest.KindEphemeral || !strings.Contains(h.rendered(noMatch), "No one on the call matches") {
		t.Fatalf("want the no-match list as chat.postEphemeral, got %s:\n%s", noMatch.Kind, h.rendered(noMatch))
	}
	// An agent with a hostile name and no call: the reply names them.
	before = h.slack.MessageCount()
	none := h.slash(supervisor, hostileEmail)
	if !strings.Contains(h.rendered(none), "No call in progress found for agent") {
		t.Fatalf("want a found-nothing reply, got:\n%s", h.rendered(none))
	}
	_ = before

	// Every call the bot made, complete.
	methods := map[string]int{}
	for i, c := range h.slack.Calls() {
		where := fmt.Sprintf("call %d (%s)", i, c.Method)
		payload := callPayload(t, c)
		methods[c.Method]++
		checkSlackJSON(t, where, "", payload)
		if c.Method == "chat.postMessage" || c.Method == "chat.postEphemeral" || c.Method == slacktest.MethodResponseURL {
			text, ok := payload["text"].(string)
			if !ok || text == "" {
				t.Errorf("%s: no top-level text fallback: %v", where, payload)
			}
		}
	}
	for _, m := range []string{"chat.postMessage", "chat.postEphemeral", slacktest.MethodResponseURL} {
		if methods[m] == 0 {
			t.Errorf("the scenario made no %s call; calls: %v", m, methods)
		}
	}
	if methods["chat.postMessage"] != 2 {
		t.Errorf("%d chat.postMessage calls, want the outcome in the channel and in the audit channel", methods["chat.postMessage"])
	}

	// The names still read as they were typed, only inert.
	posts := h.channelPosts(channel)
	if len(posts) != 1 {
		t.Fatalf("%d channel posts, want 1", len(posts))
	}
	wantText := "Disconnected &lt;!channel&gt; &lt;https://evil.example/login|Re-login to Genesys&gt; @here (customer) from conversation " + first.ID + "; Genesys confirmed it."
	if posts[0].Text != wantText {
		t.Errorf("channel outcome text\n got %q\nwant %q", posts[0].Text, wantText)
	}
	if out := h.rendered(posts[0]); !strings.Contains(out, "@sam disconnected *"+hostileName+"* (customer)") {
		t.Errorf("the outcome does not show the name as typed:\n%s", out)
	}
	r := h.rendered(picker)
	for _, want := range []string{entityName, "Bob gnp.exe ZeroWidth second line and a tab", "queue " + hostileQueue, "Ünïcödé名前 Ünïcödé名前"} {
		if !strings.Contains(r, want) {
			t.Errorf("picker does not show %q:\n%s", want, r)
		}
	}
	if r := h.rendered(none); !strings.Contains(r, "agent *"+hostileAgent+"*") {
		t.Errorf("found-nothing reply does not name the agent as typed:\n%s", r)
	}
}

// callPayload is the complete content of one recorded call as JSON: the
// form values of a Web API call (with blocks decoded) or the body of a
// response_url post.
func callPayload(t *testing.T, c slacktest.Call) map[string]any {
	t.Helper()
	out := map[string]any{}
	if c.Method == slacktest.MethodResponseURL {
		if err := json.Unmarshal(c.Body, &out); err != nil {
			t.Fatalf("response_url body is not JSON: %v: %s", err, c.Body)
		}
		return out
	}
	for k, vs := range c.Values {
		v := strings.Join(vs, ",")
		if k == "blocks" || k == "attachments" {
			var decoded any
			if err := json.Unmarshal([]byte(v), &decoded); err != nil {
				t.Fatalf("%s %s is not JSON: %v", c.Method, k, err)
			}
			out[k] = decoded
			continue
		}
		out[k] = v
	}
	return out
}

// inertMrkdwnRE is the only markup allowed in mrkdwn the bot sends: the
// mention of the supervisor who acted, and the three entities.
var inertMrkdwnRE = regexp.MustCompile(`<@` + supervisor + `>|&amp;|&lt;|&gt;`)

// checkMrkdwn fails when s holds markup Slack would act on.
func checkMrkdwn(t *testing.T, where, s string) {
	t.Helper()
	rest := inertMrkdwnRE.ReplaceAllString(s, "")
	if strings.ContainsAny(rest, "<>&") {
		t.Errorf("%s: mrkdwn carries markup: %q", where, s)
	}
}

// Slack's limits on plain-text fields, by the key of the field in its parent.
var plainLimits = map[string]int{"button": 75, "title": 100, "confirm": 30, "deny": 30}

// checkSlackJSON walks a payload. key is the field v sits in; parent the
// type of the object holding it.
func checkSlackJSON(t *testing.T, where, parent string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		typ, _ := v["type"].(string)
		text, _ := v["text"].(string)
		switch typ {
		case "mrkdwn":
			checkMrkdwn(t, where, text)
			if vb, _ := v["verbatim"].(bool); !vb {
				t.Errorf("%s: mrkdwn text without verbatim: %q", where, text)
			}
		case "plain_text":
			for _, r := range text {
				if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
					t.Errorf("%s: plain text %q holds %U", where, text, r)
				}
			}
			if max, ok := plainLimits[parent]; ok && utf8.RuneCountInString(text) > max {
				t.Errorf("%s: %s label of %d characters, Slack allows %d", where, parent, utf8.RuneCountInString(text), max)
			}
		}
		for k, child := range v {
			switch {
			case k == "text" && typ == "button":
				checkSlackJSON(t, where, "button", child)
			case k == "title" || k == "confirm" || k == "deny":
				checkSlackJSON(t, where, k, child)
			case k == "text" && parent == "" && typ == "":
				// The message's top-level text fallback: Slack renders it as
				// mrkdwn in notifications.
				s, _ := child.(string)
				checkMrkdwn(t, where+" text", s)
				checkSlackJSON(t, where, typ, child)
			default:
				checkSlackJSON(t, where, typ, child)
			}
		}
	case []any:
		for _, child := range v {
			checkSlackJSON(t, where, parent, child)
		}
	case string:
		for _, r := range v {
			if r == '\u202e' || r == '\u200b' || r == '\u2066' || r == '\t' {
				t.Errorf("%s: %q holds %U", where, v, r)
			}
		}
	}
}
