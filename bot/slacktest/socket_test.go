package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func TestHelloAndSlashCommand(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.AddUser(User{ID: "U1", Name: "jdoe", RealName: "Jane Doe"})
	ctx := testCtx(t)
	b := startBot(t, s, ackAll)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}

	d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/disconnect", Text: "abc"})
	if err != nil {
		t.Fatalf("SendSlashCommand: %v", err)
	}
	if d.EnvelopeID == "" || d.AckLatency <= 0 || d.AckPayload != nil || d.RetryAttempt != 0 {
		t.Errorf("delivery = %+v", d)
	}
	if !strings.HasPrefix(d.ResponseURL, s.URL()+"/response/") {
		t.Errorf("response_url = %q", d.ResponseURL)
	}

	hellos := b.seenOf(socketmode.EventTypeHello)
	if len(hellos) != 1 {
		t.Fatalf("got %d hello events", len(hellos))
	}
	if r := hellos[0].Request; r.NumConnections != 1 || r.ConnectionInfo.AppID != DefaultAppID || r.DebugInfo.Host == "" {
		t.Errorf("hello = %+v", r)
	}

	cmds := b.seenOf(socketmode.EventTypeSlashCommand)
	if len(cmds) != 1 {
		t.Fatalf("got %d slash commands", len(cmds))
	}
	got := cmds[0].Data.(slack.SlashCommand)
	want := slack.SlashCommand{
		Token: verificationToken, TeamID: DefaultTeamID, TeamDomain: DefaultTeamDomain,
		ChannelID: "C1", ChannelName: "c1", UserID: "U1", UserName: "jdoe",
		Command: "/disconnect", Text: "abc", ResponseURL: d.ResponseURL, TriggerID: d.TriggerID, APIAppID: DefaultAppID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slash command (-want +got):\n%s", diff)
	}
	if r := cmds[0].Request; r.EnvelopeID != d.EnvelopeID || !r.AcceptsResponsePayload {
		t.Errorf("envelope = %+v", r)
	}

	acks := s.Acks()
	if len(acks) != 1 || acks[0].EnvelopeID != d.EnvelopeID || acks[0].Type != "slash_commands" || acks[0].Late || acks[0].Latency <= 0 {
		t.Errorf("acks = %+v", acks)
	}
	st := s.Stats()
	if st.Opens != 1 || st.Connects != 1 || st.Envelopes != 1 || st.Acks != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSlashAckPayloadIsShown(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	ctx := testCtx(t)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			_ = c.Ack(*evt.Request, map[string]any{
				"text":   "working on it",
				"blocks": []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*working*", false, false), nil, nil)},
			})
		}
	})
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/disconnect"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d.AckPayload), "working on it") {
		t.Errorf("ack payload = %s", d.AckPayload)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0]
	if m.Kind != KindAck || m.User != "U1" || m.Channel != "C1" || m.Text != "working on it" || m.ResponseURL != d.ResponseURL || m.TS == "" {
		t.Errorf("message = %+v", m)
	}
	if got := s.Render(m); got != "*working*" {
		t.Errorf("render = %q", got)
	}
}

func TestBlockActionReachesHandler(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	ctx := testCtx(t)
	api := newAPI(s)
	client := socketmode.New(api, socketmode.OptionPingInterval(2*time.Second), socketmode.OptionLog(log.New(io.Discard, "", 0)))
	h := socketmode.NewSocketmodeHandler(client)
	got := make(chan slack.InteractionCallback, 1)
	h.HandleInteractionBlockAction("disconnect", func(evt *socketmode.Event, c *socketmode.Client) {
		_ = c.Ack(*evt.Request)
		got <- evt.Data.(slack.InteractionCallback)
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.RunEventLoopContext(runCtx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}

	d, err := s.SendBlockAction(ctx, BlockAction{
		ChannelID: "C1", UserID: "U1", ActionID: "disconnect", BlockID: "participants",
		Value: "p1", Text: "Disconnect Jane", MessageTS: "1700000000.000100", IsEphemeral: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	select {
	case cb = <-got:
	case <-ctx.Done():
		t.Fatal("handler not called")
	}
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 || len(cb.ActionCallback.AttachmentActions) != 0 {
		t.Fatalf("callback = %+v", cb)
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "disconnect" || a.BlockID != "participants" || a.Value != "p1" || a.Text.Text != "Disconnect Jane" || a.ActionTs == "" {
		t.Errorf("action = %+v", a)
	}
	if !cb.Container.IsEphemeral || cb.Container.MessageTs != "1700000000.000100" || cb.Container.ChannelID != "C1" || cb.Container.Type != "message" {
		t.Errorf("container = %+v", cb.Container)
	}
	if cb.ResponseURL != d.ResponseURL || cb.User.ID != "U1" || cb.Team.ID != DefaultTeamID || cb.Channel.ID != "C1" || cb.APIAppID != DefaultAppID || cb.TriggerID == "" {
		t.Errorf("callback = %+v", cb)
	}
}

func TestAckDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		redeliver   bool
		ackAttempt  int // the bot acks only this retry_attempt
		wantErr     bool
		wantAttempt int
		wantFails   int
	}{
		{name: "no redelivery", redeliver: false, ackAttempt: 1, wantErr: true, wantAttempt: 0, wantFails: 1},
		{name: "redelivered", redeliver: true, ackAttempt: 1, wantAttempt: 1, wantFails: 1},
		{name: "gives up after MaxRetries", redeliver: true, ackAttempt: 5, wantErr: true, wantAttempt: 2, wantFails: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t, Options{AckDeadline: 150 * time.Millisecond, Redeliver: tt.redeliver, MaxRetries: 2})
			ctx := testCtx(t)
			b := startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
				if evt.Request != nil && evt.Request.EnvelopeID != "" && evt.Request.RetryAttempt == tt.ackAttempt {
					_ = c.Ack(*evt.Request)
				}
			})
			if err := s.WaitConnections(ctx, 1); err != nil {
				t.Fatal(err)
			}
			d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/disconnect"})
			if gotErr := errors.Is(err, ErrAckTimeout); gotErr != tt.wantErr || (err != nil && !gotErr) {
				t.Fatalf("err = %v, want timeout %v", err, tt.wantErr)
			}
			if d.RetryAttempt != tt.wantAttempt {
				t.Errorf("retry attempt = %d, want %d", d.RetryAttempt, tt.wantAttempt)
			}
			fails := s.AckFailures()
			if len(fails) != tt.wantFails {
				t.Fatalf("failures = %+v", fails)
			}
			for i, f := range fails {
				if f.RetryAttempt != i || f.Type != "slash_commands" || f.Deadline != 150*time.Millisecond {
					t.Errorf("failure %d = %+v", i, f)
				}
			}
			cmds := b.seenOf(socketmode.EventTypeSlashCommand)
			if len(cmds) != tt.wantAttempt+1 {
				t.Fatalf("bot saw %d deliveries", len(cmds))
			}
			first := cmds[0].Data.(slack.SlashCommand)
			for i, e := range cmds {
				r := e.Request
				wantReason := ""
				if i > 0 {
					wantReason = "timeout"
				}
				if r.RetryAttempt != i || r.RetryReason != wantReason {
					t.Errorf("delivery %d: retry_attempt %d reason %q", i, r.RetryAttempt, r.RetryReason)
				}
				if i > 0 && r.EnvelopeID == cmds[0].Request.EnvelopeID {
					t.Errorf("redelivery reused envelope_id %s", r.EnvelopeID)
				}
				if diff := cmp.Diff(first, e.Data.(slack.SlashCommand)); diff != "" {
					t.Errorf("redelivered payload differs:\n%s", diff)
				}
			}
		})
	}
}

func TestLateAckIsRecorded(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{AckDeadline: 100 * time.Millisecond})
	ctx := testCtx(t)
	var mu sync.Mutex
	var held []socketmode.Request
	b := startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			mu.Lock()
			held = append(held, *evt.Request)
			mu.Unlock()
		}
	})
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x"}); !errors.Is(err, ErrAckTimeout) {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	req := held[0]
	mu.Unlock()
	if err := b.client.Ack(req); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitStats(ctx, func(st Stats) bool { return st.LateAcks == 1 }); err != nil {
		t.Fatal(err)
	}
	if acks := s.Acks(); len(acks) != 1 || !acks[0].Late || acks[0].EnvelopeID != req.EnvelopeID {
		t.Errorf("acks = %+v", acks)
	}
}

func TestLostAckIsRedelivered(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{AckDeadline: 300 * time.Millisecond})
	ctx := testCtx(t)
	b := startBot(t, s, ackAll)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.LoseNextAcks(1)
	d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if d.RetryAttempt != 1 {
		t.Errorf("acked attempt = %d, want 1", d.RetryAttempt)
	}
	fails := s.AckFailures()
	if len(fails) != 1 || !fails[0].Redelivered {
		t.Errorf("failures = %+v", fails)
	}
	st := s.Stats()
	if st.Connects < 2 || st.Drops != 1 || st.Redeliveries != 1 {
		t.Errorf("stats = %+v", st)
	}
	// The bot may or may not have read the first frame before the drop.
	if n := len(b.seenOf(socketmode.EventTypeSlashCommand)); n < 1 || n > 2 {
		t.Errorf("bot saw %d deliveries", n)
	}
}

func TestDisconnectAndDropReconnect(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		action func(*Server)
	}{
		{"disconnect", func(s *Server) { s.Disconnect("") }},
		{"drop", func(s *Server) { s.DropConnections() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t, Options{})
			ctx := testCtx(t)
			startBot(t, s, ackAll)
			if err := s.WaitConnections(ctx, 1); err != nil {
				t.Fatal(err)
			}
			tt.action(s)
			if err := s.WaitStats(ctx, func(st Stats) bool { return st.Connects == 2 && st.Closed == 1 }); err != nil {
				t.Fatalf("no reconnect: %v (stats %+v)", err, s.Stats())
			}
			if err := s.WaitConnections(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Opens != 2 || st.Reconnects != 1 {
				t.Errorf("opens = %d, reconnects = %d, want 2, 1", st.Opens, st.Reconnects)
			}
			if _, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x"}); err != nil {
				t.Errorf("after reconnect: %v", err)
			}
		})
	}
}

func TestDisconnectFrameShape(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	ctx := testCtx(t)
	ws := dialRaw(t, s, "")
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.Disconnect("")
	var frame map[string]any
	if err := ws.ReadJSON(&frame); err != nil {
		t.Fatal(err)
	}
	if frame["type"] != "disconnect" || frame["reason"] != "refresh_requested" {
		t.Errorf("frame = %v", frame)
	}
	if di, _ := frame["debug_info"].(map[string]any); di["host"] == "" {
		t.Errorf("debug_info = %v", frame["debug_info"])
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("connections after disconnect = %d", n)
	}
}

// dialRaw opens a Socket Mode connection with gorilla directly.
func dialRaw(t *testing.T, s *Server, extraQuery string) *websocket.Conn {
	t.Helper()
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.AppToken()))
	_, u, err := api.StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(u+extraQuery, http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	return ws
}

func TestLinkDetails(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{MaxConnections: 1})
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.AppToken()),
		slack.OptionDebug(true), slack.OptionLog(log.New(io.Discard, "", 0)))
	_, u, err := api.StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "ws://127.0.0.1:") || !strings.Contains(u, "/link/?") || !strings.Contains(u, "app_id="+DefaultAppID) || !strings.Contains(u, "debug_reconnects=true") {
		t.Fatalf("url = %q", u)
	}
	hdr := http.Header{"Origin": {"https://api.slack.com"}}
	ws, resp, err := websocket.DefaultDialer.Dial(u, hdr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer ws.Close()
	var hello helloFrame
	if err := ws.ReadJSON(&hello); err != nil {
		t.Fatal(err)
	}
	if hello.Type != "hello" || hello.NumConnections != 1 || hello.DebugInfo.ApproximateConnectionTime != 360 || hello.ConnectionInfo.AppID != DefaultAppID {
		t.Errorf("hello = %+v", hello)
	}

	// A ticket is single use.
	if _, resp, err := websocket.DefaultDialer.Dial(u, hdr); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("reused ticket: err %v", err)
	}
	// Beyond MaxConnections the fake answers too_many_websockets.
	_, u2, err := api.StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ws2, resp, err := websocket.DefaultDialer.Dial(u2, hdr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	defer ws2.Close()
	var frame disconnectFrame
	if err := ws2.ReadJSON(&frame); err != nil {
		t.Fatal(err)
	}
	if frame.Type != "disconnect" || frame.Reason != "too_many_websockets" {
		t.Errorf("frame = %+v", frame)
	}
	// The fake pings and answers pings.
	pong := make(chan string, 1)
	ws.SetPongHandler(func(p string) error {
		select {
		case pong <- p:
		default:
		}
		return nil
	})
	pinged := make(chan struct{}, 1)
	ws.SetPingHandler(func(p string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(time.Second))
	})
	if err := ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	ctx := testCtx(t)
	select {
	case <-pinged:
	case <-ctx.Done():
		t.Fatal("no ping from the fake")
	}
	select {
	case p := <-pong:
		if p != "hi" {
			t.Errorf("pong payload %q", p)
		}
	case <-ctx.Done():
		t.Fatal("no pong from the fake")
	}
	ws.Close()
	<-readErr
}

func TestAppsConnectionsOpenAuth(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	for _, tt := range []struct {
		token string
		want  string
	}{
		{"", "not_authed"},
		{"xapp-1-wrong", "invalid_auth"},
		{s.BotToken(), "not_allowed_token_type"},
	} {
		api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(tt.token))
		_, _, err := api.StartSocketModeContext(context.Background())
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != tt.want {
			t.Errorf("token %q: err = %v, want %s", tt.token, err, tt.want)
		}
	}
	if st := s.Stats(); st.Opens != 0 || st.OpenFailures != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFatalAuthStopsClient(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.FailNext("apps.connections.open", 1, "token_revoked")
	ctx := testCtx(t)
	b := startBot(t, s, nil)
	select {
	case <-b.runEnd:
	case <-ctx.Done():
		t.Fatal("client did not stop")
	}
	b.mu.Lock()
	err := b.runErr
	b.mu.Unlock()
	if err == nil || err.Error() != "token_revoked" {
		t.Errorf("run err = %v", err)
	}
}

func TestTransientOpenFailureRetried(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	s.ServerErrorNext("apps.connections.open", 1, http.StatusServiceUnavailable)
	s.RateLimitNext("apps.connections.open", 1, 0)
	ctx := testCtx(t)
	startBot(t, s, ackAll)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.OpenFailures != 2 || st.Opens != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPingsKeepClientAlive(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{PingInterval: 20 * time.Millisecond})
	ctx := testCtx(t)
	api := newAPI(s)
	client := socketmode.New(api, socketmode.OptionPingInterval(200*time.Millisecond), socketmode.OptionLog(log.New(io.Discard, "", 0)))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.RunContext(runCtx)
	}()
	go func() {
		for {
			select {
			case <-client.Events:
			case <-runCtx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	if err := s.WaitStats(ctx, func(st Stats) bool { return st.PongsReceived >= 15 }); err != nil {
		t.Fatalf("%v: %+v", err, s.Stats())
	}
	if st := s.Stats(); st.Connects != 1 {
		t.Errorf("client reconnected although pinged: %+v", st)
	}
	s.SetPings(false)
	if err := s.WaitStats(ctx, func(st Stats) bool { return st.Connects >= 2 }); err != nil {
		t.Fatalf("client did not notice missing pings: %v", err)
	}
	s.SetPings(true)
}

func TestEnvelopesSpreadOverConnections(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{})
	ctx := testCtx(t)
	b1 := startBot(t, s, ackAll)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	b2 := startBot(t, s, ackAll)
	if err := s.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	perConn := map[int]int{}
	for range 6 {
		d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x"})
		if err != nil {
			t.Fatal(err)
		}
		perConn[d.ConnID]++
	}
	ids := s.ConnectionIDs()
	if len(ids) != 2 || perConn[ids[0]] != 3 || perConn[ids[1]] != 3 {
		t.Errorf("per connection = %v (ids %v)", perConn, ids)
	}
	if n1, n2 := len(b1.seenOf(socketmode.EventTypeSlashCommand)), len(b2.seenOf(socketmode.EventTypeSlashCommand)); n1 != 3 || n2 != 3 {
		t.Errorf("bots saw %d and %d commands", n1, n2)
	}
	if h := b2.seenOf(socketmode.EventTypeHello); len(h) != 1 || h[0].Request.NumConnections != 2 {
		t.Errorf("second hello = %+v", h)
	}

	// Targeting one connection.
	d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x", ConnID: ids[1]})
	if err != nil || d.ConnID != ids[1] {
		t.Errorf("targeted delivery = %+v, %v", d, err)
	}
	if _, err := s.SendSlashCommand(ctx, SlashCommand{Command: "/x", ConnID: 999}); err == nil {
		t.Error("delivery to unknown connection succeeded")
	}
}

func TestRandomDistribution(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{Distribution: Random})
	ctx := testCtx(t)
	startBot(t, s, ackAll)
	startBot(t, s, ackAll)
	if err := s.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i := 0; i < 64 && len(seen) < 2; i++ {
		d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x"})
		if err != nil {
			t.Fatal(err)
		}
		seen[d.ConnID] = true
	}
	if len(seen) != 2 {
		t.Errorf("random distribution used %d connections", len(seen))
	}
}

func TestCloseUnblocksWaiters(t *testing.T) {
	t.Parallel()
	s := New(Options{PingInterval: 50 * time.Millisecond})
	errc := make(chan error, 2)
	go func() { errc <- s.WaitConnections(context.Background(), 1) }()
	go func() {
		_, err := s.SendSlashCommand(context.Background(), SlashCommand{Command: "/x"})
		errc <- err
	}()
	s.Close()
	s.Close() // idempotent
	for range 2 {
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Errorf("err = %v, want ErrClosed", err)
		}
	}
}

func TestEnvelopeWireShape(t *testing.T) {
	t.Parallel()
	s := newFake(t, Options{AckDeadline: 100 * time.Millisecond})
	ctx := testCtx(t)
	ws := dialRaw(t, s, "")
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x", Text: "y"})
		errc <- err
	}()
	var env map[string]json.RawMessage
	if err := ws.ReadJSON(&env); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range env {
		keys = append(keys, k)
	}
	for _, k := range []string{"envelope_id", "type", "accepts_response_payload", "payload", "retry_attempt", "retry_reason"} {
		if _, ok := env[k]; !ok {
			t.Errorf("envelope lacks %q (has %v)", k, keys)
		}
	}
	var payload map[string]any
	if err := json.Unmarshal(env["payload"], &payload); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name", "command", "text", "api_app_id", "response_url", "trigger_id"} {
		if _, ok := payload[k]; !ok {
			t.Errorf("payload lacks %q", k)
		}
	}
	var id string
	_ = json.Unmarshal(env["envelope_id"], &id)
	if err := ws.WriteJSON(map[string]any{"envelope_id": id}); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
