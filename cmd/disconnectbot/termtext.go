package main

import (
	"regexp"
	"strings"
	"unicode"
)

// ansiRE matches terminal escape sequences: CSI (colours, cursor moves,
// "clear screen"), OSC (window titles, hyperlinks) ended by BEL or ST, and
// the two-byte ESC sequences; the 8-bit CSI and OSC introducers too.
var ansiRE = regexp.MustCompile("(?:\x1b\\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\x1b\\]|\u009d)[^\x07\x1b\u009c]*(?:\x07|\x1b\\\\|\u009c)?|\x1b[@-_]?")

// termText makes text from Genesys (names, queues, addresses) safe to print
// in a terminal: escape sequences are removed, so a participant name cannot
// recolour the table, move the cursor or rewrite the confirmation prompt;
// other control characters become spaces (a tab or newline would break a
// table row), and invisible formatting characters (bidi overrides) go.
func termText(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	s = ansiRE.ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d':
			return -1
		}
		return r
	}, s)
}
