package slacktest

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newFake starts a fake with test-friendly timings.
func newFake(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.PingInterval == 0 {
		opts.PingInterval = 50 * time.Millisecond
	}
	if opts.AckDeadline == 0 {
		opts.AckDeadline = 2 * time.Second
	}
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newAPI(s *Server) *slack.Client {
	return slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.AppToken()))
}

// bot is a real socketmode client connected to the fake.
type bot struct {
	api    *slack.Client
	client *socketmode.Client

	mu     sync.Mutex
	events []socketmode.Event
	runErr error
	runEnd chan struct{}
}

func (b *bot) seen() []socketmode.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]socketmode.Event(nil), b.events...)
}

// seenOf returns the received events of one type.
func (b *bot) seenOf(typ socketmode.EventType) []socketmode.Event {
	var out []socketmode.Event
	for _, e := range b.seen() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// ackAll acks every envelope without payload.
func ackAll(c *socketmode.Client, evt socketmode.Event) {
	if evt.Request != nil && evt.Request.EnvelopeID != "" {
		_ = c.Ack(*evt.Request)
	}
}

// startBot runs a socketmode client against s; handle runs for every event
// (in the event loop, so it must not block for long).
func startBot(t testing.TB, s *Server, handle func(*socketmode.Client, socketmode.Event)) *bot {
	t.Helper()
	api := newAPI(s)
	client := socketmode.New(api,
		socketmode.OptionPingInterval(2*time.Second),
		socketmode.OptionLog(log.New(io.Discard, "", 0)))
	b := &bot{api: api, client: client, runEnd: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	loopEnd := make(chan struct{})
	go func() {
		defer close(b.runEnd)
		err := client.RunContext(ctx)
		b.mu.Lock()
		b.runErr = err
		b.mu.Unlock()
	}()
	go func() {
		defer close(loopEnd)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				b.mu.Lock()
				b.events = append(b.events, evt)
				b.mu.Unlock()
				if handle != nil {
					handle(client, evt)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-b.runEnd
		<-loopEnd
	})
	return b
}

// postRaw calls a Web API method with form values and decodes the answer.
func postRaw(t *testing.T, s *Server, method string, v url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.APIURL()+method, v)
	if err != nil {
		t.Fatalf("POST %s: %v", method, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("POST %s: decode %q: %v", method, body, err)
	}
	return resp.StatusCode, out
}
