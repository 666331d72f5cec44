package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/authz"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Config is everything New needs to wire the bot.
type Config struct {
	// BotToken (xoxb-…) and AppToken (xapp-…) are the Slack credentials;
	// APIURL is slack.api_url ("" means DefaultAPIURL).
	BotToken, AppToken, APIURL string
	// HTTPClient carries the Web API calls and response_url posts; nil
	// means NewHTTPClient(15 * time.Second).
	HTTPClient *http.Client
	// Dialer opens the WebSocket (proxies, tests); nil uses slack-go's.
	Dialer *websocket.Dialer
	// PingInterval is socketmode's allowed gap between server pings;
	// 0 means 30s.
	PingInterval time.Duration

	// Genesys is the Genesys client as the flow sees it. Finder, when set
	// (usually the same client), enables finding a call by agent, phone
	// number or queue; Slack mentions are then read with users.info.
	Genesys Genesys
	Finder  Finder

	// Authz is the allow-list. An empty TeamID is filled in with the
	// workspace of the bot token (auth.test).
	Authz authz.Config
	// Approval is the four-eyes policy (off when it requires nothing), and
	// ApprovalSecret the key that signs its requests' buttons, the same on
	// every replica; New refuses an enabled policy without a valid key.
	Approval       authz.ApprovalConfig
	ApprovalSecret string

	Log     *slog.Logger // nil logs nothing
	Metrics Metrics      // nil counts nothing
	// AuditChannel, when set, receives a copy of every outcome message.
	AuditChannel string
	// Grace bounds the whole shutdown after Run's context is cancelled:
	// in-flight work and the posts that report how it ended (0 means 20s;
	// see shutdown.go). WorkTimeout bounds one command or click (0 means
	// 30s).
	Grace, WorkTimeout time.Duration
	// Now is the clock the messages show; nil means time.Now. Tests fix it
	// so what the bot posts can be compared whole.
	Now func() time.Time
	// Sweep, when set, turns on /disconnect stuck (sweep.go).
	Sweep *SweepConfig
}

// App is the wired bot: the disconnect flow behind the Socket Mode
// transport.
type App struct {
	handler   *handler
	transport *socketTransport
	policy    *authz.Policy
	approval  *authz.ApprovalPolicy
}

// New checks the bot token with auth.test, builds the allow-list (an
// *authz.ConfigError when it is invalid) and wires the flow to Slack.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Genesys == nil {
		return nil, errors.New("bot: Config.Genesys is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = NewHTTPClient(15 * time.Second)
	}
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(httpClient),
	)
	authCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	identity, err := api.AuthTestContext(authCtx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("slack auth.test with slack.bot_token failed: %w (check the bot token and that the app is installed)", err)
	}
	cfg.Log.Info("slack identity", "team_id", identity.TeamID, "team", identity.Team, "bot_user_id", identity.UserID, "enterprise_id", identity.EnterpriseID)
	if err := CheckInstall(ctx, httpClient, cfg.APIURL, cfg.BotToken, identity); err != nil {
		return nil, err
	}

	acfg := cfg.Authz
	if acfg.TeamID == "" {
		acfg.TeamID = identity.TeamID
	}
	policy, err := authz.New(acfg, SlackGroups{API: api}, nil)
	if err != nil {
		return nil, err
	}
	approvalCfg := cfg.Approval
	if approvalCfg.GroupTTL == 0 {
		approvalCfg.GroupTTL = acfg.GroupTTL
	}
	approvals, setup, err := newApproval(approvalCfg, cfg.ApprovalSecret, SlackGroups{API: api}, acfg.Contact)
	if err != nil {
		return nil, err
	}
	h := &handler{
		Genesys:      cfg.Genesys,
		Authz:        policy,
		Slack:        newSlackAPI(api, cfg.APIURL, httpClient),
		Log:          cfg.Log,
		Metrics:      cfg.Metrics,
		AuditChannel: cfg.AuditChannel,
		Now:          cfg.Now,
		Approval:     setup,
	}
	if cfg.Finder != nil {
		h.Finder, h.SlackUsers = cfg.Finder, slackUserDirectory{API: api}
	}
	if cfg.Sweep != nil { // sweep.go
		if h.Sweeper, err = newSweeperFor(*cfg.Sweep, identity.TeamID, SlackGroups{API: api}, h); err != nil {
			return nil, err
		}
		h.Sweeps = h.Sweeper // approvalflow.go runs approved sweeps with it
	}
	t := newSocketTransport(api, h, transportConfig{
		log: cfg.Log.With("component", "slack"), metrics: cfg.Metrics,
		grace: cfg.Grace, workTimeout: cfg.WorkTimeout, pingInterval: cfg.PingInterval, dialer: cfg.Dialer,
	})
	return &App{handler: h, transport: t, policy: policy, approval: approvals}, nil
}

// Run connects and serves until ctx is cancelled, then lets in-flight work
// finish and report within the grace period and returns nil. It returns ErrFatalAuth
// (wrapped) if Slack refuses the app token.
func (a *App) Run(ctx context.Context) error {
	if s := a.handler.Sweeper; s != nil {
		defer s.run(ctx)() // sweep.go: sweeps stop with ctx and post their final summary
	}
	defer a.handler.stopApprovals()
	return a.transport.run(ctx)
}

// Approval is the four-eyes policy the bot enforces.
func (a *App) Approval() *authz.ApprovalPolicy { return a.approval }

// Connected reports whether the Socket Mode connection is up.
func (a *App) Connected() bool { return a.transport.connected.Load() }

// Policy is the allow-list the bot enforces.
func (a *App) Policy() *authz.Policy { return a.policy }

// SlackGroups is authz.GroupMembers over slack-go (usergroups.users.list;
// needs the usergroups:read scope).
type SlackGroups struct{ API *slack.Client }

// UserGroupMembers returns the user ids in a user group.
func (g SlackGroups) UserGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	return g.API.GetUserGroupMembersContext(ctx, groupID)
}
