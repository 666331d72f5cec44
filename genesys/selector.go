package genesys

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// SelectorKind says how a Selector picks participants.
type SelectorKind string

// The selector kinds.
const (
	SelectParticipantID     SelectorKind = "participant-id"
	SelectUserID            SelectorKind = "user-id"
	SelectUserEmail         SelectorKind = "user-email"
	SelectExternalContactID SelectorKind = "external-contact-id"
	SelectPhone             SelectorKind = "phone"
	SelectPurpose           SelectorKind = "purpose"
	// SelectID is a UUID of unknown meaning: it matches a participant id, a
	// user id or an external contact id.
	SelectID SelectorKind = "id"
)

// Selector says which participant(s) of a conversation someone means.
// Build it with ParseSelector or GuessSelector, which validate and
// normalize Value: UUIDs lower-cased, purposes lower-cased, phone numbers
// reduced to their digits, after a "+" when the number is international.
type Selector struct {
	Kind  SelectorKind
	Value string
}

// String renders the selector for messages, e.g. `purpose customer`.
func (s Selector) String() string {
	switch s.Kind {
	case SelectPhone:
		return "phone number " + s.Value
	case SelectUserEmail:
		return "user " + s.Value
	case SelectPurpose:
		return "the " + s.Value
	case SelectID:
		return "id " + s.Value
	}
	return strings.ReplaceAll(string(s.Kind), "-", " ") + " " + s.Value
}

const (
	minPhoneDigits = 5
	maxPhoneDigits = 20
	maxInputLen    = 320 // longer than any valid e-mail address
)

// purposeWords are what a supervisor may type for a participant's role.
var purposeWords = map[string]bool{"customer": true, "agent": true, "external": true}

// ParseSelector validates value for kind and returns the normalized selector.
// value is plain text: any chat markup around it must be removed first.
func ParseSelector(kind SelectorKind, value string) (Selector, error) {
	v := strings.TrimSpace(value)
	if len(v) > maxInputLen {
		return Selector{}, &InputError{Field: string(kind), Value: shorten(v, 64), Message: fmt.Sprintf("%s %q is too long", kind, shorten(v, 64))}
	}
	switch kind {
	case SelectParticipantID, SelectUserID, SelectExternalContactID, SelectID:
		what := strings.ReplaceAll(string(kind), "-", " ")
		if kind == SelectID {
			what = "id"
		}
		if err := ValidateID(what, v); err != nil {
			return Selector{}, err
		}
		return Selector{Kind: kind, Value: strings.ToLower(v)}, nil
	case SelectUserEmail:
		v = trimMailto(v)
		if err := validateEmail(v); err != nil {
			return Selector{}, err
		}
		return Selector{Kind: kind, Value: v}, nil
	case SelectPurpose:
		p := strings.ToLower(v)
		if !purposeWords[p] {
			return Selector{}, &InputError{Field: "purpose", Value: shorten(v, 64), Message: fmt.Sprintf("purpose %q is not one of customer, agent, external", shorten(v, 64))}
		}
		return Selector{Kind: kind, Value: p}, nil
	case SelectPhone:
		d, ok := phoneDigits(v)
		if !ok {
			return Selector{}, &InputError{Field: "phone", Value: shorten(v, 64), Message: fmt.Sprintf("%q is not a phone number (expected %d to %d digits, e.g. +1 317 555 0123)", shorten(v, 64), minPhoneDigits, maxPhoneDigits)}
		}
		return Selector{Kind: kind, Value: d}, nil
	}
	return Selector{}, &InputError{Field: "selector", Value: shorten(string(kind), 32), Message: fmt.Sprintf("unknown selector kind %q; use participant-id, user-id, user-email, external-contact-id, phone, purpose or id", shorten(string(kind), 32))}
}

// GuessSelector interprets free text: a UUID (any id), an e-mail address,
// customer|agent|external, or a phone number. value is plain text, as for
// ParseSelector.
func GuessSelector(value string) (Selector, error) {
	v := strings.TrimSpace(value)
	switch {
	case v == "":
		return Selector{}, &InputError{Field: "selector", Message: "say which participant: an id, an e-mail address, a phone number, or customer, agent or external"}
	case isUUID(v):
		return ParseSelector(SelectID, v)
	case purposeWords[strings.ToLower(v)]:
		return ParseSelector(SelectPurpose, v)
	case hasSIPOrTelPrefix(v):
		return ParseSelector(SelectPhone, v)
	case strings.Contains(v, "@"):
		return ParseSelector(SelectUserEmail, v)
	}
	if _, ok := phoneDigits(v); ok {
		return ParseSelector(SelectPhone, v)
	}
	return Selector{}, &InputError{Field: "selector", Value: shorten(v, 64), Message: fmt.Sprintf("cannot tell who %q is: give a participant or user id, an e-mail address, a phone number, or customer, agent or external", shorten(v, 64))}
}

func trimMailto(s string) string {
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		return s[7:]
	}
	return s
}

// validateEmail checks the shape of an address; Genesys decides whether it exists.
func validateEmail(s string) error {
	bad := func() error {
		return &InputError{Field: "user email", Value: shorten(s, 64), Message: fmt.Sprintf("%q is not an e-mail address (expected name@example.com)", shorten(s, 64))}
	}
	if s == "" || len(s) > 254 {
		return bad()
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || domain == "" || strings.Contains(domain, "@") {
		return bad()
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>()[]\,;:"`, r) || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return bad()
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad()
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return bad()
		}
	}
	return nil
}

func hasSIPOrTelPrefix(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "tel:") || strings.HasPrefix(l, "sip:") || strings.HasPrefix(l, "sips:")
}

// phoneDigits reduces a phone notation to its digits: it strips tel:, the
// host part of a sip: URI, URI parameters, spaces and the usual
// punctuation. An international number (a leading + or 00) keeps a leading
// "+", so it can be compared in full (E.164). It reports false when anything
// else is there or the digit count is out of range.
func phoneDigits(s string) (string, bool) {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	switch {
	case strings.HasPrefix(l, "tel:"):
		s = s[4:]
	case strings.HasPrefix(l, "sips:"):
		s = s[5:]
		s, _, _ = strings.Cut(s, "@")
	case strings.HasPrefix(l, "sip:"):
		s = s[4:]
		s, _, _ = strings.Cut(s, "@")
	}
	s, _, _ = strings.Cut(s, ";") // ;ext=, ;user=phone, …
	s = strings.TrimSpace(s)
	var b strings.Builder
	intl := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			intl = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0':
		default:
			return "", false
		}
	}
	d := b.String()
	if !intl && strings.HasPrefix(d, "00") { // the international prefix in most of the world
		d, intl = d[2:], true
	}
	if len(d) < minPhoneDigits || len(d) > maxPhoneDigits {
		return "", false
	}
	if intl {
		return "+" + d, true
	}
	return d, true
}

// addressDigits is phoneDigits for Genesys address fields, which may hold
// non-phone things (sip:agent@host); those simply never match.
func addressDigits(s string) string {
	d, ok := phoneDigits(s)
	if !ok {
		return ""
	}
	return d
}

// phoneMatch compares phoneDigits results. Two international numbers
// match only when they are the same E.164 number: "+44 20 7946 0958" is not
// "+1 207 946 0958", although their last 10 digits agree. A number without
// its country code matches one with the same last 10 digits (at least 10),
// so "3175550123" matches "+1 317 555 0123".
func phoneMatch(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if strings.HasPrefix(a, "+") && strings.HasPrefix(b, "+") {
		return false
	}
	a, b = strings.TrimPrefix(a, "+"), strings.TrimPrefix(b, "+")
	return a == b || len(a) >= 10 && len(b) >= 10 && a[len(a)-10:] == b[len(b)-10:]
}

// Identify returns the active participants of conv that sel picks, in
// conversation order. It returns none (and no error) when nothing matches,
// and more than one when the selector is ambiguous; the caller decides. A
// user-email selector looks the user up first, which can fail with an error
// wrapping ErrUserNotFound.
func (c *Client) Identify(ctx context.Context, conv *Conversation, sel Selector) ([]Participant, error) {
	if conv == nil {
		return nil, &InputError{Field: "conversation", Message: "no conversation to look in"}
	}
	// Re-validate: a hand-built Selector must not bypass the checks.
	sel, err := ParseSelector(sel.Kind, sel.Value)
	if err != nil {
		return nil, err
	}
	var match func(Participant) bool
	switch sel.Kind {
	case SelectParticipantID:
		match = func(p Participant) bool { return idEqual(p.ID, sel.Value) }
	case SelectUserID:
		match = func(p Participant) bool { return idEqual(p.UserID, sel.Value) }
	case SelectExternalContactID:
		match = func(p Participant) bool { return idEqual(p.ExternalContactID, sel.Value) }
	case SelectID:
		match = func(p Participant) bool {
			return idEqual(p.ID, sel.Value) || idEqual(p.UserID, sel.Value) || idEqual(p.ExternalContactID, sel.Value)
		}
	case SelectPurpose:
		match = func(p Participant) bool { return purposeMatches(sel.Value, p.Purpose) }
	case SelectPhone:
		match = func(p Participant) bool { return participantHasPhone(p, sel.Value) }
	case SelectUserEmail:
		u, err := c.FindUserByEmail(ctx, sel.Value)
		if err != nil {
			return nil, err
		}
		match = func(p Participant) bool { return idEqual(p.UserID, u.ID) }
	}
	var out []Participant
	for _, p := range conv.ActiveParticipants() {
		if match(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// purposeMatches maps what a supervisor types to Genesys purposes: "agent"
// covers both ACD agents and directly dialled users.
func purposeMatches(want, purpose string) bool {
	purpose = strings.ToLower(purpose)
	if want == "agent" {
		return purpose == "agent" || purpose == "user"
	}
	return purpose == want
}

// participantHasPhone checks Address, ANI and DNIS of customer and external
// legs, and the from and to addresses of their messages (SMS, WhatsApp);
// only Address of the others: an agent leg's ANI/DNIS and message
// addresses carry the customer's number.
func participantHasPhone(p Participant, digits string) bool {
	fields := []string{p.Address}
	switch strings.ToLower(p.Purpose) {
	case "customer", "external":
		fields = append(fields, p.ANI, p.DNIS)
		for _, c := range p.Communications {
			if c.Media == MediaMessage {
				fields = append(fields, c.FromAddress, c.ToAddress)
			}
		}
	}
	for _, f := range fields {
		if phoneMatch(addressDigits(f), digits) {
			return true
		}
	}
	return false
}
