package genesystest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loadSchemaDoc reads the whole schema data (paths too, not only the
// definitions loadSchema keeps).
func loadSchemaDoc(t *testing.T) map[string]any {
	t.Helper()
	p := filepath.Join("testdata", "openapi-subset.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the Genesys schema %s is missing: %v", p, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return doc
}

// multiMediaConversation is a voice call and a WhatsApp conversation in
// one: the customer is on both, the agent on the call with a co-browse
// session, a second agent on the messages.
func multiMediaConversation(s *Server) Conversation {
	janeID, queueID := s.jane()
	start := time.Now().UTC().Add(-6 * time.Minute)
	return s.AddConversation(Conversation{StartTime: start, Participants: []Participant{
		{Name: CustomerName, Purpose: "customer", Address: "tel:" + CustomerPhone, ANI: "tel:" + CustomerPhone, DNIS: "tel:" + OrgPhone, Communications: []Communication{
			{Media: MediaMessage, MessageType: "whatsapp", FromAddress: CustomerPhone, ToAddress: WhatsAppOrgNumber, State: "disconnected", DisconnectType: "transfer"},
			{Media: MediaVoice, Held: true, Muted: true},
			{Media: MediaCobrowse},
		}},
		{Name: QueueName, Purpose: "acd", QueueID: queueID, QueueName: QueueName, State: "disconnected", DisconnectType: "transfer", EndTime: start.Add(30 * time.Second), Communications: []Communication{{Media: MediaMessage, MessageType: "whatsapp"}}},
		{Name: JaneDoeName, Purpose: "agent", UserID: janeID, QueueID: queueID, Communications: []Communication{
			{Media: MediaVoice}, {Media: MediaCobrowse}, {Media: MediaScreenshare},
		}},
		{Name: "Video Agent", Purpose: "agent", UserID: newID(), Communications: []Communication{{Media: MediaVideo, Muted: true}, {Media: MediaSocial, Held: true}, {Media: MediaChat}}},
		{Name: "Email Agent", Purpose: "agent", UserID: newID(), State: "parked", Communications: []Communication{{Media: MediaEmail, Subject: "Re: order"}}},
	}})
}

// TestMediaResponsesMatchOpenAPI checks every media the emulator holds,
// through the generic and the family endpoints, against the schema data.
func TestMediaResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	v := &validator{defs: loadSchema(t).Definitions}
	s := newServer(t, WithDisconnectDelay(0))
	tok := token(t, s)

	convs := map[string]Conversation{
		"voice":         s.ThreePartyConference(),
		"callback":      s.MediaConversation(MediaCallback, ""),
		"callback-dup":  s.DuplicateLegCallback(),
		"chat":          s.MediaConversation(MediaChat, ""),
		"email":         s.MediaConversation(MediaEmail, ""),
		"whatsapp":      s.MediaConversation(MediaMessage, "whatsapp"),
		"sms":           s.MediaConversation(MediaMessage, "sms"),
		"webmessaging":  s.MediaConversation(MediaMessage, "webmessaging"),
		"msg-novel":     s.MediaConversation(MediaMessage, "carrier-pigeon"),
		"cobrowse":      s.MediaConversation(MediaCobrowse, ""),
		"screenshare":   s.MediaConversation(MediaScreenshare, ""),
		"video":         s.MediaConversation(MediaVideo, ""),
		"social":        s.MediaConversation(MediaSocial, ""),
		"multi":         multiMediaConversation(s),
		"message-ended": s.MediaConversation(MediaMessage, "sms"),
	}
	ended := convs["message-ended"]
	s.EndConversation(ended.ID)

	check := func(name string, status int, body []byte, wantStatus int, def string) {
		t.Helper()
		if status != wantStatus {
			t.Errorf("%s: status %d, want %d (body %s)", name, status, wantStatus, body)
			return
		}
		var val any
		if err := json.Unmarshal(body, &val); err != nil {
			t.Errorf("%s: not JSON: %v", name, err)
			return
		}
		v.check(name+":"+def, val, map[string]any{"$ref": "#/definitions/" + def})
	}
	for name, c := range convs {
		st, b, _ := do(t, s, tok, "GET", "/api/v2/conversations/"+c.ID, "")
		check(name+"/generic", st, b, 200, "Conversation")
		for _, f := range families {
			st, b, _ := do(t, s, tok, "GET", "/api/v2/conversations/"+f.segment+"/"+c.ID, "")
			check(name+"/"+f.segment, st, b, 200, f.wireName)
		}
	}
	// Errors of the family endpoints.
	wa := convs["whatsapp"]
	for _, f := range families {
		st, b, _ := do(t, s, tok, "GET", "/api/v2/conversations/"+f.segment+"/"+newID(), "")
		check(f.segment+"/404", st, b, 404, "ErrorBody")
		st, b, _ = do(t, s, tok, "PATCH", "/api/v2/conversations/"+f.segment+"/"+wa.ID+"/participants/"+newID(), `{"state":"disconnected"}`)
		check(f.segment+"/patch-404", st, b, 404, "ErrorBody")
		for code := range documentedErrors[f.patchOp] {
			if err := s.InjectDocumentedError(f.patchOp, code, 1); err != nil {
				t.Fatal(err)
			}
			st, b, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/"+f.segment+"/"+wa.ID+"/participants/"+wa.Participants[0].ID, `{"state":"disconnected"}`)
			check(f.segment+"/"+code, st, b, documentedErrors[f.patchOp][code].Status, "ErrorBody")
		}
	}
	st, b, _ := do(t, s, tok, "PATCH", "/api/v2/conversations/messages/"+wa.ID+"/participants/"+wa.Participants[1].ID, `{"state":"disconnected"}`)
	check("messages/gone", st, b, 400, "ErrorBody")

	// Analytics sees every media.
	day := time.Now().UTC().Format("2006-01-02")
	all := `{"interval":"` + day + `T00:00:00.000Z/` + time.Now().UTC().Add(time.Minute).Format(time.RFC3339) + `","paging":{"pageSize":100,"pageNumber":1}}`
	st, b, _ = do(t, s, tok, "POST", "/api/v2/analytics/conversations/details/query", all)
	check("analytics/all-media", st, b, 200, "AnalyticsConversationQueryResponse")

	for _, e := range v.errs {
		t.Error(e)
	}
}

// TestDocumentedErrorsMatchSchema makes sure the emulator's table of
// operation-specific error codes is the schema data's x-inin-error-codes.
func TestDocumentedErrorsMatchSchema(t *testing.T) {
	t.Parallel()
	paths := loadSchemaDoc(t)["paths"].(map[string]any)
	standard := map[string]bool{}
	for _, c := range []string{"bad.request", "invalid.date", "invalid.value", "authentication.required", "bad.credentials", "missing.permissions", "not.authorized", "missing.any.permissions", "not.found", "unsupported.media.type", "too.many.requests", "internal.server.error", "service.unavailable", "authentication.request.timeout", "request.timeout", "general.bad.request", "general.conflict", "invalid.update.wrong.version"} {
		standard[c] = true
	}
	ops := map[string][2]string{
		OpPatchParticipant:         {"patch", "/api/v2/conversations/{conversationId}/participants/{participantId}"},
		OpPatchCallParticipant:     {"patch", "/api/v2/conversations/calls/{conversationId}/participants/{participantId}"},
		OpPatchCallbackParticipant: {"patch", "/api/v2/conversations/callbacks/{conversationId}/participants/{participantId}"},
		OpPatchChatParticipant:     {"patch", "/api/v2/conversations/chats/{conversationId}/participants/{participantId}"},
		OpPatchEmailParticipant:    {"patch", "/api/v2/conversations/emails/{conversationId}/participants/{participantId}"},
		OpPatchMessageParticipant:  {"patch", "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"},
		OpGetCall:                  {"get", "/api/v2/conversations/calls/{conversationId}"},
		OpGetCallback:              {"get", "/api/v2/conversations/callbacks/{conversationId}"},
		OpGetChat:                  {"get", "/api/v2/conversations/chats/{conversationId}"},
		OpGetEmail:                 {"get", "/api/v2/conversations/emails/{conversationId}"},
		OpGetMessage:               {"get", "/api/v2/conversations/messages/{conversationId}"},
	}
	if len(ops) != len(documentedErrors) {
		t.Errorf("table has %d operations, test knows %d", len(documentedErrors), len(ops))
	}
	for op, mp := range ops {
		path, ok := paths[mp[1]].(map[string]any)
		if !ok {
			t.Errorf("%s: %s not in the schema", op, mp[1])
			continue
		}
		want := map[string]DocumentedError{}
		for status, r := range path[mp[0]].(map[string]any)["responses"].(map[string]any) {
			codes, _ := r.(map[string]any)["x-inin-error-codes"].(map[string]any)
			for code, msg := range codes {
				if !standard[code] {
					n, _ := strconv.Atoi(status)
					want[code] = DocumentedError{Status: n, Message: msg.(string)}
				}
			}
		}
		if diff := cmp.Diff(want, DocumentedErrors(op)); diff != "" {
			t.Errorf("%s (-schema +emulator):\n%s", op, diff)
		}
	}
	s := newServer(t)
	if err := s.InjectDocumentedError(OpPatchMessageParticipant, "not.a.user", 1); err == nil {
		t.Error("an undocumented code was accepted")
	}
}
