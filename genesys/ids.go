package genesys

import (
	"fmt"
	"strings"
)

// exampleID is shown in error messages so people see what a Genesys id looks like.
const exampleID = "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11"

// InputError reports input that was rejected before any request was sent.
// Its message is safe to show to the person who typed the input.
type InputError struct {
	Field   string // what was being validated, e.g. "conversation id"
	Value   string // the offending value, possibly shortened
	Message string // complete, human-readable explanation
}

func (e *InputError) Error() string { return e.Message }

// ValidateID checks that id is a Genesys id (a UUID) before it is put into a
// URL path. what names the id in the error message ("conversation id").
func ValidateID(what, id string) error {
	if isUUID(id) {
		return nil
	}
	if id == "" {
		return &InputError{Field: what, Message: fmt.Sprintf("%s is empty (expected a Genesys id, a UUID like %s)", what, exampleID)}
	}
	short := shorten(id, 64)
	return &InputError{
		Field:   what,
		Value:   short,
		Message: fmt.Sprintf("%s %q is not a Genesys id (expected a UUID like %s)", what, short, exampleID),
	}
}

// isUUID reports whether s has the canonical 8-4-4-4-12 hex form. Genesys ids
// are lowercase, but upper case is accepted because people paste from tools
// that upper-case them.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// shorten keeps error messages bounded when someone pastes a novel.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so %q does not show a broken character.
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// idEqual compares two Genesys ids ignoring case.
func idEqual(a, b string) bool { return a != "" && strings.EqualFold(a, b) }
