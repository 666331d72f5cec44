package genesys

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
	"github.com/google/go-cmp/cmp"
)

const uuidA = "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11"

func TestParseSelector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    SelectorKind
		in      string
		want    string // normalized value; "" = error
		errText string // part of the error message
	}{
		{SelectParticipantID, uuidA, uuidA, ""},
		{SelectParticipantID, " " + strings.ToUpper(uuidA) + " ", uuidA, ""},
		{SelectParticipantID, "abc", "", `participant id "abc" is not a Genesys id`},
		{SelectUserID, uuidA, uuidA, ""},
		{SelectUserID, uuidA + "x", "", "user id"},
		{SelectExternalContactID, uuidA, uuidA, ""},
		{SelectID, uuidA, uuidA, ""},
		{SelectID, "", "", "id is empty"},
		{SelectUserEmail, "jane.doe@example.com", "jane.doe@example.com", ""},
		{SelectUserEmail, "<mailto:jane.doe@example.com|jane.doe@example.com>", "", "not an e-mail address"}, // chat markup is the caller's to remove
		{SelectUserEmail, "mailto:jane@example.com", "jane@example.com", ""},
		{SelectUserEmail, "jane", "", "not an e-mail address"},
		{SelectUserEmail, "jane@localhost", "", "not an e-mail address"},
		{SelectUserEmail, "jane doe@example.com", "", "not an e-mail address"},
		{SelectUserEmail, "a@b@example.com", "", "not an e-mail address"},
		{SelectUserEmail, "@example.com", "", "not an e-mail address"},
		{SelectUserEmail, "jane@example..com", "", "not an e-mail address"},
		{SelectUserEmail, "Jane <jane@example.com>", "", "not an e-mail address"},
		{SelectPurpose, "Customer", "customer", ""},
		{SelectPurpose, "agent", "agent", ""},
		{SelectPurpose, "external", "external", ""},
		{SelectPurpose, "acd", "", "customer, agent, external"},
		{SelectPhone, "+1 (317) 555-0123", "+13175550123", ""},
		{SelectPhone, "tel:+13175550123", "+13175550123", ""},
		{SelectPhone, "0044 20 7946 0958", "+442079460958", ""},
		{SelectPhone, "sip:+13175550123@10.0.0.1;user=phone", "+13175550123", ""},
		{SelectPhone, "<tel:+13175550123|+1 317 555 0123>", "", "not a phone number"}, // chat markup is the caller's to remove
		{SelectPhone, "317.555.0123", "3175550123", ""},
		{SelectPhone, "12345", "12345", ""},
		{SelectPhone, "1234", "", "not a phone number"},
		{SelectPhone, "123456789012345678901", "", "not a phone number"},
		{SelectPhone, "555-CALL-NOW", "", "not a phone number"},
		{SelectPhone, "sip:alice@example.com", "", "not a phone number"},
		{SelectPhone, "++13175550123", "", "not a phone number"},
		{"nickname", "bob", "", "unknown selector kind"},
		{SelectUserEmail, strings.Repeat("a", 400) + "@example.com", "", "too long"},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSelector(tc.kind, tc.in)
			if tc.want == "" {
				mustKind(t, err, KindInput)
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("error %q lacks %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Selector{Kind: tc.kind, Value: tc.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGuessSelector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Selector
	}{
		{uuidA, Selector{SelectID, uuidA}},
		{"customer", Selector{SelectPurpose, "customer"}},
		{"AGENT", Selector{SelectPurpose, "agent"}},
		{"jane.doe@example.com", Selector{SelectUserEmail, "jane.doe@example.com"}},
		{"mailto:jane.doe@example.com", Selector{SelectUserEmail, "jane.doe@example.com"}},
		{"+1 317 555 0123", Selector{SelectPhone, "+13175550123"}},
		{"tel:+13175550199", Selector{SelectPhone, "+13175550199"}},
		{"sip:+13175550199@edge.example.com", Selector{SelectPhone, "+13175550199"}},
		{"(317) 555-0199", Selector{SelectPhone, "3175550199"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := GuessSelector(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "  ", "bob", "12", "jane@", "sip:alice@example.com", "3f0c8a52-8a0e", "<>", "<mailto:jane.doe@example.com|jane.doe@example.com>"} {
		_, err := GuessSelector(bad)
		mustKind(t, err, KindInput)
		if UserMessage(err) == "" {
			t.Errorf("%q: empty message", bad)
		}
	}
}

func TestPhoneMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"+13175550123", "+13175550123", true},
		{"+13175550123", "3175550123", true},     // typed without country code
		{"+13175550123", "13175550123", true},    // typed without the +
		{"4413175550123", "13175550123", true},   // neither international: same last 10
		{"+442079460958", "+12079460958", false}, // both E.164: the whole number counts
		{"+12079460958", "+442079460958", false},
		{"+4413175550123", "+13175550123", false},
		{"5550123", "13175550123", false}, // too short to compare suffixes
		{"5550123", "5550123", true},
		{"13175550123", "13175550124", false},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := phoneMatch(tc.a, tc.b); got != tc.want {
			t.Errorf("phoneMatch(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestIdentify(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	src := srv.ThreePartyConference()
	conv, err := c.GetConversation(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	cust, acd, agent, ext := src.Participants[0].ID, src.Participants[1].ID, src.Participants[2].ID, src.Participants[3].ID
	jane := src.Participants[2].UserID

	contactID := "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	other := srv.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{
		{Name: "Known", Purpose: "customer", ExternalContactID: contactID, Address: "tel:+447700900123"},
		{Name: "Direct", Purpose: "user", UserID: jane, Address: "sip:jane@example.com"},
		{Name: "Old leg", Purpose: "user", UserID: jane, State: "terminated"},
		{Name: "VM", Purpose: "voicemail", UserID: jane},
	}})
	conv2, err := c.GetConversation(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		conv *Conversation
		sel  string // free text for GuessSelector, or kind=value
		want []string
	}{
		{"purpose customer", conv, "customer", []string{cust}},
		{"purpose agent", conv, "agent", []string{agent}},
		{"purpose external", conv, "external", []string{ext}},
		{"customer phone, agent ANI ignored", conv, "+1 (317) 555-0123", []string{cust}},
		{"external phone tel", conv, "tel:+13175550199", []string{ext}},
		{"external phone 10 digits", conv, "317-555-0199", []string{ext}},
		{"same last 10 digits, other country", conv, "+44 317 555 0199", nil},
		{"org number is ambiguous", conv, "+18005550100", []string{cust, ext}},
		{"short number", conv, "5550123", nil},
		{"email", conv, "jane.doe@example.com", []string{agent}},
		{"uuid is a user id", conv, jane, []string{agent}},
		{"uuid is a participant id", conv, cust, []string{cust}},
		{"uuid of an ended leg", conv, acd, nil},
		{"uuid unknown", conv, uuidA, nil},
		{"participant-id kind", conv, "participant-id=" + ext, []string{ext}},
		{"participant-id kind does not match user id", conv, "participant-id=" + jane, nil},
		{"user-id kind", conv, "user-id=" + jane, []string{agent}},
		{"external contact", conv2, contactID, []string{other.Participants[0].ID}},
		{"external-contact-id kind", conv2, "external-contact-id=" + contactID, []string{other.Participants[0].ID}},
		{"agent matches user purpose, skips ended and voicemail", conv2, "agent", []string{other.Participants[1].ID}},
		{"international number", conv2, "+44 7700 900123", []string{other.Participants[0].ID}},
		{"nobody external", conv2, "external", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sel Selector
			var err error
			if kind, val, ok := strings.Cut(tc.sel, "="); ok {
				sel, err = ParseSelector(SelectorKind(kind), val)
			} else {
				sel, err = GuessSelector(tc.sel)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Identify(ctx, tc.conv, sel)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("%v (-want +got):\n%s", sel, diff)
			}
		})
	}

	t.Run("unknown email", func(t *testing.T) {
		t.Parallel()
		_, err := c.Identify(ctx, conv, Selector{Kind: SelectUserEmail, Value: "nobody@example.com"})
		if !errors.Is(err, ErrUserNotFound) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("hand-built selector is validated", func(t *testing.T) {
		t.Parallel()
		_, err := c.Identify(ctx, conv, Selector{Kind: SelectPurpose, Value: "acd"})
		mustKind(t, err, KindInput)
		_, err = c.Identify(ctx, nil, Selector{Kind: SelectPurpose, Value: "agent"})
		mustKind(t, err, KindInput)
	})
}

func TestSelectorString(t *testing.T) {
	t.Parallel()
	for sel, want := range map[Selector]string{
		{SelectPurpose, "customer"}:      "the customer",
		{SelectPhone, "13175550123"}:     "phone number 13175550123",
		{SelectUserEmail, "a@b.c"}:       "user a@b.c",
		{SelectParticipantID, uuidA}:     "participant id " + uuidA,
		{SelectExternalContactID, uuidA}: "external contact id " + uuidA,
		{SelectID, uuidA}:                "id " + uuidA,
	} {
		if got := sel.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", sel, got, want)
		}
	}
}

// TestPhoneFullE164: once both sides are normalised, the whole E.164
// number counts, not its last 10 digits.
func TestPhoneFullE164(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typed, address string
		want           bool
	}{
		{"+44 20 7946 0958", "tel:+12079460958", false},
		{"+1 207 946 0958", "tel:+442079460958", false},
		{"0044 20 7946 0958", "tel:+12079460958", false},
		{"+44 20 7946 0958", "tel:+442079460958", true},
		{"0044 20 7946 0958", "sip:+442079460958@edge.example.com", true},
		{"207 946 0958", "tel:+12079460958", true}, // no country code typed
	}
	for _, tt := range tests {
		sel, err := ParseSelector(SelectPhone, tt.typed)
		if err != nil {
			t.Fatal(err)
		}
		if got := phoneMatch(sel.Value, addressDigits(tt.address)); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.typed, tt.address, got, tt.want)
		}
	}
}
