package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

func macWithoutDomain(body []byte) []byte {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	return m.Sum(nil)
}

// FuzzVerify: no input panics, and an accepted value is exactly what Sign
// makes of the request it decodes to.
func FuzzVerify(f *testing.F) {
	s := signer(f, testSecret)
	for _, r := range []Request{disconnectRequest(), sweepRequest(), worstCase(KindDisconnect), worstCase(KindSweep)} {
		for _, a := range []Action{Approve, Deny, Withdraw} {
			v, err := s.Sign(r, a)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(v)
		}
	}
	f.Add("")
	f.Add("v1:7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6:a1111111-1111-4111-8111-111111111111")
	f.Fuzz(func(t *testing.T, value string) {
		r, a, err := s.Verify(value, testNow)
		if err != nil {
			return
		}
		again, err := s.Sign(r, a)
		if err != nil || again != value {
			t.Fatalf("accepted %q, but it signs back as %q (%v)", value, again, err)
		}
	})
}

// FuzzUnmarshal exercises the field decoder directly, without the MAC in
// front of it: no input panics, and whatever it accepts is canonical.
func FuzzUnmarshal(f *testing.F) {
	for _, r := range []Request{disconnectRequest(), sweepRequest(), worstCase(KindDisconnect), worstCase(KindSweep)} {
		b, err := marshal(r, Approve)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{Version, byte(Approve), byte(KindSweep)})
	f.Fuzz(func(t *testing.T, body []byte) {
		r, a, err := unmarshal(body)
		if err != nil {
			return
		}
		again, err := marshal(r, a)
		if err != nil || string(again) != string(body) {
			t.Fatalf("accepted %x, but it marshals back as %x (%v)", body, again, err)
		}
	})
}
