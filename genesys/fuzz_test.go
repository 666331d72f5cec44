package genesys

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseSelector(f *testing.F) {
	for _, kind := range []SelectorKind{SelectParticipantID, SelectUserID, SelectUserEmail, SelectExternalContactID, SelectPhone, SelectPurpose, SelectID, "bogus"} {
		for _, v := range []string{uuidA, "jane@example.com", "+1 (317) 555-0123", "sip:+1317@x;user=phone", "customer", "<mailto:a@b.c|a@b.c>", "", "\x00", "é@é.é"} {
			f.Add(string(kind), v)
		}
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		sel, err := ParseSelector(SelectorKind(kind), value)
		if err != nil {
			if ErrorKind(err) != KindInput || UserMessage(err) == "" || len(UserMessage(err)) > 600 {
				t.Fatalf("bad error for %q/%q: %v", kind, value, err)
			}
			return
		}
		// Normalizing is idempotent.
		again, err := ParseSelector(sel.Kind, sel.Value)
		if err != nil || again != sel {
			t.Fatalf("re-parse of %#v: %#v, %v", sel, again, err)
		}
	})
}

func FuzzGuessSelector(f *testing.F) {
	for _, v := range []string{uuidA, "jane@example.com", "+1 (317) 555-0123", "tel:+13175550123", "agent", "<tel:+1|x>", "12", "sip:a@b", "<<>>", "   "} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		sel, err := GuessSelector(value)
		if err != nil {
			if ErrorKind(err) != KindInput || UserMessage(err) == "" {
				t.Fatalf("bad error for %q: %v", value, err)
			}
			return
		}
		again, err := ParseSelector(sel.Kind, sel.Value)
		if err != nil || again != sel {
			t.Fatalf("guess %q gave %#v which re-parses to %#v, %v", value, sel, again, err)
		}
	})
}

func FuzzDecodeConversation(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "generic-multicall.json")); err == nil {
		f.Add(b, false)
	}
	// Every medium, as the synthesized answers have it (the family answer
	// through the calls family's decoder, which every family shares).
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "conversations", "*.json"))
	for _, name := range fixtures {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, strings.HasPrefix(filepath.Base(name), "family-"))
		}
	}
	f.Add([]byte(`{"id":"x","participants":[{"id":"p","messages":[{"state":"connected","type":"whatsapp","toAddress":{"addressNormalized":"+1"}}],"videos":[{"state":"alerting","audioMuted":true}]}]}`), false)
	f.Add([]byte(`{"id":"x","participants":[{"id":"p","purpose":"agent","state":"connected","user":{"id":"u"}}]}`), true)
	f.Add([]byte(`{"id":"x","participants":[{"calls":[{},{"state":"DISCONNECTED","disconnectedTime":"2024-01-01T00:00:00Z"}]}]}`), false)
	f.Add([]byte(`{"id":"x","participants":null}`), true)
	f.Add([]byte(`<html>`), false)
	f.Add([]byte(`{"id":"x","startTime":12}`), false)
	f.Fuzz(func(t *testing.T, data []byte, calls bool) {
		fam := FamilyGeneric
		if calls {
			fam = FamilyCalls
		}
		conv, err := decodeConversation(fam, data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if conv.ID == "" || conv.Participants == nil {
			t.Fatalf("decoded %#v", conv)
		}
		for _, p := range conv.ActiveParticipants() {
			if p.State.Ended() || p.State == "" || !p.State.Live() {
				t.Fatalf("active participant in state %q", p.State)
			}
		}
		for _, p := range conv.Participants {
			if p.Label() == "" {
				t.Fatalf("participant %q has no label", p.ID)
			}
			if len(p.Communications) > 0 && p.Media == "" {
				t.Fatalf("participant %q with sessions has no medium", p.ID)
			}
		}
		_ = conv.MediaLabel()
		_ = conv.Ended()
	})
}

// decodeConversation runs a 200 answer with body data through the path
// getConversation takes once the answer is in: decodeSuccess, then
// conversationFrom.
func decodeConversation(fam EndpointFamily, data []byte) (*Conversation, error) {
	op := opGetConversation
	if fam == FamilyCalls {
		op = opGetCall
	}
	ok := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}}
	w := newWireConversation(fam)
	resp, err := decodeSuccess(apiRequest{op: op, method: http.MethodGet}, ok, data, w)
	if err != nil {
		return nil, err
	}
	return conversationFrom(op, resp, w)
}
