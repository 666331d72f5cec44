// Command disconnectbot is a Slack bot (and a command line) that lets
// contact-center supervisors disconnect one participant from a live Genesys
// Cloud call.
//
//	disconnectbot demo                      try it with fake Slack and Genesys
//	disconnectbot run --config config.yaml  the bot
//	disconnectbot participants <conv>       who is on a call
//	disconnectbot disconnect <conv> --purpose customer
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Stamped at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// Exit codes, documented in the README for scripts.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitUnconfirmed = 3
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// app is one invocation: its streams and environment, so tests can run the
// command line in-process.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	configPath     string
	verbose        bool
	// demoQuiet is how long the demo waits for more messages after the
	// bot's last one; 0 means 1.5 s.
	demoQuiet time.Duration
	// stdinIsTerminal reports whether prompts can be answered.
	stdinIsTerminal func() bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv, stdinIsTerminal: stdinIsTerminal}
	code := a.execute(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// stdinIsTerminal reports whether a person can answer a prompt. /dev/null
// is a character device too (cron, systemd, `ssh host cmd </dev/null`,
// Kubernetes Jobs): it must count as "not a terminal" so scripts get the
// "pass --yes" refusal rather than a prompt that reads EOF.
func stdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(a.stderr, "disconnectbot:", err)
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	return exitFailure
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "disconnectbot",
		Short:         "Disconnect one participant from a live Genesys Cloud call, from Slack or the command line",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (YAML; see config.yaml.example). Environment variables override it")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log requests to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.AddCommand(
		a.runCommand(),
		a.checkCommand(),
		a.demoCommand(),
		a.participantsCommand(),
		a.disconnectCommand(),
		a.findCommand(),
		a.sweepCommand(),
		a.versionCommand(),
	)
	return root
}

func versionString() string {
	s := version
	if commit != "" {
		s += " (" + commit
		if date != "" {
			s += ", " + date
		}
		s += ")"
	}
	return s
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, "disconnectbot", versionString())
			return nil
		},
	}
}

// cliLogger is the command line's logger: quiet unless --verbose.
func (a *app) cliLogger() *slog.Logger {
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
}

// loadValidConfig loads the configuration and checks it with validate (which
// keys a subcommand needs differs); every problem is reported at once.
func (a *app) loadValidConfig(validate func(*Config, *problems)) (*Config, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	var p problems
	validate(cfg, &p)
	if err := p.err(); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return cfg, nil
}

func (a *app) loadConfig() (*Config, error) {
	cfg, err := loadConfig(a.configPath, a.lookupEnv)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return cfg, nil
}
