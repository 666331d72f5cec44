package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// Slack users that are agents in Genesys (or not).
const (
	janeSlack    = "U0JANE0001" // Jane Doe, genesystest.JaneDoeEmail
	noEmailSlack = "U0NOMAIL01" // a Slack user whose profile has no e-mail
	unknownSlack = "U0NOBODY01" // not in the workspace
)

// newFindHarness is the end-to-end harness with the find flow wired the way
// cmd/disconnectbot wires it: Finder is the Genesys client and SlackUsers
// reads users.info.
func newFindHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	opts.find = true
	h := newHarness(t, opts)
	h.slack.AddUser(slacktest.User{ID: janeSlack, Name: "jane", RealName: genesystest.JaneDoeName, Email: genesystest.JaneDoeEmail})
	h.slack.AddUser(slacktest.User{ID: noEmailSlack, Name: "guest", RealName: "Guest Without Mail"})
	return h
}

// janeCall is a live three-party call with Jane Doe that started at start.
func (h *harness) janeCall(start time.Time) genesystest.Conversation {
	c := h.genesys.ThreePartyConference()
	c.StartTime = start
	return h.genesys.AddConversation(c)
}

func buttonsWithPrefix(h *harness, msg slacktest.Message, prefix string) []slacktest.Button {
	var out []slacktest.Button
	for _, b := range h.slack.Buttons(msg) {
		if strings.HasPrefix(b.ActionID, prefix) {
			out = append(out, b)
		}
	}
	return out
}

// wantParticipantPicker checks that msg is the participant picker of conv,
// with a Disconnect button for each of its three people.
func wantParticipantPicker(t *testing.T, h *harness, msg slacktest.Message, conv genesystest.Conversation, context string) {
	t.Helper()
	r := h.rendered(msg)
	if !strings.Contains(r, conv.ID) || !strings.Contains(r, "Who should leave the call?") {
		t.Fatalf("%s: want the participant picker of %s, got:\n%s", context, conv.ID, r)
	}
	if n := len(buttonsWithPrefix(h, msg, "disconnect:")); n != 3 {
		t.Fatalf("%s: %d Disconnect buttons, want 3:\n%s", context, n, r)
	}
	if n := len(buttonsWithPrefix(h, msg, "conversation:")); n != 0 {
		t.Fatalf("%s: participant picker has conversation buttons", context)
	}
	if msg.User != supervisor {
		t.Fatalf("%s: picker visible to %q, want only the caller", context, msg.User)
	}
}

// wantConversationPicker checks that msg lists exactly convs, in this order.
func wantConversationPicker(t *testing.T, h *harness, msg slacktest.Message, context string, convs ...genesystest.Conversation) []slacktest.Button {
	t.Helper()
	bs := buttonsWithPrefix(h, msg, "conversation:")
	var got, want []string
	for _, b := range bs {
		got = append(got, strings.TrimPrefix(b.Value, "c1:"))
	}
	for _, c := range convs {
		want = append(want, c.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: conversation buttons %v, want %v (newest first):\n%s", context, got, want, h.rendered(msg))
	}
	if r := h.rendered(msg); !strings.Contains(r, "Which call?") {
		t.Fatalf("%s: not the conversation picker:\n%s", context, r)
	}
	return bs
}

func wantText(t *testing.T, h *harness, msg slacktest.Message, context string, wants ...string) {
	t.Helper()
	r := h.rendered(msg)
	for _, w := range wants {
		if !strings.Contains(r, w) {
			t.Errorf("%s: answer lacks %q:\n%s", context, w, r)
		}
	}
}

// TestFindOneMatch: every way of naming the agent, the number or the queue
// leads straight to the participant picker of the one call.
func TestFindOneMatch(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	jane := participantByPurpose(t, conv, "agent")
	queueID := conv.Participants[1].QueueID
	// Noise: another agent's call on another number and queue.
	bob := h.genesys.AddUser(genesystest.User{Name: "Bob Other", Email: "bob@example.com"})
	h.genesys.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{
		{Name: "Someone", Purpose: "customer", ANI: "tel:+442079460958", Address: "tel:+442079460958"},
		{Name: "Bob Other", Purpose: "agent", UserID: bob.ID, QueueID: "0b0b0b0b-0000-4000-8000-000000000001", QueueName: "Sales"},
	}})

	for _, text := range []string{
		"<@" + janeSlack + "|jane>",
		"<@" + janeSlack + ">",
		genesystest.JaneDoeEmail,
		"Jane.Doe@Example.com",
		"<mailto:" + genesystest.JaneDoeEmail + "|" + genesystest.JaneDoeEmail + ">",
		jane.UserID,
		strings.ToUpper(jane.UserID),
		genesystest.CustomerPhone, // +13175550123
		"317-555-0123",            // national notation, default country US
		"1.317.555.0123",          // dots, with the trunk prefix 1
		"<tel:+13175550123|+1 (317) 555-0123>",
		"<tel:3175550123|(317) 555-0123>",
		"+13175550199", // the conferenced external party's number (DNIS of its leg)
		"queue:Support",
		"queue:support",
		"QUEUE:Supp", // one queue starts with it
		"queue:" + queueID,
	} {
		msg := h.slash(supervisor, text)
		wantParticipantPicker(t, h, msg, conv, text)
	}
	// The picker from a find works like any other: disconnect Jane.
	msg := h.slash(supervisor, genesystest.JaneDoeEmail)
	final := h.click(supervisor, msg, h.buttonFor(msg, jane.ID))
	if !strings.Contains(final.Text, "Genesys confirmed") {
		t.Fatalf("outcome %q", final.Text)
	}
	h.waitState(conv.ID, jane.ID, "disconnected")
	// A selector after the target filters the picker of the one call: Jane
	// has left the first call, so only the new one is hers.
	conv2 := h.genesys.ThreePartyConference()
	msg = h.slash(supervisor, genesystest.JaneDoeEmail+" customer")
	if bs := buttonsWithPrefix(h, msg, "disconnect:"); len(bs) != 1 || !strings.HasSuffix(bs[0].Value, participantByPurpose(t, conv2, "customer").ID) {
		t.Fatalf("filtered picker:\n%s", h.rendered(msg))
	}
}

// TestFindSeveralMatches: a conversation picker, newest first; clicking a
// call replaces it with that call's participant picker, which disconnects.
func TestFindSeveralMatches(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	now := time.Now().UTC()
	oldest := h.janeCall(now.Add(-9 * time.Minute))
	newest := h.janeCall(now.Add(-1 * time.Minute))
	middle := h.janeCall(now.Add(-4 * time.Minute))
	queueID := oldest.Participants[1].QueueID

	for _, text := range []string{
		"<@" + janeSlack + ">", genesystest.JaneDoeEmail, oldest.Participants[2].UserID,
		genesystest.CustomerPhone, "<tel:+13175550123|+1 317 555 0123>",
		"queue:Support", "queue:" + queueID,
	} {
		msg := h.slash(supervisor, text)
		wantConversationPicker(t, h, msg, text, newest, middle, oldest)
		if msg.User != supervisor {
			t.Fatalf("conversation picker visible to %q", msg.User)
		}
	}
	msg := h.slash(supervisor, genesystest.JaneDoeEmail)
	bs := wantConversationPicker(t, h, msg, "click", newest, middle, oldest)
	wantText(t, h, msg, "conversation picker", "3 calls in progress for agent *Jane Doe* (jane.doe@example.com)",
		genesystest.CustomerName+" (customer)", genesystest.JaneDoeName+" (agent)", "queue Support", middle.ID)

	// Click the middle call: its participant picker replaces the list.
	picker := h.click(supervisor, msg, bs[1])
	if picker.TS != msg.TS || !picker.ReplaceOriginal {
		t.Fatalf("participant picker did not replace the conversation picker: %+v", picker)
	}
	wantParticipantPicker(t, h, picker, middle, "after the click")
	if cur, _ := h.slack.Current(msg); len(buttonsWithPrefix(h, cur, "conversation:")) != 0 {
		t.Fatalf("the conversation picker is still visible")
	}
	agent := participantByPurpose(t, middle, "agent")
	final := h.click(supervisor, picker, h.buttonFor(picker, agent.ID))
	if !strings.Contains(final.Text, "Genesys confirmed") {
		t.Fatalf("outcome %q", final.Text)
	}
	h.waitState(middle.ID, agent.ID, "disconnected")
	for _, other := range []genesystest.Conversation{newest, oldest} {
		c, _ := h.genesys.Conversation(other.ID)
		if p, _ := c.Participant(participantByPurpose(t, other, "agent").ID); p.Ended() {
			t.Errorf("the agent of %s was disconnected too", other.ID)
		}
	}
	h.auditLine(map[string]string{"action": "pick_conversation", "outcome": "picker_shown", "conversation_id": middle.ID, "slack_user": supervisor})
	h.auditLine(map[string]string{"action": "command", "outcome": "find_picker_shown"})

	// Jane left the middle call; a new search lists the two others.
	msg = h.slash(supervisor, "<@"+janeSlack+">")
	wantConversationPicker(t, h, msg, "after the disconnect", newest, oldest)

	// A call that ended after the list was drawn: the click says so and
	// keeps the list.
	h.genesys.EndConversation(newest.ID)
	before := h.slack.MessageCount()
	if _, err := h.slack.Click(h.ctx(), supervisor, msg, "conversation:0", ""); err != nil {
		t.Fatal(err)
	}
	ans := h.answerTo(supervisor, before)
	wantText(t, h, ans, "ended call", "has ended since the list was made")
	if cur, _ := h.slack.Current(msg); len(buttonsWithPrefix(h, cur, "conversation:")) != 2 {
		t.Errorf("the list was replaced")
	}
}

func TestFindNone(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference() // creates Jane and queue Support
	h.genesys.EndConversation(conv.ID)
	h.genesys.AddQueue(genesystest.Queue{Name: "Sales"})
	ann := h.genesys.AddUser(genesystest.User{Name: "Ann Idle", Email: "ann@example.com"})

	tests := []struct{ text, what string }{
		{"<@" + janeSlack + ">", "agent *Jane Doe*."}, // a mention's address came from Slack: not shown
		{genesystest.JaneDoeEmail, "agent *Jane Doe* (jane.doe@example.com)"},
		{"ann@example.com", "agent *Ann Idle* (ann@example.com)"},
		{ann.ID, "agent *Ann Idle* (ann@example.com)"},
		{"317-555-0000", "phone number `+1317•••0000`"}, // masked like every number shown
		{"<tel:+442079460958|+44 20 7946 0958>", "phone number `+4420••••0958`"},
		{"queue:Sales", "queue *Sales*"},
		{"queue:6b1d2f30-1111-4c1b-9d6e-2f1a7b9c0d22", "queue `6b1d2f30-1111-4c1b-9d6e-2f1a7b9c0d22`"},
	}
	for _, tc := range tests {
		msg := h.slash(supervisor, tc.text)
		wantText(t, h, msg, tc.text, "No call in progress found for "+tc.what, "voice calls that have not ended (started since")
		if n := len(h.slack.Buttons(msg)); n != 0 {
			t.Errorf("%s: %d buttons on the answer", tc.text, n)
		}
	}
	h.auditLine(map[string]string{"action": "command", "outcome": "find_none", "reason": "queue Sales"})
}

// TestFindEndedSinceAnalytics: analytics lags (the emulator's analytics lag)
// and still lists calls that have ended; the re-read drops them.
func TestFindEndedSinceAnalytics(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{genesysOpts: []genesystest.Option{genesystest.WithAnalyticsLag(time.Hour)}})
	now := time.Now().UTC()
	live := h.janeCall(now.Add(-5 * time.Minute))
	ended := h.janeCall(now.Add(-1 * time.Minute))
	h.genesys.EndConversation(ended.ID)

	h.genesys.ResetRequests()
	msg := h.slash(supervisor, genesystest.JaneDoeEmail)
	wantParticipantPicker(t, h, msg, live, "one left after the re-read")
	if n := h.genesys.CountOp(genesystest.OpGetConversation); n != 2 {
		t.Errorf("%d re-reads, want 2 (both candidates)", n)
	}
	h.genesys.EndConversation(live.ID)
	msg = h.slash(supervisor, genesystest.JaneDoeEmail)
	wantText(t, h, msg, "all ended", "No call in progress found for agent *Jane Doe*", "re-read the 2 that analytics still listed: they have ended")

	// The agent left but the call goes on: no longer her call.
	third := h.janeCall(now.Add(-30 * time.Second))
	h.setState(third.ID, participantByPurpose(t, third, "agent").ID, "disconnected")
	msg = h.slash(supervisor, genesystest.JaneDoeEmail)
	wantText(t, h, msg, "agent left", "No call in progress found for agent *Jane Doe*")
	// …but it is still the customer's call.
	msg = h.slash(supervisor, genesystest.CustomerPhone)
	r := h.rendered(msg)
	if !strings.Contains(r, third.ID) || !strings.Contains(r, "Who should leave the call?") {
		t.Fatalf("by phone: want the picker of %s:\n%s", third.ID, r)
	}
}

// TestFindPaging: more calls than one analytics page, and more than the
// picker shows.
func TestFindPaging(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	now := time.Now().UTC()
	var convs []genesystest.Conversation // newest first
	for i := range 30 {
		convs = append(convs, h.janeCall(now.Add(-time.Duration(i+1)*10*time.Second)))
	}
	h.genesys.ResetRequests()
	msg := h.slash(supervisor, genesystest.JaneDoeEmail)
	wantConversationPicker(t, h, msg, "30 calls", convs[:20]...)
	wantText(t, h, msg, "30 calls", "Showing the 20 newest calls; 10 more match and are not shown")
	if n := h.genesys.CountOp(genesystest.OpQueryConversations); n != 2 {
		t.Errorf("%d analytics requests, want 2 pages (25 + 5)", n)
	}
	if n := h.genesys.CountOp(genesystest.OpGetConversation); n != 20 {
		t.Errorf("%d re-reads, want 20 (only the calls shown)", n)
	}
	var pages []string
	for _, r := range h.genesys.Requests() {
		if r.Op == genesystest.OpQueryConversations {
			pages = append(pages, r.Body)
		}
	}
	if len(pages) == 2 && (!strings.Contains(pages[0], `"pageNumber":1`) || !strings.Contains(pages[1], `"pageNumber":2`)) {
		t.Errorf("pages asked: %v", pages)
	}
	// Ended calls among the newest are replaced by older live ones.
	for _, c := range convs[:5] {
		h.genesys.EndConversation(c.ID)
	}
	msg = h.slash(supervisor, genesystest.JaneDoeEmail)
	wantConversationPicker(t, h, msg, "5 ended", convs[5:25]...)
	wantText(t, h, msg, "5 ended", "5 more match and are not shown")
}

// TestFindPermissions: a missing permission is named; the by-id flow keeps
// working.
func TestFindPermissions(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	jane := participantByPurpose(t, conv, "agent")

	h.genesys.DenyPermission(genesystest.PermAnalyticsConversationView)
	for _, text := range []string{genesystest.JaneDoeEmail, genesystest.CustomerPhone, "queue:Support", jane.UserID} {
		msg := h.slash(supervisor, text)
		wantText(t, h, msg, text, "analytics:conversationDetail:view")
	}
	wantParticipantPicker(t, h, h.slash(supervisor, conv.ID), conv, "by id without analytics")
	h.genesys.GrantPermission(genesystest.PermAnalyticsConversationView)

	h.genesys.DenyPermission(genesystest.PermQueueView)
	wantText(t, h, h.slash(supervisor, "queue:Support"), "queue by name", "routing:queue:view")
	wantParticipantPicker(t, h, h.slash(supervisor, "queue:"+conv.Participants[1].QueueID), conv, "queue by id needs no queue permission")
	h.genesys.GrantPermission(genesystest.PermQueueView)

	h.genesys.DenyPermission(genesystest.PermUserView)
	wantText(t, h, h.slash(supervisor, genesystest.JaneDoeEmail), "by e-mail", "directory:user:view")
	wantText(t, h, h.slash(supervisor, "<@"+janeSlack+">"), "by mention", "directory:user:view")
	wantParticipantPicker(t, h, h.slash(supervisor, jane.UserID), conv, "by user id needs no directory permission")
	wantParticipantPicker(t, h, h.slash(supervisor, conv.ID), conv, "by id without directory")
}

func TestFindBadInput(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	h.genesys.ThreePartyConference()
	h.genesys.AddQueue(genesystest.Queue{Name: "Support Tier 2"})
	tests := []struct {
		text  string
		wants []string
	}{
		{"jane@", []string{"is not an e-mail address"}},
		{"jane@@example.com", []string{"is not an e-mail address"}},
		{"nobody@example.com", []string{"No Genesys user has the e-mail address `nobody@example.com`"}},
		{"<@" + supervisor + ">", []string{"No Genesys user has the e-mail address in @sam's Slack profile"}},
		{"<@" + noEmailSlack + ">", []string{"has no e-mail address in their Slack profile", "e-mail address or user id instead"}},
		{"<@" + unknownSlack + ">", []string{"Slack does not know"}},
		{"12345", []string{"is not a phone number I can search for", "too short"}},
		{"5550123", []string{"too short", "include the area or country code"}},
		{"+99912345678", []string{"is not a phone number I can search for", "country code"}},
		{"<tel:12345|12345>", []string{"too short"}},
		{"queue:Nope", []string{"No Genesys queue is named `Nope`"}},
		{"queue:Supp", []string{"Several queues match `Supp`", "Support Tier 2", "• Support ("}},
		{"6b1d2f30-1111-4c1b-9d6e-2f1a7b9c0d22", []string{"Genesys could not find it"}}, // neither a call nor a user
	}
	for _, tc := range tests {
		msg := h.slash(supervisor, tc.text)
		wantText(t, h, msg, tc.text, tc.wants...)
		if n := len(h.slack.Buttons(msg)); n != 0 {
			t.Errorf("%s: answer has %d buttons", tc.text, n)
		}
	}
	// Nothing about the rejected input leaked into a channel.
	if posts := h.channelPosts(channel); len(posts) != 0 {
		t.Errorf("%d channel posts", len(posts))
	}
}

// TestFindAuthorization: the allow-list is checked before any search and
// again on the conversation click; forged values are refused.
func TestFindAuthorization(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	now := time.Now().UTC()
	a := h.janeCall(now.Add(-2 * time.Minute))
	b := h.janeCall(now.Add(-time.Minute))

	h.genesys.ResetRequests()
	msg := h.slash(stranger, genesystest.JaneDoeEmail)
	wantText(t, h, msg, "stranger", "not on disconnectbot's allow-list")
	if n := h.apiRequests(); n != 0 {
		t.Fatalf("%d Genesys requests for a user who is not allowed", n)
	}

	list := h.slash(supervisor, genesystest.JaneDoeEmail)
	bs := wantConversationPicker(t, h, list, "list", b, a)
	// The stranger replays the button.
	before := h.slack.MessageCount()
	h.sendClick(stranger, list, bs[1])
	ans := h.answerTo(stranger, before)
	if len(h.slack.Buttons(ans)) != 0 || strings.Contains(h.rendered(ans), "Who should leave") {
		t.Fatalf("stranger got:\n%s", h.rendered(ans))
	}
	h.auditLine(map[string]string{"action": "pick_conversation", "outcome": "denied", "slack_user": stranger})
	// Forged and foreign values.
	for _, v := range []string{"c1:not-a-uuid", "v1:" + a.ID, "c2:" + a.ID, "c1:" + a.ID + ":x", "c1:" + strings.Repeat("a", 36), ""} {
		before := h.slack.MessageCount()
		h.sendClick(supervisor, list, slacktest.Button{ActionID: "conversation:1", BlockID: bs[1].BlockID, Value: v})
		ans := h.answerTo(supervisor, before)
		wantText(t, h, ans, v, "That button is not valid")
	}
	if cur, _ := h.slack.Current(list); len(buttonsWithPrefix(h, cur, "conversation:")) != 2 {
		t.Errorf("the list was replaced by a refused click")
	}
	// Cancel works on the conversation picker too.
	final := h.click(supervisor, list, slacktest.Button{ActionID: "cancel", Value: "cancel"})
	wantText(t, h, final, "cancel", "Cancelled")
}

// TestFindRequestCounts measures what one find costs in Genesys requests
// (token requests excluded), from the emulator's request log.
func TestFindRequestCounts(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	conv := h.genesys.ThreePartyConference()
	jane := participantByPurpose(t, conv, "agent")
	queueID := conv.Participants[1].QueueID
	h.slash(supervisor, conv.ID) // fetch the token first

	type cost map[string]int
	tests := []struct {
		name, text string
		want       cost
	}{
		{"e-mail", genesystest.JaneDoeEmail, cost{genesystest.OpSearchUsers: 1, genesystest.OpQueryConversations: 1, genesystest.OpGetConversation: 1}},
		{"mention", "<@" + janeSlack + ">", cost{genesystest.OpSearchUsers: 1, genesystest.OpQueryConversations: 1, genesystest.OpGetConversation: 1}},
		{"user id", jane.UserID, cost{genesystest.OpGetConversation: 2, genesystest.OpGetUser: 1, genesystest.OpQueryConversations: 1}}, // 404 on the id as a call, then the re-read
		{"phone", genesystest.CustomerPhone, cost{genesystest.OpQueryConversations: 1, genesystest.OpGetConversation: 1}},
		{"queue name", "queue:Support", cost{genesystest.OpGetQueues: 1, genesystest.OpQueryConversations: 1, genesystest.OpGetConversation: 1}},
		{"queue id", "queue:" + queueID, cost{genesystest.OpQueryConversations: 1, genesystest.OpGetConversation: 1}},
	}
	for _, tc := range tests {
		h.genesys.ResetRequests()
		wantParticipantPicker(t, h, h.slash(supervisor, tc.text), conv, tc.name)
		got := cost{}
		total := 0
		for _, r := range h.genesys.Requests() {
			if r.Op != genesystest.OpToken {
				got[r.Op]++
				total++
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: requests %v, want %v", tc.name, got, tc.want)
		}
		t.Logf("find by %-10s one match: %d Genesys requests %v", tc.name, total, got)
	}
	// Several matches: one more re-read per call shown.
	for range 4 {
		h.genesys.ThreePartyConference()
	}
	h.genesys.ResetRequests()
	h.slash(supervisor, genesystest.CustomerPhone)
	if n, q := h.genesys.CountOp(genesystest.OpGetConversation), h.genesys.CountOp(genesystest.OpQueryConversations); n != 5 || q != 1 {
		t.Errorf("5 matches: %d re-reads and %d queries, want 5 and 1", n, q)
	}
	t.Logf("find by phone, 5 matches: %d Genesys requests", h.apiRequests())
}

// TestFindSeveralMatchesKeepsWho: a [who] typed after the agent travels with
// the conversation buttons, so the participant picker after the click is
// filtered the same way.
func TestFindSeveralMatchesKeepsWho(t *testing.T) {
	t.Parallel()
	h := newFindHarness(t, harnessOptions{})
	now := time.Now().UTC()
	older := h.janeCall(now.Add(-5 * time.Minute))
	h.janeCall(now.Add(-1 * time.Minute))
	msg := h.slash(supervisor, genesystest.JaneDoeEmail+" customer")
	bs := buttonsWithPrefix(h, msg, "conversation:")
	if len(bs) != 2 {
		t.Fatalf("%d conversation buttons, want 2:\n%s", len(bs), h.rendered(msg))
	}
	picker := h.click(supervisor, msg, bs[1]) // the older call
	ds := buttonsWithPrefix(h, picker, "disconnect:")
	customer := participantByPurpose(t, older, "customer")
	if len(ds) != 1 || !strings.HasSuffix(ds[0].Value, ":"+customer.ID) {
		t.Fatalf("after the click: %d Disconnect buttons, want only the customer of the older call:\n%s", len(ds), h.rendered(picker))
	}
	wantText(t, h, picker, "filtered picker", "customer")
}
