package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
)

func TestConversationButtonRoundTrip(t *testing.T) {
	t.Parallel()
	for _, who := range []string{"", "customer", "jane@example.com", "+1 317 555 0123", partID} {
		id, gotWho, err := decodeConversationButton(encodeConversationButton(convID, who))
		if err != nil || id != convID || gotWho != who {
			t.Fatalf("round trip with who %q = %q, %q, %v", who, id, gotWho, err)
		}
	}
	if got, _, err := decodeConversationButton("c1:" + strings.ToUpper(convID)); err != nil || got != convID {
		t.Fatalf("upper case = %q, %v; want the id lower-cased", got, err)
	}
}

func TestDecodeConversationButtonRejectsForgeries(t *testing.T) {
	t.Parallel()
	good := encodeConversationButton(convID, "")
	for name, value := range map[string]string{
		"who not a selector": good + ":bob",
		"who empty":          good + ":",
		"who padded":         good + ": customer",
		"who with newline":   good + ":customer\n",
		"who too long":       good + ":" + strings.Repeat("1", 300),
		"who control char":   good + ":+1317\x005550123",
		"empty":              "",
		"participant value":  encodeButtonValue(buttonValue{ConversationID: convID, ParticipantID: partID}),
		"other version":      "c2" + good[2:],
		"no version":         convID,
		"path":               "c1:../../../../api/v2/users/me/xxxxxxxxxxxx",
		"not hex":            "c1:" + strings.Repeat("z", 8) + convID[8:],
		"extra part":         good + ":customer:x",
		"trailing newline":   good + "\n",
		"semicolon":          "c1;" + convID,
		"huge":               strings.Repeat("c1:", 1000),
	} {
		if v, who, err := decodeConversationButton(value); err == nil {
			t.Errorf("%s: decodeConversationButton(%q) = %q, %q, want an error", name, value, v, who)
		}
	}
}

func FuzzDecodeConversationButton(f *testing.F) {
	f.Add(encodeConversationButton(convID, ""))
	f.Add(encodeConversationButton(convID, "customer"))
	f.Add("c1:")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		id, who, err := decodeConversationButton(value)
		if err != nil {
			return
		}
		if !isUUID(id) || !strings.EqualFold(encodeConversationButton(id, who), value) {
			t.Fatalf("decode(%q) = %q, %q", value, id, who)
		}
		if who != "" {
			if _, err := genesys.GuessSelector(who); err != nil {
				t.Fatalf("decode(%q) passed a who that is not a selector: %q", value, who)
			}
		}
	})
}

// findConversations are three calls for the golden conversation picker.
func findConversations() []*genesys.Conversation {
	a := goldenConversation()
	b := goldenConversation()
	b.ID, b.StartTime = "0b000000-0000-4000-8000-00000000000b", goldenNow.Add(-2*time.Minute)
	b.Participants = b.Participants[:3]
	c := &genesys.Conversation{ID: "0c000000-0000-4000-8000-00000000000c", Participants: []genesys.Participant{
		{ID: "0c000000-0000-4000-8000-000000000001", Purpose: "ivr", State: genesys.StateConnected},
	}}
	return []*genesys.Conversation{b, a, c}
}

func TestGoldenFindBlocks(t *testing.T) {
	t.Parallel()
	convs := findConversations()
	notes := findNotes(genesys.FindResult{Total: 130, Truncated: true, Conversations: make([]genesys.ConversationSummary, 100)},
		genesys.LiveResult{Unchecked: 77, Ended: 2, Failed: 1}, 3)
	checkGolden(t, "find_picker", conversationPickerMessage(convs, "agent *Jane Doe* (jane.doe@example.com)", "", notes, goldenNow))
	s := search{what: "phone number `+13175550123`", plain: "phone number +13175550123"}
	since := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	checkGolden(t, "find_none", noCallFoundMessage(s, genesys.FindResult{Since: since}, genesys.LiveResult{Ended: 2}))
}

func TestConversationPickerWithinLimits(t *testing.T) {
	t.Parallel()
	var convs []*genesys.Conversation
	for i := range 60 {
		c := goldenConversation()
		c.ID = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		for j := range 30 {
			c.Participants = append(c.Participants, genesys.Participant{
				ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j), Name: "<!channel> " + strings.Repeat("Ω", 300),
				Purpose: "external", QueueName: "<!here>", State: genesys.StateConnected,
			})
		}
		convs = append(convs, c)
	}
	msg := conversationPickerMessage(convs, "queue *x*", strings.Repeat("9", maxButtonWho), []string{strings.Repeat("n", 5000), "b"}, goldenNow)
	raw, _ := json.Marshal(msg.Blocks)
	errs, _ := slacktest.ValidateBlocks(raw)
	if len(errs) > 0 {
		t.Fatalf("invalid Block Kit: %v", errs)
	}
	if len(msg.Blocks) > maxBlocks {
		t.Fatalf("%d blocks", len(msg.Blocks))
	}
	if n := strings.Count(string(raw), `"conversation:`); n != maxConversationRows*2 { // action id and block id
		t.Errorf("%d conversation rows, want %d", n/2, maxConversationRows)
	}
	if strings.Contains(string(raw), "<!channel>") || strings.Contains(string(raw), "<!here>") {
		t.Error("Genesys text reached Slack unescaped")
	}
}

func TestFindNotes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		res   genesys.FindResult
		live  genesys.LiveResult
		shown int
		want  []string
	}{
		{genesys.FindResult{Total: 3, Conversations: make([]genesys.ConversationSummary, 3)}, genesys.LiveResult{}, 3, nil},
		{genesys.FindResult{Total: 30, Conversations: make([]genesys.ConversationSummary, 30)}, genesys.LiveResult{Unchecked: 10}, 20, []string{"Showing the 20 newest calls; 10 more"}},
		{genesys.FindResult{Total: 250, Truncated: true, Conversations: make([]genesys.ConversationSummary, 100)}, genesys.LiveResult{Unchecked: 80}, 20, []string{"230 more"}},
		{genesys.FindResult{Total: 4, Conversations: make([]genesys.ConversationSummary, 4)}, genesys.LiveResult{Failed: 1, Ended: 1}, 2, []string{"1 more calls could not be read", "1 calls that analytics still listed have ended"}},
	}
	for i, tc := range tests {
		got := findNotes(tc.res, tc.live, tc.shown)
		if len(got) != len(tc.want) {
			t.Errorf("%d: notes %q, want %d", i, got, len(tc.want))
			continue
		}
		for j, w := range tc.want {
			if !strings.Contains(got[j], w) {
				t.Errorf("%d: note %q lacks %q", i, got[j], w)
			}
		}
	}
}

func TestSlackUserDirectory(t *testing.T) {
	t.Parallel()
	sl := slacktest.New(slacktest.Options{})
	t.Cleanup(sl.Close)
	sl.AddUser(slacktest.User{ID: "U0ANN00001", Name: "ann", Email: " Ann@Example.com "})
	sl.AddUser(slacktest.User{ID: "U0NOMAIL01", Name: "guest"})
	sl.AddUser(slacktest.User{ID: "U0GONE0001", Name: "gone", Email: "gone@example.com", Deleted: true})
	sl.AddUser(slacktest.User{ID: "U0BOT00002", Name: "robot", Email: "robot@example.com", IsBot: true})
	d := slackUserDirectory{API: slack.New(sl.BotToken(), slack.OptionAPIURL(sl.APIURL()))}
	ctx := context.Background()
	if got, err := d.UserEmail(ctx, "U0ANN00001"); err != nil || got != "ann@example.com" {
		t.Errorf("ann: %q, %v", got, err)
	}
	for user, want := range map[string]error{
		"U0NOMAIL01": errNoSlackEmail,
		"U0GONE0001": errNoSlackEmail,
		"U0BOT00002": errNoSlackEmail,
		"U0NOBODY01": errSlackUserNotFound,
	} {
		if got, err := d.UserEmail(ctx, user); !errors.Is(err, want) {
			t.Errorf("%s: %q, %v; want %v", user, got, err, want)
		}
	}
	sl.FailNext("users.info", 1, "missing_scope")
	if _, err := d.UserEmail(ctx, "U0ANN00001"); !errors.Is(err, errSlackEmailScope) {
		t.Errorf("missing scope: %v", err)
	}
	sl.FailNext("users.info", 1, "fatal_error")
	if _, err := d.UserEmail(ctx, "U0ANN00001"); err == nil || errors.Is(err, errNoSlackEmail) {
		t.Errorf("other error: %v", err)
	}
	if _, err := (slackUserDirectory{}).UserEmail(ctx, "U0ANN00001"); err == nil {
		t.Error("no client: no error")
	}
}
