package genesys

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultCountry is the country assumed for phone numbers typed without a
// country code when none is given.
const DefaultCountry = "US"

// e164RE is the shape of an E.164 number: "+", a non-zero digit, at most 15
// digits in all.
var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)

// ParseCountry checks a default country: an ISO 3166-1 alpha-2 code that
// libphonenumber has numbering data for ("US", "de", "GB"); "" means
// DefaultCountry. It returns the upper-cased code. Its *InputError (Field
// "default country") names the value but not where it came from: the
// caller adds that (a config key, a flag).
func ParseCountry(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if c == "" {
		return DefaultCountry, nil
	}
	if !phonenumbers.GetSupportedRegions()[c] {
		return "", &InputError{Field: "default country", Value: shorten(s, 16),
			Message: fmt.Sprintf("%q is not a country code with phone numbering data (use a two-letter code like US, GB, DE)", shorten(s, 16))}
	}
	return c, nil
}

// PhoneReader reads phone numbers the way a person types them, as numbers
// of Country ("" = DefaultCountry) when they have no country code.
type PhoneReader struct {
	Country string
}

// NormalizePhone is NormalizePhone with the reader's country.
func (r PhoneReader) NormalizePhone(raw string) (string, error) {
	return NormalizePhone(raw, r.Country)
}

// NormalizePhone turns a phone number in any common notation ("(317)
// 555-0123", "+44 20 7946 0958", "tel:+1-317-555-0123", "0044 …") into
// E.164 ("+13175550123"). Numbers without a country code are read as
// numbers of defaultCountry ("" = DefaultCountry). Genesys stores ANI and
// DNIS as "tel:+<E.164>", so this is the form searches need.
//
// Only the length of the number is checked, not whether its range is
// assigned: libphonenumber's data lags new ranges, and a search for a
// number nobody has simply finds nothing.
func NormalizePhone(raw, defaultCountry string) (string, error) {
	country, err := ParseCountry(defaultCountry)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(raw)
	bad := func(why string) error {
		return &InputError{Field: "phone", Value: shorten(s, 64),
			Message: fmt.Sprintf("%q is not a phone number I can search for: %s", shorten(s, 64), why)}
	}
	if s == "" {
		return "", bad("it is empty")
	}
	if len(s) > 64 {
		return "", bad("it is too long")
	}
	l := strings.ToLower(s)
	switch {
	case strings.HasPrefix(l, "tel:"):
		s = s[4:]
	case strings.HasPrefix(l, "sip:"), strings.HasPrefix(l, "sips:"):
		_, s, _ = strings.Cut(s, ":")
		s, _, _ = strings.Cut(s, "@")
	}
	s, _, _ = strings.Cut(s, ";") // ;ext=…, ;phone-context=…
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case strings.ContainsRune("+-(). /\u00a0", r):
		default:
			return "", bad("only digits, spaces, + - ( ) . / are allowed")
		}
	}
	num, err := phonenumbers.Parse(s, country)
	if err != nil {
		return "", bad("include the country code, e.g. +1 317 555 0123")
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "", bad(fmt.Sprintf("it is too short for a %s number; include the area or country code", phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))))
	case phonenumbers.TOO_LONG:
		return "", bad("it has too many digits")
	default:
		return "", bad("the country code or length is wrong")
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if !e164RE.MatchString(e164) {
		return "", bad("it does not form an E.164 number")
	}
	return e164, nil
}

// validateE164 is the check before a number goes into a query.
func validateE164(s string) error {
	if e164RE.MatchString(s) {
		return nil
	}
	return &InputError{Field: "phone", Value: shorten(s, 64),
		Message: fmt.Sprintf("phone number %q is not in E.164 form (like +13175550123); normalize it with NormalizePhone", shorten(s, 64))}
}
