package genesystest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// loadSchema reads the Genesys schema the emulator's JSON is checked
// against (testdata/README.md says where it comes from). It is part of the
// repository: when it is missing the test fails rather than pass unchecked.
func loadSchema(t *testing.T) schemaDoc {
	t.Helper()
	p := filepath.Join("testdata", "openapi-subset.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the Genesys schema %s is missing: %v", p, err)
	}
	var doc schemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return doc
}

type schemaDoc struct {
	Definitions map[string]map[string]any `json:"definitions"`
}

// validator checks emulator JSON against swagger 2.0 definitions: every
// emitted property must be defined with a compatible type and enum value,
// recursively, and required properties must be present.
type validator struct {
	defs map[string]map[string]any
	errs []string
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) resolve(schema map[string]any) (map[string]any, string) {
	name := ""
	for range 10 {
		ref, ok := schema["$ref"].(string)
		if !ok {
			break
		}
		name = strings.TrimPrefix(ref, "#/definitions/")
		def, ok := v.defs[name]
		if !ok {
			return nil, name
		}
		schema = def
	}
	return schema, name
}

func (v *validator) check(path string, val any, schema map[string]any) {
	schema, name := v.resolve(schema)
	if schema == nil {
		v.fail(path, "definition %q missing from the schema", name)
		return
	}
	typ, _ := schema["type"].(string)
	props, hasProps := schema["properties"].(map[string]any)
	if typ == "" && hasProps {
		typ = "object"
	}
	if val == nil {
		v.fail(path, "null value (the emulator should omit it)")
		return
	}
	switch typ {
	case "object":
		obj, ok := val.(map[string]any)
		if !ok {
			v.fail(path, "want object, got %T", val)
			return
		}
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, present := obj[r.(string)]; !present {
					v.fail(path, "required property %q missing", r)
				}
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if hasProps {
				ps, ok := props[k].(map[string]any)
				if !ok {
					v.fail(path, "property %q is not in definition %s", k, name)
					continue
				}
				v.check(path+"."+k, obj[k], ps)
				continue
			}
			// A free-form object (attributes, messageParams).
			if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				v.check(path+"."+k, obj[k], ap)
			}
		}
	case "array":
		arr, ok := val.([]any)
		if !ok {
			v.fail(path, "want array, got %T", val)
			return
		}
		items, _ := schema["items"].(map[string]any)
		for i, it := range arr {
			if items != nil {
				v.check(fmt.Sprintf("%s[%d]", path, i), it, items)
			}
		}
	case "string":
		s, ok := val.(string)
		if !ok {
			v.fail(path, "want string, got %T", val)
			return
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				v.fail(path, "not a date-time: %q", s)
			}
		}
		if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, any(s)) {
			v.fail(path, "%q is not in the enum %v", s, enum)
		}
	case "integer":
		f, ok := val.(float64)
		if !ok || f != math.Trunc(f) {
			v.fail(path, "want integer, got %v", val)
		}
	case "number":
		if _, ok := val.(float64); !ok {
			v.fail(path, "want number, got %T", val)
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.fail(path, "want boolean, got %T", val)
		}
	case "":
		// Untyped: anything goes.
	default:
		v.fail(path, "unhandled schema type %q", typ)
	}
}

func TestResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSchema(t)

	s := newServer(t, WithDisconnectDelay(0))
	tok := token(t, s)
	conf := s.ThreePartyConference()
	jane, _ := s.User(conf.Participants[2].UserID)
	contact := s.AddConversation(Conversation{Participants: []Participant{
		{Name: "Known Caller", Purpose: "customer", ExternalContactID: newID(), Address: "tel:+15551230000", Held: true, Muted: true},
		{Name: "Parked", Purpose: "agent", UserID: jane.ID, State: "parked"},
	}})
	ended := s.ThreePartyConference()
	for _, p := range ended.Participants[2:] {
		do(t, s, tok, "PATCH", "/api/v2/conversations/"+ended.ID+"/participants/"+p.ID, `{"state":"disconnected"}`)
	}
	s.RateLimit(OpGetUser, 1, 3*time.Second)
	s.FailNext(OpGetCall, 1, 503)
	s.InjectFault(Fault{Op: OpGetConversation, Status: 409, Count: 1})
	s.DenyPermission(PermUserView)

	tests := []struct {
		name, method, path, body string
		status                   int
		def                      string
	}{
		{"conversation/409", "GET", "/api/v2/conversations/" + conf.ID, "", 409, "ErrorBody"},
		{"conversation", "GET", "/api/v2/conversations/" + conf.ID, "", 200, "Conversation"},
		{"conversation/contact", "GET", "/api/v2/conversations/" + contact.ID, "", 200, "Conversation"},
		{"conversation/ended", "GET", "/api/v2/conversations/" + ended.ID, "", 200, "Conversation"},
		{"call/503", "GET", "/api/v2/conversations/calls/" + conf.ID, "", 503, "ErrorBody"},
		{"call", "GET", "/api/v2/conversations/calls/" + conf.ID, "", 200, "CallConversation"},
		{"call/contact", "GET", "/api/v2/conversations/calls/" + contact.ID, "", 200, "CallConversation"},
		{"call/ended", "GET", "/api/v2/conversations/calls/" + ended.ID, "", 200, "CallConversation"},
		{"user/429", "GET", "/api/v2/users/" + jane.ID, "", 429, "ErrorBody"},
		{"user", "GET", "/api/v2/users/" + jane.ID, "", 200, "User"},
		{"search/403", "POST", "/api/v2/users/search", `{"query":[{"type":"EXACT","fields":["email"],"value":"x@example.com"}]}`, 403, "ErrorBody"},
		{"conversation/404", "GET", "/api/v2/conversations/" + newID(), "", 404, "ErrorBody"},
		{"participant/404", "PATCH", "/api/v2/conversations/" + conf.ID + "/participants/" + newID(), `{"state":"disconnected"}`, 404, "ErrorBody"},
		{"patch/bad-body", "PATCH", "/api/v2/conversations/" + conf.ID + "/participants/" + conf.Participants[0].ID, `{"state":"held"}`, 400, "ErrorBody"},
		{"patch/gone", "PATCH", "/api/v2/conversations/calls/" + conf.ID + "/participants/" + conf.Participants[1].ID, `{"state":"disconnected"}`, 400, "ErrorBody"},
		{"route/404", "GET", "/api/v2/nope", "", 404, "ErrorBody"},
		{"user/404", "GET", "/api/v2/users/" + newID(), "", 404, "ErrorBody"},
	}
	v := &validator{defs: doc.Definitions}
	for _, tc := range tests {
		status, body, _ := do(t, s, tok, tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (body %s)", tc.name, status, tc.status, body)
			continue
		}
		var val any
		if err := json.Unmarshal(body, &val); err != nil {
			t.Errorf("%s: not JSON: %v", tc.name, err)
			continue
		}
		v.check(tc.name+":"+tc.def, val, map[string]any{"$ref": "#/definitions/" + tc.def})
	}
	s.GrantPermission(PermUserView)
	for _, email := range []string{JaneDoeEmail, "nobody@example.com"} {
		status, body, _ := do(t, s, tok, "POST", "/api/v2/users/search", `{"query":[{"type":"EXACT","fields":["email"],"value":"`+email+`"}]}`)
		if status != 200 {
			t.Fatalf("search %s: status %d: %s", email, status, body)
		}
		var val any
		if err := json.Unmarshal(body, &val); err != nil {
			t.Fatal(err)
		}
		v.check("search:"+email, val, map[string]any{"$ref": "#/definitions/UsersSearchResponse"})
	}
	// 401 comes from the gateway before anything else.
	status, body, _ := do(t, s, "not-a-token", "GET", "/api/v2/conversations/"+conf.ID, "")
	if status != 401 {
		t.Fatalf("bad token: status %d", status)
	}
	var val any
	if err := json.Unmarshal(body, &val); err != nil {
		t.Fatal(err)
	}
	v.check("401:ErrorBody", val, map[string]any{"$ref": "#/definitions/ErrorBody"})

	for _, e := range v.errs {
		t.Error(e)
	}
}

// TestValidatorCatchesMismatches makes sure the schema check can fail.
func TestValidatorCatchesMismatches(t *testing.T) {
	t.Parallel()
	defs := map[string]map[string]any{
		"Thing": {
			"required": []any{"id"},
			"properties": map[string]any{
				"id":    map[string]any{"type": "string"},
				"n":     map[string]any{"type": "integer"},
				"state": map[string]any{"type": "string", "enum": []any{"a", "b"}},
				"when":  map[string]any{"type": "string", "format": "date-time"},
				"kids":  map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/Thing"}},
			},
		},
	}
	tests := []struct {
		name string
		json string
		errs int
	}{
		{"ok", `{"id":"x","n":3,"state":"a","when":"2024-01-02T03:04:05.000Z","kids":[{"id":"y"}]}`, 0},
		{"unknown property", `{"id":"x","bogus":1}`, 1},
		{"missing required", `{"n":1}`, 1},
		{"wrong type", `{"id":1}`, 1},
		{"not integer", `{"id":"x","n":1.5}`, 1},
		{"bad enum", `{"id":"x","state":"c"}`, 1},
		{"bad time", `{"id":"x","when":"yesterday"}`, 1},
		{"nested", `{"id":"x","kids":[{"id":"y","bogus":true}]}`, 1},
		{"null", `{"id":null}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var val any
			if err := json.Unmarshal([]byte(tc.json), &val); err != nil {
				t.Fatal(err)
			}
			v := &validator{defs: defs}
			v.check("$", val, map[string]any{"$ref": "#/definitions/Thing"})
			if len(v.errs) != tc.errs {
				t.Errorf("got %d errors %q, want %d", len(v.errs), v.errs, tc.errs)
			}
		})
	}
}

// TestAnalyticsResponsesMatchOpenAPI checks the analytics details query
// against AnalyticsConversationQueryResponse. The queue listing
// (GET /api/v2/routing/queues, QueueEntityListing) is not in
// openapi-subset.json, so its shape is only checked by the client tests.
func TestAnalyticsResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSchema(t)
	s := newServer(t, WithDisconnectDelay(0), WithAnalyticsLag(time.Hour))
	tok := token(t, s)
	conf := s.ThreePartyConference()
	s.AddConversation(Conversation{Participants: []Participant{
		{Name: "Known Caller", Purpose: "customer", ExternalContactID: newID(), ANI: "+15551230000", Held: true},
		{Name: "Transferred", Purpose: "agent", UserID: newID(), State: "disconnected", DisconnectType: "transfer.consult"},
		{Name: "IVR", Purpose: "ivr", State: "terminated"},
	}})
	ended := s.ThreePartyConference()
	s.EndConversation(ended.ID) // still in progress for analytics (lag)
	day := time.Now().UTC().Format("2006-01-02")
	all := `{"interval":"` + day + `T00:00:00.000Z/` + time.Now().UTC().Add(time.Minute).Format(time.RFC3339) + `","order":"desc","orderBy":"conversationStart","paging":{"pageSize":25,"pageNumber":1}}`
	inProgress := `{"interval":"` + day + `T00:00:00Z/` + day + `T23:59:59Z","conversationFilters":[{"type":"and","predicates":[{"type":"dimension","dimension":"conversationEnd","operator":"notExists"}]}],"segmentFilters":[{"type":"and","predicates":[{"dimension":"userId","value":"` + conf.Participants[2].UserID + `"}]}]}`
	none := `{"interval":"2001-01-01T00:00:00Z/2001-01-02T00:00:00Z"}`

	v := &validator{defs: doc.Definitions}
	check := func(name, body string, status int, def string) {
		t.Helper()
		got, b, _ := do(t, s, tok, "POST", "/api/v2/analytics/conversations/details/query", body)
		if got != status {
			t.Errorf("%s: status %d, want %d (body %s)", name, got, status, b)
			return
		}
		var val any
		if err := json.Unmarshal(b, &val); err != nil {
			t.Errorf("%s: not JSON: %v", name, err)
			return
		}
		v.check(name+":"+def, val, map[string]any{"$ref": "#/definitions/" + def})
		if def == "AnalyticsConversationQueryResponse" && name == "all" {
			if n := len(val.(map[string]any)["conversations"].([]any)); n != 3 {
				t.Errorf("all: %d conversations, want 3", n)
			}
		}
	}
	check("all", all, 200, "AnalyticsConversationQueryResponse")
	check("in-progress", inProgress, 200, "AnalyticsConversationQueryResponse")
	check("none", none, 200, "AnalyticsConversationQueryResponse")
	check("no-interval", `{"paging":{"pageSize":25,"pageNumber":1}}`, 400, "ErrorBody")
	check("bad-interval", `{"interval":"yesterday/today"}`, 400, "ErrorBody")
	s.DenyPermission(PermAnalyticsConversationView)
	check("denied", all, 403, "ErrorBody")
	// The ended call after the lag: conversationEnd and segmentEnd appear.
	s.GrantPermission(PermAnalyticsConversationView)
	s.SetAnalyticsLag(0)
	check("ended", all, 200, "AnalyticsConversationQueryResponse")
	for _, e := range v.errs {
		t.Error(e)
	}
}
