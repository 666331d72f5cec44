package main

import (
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

// findDefaultLimit is how many calls find re-reads and shows by default:
// the same as the Slack conversation picker.
const (
	findDefaultLimit = 20
	findMaxLimit     = 100
)

// findOutput is what `find --json` prints.
type findOutput struct {
	Search string `json:"search"`
	// Since is the start of the searched interval.
	Since time.Time `json:"since"`
	// AnalyticsTotal is how many in-progress calls analytics reported.
	AnalyticsTotal int `json:"analyticsTotal"`
	// Truncated is set when analytics had more than were read.
	Truncated bool `json:"truncated"`
	// Ended counts calls analytics listed that had ended when re-read.
	Ended int `json:"ended"`
	// NotShown counts calls that were not re-read because of --limit.
	NotShown int `json:"notShown"`
	// Failed counts calls that could not be re-read.
	Failed        int                     `json:"failed"`
	Conversations []*genesys.Conversation `json:"conversations"`
}

func (a *app) findCommand() *cobra.Command {
	var (
		agent, phone, queue string
		media               string
		asJSON              bool
		limit               int
	)
	cmd := &cobra.Command{
		Use:   "find (--agent E-MAIL|USER-ID | --phone NUMBER | --queue NAME|ID) [--media voice|callback|chat|email|message]",
		Short: "Find conversations in progress by agent, phone number or queue",
		Long: "Find the Genesys conversations in progress, every medium (voice calls, callbacks, chats, e-mails, messages),\n" +
			"for an agent (e-mail address or Genesys user id), a phone number (the ANI or DNIS of a leg, or the address of\n" +
			"an SMS or WhatsApp message; any notation, numbers without a country code are read with find.default_country)\n" +
			"or a queue (name or id), newest first: conversation id, start, media, queue, participants. --media narrows\n" +
			"the search to one medium.\n\n" +
			"It searches Genesys analytics (calls that started yesterday or today and have not ended), then re-reads each\n" +
			"call and leaves out those that have ended since: analytics lags behind the calls.\n\n" +
			"Needs the Genesys permissions analytics:conversationDetail:view and conversation:communication:view, plus\n" +
			"directory:user:view for --agent E-MAIL and routing:queue:view for --queue NAME.\n" +
			"Exit codes: 0 searched (found or not), 1 failed, 2 bad usage or an ambiguous queue name.",
		Args: exactArgs(0, "no arguments (use --agent, --phone or --queue)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			set := 0
			for _, name := range []string{"agent", "phone", "queue"} {
				if cmd.Flags().Changed(name) {
					set++
				}
			}
			if set != 1 {
				return usageErrorf("give exactly one of --agent, --phone, --queue")
			}
			if limit < 1 || limit > findMaxLimit {
				return usageErrorf("--limit must be 1 to %d", findMaxLimit)
			}
			agent, phone, queue = strings.TrimSpace(agent), strings.TrimSpace(phone), strings.TrimSpace(queue)
			switch {
			case cmd.Flags().Changed("agent") && !strings.Contains(agent, "@") && genesys.ValidateID("user id", agent) != nil:
				return usageErrorf("--agent %q is neither an e-mail address nor a Genesys user id (a UUID)", agent)
			case cmd.Flags().Changed("queue") && strings.Trim(queue, "* ") == "":
				return usageErrorf("--queue needs a queue name or id")
			case cmd.Flags().Changed("phone") && phone == "":
				return usageErrorf("--phone needs a phone number")
			}
			var m genesys.Media
			if cmd.Flags().Changed("media") {
				var err error
				if m, err = genesys.ParseMedia(media); err != nil || !slices.Contains(genesys.FindMedia, m) {
					return usageErrorf("--media %q is not one of voice, callback, chat, email, message", media)
				}
			}
			client, err := a.genesysFinder(cmd.Context())
			if err != nil {
				return err
			}
			f, what, err := resolveFind(cmd.Context(), client, agent, phone, queue)
			if err != nil {
				return err
			}
			if m != "" {
				f.Media = m
				what += " (" + m.Label() + "s only)"
			}
			return a.runFind(cmd.Context(), client.Client, f, what, limit, asJSON)
		},
	}
	cmd.Flags().StringVar(&agent, "agent", "", "the agent: Genesys e-mail address or user id")
	cmd.Flags().StringVar(&phone, "phone", "", "a phone number on the call (ANI or DNIS), any notation")
	cmd.Flags().StringVar(&queue, "queue", "", "the queue: name (exact, or the start of one name) or id")
	cmd.Flags().StringVar(&media, "media", "", "only this medium: voice, callback, chat, email or message (default: every medium)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	cmd.Flags().IntVar(&limit, "limit", findDefaultLimit, fmt.Sprintf("re-read and show at most this many calls (1 to %d)", findMaxLimit))
	return cmd
}

// finder is what the find flows search with: the Genesys client, and phone
// numbers read as numbers of find.default_country.
type finder struct {
	*genesys.Client
	genesys.PhoneReader
}

// finder pairs client with the configured phone reading.
func (c *Config) finder(client *genesys.Client) finder {
	return finder{Client: client, PhoneReader: genesys.PhoneReader{Country: c.Find.DefaultCountry}}
}

// resolveFind turns the flag into a filter and a description.
func resolveFind(ctx context.Context, client finder, agent, phone, queue string) (genesys.ConversationFilter, string, error) {
	switch {
	case agent != "":
		var u *genesys.User
		var err error
		if strings.Contains(agent, "@") {
			u, err = client.FindUserByEmail(ctx, agent)
		} else {
			u, err = client.GetUser(ctx, agent)
		}
		if err != nil {
			if genesys.ErrorKind(err) == genesys.KindNotFound {
				return genesys.ConversationFilter{}, "", fmt.Errorf("no Genesys user is %s", agent)
			}
			return genesys.ConversationFilter{}, "", genesysError(err)
		}
		what := "agent " + dash(u.Name)
		if u.Email != "" {
			what += " (" + dash(u.Email) + ")"
		}
		return genesys.ConversationFilter{UserID: u.ID}, what, nil
	case phone != "":
		e164, err := client.NormalizePhone(phone)
		if err != nil {
			return genesys.ConversationFilter{}, "", &exitError{code: exitUsage, err: fmt.Errorf("--phone: %s", genesys.UserMessage(err))}
		}
		return genesys.ConversationFilter{Phone: e164}, "phone number " + e164, nil
	default:
		q, err := client.ResolveQueue(ctx, queue)
		var amb *genesys.AmbiguousQueueError
		switch {
		case errors.As(err, &amb):
			var b strings.Builder
			fmt.Fprintf(&b, "%d queues match %q; give the exact name or the id:\n", len(amb.Queues), amb.Name)
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "QUEUE\tID")
			for _, c := range amb.Queues {
				fmt.Fprintf(tw, "%s\t%s\n", dash(c.Name), c.ID)
			}
			tw.Flush()
			if amb.More {
				b.WriteString("(Genesys has more matches than these)\n")
			}
			return genesys.ConversationFilter{}, "", &exitError{code: exitUsage, err: errors.New(strings.TrimRight(b.String(), "\n"))}
		case errors.Is(err, genesys.ErrQueueNotFound):
			return genesys.ConversationFilter{}, "", fmt.Errorf("no Genesys queue is named %q (or starts with it)", queue)
		case err != nil:
			return genesys.ConversationFilter{}, "", genesysError(err)
		}
		if q.Name == "" {
			return genesys.ConversationFilter{QueueID: q.ID}, "queue " + q.ID, nil
		}
		return genesys.ConversationFilter{QueueID: q.ID}, "queue " + dash(q.Name), nil
	}
}

func (a *app) runFind(ctx context.Context, client *genesys.Client, f genesys.ConversationFilter, what string, limit int, asJSON bool) error {
	res, err := client.FindConversations(ctx, f)
	if err != nil {
		return genesysError(err)
	}
	live, err := client.LiveConversations(ctx, f, res.Conversations, limit)
	if err != nil {
		return genesysError(err)
	}
	out := findOutput{
		Search: what, Since: res.Since, AnalyticsTotal: res.Total, Truncated: res.Truncated,
		Ended: live.Ended, NotShown: live.Unchecked + max(0, res.Total-len(res.Conversations)), Failed: live.Failed,
		Conversations: live.Conversations,
	}
	if out.Conversations == nil {
		out.Conversations = []*genesys.Conversation{}
	}
	slices.SortStableFunc(out.Conversations, func(a, b *genesys.Conversation) int { return b.StartTime.Compare(a.StartTime) })
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out.Conversations) == 0 {
		fmt.Fprintf(a.stdout, "No call in progress found for %s (searched analytics for %s that started since %s and have not ended",
			what, searchedMedia(f.Media), res.Since.UTC().Format(time.RFC3339))
		if live.Ended > 0 {
			fmt.Fprintf(a.stdout, "; %d that analytics still listed have ended", live.Ended)
		}
		fmt.Fprintln(a.stdout, ").")
		return nil
	}
	printFound(a.stdout, out.Conversations)
	if out.NotShown > 0 {
		fmt.Fprintf(a.stderr, "%d more calls match and are not shown (--limit %d).\n", out.NotShown, limit)
	}
	if out.Failed > 0 {
		fmt.Fprintf(a.stderr, "%d calls could not be read just now; run find again to see them.\n", out.Failed)
	}
	return nil
}

// printFound prints one row per call, newest first.
func printFound(w io.Writer, convs []*genesys.Conversation) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONVERSATION ID\tSTART\tMEDIA\tQUEUE\tPARTICIPANTS")
	for _, c := range convs {
		start := "-"
		if !c.StartTime.IsZero() {
			start = c.StartTime.UTC().Format(time.RFC3339)
		}
		queue := ""
		for _, p := range c.Participants {
			if p.QueueName != "" {
				queue = p.QueueName
				break
			}
		}
		var people []string
		for _, p := range c.ActiveParticipants() {
			people = append(people, fmt.Sprintf("%s (%s)", dash(p.Name), dash(p.Purpose)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, start, dash(c.MediaLabel()), dash(queue), dash(strings.Join(people, ", ")))
	}
	tw.Flush()
}

// searchedMedia says what a search looked for.
func searchedMedia(m genesys.Media) string {
	if m == "" {
		return "conversations of every medium"
	}
	return m.Label() + "s"
}
