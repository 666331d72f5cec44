package authz

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Slack ids are one upper-case letter naming the kind of object followed by
// upper-case letters and digits. Real ids are 9 to 11 characters today; the
// bounds below are looser so that short test ids (U111) and future longer ids
// pass, while names, handles, e-mails and mentions do not.
const maxIDLen = 32

const (
	userPrefixes           = "UW" // W: Enterprise Grid users
	usergroupPrefixes      = "S"
	channelPrefixes        = "CG" // G: private channels and old group DMs
	requestChannelPrefixes = "CGD"
	teamPrefixes           = "T"
)

// IsUserID reports whether s has the shape of a Slack user id (U… or W…).
// It is the one Slack-id check of the project: the allow-list, mentions and
// config keys all use it.
func IsUserID(s string) bool { return isID(s, userPrefixes) }

// IsChannelID reports whether s has the shape of a Slack conversation id a
// message can be posted to (C…, G… or D…).
func IsChannelID(s string) bool { return isID(s, requestChannelPrefixes) }

// IsTeamID reports whether s has the shape of a Slack workspace id (T…).
func IsTeamID(s string) bool { return isID(s, teamPrefixes) }

// isID reports whether s looks like a Slack id starting with one of prefixes.
func isID(s, prefixes string) bool {
	if len(s) < 2 || len(s) > maxIDLen || !strings.ContainsRune(prefixes, rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// cleanIDs trims, validates and de-duplicates one config list, appending a
// problem for every bad entry. Indexes refer to the list as configured.
func cleanIDs(key string, in []string, prefixes, kind, expected string, problems *[]string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]struct{}, len(in))
	for i, raw := range in {
		id := strings.TrimSpace(raw)
		if id == "" {
			*problems = append(*problems, fmt.Sprintf("%s[%d]: empty entry", key, i))
			continue
		}
		if !isID(id, prefixes) {
			msg := fmt.Sprintf("%s[%d]: %s is not a Slack %s id (expected %s)", key, i, quote(id), kind, expected)
			if h := hint(id, prefixes); h != "" {
				msg += "; " + h
			}
			*problems = append(*problems, msg)
			continue
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// hint suggests the likely fix for common mistakes: a name instead of an id,
// lower case, or an id of another kind in the wrong list.
func hint(id, want string) string {
	switch {
	case strings.HasPrefix(id, "#"):
		return "channel names are not accepted, use the channel id (channel details, About, Channel ID)"
	case strings.HasPrefix(id, "@"):
		return "names and handles are not accepted, use the id (user profile, Copy member ID; user groups: the S… id)"
	case strings.ContainsAny(id, "0123456789") && isID(strings.ToUpper(id), want):
		// Only with a digit: "support" is a handle, not a lower-cased id.
		return "Slack ids are upper case"
	case want != userPrefixes && isID(id, userPrefixes):
		return "this looks like a user id, it belongs in " + keyUsers
	case want != usergroupPrefixes && isID(id, usergroupPrefixes):
		return "this looks like a user group id, it belongs in " + keyUsergroups
	case want != channelPrefixes && isID(id, channelPrefixes):
		return "this looks like a channel id, it belongs in " + keyChannels
	}
	return ""
}

// quote quotes s for an error message, shortened so a pasted blob does not
// flood the log.
func quote(s string) string {
	const max = 64
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}
