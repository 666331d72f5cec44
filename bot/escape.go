package bot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text from outside the bot (participant, queue and user names from
// Genesys, what a supervisor typed) is untrusted. It reaches Slack through
// exactly two doors:
//
//   - escapeText, for every field Slack renders as mrkdwn: section and
//     context text, confirm dialog text, and the top-level text fallback of
//     every message (which is what notifications show);
//   - plainLabel, for plain_text fields (button labels, confirm titles).
//
// Both clean the text first (cleanText): control characters become spaces,
// invisible formatting characters (bidi overrides, zero-width spaces) are
// dropped, so a name can neither break a layout nor reorder what a
// supervisor reads. Every mrkdwn text object is sent with verbatim set, so
// Slack does not turn a plain "@here" or a URL in a name into a mention or
// a link either. Finally, guardMrkdwn checks the text fallback once more at
// the Responder boundary (SlackAPI), so a builder that forgets to escape
// cannot let a "<!channel>" through.

// slackTextEscaper and slackCodeEscaper are immutable and safe for
// concurrent use; building one per call was half of what the bot allocated
// per disconnect.
var (
	slackTextEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	slackCodeEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "'", "\n", " ")
)

// escapeText cleans s and escapes Slack's control characters, so a
// participant named "<!channel>" pings nobody and "&lt;" shows as typed.
func escapeText(s string) string {
	return slackTextEscaper.Replace(cleanText(s))
}

// escapeCode makes text safe inside a Slack code span: Slack's own control
// characters are escaped so a mention or link in it stays plain text.
func escapeCode(s string) string {
	return slackCodeEscaper.Replace(cleanText(s))
}

// shortName is a name from outside cleaned and cut to maxNameLen, so one
// very long name cannot push the rest of a row past Slack's limits.
func shortName(s string) string {
	return truncate(cleanText(s), maxNameLen)
}

// plainLabel is s cleaned and cut to max characters, for plain_text fields.
// Slack does not interpret markup there, so nothing is escaped.
func plainLabel(s string, max int) string {
	return truncate(cleanText(s), max)
}

// cleanText makes outside text safe to lay out: valid UTF-8, no control
// characters (newlines and tabs become single spaces), no invisible
// formatting characters except the zero-width (non-)joiners that emoji and
// some scripts need, no leading or trailing space.
func cleanText(s string) string {
	if isPlainASCII(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			r = ' '
		case invisible(r):
			continue
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// isPlainASCII reports whether s is printable ASCII without doubled,
// leading or trailing spaces: the common case, which cleanText returns as is.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
		if c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// invisible reports format characters that change how text around them is
// shown without showing themselves: bidi embeddings, overrides and
// isolates, zero-width spaces, the byte-order mark, soft hyphens.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
}

// truncate cuts s to at most max characters, marking the cut with "…". It
// cuts between characters, so the result stays valid UTF-8.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	return string([]rune(s)[:max-1]) + "…"
}

// truncateMrkdwn is truncate for mrkdwn: it never cuts an entity (&lt;) or
// a bot-made mention or link (<@U…>) in half, which would leave markup
// that Slack could read differently.
func truncateMrkdwn(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	cut := string([]rune(s)[:max-1])
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	if i := strings.LastIndexByte(cut, '<'); i >= 0 && !strings.Contains(cut[i:], ">") {
		cut = cut[:i]
	}
	return cut + "…"
}

// botMarkupRE matches the only Slack markup the bot itself writes into
// mrkdwn: a user mention built from a Slack user id, a channel link, a user
// group mention (an admin's authz.contact may be one), and the three
// entities.
var botMarkupRE = regexp.MustCompile(`^(?:<@[UW][A-Z0-9]{2,20}>|<#C[A-Z0-9]{2,20}(?:\|[^<>|&]{0,80})?>|<!subteam\^S[A-Z0-9]{2,20}(?:\|[^<>|&]{0,80})?>|&(?:amp|lt|gt);)`)

// guardMrkdwn escapes every "<", ">" and "&" in s that does not start
// markup the bot writes (botMarkupRE). On text built with escapeText it
// changes nothing; on text that forgot to escape a name it turns
// "<!channel>" or "<https://evil|Re-login>" back into plain characters.
func guardMrkdwn(s string) string {
	if !strings.ContainsAny(s, "<>&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		switch s[i] {
		case '<', '&':
			if m := botMarkupRE.FindString(s[i:]); m != "" {
				b.WriteString(m)
				i += len(m)
				continue
			}
			if s[i] == '<' {
				b.WriteString("&lt;")
			} else {
				b.WriteString("&amp;")
			}
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(s[i])
		}
		i++
	}
	return b.String()
}
