package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// sweepMaxConcurrency bounds sweep.concurrency: more only queues requests
// behind the budget.
const sweepMaxConcurrency = 32

// validateSweep checks the sweep.* keys and the request budget.
func (c *Config) validateSweep(p *problems) {
	if age, err := genesys.ParseAge(c.Sweep.MaxAge); err != nil {
		p.addf("sweep.max_age %q is not an age; write it like 7d or 36h", c.Sweep.MaxAge)
	} else if age < time.Hour {
		p.addf("sweep.max_age %s is too short; stuck conversations are hours or days old", c.Sweep.MaxAge)
	}
	if n := c.Sweep.MaxConversations; n < 1 || n > genesys.MaxStuckLimit {
		p.addf("sweep.max_conversations must be 1 to %d (got %d)", genesys.MaxStuckLimit, n)
	}
	if n := c.Sweep.Concurrency; n < 1 || n > sweepMaxConcurrency {
		p.addf("sweep.concurrency must be 1 to %d (got %d)", sweepMaxConcurrency, n)
	}
	if c.Genesys.RequestsPerMinute < 1 {
		p.addf("genesys.requests_per_minute must be at least 1 (got %d); Genesys allows a client-credentials client 300", c.Genesys.RequestsPerMinute)
	}
	if c.Genesys.Replicas < 1 {
		p.addf("genesys.replicas must be at least 1 (got %d)", c.Genesys.Replicas)
	}
	a := c.authzConfig()
	a.AllowedUsers, a.AllowedUsergroups = c.Authz.SweepUsers, c.Authz.SweepUsergroups
	if _, err := authz.New(a, noGroups{}, nil); err != nil {
		cfgErr, ok := errors.AsType[*authz.ConfigError](err)
		if !ok {
			p.addf("%v", err)
			return
		}
		for _, prob := range cfgErr.Problems {
			// The channel problems are validateAuthz's to report.
			if strings.Contains(prob, "authz.allowed_channels") {
				continue
			}
			prob = strings.ReplaceAll(prob, "authz.allowed_usergroups", "authz.sweep_usergroups")
			p.addf("%s", strings.ReplaceAll(prob, "authz.allowed_users", "authz.sweep_users"))
		}
	}
}

// sweepMaxAge is sweep.max_age, already validated.
func (c *Config) sweepMaxAge() time.Duration {
	d, _ := genesys.ParseAge(c.Sweep.MaxAge)
	return d
}

// sweepFlags are the sweep subcommand's flags.
type sweepFlags struct {
	olderThan, queue, media    string
	dryRun, yes, asJSON, tdown bool
	limit                      int
	older                      time.Duration
}

func (a *app) sweepCommand() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep --older-than 4h [--queue NAME|ID] [--media M] [--dry-run] [--yes] [--json] [--limit N] [--teardown]",
		Short: "Find stuck conversations (no end, started long ago) and clear them in bulk",
		Long: "Find the conversations Genesys analytics lists as in progress that started more than --older-than ago\n" +
			"(within sweep.max_age), re-read each one, disconnect every leg still live (people and system legs such\n" +
			"as acd and ivr), and confirm it ended. It stays within genesys.requests_per_minute.\n\n" +
			"--teardown also tears down the conversations still open afterwards (POST /api/v2/conversations/{id}/disconnect).\n" +
			"Genesys documents that as a last resort that applies a system wrap-up code; it is never the default.\n\n" +
			"Needs the Genesys permissions analytics:conversationDetail:view, conversation:communication:view and\n" +
			"conversation:communication:disconnect (plus routing:queue:view for --queue NAME).\n" +
			"Exit codes: 0 everything cleared, 1 some failed, 2 bad input or config, 3 some still open (or not reached).",
		Args: exactArgs(0, "no arguments (use the flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(cmd); err != nil {
				return err
			}
			if !f.yes && !f.dryRun && !a.stdinIsTerminal() {
				return usageErrorf("refusing to sweep without confirmation: standard input is not a terminal; pass --yes to confirm in a script")
			}
			cfg, err := a.loadValidConfig(func(c *Config, p *problems) { c.validateGenesys(p); c.validateSweep(p) })
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("limit") {
				f.limit = cfg.Sweep.MaxConversations
			}
			gc := cfg.genesysConfig()
			gc.Logger = a.cliLogger()
			gc.UserAgent = "disconnectbot/" + version
			client, err := genesys.New(cmd.Context(), gc)
			if err != nil {
				return genesysError(err)
			}
			return a.runSweep(cmd.Context(), client, cfg, f)
		},
	}
	cmd.Flags().StringVar(&f.olderThan, "older-than", "", "only conversations that started more than this ago: 30m, 4h, 2d (required)")
	cmd.Flags().StringVar(&f.queue, "queue", "", "only conversations that went through this queue (name or id)")
	cmd.Flags().StringVar(&f.media, "media", "", "only this medium: "+strings.Join(genesys.StuckMedia, ", "))
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "list what would be done; disconnect nothing")
	cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print one JSON line per conversation, then a summary line")
	cmd.Flags().IntVar(&f.limit, "limit", 0, "sweep at most this many conversations (default sweep.max_conversations)")
	cmd.Flags().BoolVar(&f.tdown, "teardown", false, "tear down conversations still open after their legs were disconnected (last resort)")
	return cmd
}

func (f *sweepFlags) check(cmd *cobra.Command) error {
	if !cmd.Flags().Changed("older-than") {
		return usageErrorf("--older-than is required (for example --older-than 4h): how long ago a conversation must have started to count as stuck")
	}
	older, err := genesys.ParseAge(f.olderThan)
	if err != nil {
		return usageErrorf("--older-than: %s", genesys.UserMessage(err))
	}
	f.older = older
	f.media = strings.ToLower(strings.TrimSpace(f.media))
	if f.media != "" && !containsString(genesys.StuckMedia, f.media) {
		return usageErrorf("--media %q is not one of %s", f.media, strings.Join(genesys.StuckMedia, ", "))
	}
	f.queue = strings.TrimSpace(f.queue)
	if cmd.Flags().Changed("queue") && strings.Trim(f.queue, "* ") == "" {
		return usageErrorf("--queue needs a queue name or id")
	}
	if cmd.Flags().Changed("limit") && (f.limit < 1 || f.limit > genesys.MaxStuckLimit) {
		return usageErrorf("--limit must be 1 to %d", genesys.MaxStuckLimit)
	}
	if f.dryRun && f.tdown {
		return usageErrorf("--dry-run and --teardown do not go together")
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sweepLine is one line of `sweep --json`: a conversation, or (type
// "summary") the summary.
type sweepLine struct {
	Type string `json:"type"`
	genesys.ClearResult
}

type sweepSummaryLine struct {
	Type       string                       `json:"type"`
	Filters    string                       `json:"filters"`
	Found      int                          `json:"found"`
	More       bool                         `json:"more"`
	Processed  int                          `json:"processed"`
	Stopped    bool                         `json:"stopped"`
	DryRun     bool                         `json:"dryRun"`
	Counts     map[genesys.SweepOutcome]int `json:"counts"`
	Failures   []genesys.FailureGroup       `json:"failures"`
	DurationMS int64                        `json:"durationMs"`
	ExitCode   int                          `json:"exitCode"`
}

func (a *app) runSweep(ctx context.Context, client *genesys.Client, cfg *Config, f sweepFlags) error {
	filter := genesys.StuckFilter{OlderThan: f.older, MediaType: f.media, MaxAge: cfg.sweepMaxAge(), Limit: f.limit}
	what := "older than " + genesys.FormatAge(f.older)
	if f.queue != "" {
		q, err := client.ResolveQueue(ctx, f.queue)
		if genesys.ErrorKind(err) == genesys.KindNotFound {
			return &exitError{code: exitUsage, err: fmt.Errorf("%s", genesys.UserMessage(err))}
		}
		if err != nil {
			return genesysError(err)
		}
		filter.QueueID = q.ID
		what += ", queue " + dash(q.Name)
	}
	if f.media != "" {
		what += ", " + f.media
	}
	list, err := client.FindStuck(ctx, filter)
	if err != nil {
		return genesysError(err)
	}
	info := a.stdout
	if f.asJSON {
		info = a.stderr // stdout is for the JSON lines only
	}
	now := time.Now()
	printStuckOverview(info, list, what, now)
	if len(list.Candidates) == 0 {
		return a.finishSweep(f, what, list, genesys.SweepSummary{Counts: map[genesys.SweepOutcome]int{}}, nil)
	}
	if !f.yes && !f.dryRun {
		fmt.Fprintf(a.stdout, "Disconnect all %d? [y/N] ", len(list.Candidates))
		answer, _ := bufio.NewReader(a.stdin).ReadString('\n')
		if ans := strings.ToLower(strings.TrimSpace(answer)); ans != "y" && ans != "yes" {
			fmt.Fprintln(a.stdout, "Nothing was disconnected.")
			return &exitError{code: exitFailure, err: fmt.Errorf("cancelled at the prompt")}
		}
	}

	var bar *progressbar.ProgressBar
	if !f.asJSON && isTerminal(a.stderr) {
		bar = progressbar.NewOptions(len(list.Candidates), progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription("sweeping"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(200*time.Millisecond))
	}
	enc := json.NewEncoder(a.stdout)
	var results []genesys.ClearResult
	sum := client.Sweep(ctx, list.Candidates, genesys.SweepOptions{
		OlderThan: f.older, DryRun: f.dryRun, Teardown: f.tdown, Concurrency: cfg.Sweep.Concurrency,
		OnResult: func(r genesys.ClearResult) {
			results = append(results, r)
			if f.asJSON {
				_ = enc.Encode(sweepLine{Type: "conversation", ClearResult: r})
			}
			if bar != nil {
				_ = bar.Add(1)
			}
		},
	})
	if bar != nil {
		_ = bar.Finish()
	}
	return a.finishSweep(f, what, list, sum, results)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sweepExitCode is 1 when anything failed, else 3 when anything is still
// open or was not reached, else 0.
func sweepExitCode(list genesys.StuckList, sum genesys.SweepSummary) int {
	switch {
	case sum.Counts[genesys.SweepFailed] > 0:
		return exitFailure
	case sum.Counts[genesys.SweepStillOpen] > 0 || sum.Stopped || list.More:
		return exitUnconfirmed
	}
	return exitOK
}

func (a *app) finishSweep(f sweepFlags, what string, list genesys.StuckList, sum genesys.SweepSummary, results []genesys.ClearResult) error {
	code := sweepExitCode(list, sum)
	failures := genesys.GroupFailures(results)
	if f.asJSON {
		line := sweepSummaryLine{Type: "summary", Filters: what, Found: len(list.Candidates), More: list.More, Processed: sum.Processed,
			Stopped: sum.Stopped, DryRun: f.dryRun, Counts: sum.Counts, Failures: failures, DurationMS: sum.Duration.Milliseconds(), ExitCode: code}
		if line.Failures == nil {
			line.Failures = []genesys.FailureGroup{}
		}
		_ = json.NewEncoder(a.stdout).Encode(line)
	} else if len(list.Candidates) > 0 {
		printSweepResult(a.stdout, f.dryRun, sum, results, failures)
	}
	switch {
	case code == exitOK:
		return nil
	case sum.Stopped:
		return &exitError{code: code, err: fmt.Errorf("stopped after %d of %d; run it again to finish", sum.Processed, sum.Total)}
	case code == exitFailure:
		return &exitError{code: code, err: fmt.Errorf("%d conversations could not be cleared", sum.Counts[genesys.SweepFailed])}
	case sum.Counts[genesys.SweepStillOpen] > 0:
		return &exitError{code: code, err: fmt.Errorf("%d conversations are still open; check them in Genesys, or run again with --teardown", sum.Counts[genesys.SweepStillOpen])}
	default:
		return &exitError{code: code, err: fmt.Errorf("more stuck conversations exist than --limit %d; run it again to continue", len(list.Candidates))}
	}
}

func printStuckOverview(w io.Writer, list genesys.StuckList, what string, now time.Time) {
	if len(list.Candidates) == 0 {
		fmt.Fprintf(w, "No stuck conversations (%s, since %s).\n", what, list.Since.UTC().Format("2006-01-02"))
		return
	}
	o := list.Overview()
	fmt.Fprintf(w, "Found %d stuck conversations (%s, since %s).\n", len(list.Candidates), what, list.Since.UTC().Format("2006-01-02"))
	if list.More {
		fmt.Fprintf(w, "More exist: only the first %d are swept; run it again to continue.\n", len(list.Candidates))
	}
	fmt.Fprintf(w, "By queue: %s\nBy media: %s\n", countsText(o.ByQueue), countsText(o.ByMedia))
	fmt.Fprintf(w, "Oldest: %s, started %s ago.\n", o.Oldest.ID, genesys.FormatAge(now.Sub(o.Oldest.StartTime)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONVERSATION ID\tAGE\tQUEUE\tMEDIA\tON IT")
	for i, c := range list.Candidates {
		if i == 10 {
			fmt.Fprintf(tw, "… and %d more\t\t\t\t\n", len(list.Candidates)-10)
			break
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, genesys.FormatAge(now.Sub(c.StartTime)), dash(c.QueueLabel()), dash(c.MediaType), dash(strings.Join(c.People(), ", ")))
	}
	tw.Flush()
}

func countsText(cs []genesys.Count) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d", c.Key, c.N))
	}
	return strings.Join(parts, ", ")
}

func printSweepResult(w io.Writer, dryRun bool, sum genesys.SweepSummary, results []genesys.ClearResult, failures []genesys.FailureGroup) {
	if dryRun {
		fmt.Fprintln(w, "Dry run: nothing was disconnected.")
		for _, r := range results {
			if r.Outcome != genesys.SweepWouldClear {
				fmt.Fprintf(w, "  %s: %s %s\n", r.ConversationID, r.Outcome, r.Reason)
				continue
			}
			var legs []string
			for _, l := range r.Legs {
				legs = append(legs, dash(l.Name)+" ("+l.Purpose+")")
			}
			fmt.Fprintf(w, "  %s: would disconnect %s\n", r.ConversationID, strings.Join(legs, ", "))
		}
	}
	c := sum.Counts
	fmt.Fprintf(w, "%d of %d in %s: %d cleared, %d torn down, %d already ended, %d skipped, %d still open, %d failed",
		sum.Processed, sum.Total, sum.Duration.Round(time.Second), c[genesys.SweepCleared], c[genesys.SweepTornDown],
		c[genesys.SweepAlreadyEnded], c[genesys.SweepSkipped], c[genesys.SweepStillOpen], c[genesys.SweepFailed])
	if dryRun {
		fmt.Fprintf(w, ", %d would be cleared", c[genesys.SweepWouldClear])
	}
	fmt.Fprintln(w, ".")
	for _, g := range failures {
		fmt.Fprintf(w, "Failed (%s): %d, e.g. conversation %s (correlation id %s)\n", g.Reason, len(g.Conversations), g.Conversations[0], dash(g.CorrelationIDs[0]))
	}
	for _, r := range results {
		if r.Outcome == genesys.SweepStillOpen {
			fmt.Fprintf(w, "Still open: %s\n", r.ConversationID)
		}
	}
}

// sweepConfig is the Slack side of sweeps for bot.New: its own allow-list
// (authz.sweep_users / authz.sweep_usergroups, with the channel rule of
// /disconnect), the sweep.* keys and the sweep and budget metrics.
func (c *Config) sweepConfig(gc *genesys.Client, reg prometheus.Registerer) *bot.SweepConfig {
	a := c.authzConfig()
	a.AllowedUsers, a.AllowedUsergroups = c.Authz.SweepUsers, c.Authz.SweepUsergroups
	sc := &bot.SweepConfig{
		Genesys: gc, Authz: a,
		MaxAge: c.sweepMaxAge(), Limit: c.Sweep.MaxConversations, Concurrency: c.Sweep.Concurrency,
	}
	if reg != nil {
		sc.Metrics = bot.NewSweepPrometheus(reg, gc.Budget)
	}
	return sc
}
