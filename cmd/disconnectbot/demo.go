package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// The demo's Slack workspace: one supervisor on the allow-list, one who is not.
const (
	demoSupervisor = "U0SUPER001"
	demoGuest      = "U0GUEST001"
	demoChannel    = "C0SUPPORT1"
	// demoStuck is how many stuck conversations the demo org holds.
	demoStuck = 3
)

func (a *app) demoCommand() *cobra.Command {
	var disconnectDelay time.Duration
	var withApproval bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try the whole flow with a fake Slack and a fake Genesys org (no credentials needed)",
		Long: "Starts the Genesys emulator with a live three-party conference and a live WhatsApp conversation, the\n" +
			"fake Slack workspace, and the real bot wired to both, then lets you type /disconnect as a supervisor\n" +
			"would, click the buttons, confirm, and see the channel outcome. Reads commands from standard input, so\n" +
			"it can be scripted:\n\n" +
			"  printf '/disconnect $CONV\\nclick 2\\nyes\\n/disconnect $MSG\\nclick 1\\nyes\\n' | disconnectbot demo\n\n" +
			"With --approval, disconnecting a customer needs a second supervisor (four eyes): @gary is an approver,\n" +
			"so after @sam asks, `as gary` and Approve:\n\n" +
			"  printf '/disconnect $CONV customer\\nclick 1\\nyes\\nas gary\\nclick 1\\nyes\\n' | disconnectbot demo --approval",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDemo(cmd.Context(), disconnectDelay, withApproval)
		},
	}
	cmd.Flags().DurationVar(&disconnectDelay, "disconnect-delay", 300*time.Millisecond, "how long the fake Genesys takes to drop a leg after accepting a disconnect")
	cmd.Flags().BoolVar(&withApproval, "approval", false, "four eyes: disconnecting a customer needs a second supervisor's approval; @gary is on the allow-list and an approver")
	return cmd
}

// demo is one running demo session.
type demo struct {
	out     io.Writer
	slack   *slacktest.Server
	genesys *genesystest.Server
	conv    string
	msg     string // the live WhatsApp conversation ($MSG)
	user    string
	// last is the newest message with buttons the user can see.
	last    *slacktest.Message
	pending *slacktest.Button // a button waiting for yes/no
	quiet   time.Duration     // how long the bot must be silent before the prompt returns
	// approval: gary is an approver (--approval) rather than a guest.
	approval bool
}

func (a *app) runDemo(ctx context.Context, disconnectDelay time.Duration, withApproval bool) error {
	gen := genesystest.New(genesystest.WithDisconnectDelay(disconnectDelay))
	defer gen.Close()
	sl := slacktest.New(slacktest.Options{})
	defer sl.Close()
	sl.AddUser(slacktest.User{ID: demoSupervisor, Name: "sam", RealName: "Sam Supervisor", Email: "sam@example.com"})
	sl.AddUser(slacktest.User{ID: demoGuest, Name: "gary", RealName: "Gary Guest", Email: "gary@example.com"})
	sl.AddChannel(slacktest.Channel{ID: demoChannel, Name: "supervisors"})
	cfg, err := demoConfig(sl, gen, withApproval)
	if err != nil {
		return err
	}

	logOut := io.Discard
	if a.verbose {
		logOut = a.stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	botCtx, stopBot := context.WithCancel(ctx)
	botDone := make(chan error, 1)
	go func() {
		botDone <- runBot(botCtx, cfg, log, runOptions{listener: ln, genesysTuning: func(g *genesys.Config) {
			g.ConfirmTimeout = 3 * time.Second
		}})
	}()
	defer func() {
		stopBot()
		<-botDone
	}()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = sl.WaitConnections(waitCtx, 1)
	cancel()
	if err != nil {
		select {
		case berr := <-botDone:
			botDone <- berr
			return fmt.Errorf("the bot did not start: %v", berr)
		default:
		}
		return fmt.Errorf("the bot did not connect to the fake Slack: %w", err)
	}

	d := &demo{out: a.stdout, slack: sl, genesys: gen, user: demoSupervisor, quiet: a.demoQuiet, approval: withApproval}
	if d.quiet <= 0 {
		d.quiet = 1500 * time.Millisecond
	}
	d.newCall()
	d.newMessage()
	// Ghosts for /disconnect stuck: started hours ago, their legs never left.
	gen.AddStuck(demoStuck, genesystest.StuckSpec{Age: 6 * time.Hour, Legs: 3})
	fmt.Fprintf(a.stdout, `disconnectbot demo: a fake Slack workspace and a fake Genesys org, with the real bot between them.
Its /metrics, /healthz and /readyz are on http://%s.

You are @sam (Sam Supervisor, on the allow-list) in #supervisors.
`, ln.Addr())
	if withApproval {
		fmt.Fprintf(a.stdout, `Four eyes are on: disconnecting a customer needs a second supervisor's approval, within %s.
@gary (Gary Guest) is on the allow-list and an approver: after you ask, type "as gary" and click Approve.
`, cfg.Approval.TTL)
	}
	d.help()
	return d.repl(ctx, a.stdin)
}

// repl reads the user's lines and acts them out until quit or end of input.
func (d *demo) repl(ctx context.Context, stdin io.Reader) error {
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64*1024), 64*1024)
	seen := d.slack.MessageCount()
	for {
		// What the bot sent on its own since the last command (a sweep's
		// progress, an approval that expired) is shown before the prompt.
		seen = d.drain(ctx, seen, 50*time.Millisecond)
		fmt.Fprint(d.out, "\n> ")
		if !in.Scan() {
			fmt.Fprintln(d.out)
			// A script ends before a sweep does: wait for the bot to fall
			// silent (longer than a sweep's progress interval), so its
			// final summary is shown.
			d.drain(ctx, seen, 4*time.Second)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		if line == "quit" || line == "exit" {
			return nil
		}
		if err := d.do(ctx, line); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintln(d.out, "!", err)
		}
		seen = d.slack.MessageCount()
	}
}

// drain prints the messages after the first seen until the bot has been
// quiet for quiet (at most 60 s in all) and returns the new count.
func (d *demo) drain(ctx context.Context, seen int, quiet time.Duration) int {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		waitCtx, cancelWait := context.WithTimeout(ctx, quiet)
		msg, err := d.slack.WaitMessageAfter(waitCtx, seen, func(slacktest.Message) bool { return true })
		cancelWait()
		if err != nil {
			return seen
		}
		seen++
		d.print(msg)
	}
}

// demoConfig is the configuration that points the bot at the two fakes.
func demoConfig(sl *slacktest.Server, gen *genesystest.Server, withApproval bool) (*Config, error) {
	cfg, err := loadConfig("", func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, err
	}
	cfg.Slack.AppToken, cfg.Slack.BotToken, cfg.Slack.APIURL = sl.AppToken(), sl.BotToken(), sl.APIURL()
	cfg.Genesys.APIURL, cfg.Genesys.LoginURL = gen.URL, gen.URL
	cfg.Genesys.ClientID, cfg.Genesys.ClientSecret = genesystest.DefaultClientID, genesystest.DefaultClientSecret
	cfg.Authz.AllowedUsers = []string{demoSupervisor}
	cfg.Authz.SweepUsers = []string{demoSupervisor}
	cfg.Log.Format = "text"
	if withApproval {
		cfg.Authz.AllowedUsers = append(cfg.Authz.AllowedUsers, demoGuest)
		cfg.Approval.RequiredFor = []string{"customer"}
		cfg.Approval.Approvers = []string{demoGuest}
		// A new key per demo: it signs the buttons of this session only.
		cfg.Approval.Secret = "demo-" + approval.NewID() + approval.NewID() + approval.NewID()
	}
	return cfg, nil
}

func (d *demo) help() {
	fmt.Fprintf(d.out, `
A three-party call is live: conversation %s ($CONV),
and a WhatsApp conversation: conversation %s ($MSG). Type:
  /disconnect $CONV                     show who is on the call (as in Slack)
  /disconnect $CONV customer            go straight to one participant
  /disconnect $MSG                      the WhatsApp conversation: %s and agent %s
  /disconnect jane.doe@example.com      find the call from the agent (also: +1 317 555 0123, queue:Support)
  /disconnect %s media:message   find conversations by agent, messages only (also media:voice)
  /disconnect stuck                     sweep the %d conversations stuck for hours (also older:4h, queue:Support)
  click N                               click button [N] of the last message
  yes | no                              answer the confirm dialog
  as gary | as sam                      %s
  call                                  start another three-party call
  message                               start another WhatsApp conversation
  who                                   what the fake Genesys says about both conversations now
  help | quit
`, d.conv, d.msg, genesystest.WhatsAppCustomerName, demoMessagingAgent.Name, demoMessagingAgent.Email, demoStuck, d.asHelp())
}

func (d *demo) asHelp() string {
	if d.approval {
		return "switch between sam (asks) and gary (approves)"
	}
	return "switch to a user who is (sam) or is not (gary) allowed"
}

func (d *demo) newCall() {
	d.conv = d.genesys.ThreePartyConference().ID
}

// demoMessagingAgent answers the demo's WhatsApp conversations, so that a
// search for Jane Doe still finds her call only.
var demoMessagingAgent = genesystest.User{ID: "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", Name: "Omar Haddad", Email: "omar.haddad@example.com"}

func (d *demo) newMessage() {
	d.genesys.AddUser(demoMessagingAgent)
	d.msg = d.genesys.WhatsAppConversationFor(demoMessagingAgent).ID
}

func (d *demo) do(ctx context.Context, line string) error {
	switch fields := strings.Fields(line); {
	case strings.HasPrefix(line, "/disconnect"):
		text := strings.TrimSpace(strings.TrimPrefix(line, "/disconnect"))
		text = strings.ReplaceAll(text, "$CONV", d.conv)
		text = strings.ReplaceAll(text, "$MSG", d.msg)
		before := d.slack.MessageCount()
		if _, err := d.slack.SendSlashCommand(ctx, slacktest.SlashCommand{ChannelID: demoChannel, UserID: d.user, Command: "/disconnect", Text: text}); err != nil {
			return err
		}
		return d.show(ctx, before)
	case strings.HasPrefix(line, "/"):
		return fmt.Errorf("only /disconnect is installed in this workspace")
	case fields[0] == "click" && len(fields) == 2:
		return d.click(ctx, fields[1])
	case fields[0] == "yes" || fields[0] == "y":
		if d.pending == nil {
			return fmt.Errorf("no confirm dialog is open; click a button first")
		}
		b := *d.pending
		d.pending = nil
		return d.press(ctx, b)
	case fields[0] == "no" || fields[0] == "n":
		if d.pending == nil {
			return fmt.Errorf("no confirm dialog is open")
		}
		d.pending = nil
		fmt.Fprintln(d.out, "(dialog closed; nothing was sent to the bot)")
		return nil
	case fields[0] == "as" && len(fields) == 2:
		switch strings.TrimPrefix(fields[1], "@") {
		case "sam":
			d.user = demoSupervisor
		case "gary":
			d.user = demoGuest
		default:
			return fmt.Errorf("the workspace has @sam and @gary")
		}
		// What was only visible to the other user is gone; a message in
		// the channel (an approval request) stays clickable.
		if d.last != nil && d.last.User != "" {
			d.last = nil
		}
		d.pending = nil
		fmt.Fprintf(d.out, "You are now @%s.\n", strings.TrimPrefix(fields[1], "@"))
		return nil
	case fields[0] == "call":
		d.newCall()
		fmt.Fprintf(d.out, "New three-party call: conversation %s ($CONV now means this one).\n", d.conv)
		return nil
	case fields[0] == "message":
		d.newMessage()
		fmt.Fprintf(d.out, "New WhatsApp conversation: conversation %s ($MSG now means this one).\n", d.msg)
		return nil
	case fields[0] == "who":
		for _, c := range []struct{ what, id string }{{"call", d.conv}, {"WhatsApp", d.msg}} {
			conv, ok := d.genesys.Conversation(c.id)
			if !ok {
				return fmt.Errorf("the fake Genesys has no conversation %s", c.id)
			}
			fmt.Fprintf(d.out, "  %s %s:\n", c.what, c.id)
			for _, p := range conv.Participants {
				fmt.Fprintf(d.out, "  %-10s %-12s %-9s %-13s %s\n", p.Purpose, p.Name, strings.Join(p.Media(), "+"), p.State, p.ID)
			}
		}
		return nil
	case fields[0] == "help":
		d.help()
		return nil
	}
	return fmt.Errorf("unknown input %q; type help", line)
}

func (d *demo) click(ctx context.Context, arg string) error {
	if d.last == nil {
		return fmt.Errorf("there is no message with buttons; type /disconnect $CONV first")
	}
	cur, ok := d.slack.Current(*d.last)
	if !ok {
		return fmt.Errorf("that message is gone")
	}
	buttons := d.slack.Buttons(cur)
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > len(buttons) {
		return fmt.Errorf("the last message has buttons 1 to %d", len(buttons))
	}
	b := buttons[n-1]
	if b.Confirm != nil {
		d.pending = &b
		fmt.Fprintf(d.out, "┌─ %s\n│ %s\n└─ yes = [%s]   no = [%s]\n", b.Confirm.Title, d.slack.RenderBlocks(textBlock(b.Confirm.Text)), b.Confirm.Confirm, b.Confirm.Deny)
		return nil
	}
	return d.press(ctx, b)
}

// textBlock wraps mrkdwn in a one-section block list so the fake's renderer
// turns Slack markup into terminal text.
func textBlock(mrkdwn string) []byte {
	return fmt.Appendf(nil, `[{"type":"section","text":{"type":"mrkdwn","text":%q}}]`, mrkdwn)
}

func (d *demo) press(ctx context.Context, b slacktest.Button) error {
	before := d.slack.MessageCount()
	if _, err := d.slack.Click(ctx, d.user, *d.last, b.ActionID, b.Value); err != nil {
		return err
	}
	return d.show(ctx, before)
}

// show prints the messages the bot sends after an action, until it has been
// quiet for a moment.
func (d *demo) show(ctx context.Context, before int) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	seen := before
	for {
		wait := d.quiet
		if seen == before {
			wait = 10 * time.Second
		}
		waitCtx, cancelWait := context.WithTimeout(ctx, wait)
		msg, err := d.slack.WaitMessageAfter(waitCtx, seen, func(slacktest.Message) bool { return true })
		cancelWait()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && seen > before {
				return nil
			}
			if seen == before {
				return fmt.Errorf("the bot did not answer")
			}
			return nil
		}
		seen++
		d.print(msg)
	}
}

func (d *demo) print(msg slacktest.Message) {
	if msg.User != "" && msg.User != d.user {
		return
	}
	where := "#supervisors"
	switch {
	case msg.User == "" && msg.Kind == slacktest.KindUpdate:
		where = "#supervisors · the message above, updated"
	case msg.User != "" && msg.ReplaceOriginal:
		where = "only visible to you · replaces the previous message"
	case msg.User != "":
		where = "only visible to you"
	}
	fmt.Fprintf(d.out, "\n── %s ──\n%s\n", where, d.slack.Render(msg))
	if len(d.slack.Buttons(msg)) > 0 {
		m := msg
		d.last = &m
	}
}
