package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// genesysClient builds the client the Genesys subcommands share.
func (a *app) genesysClient(ctx context.Context) (*genesys.Client, error) {
	f, err := a.genesysFinder(ctx)
	return f.Client, err
}

// genesysFinder is genesysClient with phone numbers read as numbers of
// find.default_country.
func (a *app) genesysFinder(ctx context.Context) (finder, error) {
	cfg, err := a.loadValidConfig((*Config).validateGenesys)
	if err != nil {
		return finder{}, err
	}
	gc := cfg.genesysConfig()
	gc.Logger = a.cliLogger()
	gc.UserAgent = "disconnectbot/" + version
	client, err := genesys.New(ctx, gc)
	if err != nil {
		return finder{}, err
	}
	return cfg.finder(client), nil
}

func (a *app) participantsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "participants <conversation-id>",
		Short: "List the participants of a Genesys conversation",
		Long: "List the participants of a Genesys conversation, every medium: name, purpose, medium (voice call, callback,\n" +
			"chat, e-mail, WhatsApp/SMS/web message, video, …), state, ids and address; --json carries each participant's\n" +
			"communications (media sessions) with their states.\n" +
			"Needs the Genesys permission conversation:communication:view.",
		Args: exactArgs(1, "a conversation id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := genesys.ValidateID("conversation id", args[0]); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			client, err := a.genesysClient(cmd.Context())
			if err != nil {
				return err
			}
			conv, err := client.GetConversation(cmd.Context(), args[0])
			if err != nil {
				return genesysError(err)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(conv)
			}
			printConversation(a.stdout, conv, time.Now())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s (got %d arguments); see %s --help", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// genesysError keeps the safe message first and the detail (status, code,
// correlation id) after it, for an admin to quote in a support case.
func genesysError(err error) error {
	msg := genesysMessage(err)
	detail := err.Error()
	if corr := genesys.CorrelationID(err); corr != "" && !strings.Contains(detail, corr) {
		detail += " (correlation id " + corr + ")"
	}
	if genesys.ErrorKind(err) == genesys.KindInput {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s", msg)}
	}
	return fmt.Errorf("%s\n  detail: %s", msg, detail)
}

func printConversation(w io.Writer, conv *genesys.Conversation, now time.Time) {
	fmt.Fprintf(w, "Conversation %s", conv.ID)
	if len(conv.Media) > 0 {
		fmt.Fprintf(w, " (%s)", termText(conv.MediaLabel()))
	}
	if !conv.StartTime.IsZero() {
		fmt.Fprintf(w, ", started %s (%s ago)", conv.StartTime.UTC().Format(time.RFC3339), now.Sub(conv.StartTime).Round(time.Second))
	}
	if conv.Ended() {
		fmt.Fprint(w, ", ended")
	}
	fmt.Fprintln(w)
	printParticipants(w, conv.Participants)
}

func printParticipants(w io.Writer, ps []genesys.Participant) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPURPOSE\tMEDIA\tSTATE\tFLAGS\tPARTICIPANT ID\tUSER ID\tADDRESS")
	for _, p := range ps {
		var flags []string
		if p.Active() {
			flags = append(flags, "active")
		}
		if p.Held {
			flags = append(flags, "held")
		}
		if p.Muted {
			flags = append(flags, "muted")
		}
		addr := p.Address
		if addr == "" {
			addr = p.ANI
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(p.Name), dash(p.Purpose), dash(mediaColumn(p)), dash(string(p.State)),
			dash(strings.Join(flags, ",")), p.ID, dash(p.UserID), dash(addr))
	}
	tw.Flush()
}

// mediaColumn names the participant's medium (the session it is on now),
// and its other media after a "+": "voice call+co-browse".
func mediaColumn(p genesys.Participant) string {
	if p.Media == "" {
		return ""
	}
	out := []string{p.Label()}
	for _, c := range p.Communications {
		if c.Media != p.Media && !slices.Contains(out, c.Label()) {
			out = append(out, c.Label())
		}
	}
	return strings.Join(out, "+")
}

// dash prints text from Genesys in a table or a prompt: terminal-safe
// (termText), and "-" when empty.
func dash(s string) string {
	s = strings.TrimSpace(termText(s))
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) disconnectCommand() *cobra.Command {
	var (
		yes, dryRun bool
		flags       = map[genesys.SelectorKind]*string{}
	)
	selectorFlags := []struct {
		kind genesys.SelectorKind
		name string
		help string
	}{
		{"participant-id", "participant-id", "the participant id (see `participants`)"},
		{"user-id", "user-id", "the Genesys user id of an agent"},
		{"user-email", "user-email", "the e-mail of a Genesys user (needs directory:user:view)"},
		{"external-contact-id", "external-contact-id", "the external contact id"},
		{"phone", "phone", "a phone number on the call (any notation)"},
		{"purpose", "purpose", "customer, agent or external (must match exactly one active participant)"},
	}
	cmd := &cobra.Command{
		Use:   "disconnect <conversation-id> (--participant-id ID | --user-id ID | --user-email E | --external-contact-id ID | --phone N | --purpose P)",
		Short: "Disconnect exactly one participant from a Genesys conversation",
		Long: "Identify exactly one active participant, ask for confirmation (unless --yes), disconnect it and wait until\n" +
			"Genesys confirms it left. Zero or several matches is an error that shows who is on the call.\n\n" +
			"Exit codes: 0 disconnected (or already gone), 1 failed, 2 bad usage or no unique match, 3 accepted but not yet confirmed.\n" +
			"Needs the Genesys permissions conversation:communication:view and conversation:communication:disconnect.",
		Args: exactArgs(1, "a conversation id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			convID := args[0]
			if err := genesys.ValidateID("conversation id", convID); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			var sel *genesys.Selector
			for _, f := range selectorFlags {
				v := *flags[f.kind]
				if !cmd.Flags().Changed(f.name) {
					continue
				}
				if sel != nil {
					return usageErrorf("give exactly one of --participant-id, --user-id, --user-email, --external-contact-id, --phone, --purpose")
				}
				s, err := genesys.ParseSelector(f.kind, v)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--%s: %w", f.name, err)}
				}
				sel = &s
			}
			if sel == nil {
				return usageErrorf("say who to disconnect: one of --participant-id, --user-id, --user-email, --external-contact-id, --phone, --purpose (run `disconnectbot participants %s` to see who is there)", convID)
			}
			if !yes && !dryRun && !a.stdinIsTerminal() {
				return usageErrorf("refusing to disconnect without confirmation: standard input is not a terminal; pass --yes to confirm in a script")
			}
			return a.runDisconnect(cmd.Context(), convID, *sel, yes, dryRun)
		},
	}
	for _, f := range selectorFlags {
		flags[f.kind] = cmd.Flags().String(f.name, "", f.help)
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show who would be disconnected, change nothing")
	return cmd
}

func (a *app) runDisconnect(ctx context.Context, convID string, sel genesys.Selector, yes, dryRun bool) error {
	client, err := a.genesysClient(ctx)
	if err != nil {
		return err
	}
	conv, err := client.GetConversation(ctx, convID)
	if err != nil {
		return genesysError(err)
	}
	if conv.Ended() {
		return fmt.Errorf("conversation %s has ended; nobody to disconnect", conv.ID)
	}
	matches, err := client.Identify(ctx, conv, sel)
	if err != nil {
		return genesysError(err)
	}
	switch len(matches) {
	case 0:
		var b strings.Builder
		fmt.Fprintf(&b, "no active participant matches %s %q. On the call:\n", sel.Kind, sel.Value)
		printParticipants(&b, conv.Participants)
		return &exitError{code: exitUsage, err: fmt.Errorf("%s", strings.TrimRight(b.String(), "\n"))}
	case 1:
	default:
		var b strings.Builder
		fmt.Fprintf(&b, "%d active participants match %s %q; pick one with --participant-id:\n", len(matches), sel.Kind, sel.Value)
		printParticipants(&b, matches)
		return &exitError{code: exitUsage, err: fmt.Errorf("%s", strings.TrimRight(b.String(), "\n"))}
	}
	p := matches[0]
	desc := fmt.Sprintf("%s (%s, participant %s) from conversation %s", dash(p.Name), dash(p.Purpose), p.ID, conv.ID)
	if p.Media != "" && p.Media != genesys.MediaVoice {
		desc = fmt.Sprintf("%s (%s, %s, participant %s) from conversation %s", dash(p.Name), dash(p.Purpose), dash(p.Label()), p.ID, conv.ID)
	}
	if dryRun {
		fmt.Fprintf(a.stdout, "Would disconnect %s. Nothing was changed (--dry-run).\n", desc)
		return nil
	}
	if !yes {
		fmt.Fprintf(a.stdout, "Disconnect %s? [y/N] ", desc)
		answer, _ := bufio.NewReader(a.stdin).ReadString('\n')
		if ans := strings.ToLower(strings.TrimSpace(answer)); ans != "y" && ans != "yes" {
			fmt.Fprintln(a.stdout, "Not disconnected.")
			return &exitError{code: exitFailure, err: fmt.Errorf("cancelled at the prompt")}
		}
	}
	res, err := client.DisconnectParticipant(ctx, conv.ID, p.ID)
	if err != nil {
		return a.settleFailedDisconnect(ctx, client, conv.ID, p, desc, err)
	}
	if res.Outcome == genesys.DisconnectAlreadyGone {
		fmt.Fprintf(a.stdout, "%s had already left; nothing to do.\n", dash(p.Name))
		return nil
	}
	conf, err := client.ConfirmDisconnect(ctx, conv.ID, p.ID)
	if err != nil || !conf.Confirmed {
		detail := "Genesys accepted the request but the participant is still on the call; check the call"
		if p.Media != "" && p.Media != genesys.MediaVoice {
			detail = "Genesys accepted the request but the participant is still on the " + dash(p.Label()) + "; check the conversation"
		}
		if err != nil {
			detail += " (" + genesysMessage(err) + ")"
		}
		return &exitError{code: exitUnconfirmed, err: fmt.Errorf("%s", detail)}
	}
	fmt.Fprintf(a.stdout, "Disconnected %s. Genesys confirmed it (state %s).\n", desc, dash(string(conf.Participant.State)))
	return nil
}

// genesysMessage is genesys.UserMessage for an admin at a terminal or in
// the log: genesys speaks of "the OAuth client" and "the region", this
// command adds which configuration keys those are.
func genesysMessage(err error) string {
	msg := genesys.UserMessage(err)
	var keys string
	switch genesys.ErrorKind(err) {
	case genesys.KindAuth:
		keys = "genesys.client_id, genesys.client_secret, genesys.region"
	case genesys.KindNotAUser:
		keys = "genesys.endpoints"
	case genesys.KindUnavailable:
		if _, ok := errors.AsType[*genesys.APIError](err); !ok {
			keys = "genesys.region, genesys.api_url"
		}
	}
	if _, ok := errors.AsType[*genesys.DecodeError](err); ok {
		keys = "genesys.region, genesys.api_url, genesys.login_url"
	}
	if keys == "" {
		return msg
	}
	return msg + " (configuration: " + keys + ")"
}
