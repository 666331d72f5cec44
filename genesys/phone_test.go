package genesys

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, country, want string
		wantErr           string // substring of the error; "" = no error
	}{
		{"+13175550123", "", "+13175550123", ""},
		{"+1 317 555 0123", "", "+13175550123", ""},
		{"+1 (317) 555-0123", "US", "+13175550123", ""},
		{"(317) 555-0123", "US", "+13175550123", ""},
		{"317-555-0123", "", "+13175550123", ""},
		{"317.555.0123", "us", "+13175550123", ""},
		{"1-317-555-0123", "US", "+13175550123", ""},
		{"1 317 555 0123", "US", "+13175550123", ""},
		{"3175550123", "US", "+13175550123", ""},
		{"tel:+1-317-555-0123", "", "+13175550123", ""},
		{"TEL:+13175550123", "", "+13175550123", ""},
		{"tel:+13175550123;ext=12", "", "+13175550123", ""},
		{"sip:+13175550123@edge.example.com", "", "+13175550123", ""},
		{"+1\u00a0317\u00a0555\u00a00123", "", "+13175550123", ""},
		{"+44 20 7946 0958", "US", "+442079460958", ""},
		{"020 7946 0958", "GB", "+442079460958", ""},
		{"0044 20 7946 0958", "DE", "+442079460958", ""},
		{"011 44 20 7946 0958", "US", "+442079460958", ""},
		{"030 123456", "DE", "+4930123456", ""},
		{"+49 (0)30 1234567", "", "+49301234567", ""},
		{"+18005550100", "", "+18005550100", ""},
		{"5550123", "US", "", "too short"},
		{"12345", "US", "", "too short"},
		{"+1 317 555 0123 4567 89", "", "", "too many digits"},
		{"", "US", "", "empty"},
		{"   ", "US", "", "empty"},
		{"call me", "US", "", "only digits"},
		{"+1-317-555-CALL", "US", "", "only digits"},
		{"<tel:+13175550123|+1 317 555 0123>", "US", "", "only digits"},
		{"+999 1234 5678", "US", "", "country code"},
		{strings.Repeat("1", 70), "US", "", "too long"},
		{"+13175550123", "XX", "", `"XX" is not a country code`},
		{"+13175550123", "USA", "", `"USA" is not a country code`},
	}
	for _, tc := range tests {
		t.Run(tc.in+"/"+tc.country, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tc.in, tc.country)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("NormalizePhone(%q, %q) = %q, want an error with %q", tc.in, tc.country, got, tc.wantErr)
				}
				mustKind(t, err, KindInput)
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizePhone(%q, %q): %v", tc.in, tc.country, err)
			}
			if got != tc.want {
				t.Fatalf("NormalizePhone(%q, %q) = %q, want %q", tc.in, tc.country, got, tc.want)
			}
			if err := validateE164(got); err != nil {
				t.Fatalf("result %q is not E.164: %v", got, err)
			}
		})
	}
}

func TestParseCountry(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "US", "us": "US", " GB ": "GB", "de": "DE"} {
		if got, err := ParseCountry(in); err != nil || got != want {
			t.Errorf("ParseCountry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"XX", "USA", "1", "Germany"} {
		if _, err := ParseCountry(in); ErrorKind(err) != KindInput {
			t.Errorf("ParseCountry(%q) = %v, want an input error", in, err)
		}
	}
}

func TestPhoneReader(t *testing.T) {
	t.Parallel()
	gb := PhoneReader{Country: "gb"}
	if got, err := gb.NormalizePhone("020 7946 0958"); err != nil || got != "+442079460958" {
		t.Fatalf("GB reader: %q, %v", got, err)
	}
	var us PhoneReader
	if got, err := us.NormalizePhone("(317) 555-0123"); err != nil || got != "+13175550123" {
		t.Fatalf("default reader: %q, %v", got, err)
	}
	_, err := PhoneReader{Country: "Narnia"}.NormalizePhone("(317) 555-0123")
	mustKind(t, err, KindInput)
	if inErr, ok := errors.AsType[*InputError](err); !ok || inErr.Field != "default country" || inErr.Value != "Narnia" || strings.Contains(inErr.Message, "find.") {
		t.Fatalf("Narnia: %#v; want an InputError naming the value but no config key", err)
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+13175550123", "(317) 555-0123", "tel:+44 20 7946 0958", "0044", "+", "sip:@", "1;;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s, "US")
		if err != nil {
			if ErrorKind(err) != KindInput {
				t.Fatalf("error of kind %s: %v", ErrorKind(err), err)
			}
			return
		}
		if validateE164(got) != nil {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", s, got)
		}
	})
}
