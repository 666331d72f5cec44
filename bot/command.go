// Package bot is the Slack side of disconnectbot: it parses /disconnect,
// draws the participant picker, handles the clicks, and posts outcomes.
//
// New wires it: the Slack client, the allow-list, the flow and the Socket
// Mode transport; App.Run serves. The disconnect flow (handler.go, flow.go,
// find.go) lives in plain functions that know nothing of sockets and return
// what happened; the transport (socket.go) only acks envelopes and hands
// them over, so the flow is tested without a socket (handler_test.go) and
// the transport without Genesys.
package bot

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// maxCommandText bounds what the parser looks at. A conversation id plus a
// selector is well under 200 bytes; anything near this is not a command.
const maxCommandText = 500

// TargetKind says what the first argument of /disconnect names.
type TargetKind int

const (
	// TargetConversation is a Genesys conversation id (a UUID).
	TargetConversation TargetKind = iota + 1
	// TargetAgent is a Slack mention, an e-mail address or (with find) a Genesys user id.
	TargetAgent
	// TargetPhone is a phone number.
	TargetPhone
	// TargetQueue is queue:<name or id>.
	TargetQueue
)

// Target is the parsed first argument.
type Target struct {
	Kind TargetKind
	// Value is the normalized value: the UUID, the e-mail, the Slack user id
	// (SlackUser set), the phone number as typed (unwrapped), or the queue name/id.
	Value string
	// SlackUser is set when the agent was given as a Slack mention.
	SlackUser string
}

// Command is a parsed /disconnect invocation.
type Command struct {
	Help   bool
	Target Target
	// Who is the optional second part: which participant, unwrapped from
	// Slack markup. Selector is its parsed form.
	Who      string
	Selector *genesys.Selector
	// Media narrows a search (agent, phone or queue) to one medium:
	// media:voice|callback|chat|email|message anywhere after /disconnect.
	Media genesys.Media
	// Stuck is set for `/disconnect stuck …` (sweep_command.go).
	Stuck *StuckArgs
}

// inputError is a mistake in what the user typed. Its message is safe and
// meant to be shown to the user as is.
type inputError struct{ Msg string }

func (e *inputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &inputError{Msg: fmt.Sprintf(format, args...)}
}

var (
	phoneRE = regexp.MustCompile(`^\+?[0-9(][0-9 ().\-/]{3,30}$`)
	// phoneStartRE and phonePartRE are the groups of a number typed with spaces.
	phoneStartRE = regexp.MustCompile(`^\+?[0-9(][0-9().\-/]{0,15}$`)
	phonePartRE  = regexp.MustCompile(`^[0-9().\-/]{1,15}$`)
)

// usage is the help text; it names every form the parser accepts.
const usage = "*Usage:* `/disconnect &lt;call&gt; [who]`\n" +
	"• `&lt;call&gt;` is the Genesys conversation id (a UUID, as shown in the Genesys interaction view), or, to find the call: " +
	"an agent (`@mention`, e-mail address or Genesys user id), a phone number on the call (`+1 317 555 0123`), " +
	"or a queue (`queue:Support`, `queue:\"Customer Care\"` or the queue id). A search finds conversations of every medium " +
	"(voice calls, callbacks, chats, e-mails, messages such as SMS and WhatsApp); add `media:voice`, `media:callback`, " +
	"`media:chat`, `media:email` or `media:message` to narrow it.\n" +
	"• `[who]` (optional): pick one participant directly: a participant id, a Genesys user id, an e-mail address, " +
	"an external contact id, a phone number, or `customer` / `agent` / `external`.\n" +
	"You get the people on the call as buttons (only you see them); nothing is disconnected until you click and confirm.\n" +
	"• `/disconnect stuck [older:4h] [queue:NAME|ID] [media:voice|callback|chat|email|message]`, in any order: " +
	"find the conversations that should have ended (default `older:4h`) and clear them all (needs the sweep permission)."

// parseCommand parses the text after /disconnect. Every error is an
// *inputError whose message says what was wrong and what to type instead.
func parseCommand(text string) (Command, error) {
	if len(text) > maxCommandText {
		return Command{}, inputErrorf("That is %d characters; `/disconnect` takes a conversation id and optionally who to disconnect. Type `/disconnect help` for usage.", len(text))
	}
	if !utf8.ValidString(text) {
		return Command{}, inputErrorf("The command contains invalid characters. Type `/disconnect help` for usage.")
	}
	for _, r := range text {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return Command{}, inputErrorf("The command contains an invisible control character (U+%04X). Retype it instead of pasting it.", r)
		}
	}
	fields := splitArgs(text)
	fields, media, err := cutMedia(fields)
	if err != nil {
		return Command{}, err
	}
	if len(fields) == 0 && media != "" {
		return Command{}, inputErrorf("`media:` narrows a search: give an agent, a phone number or a queue too, e.g. `/disconnect jane@example.com media:message`.")
	}
	if len(fields) == 0 || (len(fields) == 1 && strings.EqualFold(strings.TrimLeft(fields[0], "-"), "help")) {
		return Command{Help: true}, nil
	}
	if strings.EqualFold(fields[0], "stuck") { // sweep_command.go
		stuck, err := parseStuck(fields[1:], media)
		return Command{Stuck: stuck}, err
	}
	if phoneStartRE.MatchString(fields[0]) {
		// A number typed with spaces ("+1 317 555 0123") arrives as several
		// fields; they belong to the number, not to [who].
		for len(fields) > 1 && phonePartRE.MatchString(fields[1]) {
			fields[0] += " " + fields[1]
			fields = append(fields[:1], fields[2:]...)
		}
	}
	target, err := parseTarget(fields[0])
	if err != nil {
		return Command{}, err
	}
	if media != "" && target.Kind == TargetConversation {
		return Command{}, inputErrorf("`media:` narrows a search by agent, phone number or queue; a conversation id already names one conversation. Drop `media:`.")
	}
	cmd := Command{Target: target, Media: media}
	if len(fields) > 1 {
		who := unwrapWho(strings.Join(fields[1:], " "))
		sel, err := genesys.GuessSelector(who)
		if err != nil {
			if len(fields) > 2 {
				return Command{}, inputErrorf("I don't understand %s after the conversation id. Give one participant: a participant id, user id, e-mail, external contact id, phone number, or `customer`/`agent`/`external`.", quote(who))
			}
			return Command{}, inputErrorf("%s is not a way to pick a participant. Use a participant id, user id, e-mail, external contact id, phone number, or `customer`/`agent`/`external`.", quote(who))
		}
		cmd.Who, cmd.Selector = who, &sel
	}
	return cmd, nil
}

// cutMedia takes the media:<medium> argument out of the fields.
func cutMedia(fields []string) ([]string, genesys.Media, error) {
	var (
		out   []string
		media genesys.Media
	)
	for _, f := range fields {
		v, ok := cutPrefixFold(f, "media:")
		if !ok {
			out = append(out, f)
			continue
		}
		if media != "" {
			return nil, "", inputErrorf("Give `media:` once: one of `media:voice`, `media:callback`, `media:chat`, `media:email`, `media:message`.")
		}
		m, err := genesys.ParseMedia(v)
		if err != nil || !slices.Contains(genesys.FindMedia, m) {
			return nil, "", inputErrorf("%s is not a medium I can search: use `media:voice`, `media:callback`, `media:chat`, `media:email` or `media:message`.", quote(f))
		}
		media = m
	}
	return out, media, nil
}

// cutPrefixFold is strings.CutPrefix, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// splitArgs splits on white space but keeps Slack's <…|label> markup in one
// piece: a label like "(317) 555-0123" has spaces.
func splitArgs(text string) []string {
	var args []string
	open := false // inside a "quoted" queue name
	for _, f := range strings.Fields(text) {
		if n := len(args); n > 0 && (open || (strings.HasPrefix(args[n-1], "<") && !strings.HasSuffix(args[n-1], ">"))) {
			args[n-1] += " " + f
			if open && strings.ContainsAny(f, `"”`) {
				open = false
			}
			continue
		}
		args = append(args, f)
		if q, ok := cutQueuePrefix(f); ok && strings.HasPrefix(q, `"`) || strings.HasPrefix(q, "“") {
			open = strings.Count(q, `"`)+strings.Count(q, "“")+strings.Count(q, "”") < 2
		}
	}
	return args
}

// cutQueuePrefix returns what follows "queue:" (any case).
func cutQueuePrefix(s string) (string, bool) {
	if len(s) >= len("queue:") && strings.EqualFold(s[:len("queue:")], "queue:") {
		return s[len("queue:"):], true
	}
	return "", false
}

// parseTarget reads the first argument. Slack wraps mentions, e-mails and
// numbers in <…> markup when the command escapes them; those are unwrapped
// here so the rest of the bot sees plain values.
func parseTarget(arg string) (Target, error) {
	if strings.HasPrefix(arg, "<") {
		inner, ok := strings.CutSuffix(arg[1:], ">")
		if !ok {
			return Target{}, inputErrorf("%s is cut off. Type `/disconnect help` for usage.", quote(arg))
		}
		link, _, _ := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(link, "@"):
			id := strings.TrimPrefix(link, "@")
			if !authz.IsUserID(id) {
				return Target{}, inputErrorf("%s is not a Slack user mention I can use.", quote(arg))
			}
			return Target{Kind: TargetAgent, SlackUser: id}, nil
		case strings.HasPrefix(link, "mailto:"):
			return parseEmailTarget(strings.TrimPrefix(link, "mailto:"))
		case strings.HasPrefix(link, "tel:"):
			return parsePhoneTarget(strings.TrimPrefix(link, "tel:"))
		case strings.HasPrefix(link, "#"):
			return Target{}, inputErrorf("That is a Slack channel, not a call. Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`.")
		case strings.HasPrefix(link, "!"):
			return Target{}, inputErrorf("That is a Slack broadcast (%s), not a call. Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`.", quote(arg))
		default:
			return Target{}, inputErrorf("That is a link, not a call. Give the Genesys conversation id: `/disconnect &lt;conversation-id&gt;`.")
		}
	}
	switch {
	case isUUID(arg):
		return Target{Kind: TargetConversation, Value: strings.ToLower(arg)}, nil
	case strings.HasPrefix(strings.ToLower(arg), "queue:"):
		q, _ := cutQueuePrefix(arg)
		q = strings.TrimSpace(strings.Trim(strings.TrimSpace(q), `"“”`))
		if q == "" {
			return Target{}, inputErrorf("Give the queue after `queue:`, e.g. `/disconnect queue:Support`.")
		}
		return Target{Kind: TargetQueue, Value: q}, nil
	case strings.HasPrefix(arg, "@"):
		return Target{}, inputErrorf("%s is plain text, not a Slack mention: pick the person from Slack's @-menu, or give their e-mail address.", quote(arg))
	case strings.Contains(arg, "@"):
		return parseEmailTarget(arg)
	case phoneRE.MatchString(arg):
		return parsePhoneTarget(arg)
	case looksLikeBrokenUUID(arg):
		return Target{}, inputErrorf("%s is not a complete conversation id: a Genesys id has 36 characters like `3f1c2a9e-5b7d-4c2e-9a41-0d6f8b2e7c55`.", quote(arg))
	}
	return Target{}, inputErrorf("%s is not a conversation id. Type `/disconnect &lt;conversation-id&gt;`; the id is a UUID like `3f1c2a9e-5b7d-4c2e-9a41-0d6f8b2e7c55`.", quote(arg))
}

func parseEmailTarget(s string) (Target, error) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return Target{}, inputErrorf("%s is not an e-mail address.", quote(s))
	}
	return Target{Kind: TargetAgent, Value: strings.ToLower(s)}, nil
}

func parsePhoneTarget(s string) (Target, error) {
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits < 5 || digits > 20 {
		return Target{}, inputErrorf("%s is neither a phone number nor a conversation id (a UUID like `3f1c2a9e-5b7d-4c2e-9a41-0d6f8b2e7c55`).", quote(s))
	}
	return Target{Kind: TargetPhone, Value: s}, nil
}

// looksLikeBrokenUUID catches ids that were cut or mistyped while copying, to
// say so instead of the generic message.
func looksLikeBrokenUUID(s string) bool {
	if len(s) < 8 || strings.Count(s, "-") < 1 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')) {
			return false
		}
	}
	return true
}

// unwrapWho removes Slack markup around the participant selector:
// <mailto:a@b.c|a@b.c> → a@b.c, <tel:+1…|…> → +1…, any other link → its
// target. Mentions (<@U…>, <#C…>, <!here>) are left as typed.
func unwrapWho(s string) string {
	if !strings.HasPrefix(s, "<") || !strings.HasSuffix(s, ">") {
		return s
	}
	link, _, _ := strings.Cut(s[1:len(s)-1], "|")
	for _, prefix := range []string{"mailto:", "tel:"} {
		if v, ok := strings.CutPrefix(link, prefix); ok {
			return v
		}
	}
	if link = strings.TrimSpace(link); link == "" || strings.ContainsAny(link[:1], "@#!") {
		return s
	}
	return link
}

// quote shows user text back safely: truncated, and in code style so Slack
// markup in it is not interpreted.
func quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return "`" + escapeCode(s) + "`"
}

// isUUID reports whether s is a Genesys id; genesys.ValidateID is the one
// check of that shape.
func isUUID(s string) bool { return genesys.ValidateID("id", s) == nil }
