package genesystest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// genericView decodes the generic GET into what the tests look at: per
// participant, the state of each session by media.
func genericView(t *testing.T, s *Server, tok, id string) map[string]map[string][]string {
	t.Helper()
	st, b, _ := do(t, s, tok, "GET", "/api/v2/conversations/"+id, "")
	if st != 200 {
		t.Fatalf("GET %s: %d %s", id, st, b)
	}
	var raw struct {
		Participants []map[string]json.RawMessage `json:"participants"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	arrays := map[string]string{"calls": MediaVoice, "callbacks": MediaCallback, "chats": MediaChat, "cobrowsesessions": MediaCobrowse, "emails": MediaEmail, "messages": MediaMessage, "screenshares": MediaScreenshare, "socialExpressions": MediaSocial, "videos": MediaVideo}
	for _, p := range raw.Participants {
		var id string
		_ = json.Unmarshal(p["id"], &id)
		out[id] = map[string][]string{}
		for key, m := range arrays {
			var items []struct {
				State string `json:"state"`
			}
			if err := json.Unmarshal(p[key], &items); err != nil {
				t.Fatalf("%s.%s: %v", id, key, err)
			}
			for _, it := range items {
				out[id][m] = append(out[id][m], it.State)
			}
		}
	}
	return out
}

func TestMediaFamilyPatch(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDisconnectDelay(0))
	tok := token(t, s)
	multi := multiMediaConversation(s)
	cust, agent := multi.Participants[0], multi.Participants[2]
	patch := func(family, pid string) (int, string) {
		t.Helper()
		path := "/api/v2/conversations/" + multi.ID + "/participants/" + pid
		if family != "" {
			path = "/api/v2/conversations/" + family + "/" + multi.ID + "/participants/" + pid
		}
		st, b, _ := do(t, s, tok, "PATCH", path, `{"state":"disconnected"}`)
		var e struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(b, &e)
		return st, e.Code
	}

	// The calls family ends the call only: the co-browse session stays up.
	if st, code := patch("calls", cust.ID); st != 202 {
		t.Fatalf("calls PATCH: %d %s", st, code)
	}
	v := genericView(t, s, tok, multi.ID)
	if diff := cmp.Diff(map[string][]string{MediaMessage: {"disconnected"}, MediaVoice: {"disconnected"}, MediaCobrowse: {"connected"}}, v[cust.ID]); diff != "" {
		t.Errorf("customer after calls PATCH (-want +got):\n%s", diff)
	}
	if p, _ := s.Conversation(multi.ID); p.Participants[0].Ended() {
		t.Error("the customer ended with a session still up")
	}
	// The same call again: gone, with the calls code.
	if st, code := patch("calls", cust.ID); st != 400 || code != "conversation.error.call.disconnected" {
		t.Errorf("second calls PATCH: %d %s", st, code)
	}
	// The messages family does not know the agent (no message session).
	if st, code := patch("messages", agent.ID); st != 404 || code != "not.found" {
		t.Errorf("messages PATCH of a voice agent: %d %s", st, code)
	}
	if st, code := patch("callbacks", agent.ID); st != 404 || code != "conversation.error.not.conversation.participant" {
		t.Errorf("callbacks PATCH of a voice agent: %d %s", st, code)
	}
	// The customer's message session ended long ago.
	if st, code := patch("messages", cust.ID); st != 400 || code != "conversation.error.participant.no.active.conversations" {
		t.Errorf("messages PATCH of an ended session: %d %s", st, code)
	}
	// The generic PATCH ends every session of the participant.
	if st, code := patch("", cust.ID); st != 202 {
		t.Fatalf("generic PATCH: %d %s", st, code)
	}
	v = genericView(t, s, tok, multi.ID)
	if got := v[cust.ID][MediaCobrowse]; len(got) != 1 || got[0] != "disconnected" {
		t.Errorf("co-browse after generic PATCH: %v", got)
	}
	// A non-voice participant already gone: the generic code for it.
	email := multi.Participants[4]
	if st, code := patch("", email.ID); st != 202 {
		t.Fatalf("generic PATCH of a parked e-mail: %d %s", st, code)
	}
	if st, code := patch("", email.ID); st != 400 || code != "conversation.error.participant.no.active.conversations" {
		t.Errorf("generic PATCH of an ended e-mail: %d %s", st, code)
	}
	if st, code := patch("emails", email.ID); st != 400 || code != "conversation.error.participant.no.active.conversations" {
		t.Errorf("emails PATCH of an ended e-mail: %d %s", st, code)
	}
}

func TestMediaFamilyGet(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDisconnectDelay(0))
	tok := token(t, s)
	wa := s.WhatsAppConversation()
	type fam struct {
		ID           string   `json:"id"`
		OtherMedia   []string `json:"otherMediaUris"`
		Participants []struct {
			ID    string `json:"id"`
			State string `json:"state"`
			Type  string `json:"type"`
		} `json:"participants"`
	}
	get := func(path string) (int, fam, string) {
		st, b, _ := do(t, s, tok, "GET", path, "")
		var f fam
		_ = json.Unmarshal(b, &f)
		var e struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(b, &e)
		return st, f, e.Code
	}
	st, f, _ := get("/api/v2/conversations/messages/" + wa.ID)
	if st != 200 || len(f.Participants) != 3 || f.Participants[0].Type != "whatsapp" || f.Participants[1].State != "disconnected" || f.Participants[2].State != "connected" {
		t.Errorf("messages GET: %d %+v", st, f)
	}
	// The calls family has no one on a call here, and points at the messages.
	st, f, _ = get("/api/v2/conversations/calls/" + wa.ID)
	if st != 200 || len(f.Participants) != 0 || len(f.OtherMedia) != 1 || f.OtherMedia[0] != "/api/v2/conversations/messages/"+wa.ID {
		t.Errorf("calls GET of a WhatsApp conversation: %d %+v", st, f)
	}
	for _, tc := range []struct{ segment, code string }{
		{"messages", "conversation.error.conversation.not.found"},
		{"emails", "conversation.error.conversation.not.found"},
		{"chats", "conversation.error.conversation.not.found"},
		{"callbacks", "not.found"},
	} {
		if st, _, code := get("/api/v2/conversations/" + tc.segment + "/" + newID()); st != 404 || code != tc.code {
			t.Errorf("%s GET of an unknown id: %d %s, want 404 %s", tc.segment, st, code, tc.code)
		}
	}
	if n := s.CountOp(OpGetMessage) + s.CountOp(OpGetCall) + s.CountOp(OpGetCallback) + s.CountOp(OpGetChat) + s.CountOp(OpGetEmail); n != 6 {
		t.Errorf("%d family GETs counted, want 6", n)
	}
}

func TestDuplicateLegCallback(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDisconnectDelay(0))
	c := s.DuplicateLegCallback()
	var live, ended int
	for _, p := range c.Participants {
		if p.Purpose != "agent" {
			continue
		}
		if p.Ended() {
			ended++
		} else {
			live++
			if !p.HasLive(MediaCallback) {
				t.Errorf("live agent leg %+v has no live callback", p)
			}
		}
	}
	if live != 1 || ended != 4 {
		t.Errorf("agent legs: %d live, %d ended; want 1 and 4", live, ended)
	}
}

func TestInjectDocumentedError(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithDisconnectDelay(0))
	tok := token(t, s)
	em := s.MediaConversation(MediaEmail, "")
	if err := s.InjectDocumentedError(OpPatchEmailParticipant, "postino.error.wrong.org", 1); err != nil {
		t.Fatal(err)
	}
	st, b, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/emails/"+em.ID+"/participants/"+em.Participants[2].ID, `{"state":"disconnected"}`)
	e := decodeErr(t, b)
	if st != 400 || e.Code != "postino.error.wrong.org" || e.Message != "Request organization is incorrect for this conversation." {
		t.Errorf("%d %+v", st, e)
	}
	// Once only: the next one goes through.
	st, _, _ = do(t, s, tok, "PATCH", "/api/v2/conversations/emails/"+em.ID+"/participants/"+em.Participants[2].ID, `{"state":"disconnected"}`)
	if st != 202 {
		t.Errorf("after the fault: %d", st)
	}
}

func TestAnalyticsMedia(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := token(t, s)
	voice := s.ThreePartyConference()
	wa := s.WhatsAppConversation()
	sms := s.MediaConversation(MediaMessage, "sms")
	cb := s.MediaConversation(MediaCallback, "")
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"agent, every media", `{"type":"and","predicates":[{"dimension":"userId","value":"` + wa.Participants[2].UserID + `"}]}`, []string{voice.ID, wa.ID, sms.ID, cb.ID}},
		{"messages only", `{"type":"and","predicates":[{"dimension":"mediaType","value":"message"}]}`, []string{wa.ID, sms.ID}},
		{"callbacks only", `{"type":"and","predicates":[{"dimension":"mediaType","value":"callback"}]}`, []string{cb.ID}},
		{"whatsapp number", `{"type":"or","predicates":[{"dimension":"addressFrom","value":"` + WhatsAppCustomerPhone + `"},{"dimension":"addressTo","value":"` + WhatsAppCustomerPhone + `"}]}`, []string{wa.ID}},
		{"sms platform", `{"type":"and","predicates":[{"dimension":"messageType","value":"sms"}]}`, []string{sms.ID}},
	}
	for _, tc := range tests {
		got := query(t, s, tok, inProgressQuery(`[`+tc.filter+`]`, "")).ids()
		if diff := cmp.Diff(sortedCopy(tc.want), sortedCopy(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
