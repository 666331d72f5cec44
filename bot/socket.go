package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// SlashCommand is the slash command the bot answers.
const SlashCommand = "/disconnect"

// ErrFatalAuth is returned by App.Run when Slack refuses the app token for
// good (invalid_auth, token_revoked, …): reconnecting would loop forever.
var ErrFatalAuth = errors.New("slack refused the app-level token")

// errInvalidAuthEvent ends the event loop on socketmode's invalid_auth event.
var errInvalidAuthEvent = errors.New("invalid_auth event")

// socketTransport is the Socket Mode transport: it owns the connection,
// acks every envelope at once and hands the work to the handler, so acks
// never wait on Genesys.
type socketTransport struct {
	socket  *socketmode.Client
	handler *handler
	log     *slog.Logger
	metrics Metrics
	// Grace bounds the whole shutdown after run's context is cancelled:
	// in-flight work and the posts that report it (see shutdown.go).
	grace time.Duration
	// workTimeout bounds one command or click.
	workTimeout time.Duration

	connected   atomic.Bool
	connections atomic.Int64
	inflight    sync.WaitGroup
	pending     atomic.Int64 // commands and clicks being worked on

	// lostAt is when the connection last went down; only the event loop
	// touches it.
	lostAt time.Time
}

// transportConfig configures a socketTransport; zero values are defaults.
type transportConfig struct {
	log          *slog.Logger
	metrics      Metrics
	grace        time.Duration // default 20s
	workTimeout  time.Duration // default 30s
	pingInterval time.Duration // socketmode's allowed gap between server pings; default 30s
	dialer       *websocket.Dialer
}

// newSocketTransport serves h over api's Socket Mode connection. api must
// carry the app-level token.
func newSocketTransport(api *slack.Client, h *handler, cfg transportConfig) *socketTransport {
	opts := []socketmode.Option{socketmode.OptionLog(slogWriter{cfg.log})}
	if cfg.pingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cfg.pingInterval))
	}
	if cfg.dialer != nil {
		opts = append(opts, socketmode.OptionDialer(cfg.dialer))
	}
	r := &socketTransport{
		socket:      socketmode.New(api, opts...),
		handler:     h,
		log:         cfg.log,
		metrics:     cfg.metrics,
		grace:       cfg.grace,
		workTimeout: cfg.workTimeout,
	}
	if r.metrics == nil {
		r.metrics = nopMetrics{}
	}
	if r.grace <= 0 {
		r.grace = 20 * time.Second
	}
	if r.workTimeout <= 0 {
		r.workTimeout = 30 * time.Second
	}
	return r
}

// run connects and serves until ctx is cancelled, then stops taking new
// envelopes, lets in-flight work finish within the grace period, and returns
// nil. It returns ErrFatalAuth (wrapped) if Slack refuses the token.
func (r *socketTransport) run(ctx context.Context) error {
	socketCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	// In-flight work must outlive a SIGTERM: a disconnect half done is worse
	// than one finished a few seconds late.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	reports := newReportStop(ctx)
	defer reports.cancel()
	workCtx = withReportStop(workCtx, reports)

	// socketDone is closed (not sent on) when the socket loop ends, so both
	// the event loop and the drain below can see it: a value sent once and
	// read by the event loop would leave the drain waiting forever.
	var socketErr error
	socketDone := make(chan struct{})
	go func() {
		defer close(socketDone)
		socketErr = r.socket.RunContext(socketCtx)
	}()

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-socketDone:
			// slack-go's loop only ends on its own for invalid_auth,
			// token_revoked, account_inactive, not_authed or a 404.
			if socketErr != nil && ctx.Err() == nil {
				runErr = fmt.Errorf("%w: %w", ErrFatalAuth, socketErr)
			}
			break loop
		case evt := <-r.socket.Events:
			if ctx.Err() != nil {
				// Shutting down: leave the envelope unacked so Slack
				// redelivers it to a replica that is still running.
				break loop
			}
			if err := r.dispatch(workCtx, evt); err != nil {
				runErr = err
				break loop
			}
		}
	}
	shutdownStart := time.Now()
	r.setConnected(false)
	stopSocket()
	// Drain what the socket still delivers while it shuts down, so its
	// goroutines never block on a full Events channel.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case <-socketDone:
				return
			case <-r.socket.Events:
			}
		}
	}()
	<-drained
	if errors.Is(runErr, errInvalidAuthEvent) {
		// slack-go sends the event and then returns the error that caused
		// it (an HTTP 404 from apps.connections.open): report that.
		runErr = fmt.Errorf("%w: invalid_auth", ErrFatalAuth)
		if socketErr != nil {
			runErr = fmt.Errorf("%w: %w", ErrFatalAuth, socketErr)
		}
	}
	r.log.Info("slack socket closed; no new commands are taken", "in_flight", r.pending.Load())
	r.waitInflight(stopWork, reports, shutdownStart)
	return runErr
}

func (r *socketTransport) setConnected(up bool) {
	if r.connected.Swap(up) != up {
		r.metrics.SocketConnected(up)
	}
}

// lost records that an open connection went down (a disconnect request, a
// dropped socket or a ping timeout: slack-go does not say which).
func (r *socketTransport) lost(why string) {
	if r.connected.Load() {
		r.lostAt = time.Now()
		r.log.Info("slack socket lost; reconnecting", "why", why)
	}
	r.setConnected(false)
}

func (r *socketTransport) dispatch(workCtx context.Context, evt socketmode.Event) error {
	if req := evt.Request; req != nil && req.EnvelopeID != "" {
		r.log.Debug("slack envelope received", "type", req.Type, "envelope_id", req.EnvelopeID,
			"retry_attempt", req.RetryAttempt, "retry_reason", req.RetryReason)
	}
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		r.slashCommand(workCtx, evt)
	case socketmode.EventTypeInteractive:
		r.interactive(workCtx, evt)
	case socketmode.EventTypeEventsAPI:
		// The app subscribes to no events; ack so Slack does not redeliver.
		if evt.Request != nil {
			r.ack(evt.Request)
		}
	default:
		return r.connectionEvent(evt)
	}
	return nil
}

// connectionEvent follows the connection's state through socketmode's
// events about it.
func (r *socketTransport) connectionEvent(evt socketmode.Event) error {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		r.lost("connection ended")
		attempt := 0
		if ce, ok := evt.Data.(*slack.ConnectingEvent); ok {
			attempt = ce.Attempt
		}
		r.log.Info("slack socket connecting", "attempt", attempt)
	case socketmode.EventTypeConnected:
		r.setConnected(true)
		if n := r.connections.Add(1); n > 1 {
			r.metrics.Reconnect()
			down := time.Duration(0)
			if !r.lostAt.IsZero() {
				down = time.Since(r.lostAt)
			}
			r.log.Info("slack socket reconnected", "connections", n, "down_ms", down.Milliseconds())
		} else {
			r.log.Info("slack socket connected")
		}
	case socketmode.EventTypeConnectionError:
		r.lost("connection error")
		r.log.Warn("slack socket connection error", "err", fmt.Sprint(evt.Data))
	case socketmode.EventTypeInvalidAuth:
		r.lost("invalid auth")
		return errInvalidAuthEvent
	case socketmode.EventTypeErrorBadMessage, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		r.log.Warn("slack socket error", "type", string(evt.Type), "err", fmt.Sprint(evt.Data))
	}
	return nil
}

// slashCommand acks a slash command envelope and starts its work.
func (r *socketTransport) slashCommand(workCtx context.Context, evt socketmode.Event) {
	if evt.Request == nil {
		return
	}
	r.ack(evt.Request)
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		return
	}
	if cmd.Command != SlashCommand {
		// Slack only sends the app its own commands: an admin installed
		// it under another name (say /hangup). Serve it rather than
		// leave the user with no answer.
		r.log.Warn("slash command is not /disconnect; handling it as /disconnect", "command", truncate(cmd.Command, 40))
	}
	r.work(workCtx, func(ctx context.Context) {
		r.handler.HandleSlash(ctx, slashRequest{
			TeamID: cmd.TeamID, ChannelID: cmd.ChannelID, UserID: cmd.UserID,
			Text: cmd.Text, ResponseURL: cmd.ResponseURL, TriggerID: cmd.TriggerID,
		})
	})
}

// interactive acks an interactive envelope and starts the work of each
// button it carries.
func (r *socketTransport) interactive(workCtx context.Context, evt socketmode.Event) {
	if evt.Request == nil {
		return
	}
	r.ack(evt.Request)
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || cb.Type != slack.InteractionTypeBlockActions {
		return
	}
	for _, a := range cb.ActionCallback.BlockActions {
		click := clickRequest{
			TeamID: cb.Team.ID, ChannelID: cb.Channel.ID, UserID: cb.User.ID,
			ActionID: a.ActionID, Value: a.Value, ResponseURL: cb.ResponseURL,
			TriggerID: cb.TriggerID, ActionTS: a.ActionTs,
			Redelivered: evt.Request.RetryAttempt > 0,
		}
		if click.ChannelID == "" {
			click.ChannelID = cb.Container.ChannelID
		}
		if click.TeamID == "" {
			click.TeamID = cb.User.TeamID
		}
		click.MessageTS = cb.Container.MessageTs
		for _, b := range cb.Message.Blocks.BlockSet {
			click.MessageBlockIDs = append(click.MessageBlockIDs, b.ID())
		}
		r.work(workCtx, func(ctx context.Context) { r.handler.HandleClick(ctx, click) })
	}
}

// ack acknowledges an envelope. Slack's deadline is 3 s; the ack is queued
// before any work starts.
func (r *socketTransport) ack(req *socketmode.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.socket.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
		r.log.Error("ack failed", "envelope_id", req.EnvelopeID, "err", err)
	}
}

func (r *socketTransport) work(workCtx context.Context, f func(ctx context.Context)) {
	r.pending.Add(1)
	r.inflight.Go(func() {
		defer r.pending.Add(-1)
		ctx, cancel := context.WithTimeout(workCtx, r.workTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("handler panicked", "panic", fmt.Sprint(p))
			}
		}()
		f(ctx)
	})
}

// slogWriter adapts slog to socketmode's logger interface. socketmode logs
// connection chatter only; credentials are redacted by slack-go.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Output(_ int, s string) error {
	w.log.Debug(s, "component", "socketmode")
	return nil
}
