package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/spf13/cobra"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// probeID is an id no conversation has. Genesys checks permissions before it
// looks the conversation up, so 404 on it means "allowed, not found" and 403
// means the role lacks the permission. Nothing can be changed through it.
const probeID = "00000000-0000-4000-8000-000000000000"

func (a *app) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify the Slack tokens, the Genesys OAuth client and its role's permissions",
		Long: "Calls Slack auth.test and apps.connections.open, gets a Genesys token, and probes the Genesys\n" +
			"permissions the bot needs with requests on an id that cannot exist (nothing is changed).\n" +
			"Exits non-zero if anything is missing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadValidConfig((*Config).validateRun)
			if err != nil {
				return err
			}
			if p := configFileExposure(a.configPath); p != nil {
				fmt.Fprintf(a.stdout, "%-8s %s %s\n", "Config:", "WARN", p)
			}
			failed := runChecks(cmd.Context(), cfg, a.stdout)
			if failed > 0 {
				return fmt.Errorf("%d checks failed", failed)
			}
			fmt.Fprintln(a.stdout, "All checks passed.")
			return nil
		},
	}
}

// checkReport prints one line per check and counts the failures.
type checkReport struct {
	w      io.Writer
	failed int
}

func (r *checkReport) add(area string, ok bool, format string, args ...any) {
	status := "ok  "
	if !ok {
		status = "FAIL"
		r.failed++
	}
	fmt.Fprintf(r.w, "%-8s %s %s\n", area+":", status, fmt.Sprintf(format, args...))
}

// runChecks prints one line per check and returns how many failed.
func runChecks(ctx context.Context, cfg *Config, w io.Writer) int {
	r := &checkReport{w: w}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	httpClient := &http.Client{Timeout: 15 * time.Second}
	api := slack.New(cfg.Slack.BotToken, slack.OptionAppLevelToken(cfg.Slack.AppToken),
		slack.OptionAPIURL(cfg.Slack.APIURL), slack.OptionHTTPClient(httpClient))
	teamID := checkSlack(ctx, api, httpClient, cfg, r)
	if !checkGenesys(ctx, cfg, r) {
		return r.failed
	}
	acfg := cfg.authzConfig()
	acfg.TeamID = teamID
	policy, err := authz.New(acfg, bot.SlackGroups{API: api}, nil)
	switch {
	case err != nil:
		r.add("Authz", false, "%v", err)
	case policy.Empty():
		r.add("Authz", false, "the allow-list is empty: nobody can use /disconnect (set authz.allowed_users or authz.allowed_usergroups)")
	default:
		r.add("Authz", true, "%s", policy.Describe())
	}
	var approvalProblems problems
	cfg.validateApproval(&approvalProblems)
	if err := approvalProblems.err(); err != nil {
		r.add("Approval", false, "%v", err)
	} else if ap, err := authz.NewApproval(cfg.approvalConfig(), bot.SlackGroups{API: api}, nil, ""); err == nil {
		r.add("Approval", true, "%s", ap.Describe())
	}
	return r.failed
}

// checkSlack tries both Slack tokens and returns the bot token's team id.
func checkSlack(ctx context.Context, api *slack.Client, httpClient *http.Client, cfg *Config, r *checkReport) (teamID string) {
	if id, err := api.AuthTestContext(ctx); err != nil {
		r.add("Slack", false, "auth.test with slack.bot_token: %v", err)
	} else {
		teamID = id.TeamID
		r.add("Slack", true, "bot token works: team %s (%s), bot user %s (%s)", id.Team, id.TeamID, id.User, id.UserID)
		if err := bot.CheckInstall(ctx, httpClient, cfg.Slack.APIURL, cfg.Slack.BotToken, id); err != nil {
			r.add("Slack", false, "%v", err)
		}
	}
	if _, _, err := api.StartSocketModeContext(ctx); err != nil {
		r.add("Slack", false, "apps.connections.open with slack.app_token: %v (the app-level token needs connections:write and Socket Mode must be on)", err)
	} else {
		r.add("Slack", true, "app-level token opens Socket Mode connections")
	}
	return teamID
}

// checkGenesys gets a token and probes the role's permissions. It reports
// false when no token could be had (the later checks are then skipped).
func checkGenesys(ctx context.Context, cfg *Config, r *checkReport) bool {
	gc, err := genesys.New(ctx, cfg.genesysConfig())
	if err != nil {
		r.add("Genesys", false, "%v", err)
		return false
	}
	if err := gc.CheckToken(ctx); err != nil {
		r.add("Genesys", false, "token: %s", genesysMessage(err))
		return false
	}
	r.add("Genesys", true, "OAuth client gets a token (client credentials)")
	// probe checks one permission; optional ones only warn, since the bot
	// works without them (only finding calls or e-mail selectors need them).
	probe := func(permission, what string, optional bool, call func() error) {
		err := call()
		switch kind := genesys.ErrorKind(err); {
		case err == nil, kind == genesys.KindNotFound:
			r.add("Genesys", true, "role has %s (%s)", permission, what)
		case kind == genesys.KindForbidden && optional:
			fmt.Fprintf(r.w, "%-8s %s role lacks %s: optional, needed only to %s\n", "Genesys:", "warn", permission, what)
		case kind == genesys.KindForbidden:
			r.add("Genesys", false, "role lacks %s, needed to %s: add it to the OAuth client's role", permission, what)
		default:
			r.add("Genesys", false, "could not check %s: %s", permission, genesysMessage(err))
		}
	}
	probe("conversation:communication:view", "read a conversation's participants", false, func() error {
		_, err := gc.GetConversation(ctx, probeID)
		return err
	})
	probe("conversation:communication:disconnect", "disconnect a participant", false, func() error {
		_, err := gc.DisconnectParticipant(ctx, probeID, probeID)
		return err
	})
	probe("directory:user:view", "pick participants or find calls by e-mail", true, func() error {
		_, err := gc.FindUserByEmail(ctx, "disconnectbot-check@example.invalid")
		return err
	})
	probe("analytics:conversationDetail:view", "find calls by agent, phone or queue", true, func() error {
		_, err := gc.FindConversations(ctx, genesys.ConversationFilter{QueueID: probeID, MaxPages: 1})
		return err
	})
	probe("routing:queue:view", "find calls by queue name", true, func() error {
		_, _, err := gc.FindQueues(ctx, "disconnectbot-check")
		return err
	})
	return true
}
