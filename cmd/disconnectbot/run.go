package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/genesys"
)

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the Slack bot (Socket Mode)",
		Long: "Connect to Slack over Socket Mode and answer /disconnect. Serves /healthz, /readyz and /metrics on http.addr.\n" +
			"Stops on SIGTERM/SIGINT once in-flight disconnects finish and their outcomes are posted, all within shutdown.grace.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadValidConfig((*Config).validateRun)
			if err != nil {
				return err
			}
			log := newLogger(a.stderr, cfg)
			if p := configFileExposure(a.configPath); p != nil {
				log.Warn("config file with secrets is readable by other users", "path", p.Path, "mode", fmt.Sprintf("%04o", p.Mode.Perm()), "readable_by", p.Readers, "secret_keys", p.Keys, "fix", p.String())
			}
			return runBot(cmd.Context(), cfg, log, runOptions{})
		},
	}
}

func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	level, _ := parseLevel(cfg.Log.Level)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// runOptions are seams for tests and the demo.
type runOptions struct {
	// listener, when set, serves the HTTP endpoints instead of http.addr.
	listener net.Listener
	// ready is called once the bot is wired (before it connects).
	ready func(*botProcess)
	// pingInterval overrides socketmode's ping timeout (fakes ping faster).
	pingInterval time.Duration
	// genesysTuning adjusts the Genesys client config (timeouts in tests).
	genesysTuning func(*genesys.Config)
	// slackHTTPClient replaces the Slack Web API client (tests hold back
	// one replica's apps.connections.open).
	slackHTTPClient *http.Client
	// slackDialer replaces slack-go's WebSocket dialer (tests hold back
	// one replica's acks).
	slackDialer *websocket.Dialer
	// tokenCheckInterval is how often the Genesys token is checked in the
	// background (default 15s).
	tokenCheckInterval time.Duration
}

// botProcess is one running bot: what the HTTP endpoints and tests look at.
type botProcess struct {
	app     *bot.App
	genesys *genesys.Client
	addr    string
	// stopping is set once shutdown has begun.
	stopping atomic.Bool
}

// readiness reports whether the bot can serve commands now.
func (b *botProcess) readiness() (bool, string) {
	if b.stopping.Load() {
		return false, "shutting down"
	}
	if !b.app.Connected() {
		return false, "slack socket not connected"
	}
	if !b.genesys.TokenHealthy() {
		return false, "last genesys token fetch failed"
	}
	return true, "ok"
}

// runBot wires Slack, Genesys and the allow-list together and serves until
// ctx is cancelled.
func runBot(ctx context.Context, cfg *Config, log *slog.Logger, opts runOptions) error {
	log.Info("starting disconnectbot", "version", version, "commit", commit)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewPrometheus(reg, version, commit)
	gc, err := newGenesys(ctx, cfg, log, metrics, opts)
	if err != nil {
		return err
	}
	app, err := bot.New(ctx, bot.Config{
		BotToken: cfg.Slack.BotToken, AppToken: cfg.Slack.AppToken, APIURL: cfg.Slack.APIURL,
		HTTPClient: opts.slackHTTPClient, Dialer: opts.slackDialer, PingInterval: opts.pingInterval,
		Genesys: gc, Finder: cfg.finder(gc),
		Authz: cfg.authzConfig(), Log: log, Metrics: metrics,
		Approval: cfg.approvalConfig(), ApprovalSecret: cfg.Approval.Secret,
		AuditChannel: cfg.Audit.Channel, Grace: cfg.Shutdown.Grace,
		Sweep: cfg.sweepConfig(gc, reg), // sweepcmd.go
	})
	if _, bad := errors.AsType[*authz.ConfigError](err); bad {
		return &exitError{code: exitUsage, err: err}
	}
	if secretErr, bad := errors.AsType[*bot.ApprovalSecretError](err); bad {
		return &exitError{code: exitUsage, err: fmt.Errorf("approval.secret (or DISCONNECTBOT_APPROVAL_SECRET) is required because approval.required_for is set: %w", secretErr.Err)}
	}
	if err != nil {
		return err
	}
	if err := checkGenesysToken(ctx, gc, log); err != nil {
		return err
	}
	if policy := app.Policy(); policy.Empty() {
		log.Warn("the allow-list is empty: nobody can use /disconnect until authz.allowed_users or authz.allowed_usergroups is set")
	} else {
		log.Info("allow-list loaded", "policy", policy.Describe())
	}
	log.Info("approval policy", "policy", app.Approval().Describe())
	proc := &botProcess{app: app, genesys: gc}
	bot.RegisterReadiness(reg, func() bool { ok, _ := proc.readiness(); return ok })
	ln := opts.listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.HTTP.Addr)
		if err != nil {
			return fmt.Errorf("http.addr %s: %w", cfg.HTTP.Addr, err)
		}
	}
	proc.addr = ln.Addr().String()
	log.Info("serving /healthz, /readyz and /metrics", "addr", proc.addr)
	if opts.ready != nil {
		opts.ready(proc)
	}
	err = proc.serve(ctx, cfg, log, ln, reg, opts.tokenCheckInterval)
	log.Info("disconnectbot stopped", "err", errString(err))
	return err
}

// newGenesys builds the Genesys client (no request is made yet).
func newGenesys(ctx context.Context, cfg *Config, log *slog.Logger, metrics *bot.Prometheus, opts runOptions) (*genesys.Client, error) {
	gcfg := cfg.genesysConfig()
	gcfg.Logger = log.With("component", "genesys")
	gcfg.Observer = metrics.ObserveGenesys
	gcfg.UserAgent = "disconnectbot/" + version
	if opts.genesysTuning != nil {
		opts.genesysTuning(&gcfg)
	}
	// The process-root context feeds the token source: it is reused for
	// every refresh, so it must live as long as the process, which is
	// longer than ctx: a disconnect still running after SIGTERM may need a
	// fresh token.
	return genesys.New(context.WithoutCancel(ctx), gcfg)
}

// checkGenesysToken fetches the first token. A refused OAuth client ends
// the start; any other failure only keeps the bot unready until a fetch
// succeeds.
func checkGenesysToken(ctx context.Context, gc *genesys.Client, log *slog.Logger) error {
	tokenCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := gc.CheckToken(tokenCtx)
	cancel()
	if err == nil {
		return nil
	}
	if genesys.ErrorKind(err) == genesys.KindAuth {
		return fmt.Errorf("genesys refused the OAuth client: %s", genesysMessage(err))
	}
	log.Error("genesys token fetch failed; not ready until it succeeds", "err", err)
	return nil
}

// serve runs the bot, the HTTP endpoints and the token watch until ctx is
// cancelled or one of them fails.
func (b *botProcess) serve(ctx context.Context, cfg *Config, log *slog.Logger, ln net.Listener, reg *prometheus.Registry, tokenCheck time.Duration) error {
	srv := &http.Server{Handler: b.httpHandler(reg), ReadHeaderTimeout: 5 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// The HTTP endpoints outlive the socket: during the grace period
		// /readyz says "shutting down" and /metrics can still be scraped.
		// Their own shutdown is short (a scrape in progress), so that the
		// process exits right after the grace.
		defer func() {
			shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx)
		}()
		stop := context.AfterFunc(gctx, func() {
			b.stopping.Store(true)
			log.Info("shutting down: no new commands; waiting for in-flight disconnects", "grace", cfg.Shutdown.Grace.String())
		})
		defer stop()
		err := b.app.Run(gctx)
		if errors.Is(err, bot.ErrFatalAuth) {
			log.Error("slack refused the app-level token (slack.app_token); exiting instead of reconnecting forever", "err", err)
		}
		return err
	})
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server on %s: %w", b.addr, err)
		}
		return nil
	})
	g.Go(func() error {
		watchToken(gctx, b.genesys, log, tokenCheck)
		return nil
	})
	return g.Wait()
}

// watchToken keeps the Genesys token fresh in the background: CheckToken
// fetches only when the cached token is missing or about to expire, so
// readiness recovers after a failed fetch without waiting for a command,
// and an expiring token is replaced before a command needs it.
func watchToken(ctx context.Context, gc *genesys.Client, log *slog.Logger, every time.Duration) {
	if every <= 0 {
		every = 15 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	healthy := gc.TokenHealthy()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := gc.CheckToken(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch now := gc.TokenHealthy(); {
		case err != nil && healthy:
			log.Error("genesys token fetch failed; not ready until it succeeds", "err", err)
		case err == nil && now && !healthy:
			log.Info("genesys token fetch succeeded; ready again")
		}
		healthy = err == nil && gc.TokenHealthy()
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (b *botProcess) httpHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := b.readiness()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, why)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
