package approval

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testSecret  = "0123456789abcdef0123456789abcdef-test-secret"
	otherSecret = "fedcba9876543210fedcba9876543210-other-secret"
)

var testNow = time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

func signer(t testing.TB, secret string) *Signer {
	t.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func disconnectRequest() Request {
	return Request{
		ID: "0123456789abcdef", Kind: KindDisconnect, Expires: testNow.Add(5 * time.Minute),
		TeamID: "T0TEAM0001", UserID: "U0SUPER001", ChannelID: "C0SUPPORT1",
		ConversationID: "7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6", ParticipantID: "a1111111-1111-4111-8111-111111111111",
		Purpose: "customer", Name: "Pat <!channel> Smith",
	}
}

func sweepRequest() Request {
	return Request{
		ID: "fedcba9876543210", Kind: KindSweep, Expires: testNow.Add(30 * time.Second),
		TeamID: "T0TEAM0001", UserID: "W0SUPER001", ChannelID: "G0PRIVATE1",
		Sweep: Sweep{Count: 412, OlderThan: 4 * time.Hour, Queue: "Support <EMEA> & \"Billing\"", Media: "voice"},
	}
}

// worstCase fills every field to its limit: the longest Slack ids, purpose,
// media, a queue filter of MaxQueueLen bytes, and the largest numbers.
func worstCase(kind Kind) Request {
	id := func(prefix string) string { return prefix + strings.Repeat("Z", maxSlackID-1) }
	r := Request{
		ID: "ffffffffffffffff", Kind: kind, Expires: time.Unix(1<<40, 0).UTC(),
		TeamID: id("T"), UserID: id("W"), ChannelID: id("G"),
	}
	switch kind {
	case KindDisconnect:
		r.ConversationID, r.ParticipantID = "ffffffff-ffff-ffff-ffff-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff"
		r.Purpose = strings.Repeat("p", maxPurpose)
		r.Name = strings.Repeat("€", MaxNameLen/3)
	case KindSweep:
		// A three-byte rune repeated up to the byte limit (255 = 85 × 3).
		r.Sweep = Sweep{Count: maxCount, OlderThan: maxOlder * time.Second, Queue: strings.Repeat("€", MaxQueueLen/3), Media: strings.Repeat("m", maxMedia)}
	}
	return r
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	for _, tc := range []struct {
		name string
		req  Request
	}{
		{"disconnect", disconnectRequest()},
		{"sweep", sweepRequest()},
		{"sweep without filters", Request{ID: "0000000000000001", Kind: KindSweep, Expires: testNow.Add(time.Minute), TeamID: "T1", UserID: "U1", ChannelID: "C1", Sweep: Sweep{Count: 1}}},
		{"disconnect without purpose", func() Request { r := disconnectRequest(); r.Purpose = ""; return r }()},
		{"worst-case disconnect", worstCase(KindDisconnect)},
		{"worst-case sweep", worstCase(KindSweep)},
	} {
		for _, action := range []Action{Approve, Deny, Withdraw} {
			t.Run(tc.name+"/"+action.String(), func(t *testing.T) {
				t.Parallel()
				value, err := s.Sign(tc.req, action)
				if err != nil {
					t.Fatal(err)
				}
				got, gotAction, err := s.Verify(value, testNow)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if gotAction != action {
					t.Errorf("action %v, want %v", gotAction, action)
				}
				if diff := cmp.Diff(tc.req, got); diff != "" {
					t.Errorf("request changed in the round trip (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestValueSizeWorstCase proves the limit: every field at its maximum still
// gives a value within Slack's 2000 characters, in the URL-safe alphabet.
func TestValueSizeWorstCase(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	for _, kind := range []Kind{KindDisconnect, KindSweep} {
		value, err := s.Sign(worstCase(kind), Withdraw)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kind %d: worst-case value is %d characters (Slack allows %d)", kind, len(value), MaxValueLen)
		if len(value) > MaxValueLen {
			t.Errorf("kind %d: %d characters, over Slack's %d", kind, len(value), MaxValueLen)
		}
		if strings.Trim(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("value has characters outside base64url: %q", value)
		}
	}
	// One more byte in any bounded field is refused rather than signed.
	over := worstCase(KindSweep)
	over.Sweep.Queue += "x"
	if _, err := s.Sign(over, Approve); err == nil {
		t.Errorf("a %d-byte queue filter was signed", len(over.Sweep.Queue))
	}
	over = worstCase(KindDisconnect)
	over.Name += "x"
	if _, err := s.Sign(over, Approve); err == nil {
		t.Errorf("a %d-byte name was signed", len(over.Name))
	}
}

func TestVerifyRefusesOtherSecret(t *testing.T) {
	t.Parallel()
	for _, req := range []Request{disconnectRequest(), sweepRequest()} {
		value, err := signer(t, otherSecret).Sign(req, Approve)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := signer(t, testSecret).Verify(value, testNow); !errors.Is(err, ErrInvalid) {
			t.Errorf("a value signed with another secret: err %v, want ErrInvalid", err)
		}
		// The same secret with one more character is another secret too.
		if _, _, err := signer(t, otherSecret+"x").Verify(value, testNow); !errors.Is(err, ErrInvalid) {
			t.Errorf("a value signed with a prefix of the secret: err %v, want ErrInvalid", err)
		}
	}
}

// TestVerifyRefusesAnyChangedByte changes every byte of the value, one at a
// time, to every other character (the whole base64url alphabet and some that
// are outside it), and every bit of the decoded bytes: all of them are
// refused.
func TestVerifyRefusesAnyChangedByte(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" + "=+/. \x00\xff"
	for _, req := range []Request{disconnectRequest(), sweepRequest()} {
		value, err := s.Sign(req, Approve)
		if err != nil {
			t.Fatal(err)
		}
		tried := 0
		for i := 0; i < len(value); i++ {
			for j := 0; j < len(alphabet); j++ {
				if alphabet[j] == value[i] {
					continue
				}
				changed := value[:i] + string(alphabet[j]) + value[i+1:]
				tried++
				if _, _, err := s.Verify(changed, testNow); err == nil {
					t.Fatalf("byte %d changed %q→%q was accepted", i, value[i], alphabet[j])
				}
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(value)
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			for bit := 0; bit < 8; bit++ {
				flipped := append([]byte(nil), raw...)
				flipped[i] ^= 1 << bit
				tried++
				if _, _, err := s.Verify(base64.RawURLEncoding.EncodeToString(flipped), testNow); err == nil {
					t.Fatalf("decoded byte %d with bit %d flipped was accepted", i, bit)
				}
			}
		}
		// Dropping or adding a byte anywhere is refused too.
		for i := 0; i < len(value); i++ {
			tried += 2
			if _, _, err := s.Verify(value[:i]+value[i+1:], testNow); err == nil {
				t.Fatalf("value without byte %d was accepted", i)
			}
			if _, _, err := s.Verify(value[:i]+"A"+value[i:], testNow); err == nil {
				t.Fatalf("value with a byte inserted at %d was accepted", i)
			}
		}
		t.Logf("%d changed values refused (value of %d characters)", tried, len(value))
	}
}

func TestVerifyRefusesUnsigned(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	valid, err := s.Sign(disconnectRequest(), Approve)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(valid)
	body := raw[:len(raw)-macLen]
	for name, value := range map[string]string{
		"empty":                 "",
		"picker button":         "v1:7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6:a1111111-1111-4111-8111-111111111111",
		"body without mac":      base64.RawURLEncoding.EncodeToString(body),
		"body with zero mac":    base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), body...), make([]byte, macLen)...)),
		"mac only":              base64.RawURLEncoding.EncodeToString(raw[len(raw)-macLen:]),
		"padded":                valid + "==",
		"standard base64":       base64.StdEncoding.EncodeToString(raw),
		"twice":                 valid + valid,
		"over the slack limit":  strings.Repeat("A", MaxValueLen+1),
		"sha256 of the body":    base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), body...), sha256Of(body)...)),
		"mac without domain":    base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), body...), macWithoutDomain(body)...)),
		"whitespace around it":  " " + valid + "\n",
		"upper-cased":           strings.ToUpper(valid),
		"value of another kind": "cancel",
	} {
		if _, _, err := s.Verify(value, testNow); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	req := disconnectRequest()
	value, err := s.Sign(req, Approve)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Verify(value, req.Expires.Add(-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	for _, at := range []time.Time{req.Expires, req.Expires.Add(time.Nanosecond), req.Expires.Add(24 * time.Hour)} {
		got, action, err := s.Verify(value, at)
		if !errors.Is(err, ErrExpired) {
			t.Errorf("at %s: err %v, want ErrExpired", at, err)
		}
		// The request still comes back, so the message can say since when.
		if got.ID != req.ID || !got.Expires.Equal(req.Expires) || action != Approve {
			t.Errorf("at %s: expired request %+v %v, want the signed one", at, got, action)
		}
	}
}

func TestSignRefusesBadFields(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	for _, tc := range []struct {
		name   string
		edit   func(*Request)
		action Action
	}{
		{"unknown action", func(*Request) {}, 9},
		{"no action", func(*Request) {}, 0},
		{"short id", func(r *Request) { r.ID = "abc" }, Approve},
		{"upper-case id", func(r *Request) { r.ID = "0123456789ABCDEF" }, Approve},
		{"no expiry", func(r *Request) { r.Expires = time.Time{} }, Approve},
		{"user is a name", func(r *Request) { r.UserID = "sam" }, Approve},
		{"user is a channel", func(r *Request) { r.UserID = "C0SUPPORT1" }, Approve},
		{"team missing", func(r *Request) { r.TeamID = "" }, Approve},
		{"channel is a name", func(r *Request) { r.ChannelID = "#support" }, Approve},
		{"conversation not a uuid", func(r *Request) { r.ConversationID = "../../users" }, Approve},
		{"upper-case participant", func(r *Request) { r.ParticipantID = strings.ToUpper(r.ParticipantID) }, Approve},
		{"purpose with markup", func(r *Request) { r.Purpose = "<!channel>" }, Approve},
		{"unknown kind", func(r *Request) { r.Kind = 7 }, Approve},
		{"negative count", func(r *Request) { *r = sweepRequest(); r.Sweep.Count = -1 }, Approve},
		{"fractional older-than", func(r *Request) { *r = sweepRequest(); r.Sweep.OlderThan = 1500 * time.Millisecond }, Approve},
		{"name not utf-8", func(r *Request) { r.Name = "Pat \xff" }, Approve},
		{"name too long", func(r *Request) { r.Name = strings.Repeat("x", MaxNameLen+1) }, Approve},
		{"queue not utf-8", func(r *Request) { *r = sweepRequest(); r.Sweep.Queue = "\xff" }, Approve},
		{"media with spaces", func(r *Request) { *r = sweepRequest(); r.Sweep.Media = "voice chat" }, Approve},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := disconnectRequest()
			tc.edit(&r)
			if v, err := s.Sign(r, tc.action); err == nil {
				t.Errorf("signed %q", v)
			}
		})
	}
}

func TestNewSigner(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", "short", strings.Repeat("x", MinSecretLen-1)} {
		if _, err := NewSigner(secret); err == nil {
			t.Errorf("NewSigner(%d bytes) accepted", len(secret))
		}
	}
	if _, err := NewSigner(strings.Repeat("x", MinSecretLen)); err != nil {
		t.Errorf("NewSigner(%d bytes): %v", MinSecretLen, err)
	}
}

func TestNewIDIsRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 16 || strings.ToLower(id) != id || seen[id] {
			t.Fatalf("NewID() = %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// Every action gets its own value: an Approve value is not a Deny value.
func TestActionsAreSigned(t *testing.T) {
	t.Parallel()
	s := signer(t, testSecret)
	values := map[string]Action{}
	for _, a := range []Action{Approve, Deny, Withdraw} {
		v, err := s.Sign(disconnectRequest(), a)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := values[v]; dup {
			t.Fatalf("two actions share the value %q", v)
		}
		values[v] = a
	}
	for v, want := range values {
		if _, got, err := s.Verify(v, testNow); err != nil || got != want {
			t.Errorf("Verify = %v, %v; want %v", got, err, want)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := signer(b, testSecret)
	value, err := s.Sign(worstCase(KindSweep), Approve)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(value)), "value-chars")
	for b.Loop() {
		if _, _, err := s.Verify(value, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
