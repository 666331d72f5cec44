package slacktest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// newResponseURL creates a response_url as a slash command would.
func newResponseURL(s *Server, channel, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newResponseURLLocked(channel, user, nil).url
}

func TestResponseURL(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	api := newAPI(s)
	u := newResponseURL(s, "C1", "U1")

	// 1: ephemeral response (the default).
	if _, _, err := api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("looking", false)); err != nil {
		t.Fatalf("ephemeral: %v", err)
	}
	// 2: replace it.
	if _, _, err := api.PostMessage("", slack.MsgOptionReplaceOriginal(u), slack.MsgOptionBlocks(testBlocks...)); err != nil {
		t.Fatalf("replace: %v", err)
	}
	// 3: in_channel via PostWebhook.
	if err := slack.PostWebhook(u, &slack.WebhookMessage{Text: "done", ResponseType: slack.ResponseTypeInChannel}); err != nil {
		t.Fatalf("in_channel: %v", err)
	}
	// 4: delete the last one.
	if _, _, err := api.PostMessage("", slack.MsgOptionDeleteOriginal(u)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 4 {
		t.Fatalf("messages = %+v", msgs)
	}
	type row struct {
		Kind, User, Text, ResponseType string
		Replace, Delete                bool
	}
	var got []row
	for _, m := range msgs {
		got = append(got, row{m.Kind, m.User, m.Text, m.ResponseType, m.ReplaceOriginal, m.DeleteOriginal})
		if m.ResponseURL != u || m.Channel != "C1" {
			t.Errorf("message %+v", m)
		}
	}
	want := []row{
		{KindResponse, "U1", "looking", "ephemeral", false, false},
		{KindResponse, "U1", "", "", true, false},
		{KindResponse, "", "done", "in_channel", false, false},
		{KindResponse, "", "", "", false, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if msgs[1].TS != msgs[0].TS || msgs[3].TS != msgs[2].TS || msgs[2].TS == msgs[0].TS {
		t.Errorf("timestamps: %q %q %q %q", msgs[0].TS, msgs[1].TS, msgs[2].TS, msgs[3].TS)
	}
	if cur, ok := s.Current(msgs[0]); !ok || len(cur.Blocks) == 0 || !cur.Ephemeral() {
		t.Errorf("replaced message = %+v %v", cur, ok)
	}
	if _, ok := s.Current(msgs[2]); ok {
		t.Error("deleted message still visible")
	}
	if vis := s.Visible("C1", "U1"); len(vis) != 1 || vis[0].TS != msgs[0].TS {
		t.Errorf("visible = %+v", vis)
	}

	// 5 is the last allowed use.
	if err := slack.PostWebhook(u, &slack.WebhookMessage{Text: "five"}); err != nil {
		t.Fatalf("fifth use: %v", err)
	}
	var sc slack.StatusCodeError
	if err := slack.PostWebhook(u, &slack.WebhookMessage{Text: "six"}); !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Errorf("sixth use: %v", err)
	}
	if c := s.CallsTo(MethodResponseURL); len(c) != 6 || c[5].Error != "used_url" || c[5].URL != u {
		t.Errorf("calls = %+v", c)
	}

	// Content is validated like chat.postMessage.
	u2 := newResponseURL(s, "C1", "U1")
	long := slack.NewButtonBlockElement("a", "v", slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("x", 76), false, false))
	if _, _, err := api.PostMessage("", slack.MsgOptionResponseURL(u2, slack.ResponseTypeEphemeral), slack.MsgOptionBlocks(slack.NewActionBlock("b", long))); !errors.As(err, &sc) || sc.Code != http.StatusBadRequest {
		t.Errorf("invalid blocks: %v", err)
	}
	if err := slack.PostWebhook(u2, &slack.WebhookMessage{}); !errors.As(err, &sc) || sc.Code != http.StatusBadRequest {
		t.Errorf("no text: %v", err)
	}
	if c := s.CallsTo(MethodResponseURL); c[len(c)-1].Error != "no_text" || c[len(c)-2].Error != "invalid_blocks" {
		t.Errorf("calls = %+v", c[len(c)-2:])
	}
	if err := slack.PostWebhook(s.URL()+"/response/nope", &slack.WebhookMessage{Text: "x"}); !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Errorf("unknown url: %v", err)
	}
	s.ServerErrorNext(MethodResponseURL, 1, http.StatusInternalServerError)
	if err := slack.PostWebhook(u2, &slack.WebhookMessage{Text: "x"}); !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
		t.Errorf("fault: %v", err)
	}
}

func TestResponseURLExpires(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{ResponseURLTTL: time.Nanosecond})
	u := newResponseURL(s, "C1", "U1")
	var sc slack.StatusCodeError
	if err := slack.PostWebhook(u, &slack.WebhookMessage{Text: "late"}); !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Errorf("expired: %v", err)
	}
	if c := s.CallsTo(MethodResponseURL); len(c) != 1 || c[0].Error != "expired_url" {
		t.Errorf("calls = %+v", c)
	}
}

// participantsBlocks is what the bot shows: one button per participant, all
// with the same action_id.
func participantsBlocks() []slack.Block {
	btn := func(value, label string) slack.BlockElement {
		confirm := slack.NewConfirmationBlockObject(
			slack.NewTextBlockObject(slack.PlainTextType, "Disconnect?", false, false),
			slack.NewTextBlockObject(slack.MarkdownType, "Really disconnect *"+label+"*?", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "Yes", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "No", false, false)).WithStyle(slack.StyleDanger)
		return slack.NewButtonBlockElement("disconnect", value, slack.NewTextBlockObject(slack.PlainTextType, "Disconnect "+label, false, false)).
			WithStyle(slack.StyleDanger).WithConfirm(confirm)
	}
	return []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Participants", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Call *abc* for <@U1>, dial <tel:+4930123|+49 30 123>", false, false),
			[]*slack.TextBlockObject{
				slack.NewTextBlockObject(slack.MarkdownType, "*Queue*\nSupport", false, false),
				slack.NewTextBlockObject(slack.PlainTextType, "Agents: 1", false, false),
			}, nil),
		slack.NewDividerBlock(),
		// action_ids must be unique within a block, so each participant
		// gets its own block.
		slack.NewActionBlock("participant_p1", btn("p1", "Jane Doe (agent)")),
		slack.NewActionBlock("participant_p2", btn("p2", "+49 30 123 (customer)")),
		slack.NewActionBlock("", slack.NewButtonBlockElement("cancel", "", slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "requested by <@U1> in <#C1>", false, false)),
	}
}

func TestClickRoundTrip(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.AddUser(User{ID: "U1", Name: "jdoe", RealName: "Jane Doe"})
	s.AddUser(User{ID: "U2", Name: "other"})
	ctx := testCtx(t)

	var mu sync.Mutex
	var clicks []slack.InteractionCallback
	handlerErr := make(chan error, 10)
	b := startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Request == nil || evt.Request.EnvelopeID == "" {
			return
		}
		_ = c.Ack(*evt.Request)
		api := newAPI(s)
		switch data := evt.Data.(type) {
		case slack.SlashCommand:
			go func() {
				_, err := api.PostEphemeral(data.ChannelID, data.UserID, slack.MsgOptionText("pick one", false), slack.MsgOptionBlocks(participantsBlocks()...))
				handlerErr <- err
			}()
		case slack.InteractionCallback:
			mu.Lock()
			clicks = append(clicks, data)
			mu.Unlock()
			go func() {
				a := data.ActionCallback.BlockActions[0]
				_, _, err := api.PostMessage("", slack.MsgOptionReplaceOriginal(data.ResponseURL), slack.MsgOptionText("disconnected "+a.Value, false))
				handlerErr <- err
			}()
		}
	})
	_ = b
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/disconnect", Text: "abc"}); err != nil {
		t.Fatal(err)
	}
	if err := <-handlerErr; err != nil {
		t.Fatal(err)
	}
	msg, err := s.WaitMessage(ctx, func(m Message) bool { return m.Kind == KindEphemeral && m.User == "U1" })
	if err != nil {
		t.Fatal(err)
	}

	btns := s.Buttons(msg)
	if len(btns) != 3 {
		t.Fatalf("buttons = %+v", btns)
	}
	wantFirst := Button{ActionID: "disconnect", BlockID: "participant_p1", Value: "p1", Text: "Disconnect Jane Doe (agent)", Style: "danger",
		Confirm: &ConfirmDialog{Title: "Disconnect?", Text: "Really disconnect *Jane Doe (agent)*?", Confirm: "Yes", Deny: "No", Style: "danger"}}
	if diff := cmp.Diff(wantFirst, btns[0]); diff != "" {
		t.Errorf("first button (-want +got):\n%s", diff)
	}

	// Click errors.
	for _, tc := range []struct {
		name, user, action, value string
		msg                       Message
	}{
		{"other user", "U2", "disconnect", "p1", msg},
		{"no such button", "U1", "nope", "", msg},
		{"no such value", "U1", "disconnect", "p9", msg},
		{"ambiguous", "U1", "disconnect", "", msg},
		{"unknown message", "U1", "disconnect", "p1", Message{Channel: "C1", TS: "1.000001"}},
	} {
		if _, err := s.Click(ctx, tc.user, tc.msg, tc.action, tc.value); err == nil {
			t.Errorf("%s: click succeeded", tc.name)
		}
	}

	n := s.MessageCount()
	d, err := s.Click(ctx, "U1", msg, "disconnect", "p2")
	if err != nil {
		t.Fatal(err)
	}
	if err := <-handlerErr; err != nil {
		t.Fatalf("bot reply: %v", err)
	}
	reply, err := s.WaitMessageAfter(ctx, n, func(m Message) bool { return m.Kind == KindResponse })
	if err != nil {
		t.Fatal(err)
	}
	if reply.ResponseURL != d.ResponseURL || reply.TS != msg.TS || reply.User != "U1" || !reply.ReplaceOriginal {
		t.Errorf("reply = %+v", reply)
	}
	cur, ok := s.Current(msg)
	if !ok || cur.Text != "disconnected p2" || len(cur.Blocks) != 0 {
		t.Errorf("current = %+v", cur)
	}

	mu.Lock()
	cb := clicks[0]
	mu.Unlock()
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "disconnect" || a.BlockID != "participant_p2" || a.Value != "p2" || a.Text.Text != "Disconnect +49 30 123 (customer)" {
		t.Errorf("action = %+v", a)
	}
	if !cb.Container.IsEphemeral || cb.Container.MessageTs != msg.TS || cb.Channel.ID != "C1" || cb.User.Name != "jdoe" {
		t.Errorf("callback = %+v", cb)
	}
	// The buttons are gone now.
	if _, err := s.Click(ctx, "U1", msg, "disconnect", "p1"); err == nil {
		t.Error("clicked a replaced button")
	}
}

func TestClickPublicMessage(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	ctx := testCtx(t)
	got := make(chan slack.InteractionCallback, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		ackAll(c, evt)
		if cb, ok := evt.Data.(slack.InteractionCallback); ok {
			got <- cb
		}
	})
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// No block_id / action_id: Slack generates them.
	blocks := []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("", "v", slack.NewTextBlockObject(slack.PlainTextType, "Go", false, false)))}
	_, ts, err := newAPI(s).PostMessage("C1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.WaitMessage(ctx, func(m Message) bool { return m.TS == ts })
	if err != nil {
		t.Fatal(err)
	}
	btns := s.Buttons(msg)
	if len(btns) != 1 || btns[0].BlockID == "" || btns[0].ActionID == "" {
		t.Fatalf("buttons = %+v", btns)
	}
	if _, err := s.Click(ctx, "U7", msg, btns[0].ActionID, ""); err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	select {
	case cb = <-got:
	case <-ctx.Done():
		t.Fatal("no callback")
	}
	if cb.Container.IsEphemeral || cb.Message.Timestamp != ts || cb.Message.Text != "x" || len(cb.Message.Blocks.BlockSet) != 1 {
		t.Errorf("callback message = %+v container %+v", cb.Message, cb.Container)
	}
	if a := cb.ActionCallback.BlockActions; len(a) != 1 || a[0].BlockID != btns[0].BlockID || a[0].ActionID != btns[0].ActionID {
		t.Errorf("actions = %+v", a)
	}
}

func TestWaitMessageContext(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.WaitMessage(ctx, func(Message) bool { return true }); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.AddUser(User{ID: "U1", Name: "jdoe", RealName: "Jane Doe"})
	s.AddChannel(Channel{ID: "C1", Name: "ops"})
	_, ts, err := newAPI(s).PostMessage("C1", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(participantsBlocks()...))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := s.WaitMessage(testCtx(t), func(m Message) bool { return m.TS == ts })
	want := strings.Join([]string{
		"Participants",
		"============",
		"Call *abc* for @jdoe, dial +49 30 123",
		"  *Queue*",
		"  Support",
		"  Agents: 1",
		strings.Repeat("-", 40),
		"[1] Disconnect Jane Doe (agent)",
		"[2] Disconnect +49 30 123 (customer)",
		"[3] Cancel",
		"  requested by @jdoe in #ops",
	}, "\n")
	if got := s.Render(msg); got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
	if got := s.Render(Message{Text: "hi <@U9|bob> &amp; <https://x.example|link> <!here>"}); got != "hi @bob & link @here" {
		t.Errorf("text render = %q", got)
	}
}

func TestRenderEmoji(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	if got := s.Render(Message{Text: ":white_check_mark: done :x: :custom_thing:"}); got != "✅ done ❌ :custom_thing:" {
		t.Errorf("Render = %q", got)
	}
}
