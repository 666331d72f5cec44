package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// The handler's decisions, table-driven over in-memory fakes (mock_test.go):
// no socket, no HTTP, no sleeping. What only a real socket can show (acks,
// redelivery, replicas, dropped connections) is in the e2e tests.

const (
	hConv     = "c0ffee00-0000-4000-8000-000000000001"
	hConv2    = "c0ffee00-0000-4000-8000-000000000002"
	hAgent    = "a9e00000-0000-4000-8000-000000000001"
	hCustomer = "c5700000-0000-4000-8000-000000000001"
	hUserID   = "05e00000-0000-4000-8000-000000000001"
	hActor    = "U0SUPER001"
	hChannel  = "C0SUPPORT1"
	hURL      = "https://hooks.slack.com/actions/T0/1/abc"
)

var hStart = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func liveCall(id string) *genesys.Conversation {
	return &genesys.Conversation{ID: id, MediaType: "voice", StartTime: hStart, Participants: []genesys.Participant{
		{ID: hAgent, Name: "Jane Doe", Purpose: "agent", UserID: hUserID, State: genesys.StateConnected},
		{ID: hCustomer, Name: "Carl Customer", Purpose: "customer", Address: "tel:+13175550123", State: genesys.StateConnected},
	}}
}

func endedCall(id string) *genesys.Conversation {
	c := liveCall(id)
	for i := range c.Participants {
		c.Participants[i].State = genesys.StateDisconnected
	}
	return c
}

func callWithGoneAgent() *genesys.Conversation {
	c := liveCall(hConv)
	c.Participants[0].State = genesys.StateDisconnected
	return c
}

func getConv(c *genesys.Conversation, err error) func(context.Context, string) (*genesys.Conversation, error) {
	return func(context.Context, string) (*genesys.Conversation, error) { return c, err }
}

func allow(context.Context, authz.Request) authz.Decision {
	return authz.Decision{Allowed: true, Rule: "user:" + hActor}
}
func deny(context.Context, authz.Request) authz.Decision {
	return authz.Decision{Reason: authz.ReasonNotInAllowList}
}

var (
	notFound    = &genesys.APIError{Operation: "getConversation", Status: 404, Code: "not.found", CorrelationID: "corr-404"}
	unavailable = &genesys.APIError{Operation: "getConversation", Status: 503, CorrelationID: "corr-503"}
	forbidden   = &genesys.APIError{Operation: "patchParticipant", Status: 403, Code: "missing.permissions", CorrelationID: "corr-403"}
	gatewayLost = &genesys.APIError{Operation: "patchParticipant", Status: 504, CorrelationID: "corr-504"}
)

// fixture is one handler over fresh fakes.
type fixture struct {
	genesys *mockGenesys
	authz   *mockAuthorizer
	slack   *mockResponder
	finder  *mockFinder // nil: find not enabled
	users   *mockSlackUsers
	metrics *mockMetrics
	logs    *strings.Builder
	h       *handler
}

func newFixture(find bool) *fixture {
	f := &fixture{
		genesys: &mockGenesys{}, authz: &mockAuthorizer{AuthorizeFn: allow}, slack: &mockResponder{},
		users: &mockSlackUsers{}, metrics: &mockMetrics{}, logs: &strings.Builder{},
	}
	f.h = &handler{
		Genesys: f.genesys, Authz: f.authz, Slack: f.slack, Metrics: f.metrics,
		Log: slog.New(slog.NewJSONHandler(f.logs, nil)),
		Now: func() time.Time { return hStart.Add(5 * time.Minute) },
	}
	if find {
		f.finder = &mockFinder{}
		f.h.Finder, f.h.SlackUsers = f.finder, f.users
	}
	return f
}

// auditLine is the part of the audit line the tests compare.
type auditLine struct {
	Action        string `json:"action"`
	Outcome       string `json:"outcome"`
	Reason        string `json:"reason"`
	Conversation  string `json:"conversation_id"`
	Participant   string `json:"participant_id"`
	Purpose       string `json:"purpose"`
	GenesysStatus int    `json:"genesys_status"`
	CorrelationID string `json:"correlation_id"`
	SlackUser     string `json:"slack_user"`
}

func (f *fixture) audits(t *testing.T) []auditLine {
	t.Helper()
	var out []auditLine
	for line := range strings.SplitSeq(f.logs.String(), "\n") {
		var raw map[string]any
		if json.Unmarshal([]byte(line), &raw) != nil || raw["msg"] != "audit" {
			continue
		}
		var a auditLine
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// firstReply is the text of the first private answer.
func (f *fixture) firstReply() (sent, bool) {
	for _, s := range f.slack.messages() {
		if s.kind == "respond" && !s.opts.InChannel {
			return s, true
		}
	}
	return sent{}, false
}

func (f *fixture) posts() []string {
	var out []string
	for _, s := range f.slack.messages() {
		if s.kind == "post" {
			out = append(out, s.msg.Text)
		}
	}
	return out
}

func allText(m message) string {
	b, _ := json.Marshal(m.Blocks)
	return m.Text + "\n" + string(b)
}

func TestHandlerSlash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		text      string
		find      bool
		setup     func(f *fixture)
		want      auditLine
		wantReply string // a substring of the first private answer
		metrics   map[string]int
	}{
		{name: "bad input", text: "not-a-thing!!",
			want:    auditLine{Action: "command", Outcome: "bad_input", Reason: parseError("not-a-thing!!")},
			metrics: map[string]int{"command:bad_input": 1}},
		{name: "help", text: "help", wantReply: "/disconnect",
			want:    auditLine{Action: "command", Outcome: "help"},
			metrics: map[string]int{"command:help": 1}},
		{name: "denied", text: hConv, setup: func(f *fixture) { f.authz.AuthorizeFn = deny },
			want:    auditLine{Action: "command", Outcome: "denied", Reason: authz.ReasonNotInAllowList},
			metrics: map[string]int{"command:denied": 1, "denied:" + authz.ReasonNotInAllowList: 1}},
		{name: "not found", text: hConv, setup: func(f *fixture) { f.genesys.GetConversationFn = getConv(nil, notFound) },
			want:      auditLine{Action: "command", Outcome: "genesys_error", Reason: genesys.UserMessage(notFound), Conversation: hConv, GenesysStatus: 404, CorrelationID: "corr-404"},
			wantReply: "corr-404",
			metrics:   map[string]int{"command:genesys_error": 1}},
		{name: "genesys unavailable", text: hConv, setup: func(f *fixture) { f.genesys.GetConversationFn = getConv(nil, unavailable) },
			want:    auditLine{Action: "command", Outcome: "genesys_error", Reason: genesys.UserMessage(unavailable), Conversation: hConv, GenesysStatus: 503, CorrelationID: "corr-503"},
			metrics: map[string]int{"command:genesys_error": 1}},
		{name: "ended", text: hConv, setup: func(f *fixture) { f.genesys.GetConversationFn = getConv(endedCall(hConv), nil) },
			want:      auditLine{Action: "command", Outcome: "conversation_ended", Conversation: hConv, GenesysStatus: 200},
			wantReply: "has ended"},
		{name: "no match", text: hConv + " agent", setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
			f.genesys.IdentifyFn = func(context.Context, *genesys.Conversation, genesys.Selector) ([]genesys.Participant, error) {
				return nil, nil
			}
		}, want: auditLine{Action: "command", Outcome: "no_match", Conversation: hConv, GenesysStatus: 200}},
		{name: "picker shown", text: hConv, setup: func(f *fixture) { f.genesys.GetConversationFn = getConv(liveCall(hConv), nil) },
			want:      auditLine{Action: "command", Outcome: "picker_shown", Conversation: hConv, GenesysStatus: 200},
			wantReply: encodeButtonValue(buttonValue{hConv, hAgent}),
			metrics:   map[string]int{"command:picker_shown": 1}},
		{name: "picker of one names the participant", text: hConv + " customer", setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
			f.genesys.IdentifyFn = func(_ context.Context, c *genesys.Conversation, _ genesys.Selector) ([]genesys.Participant, error) {
				return c.Participants[1:], nil
			}
		}, want: auditLine{Action: "command", Outcome: "picker_shown", Conversation: hConv, Participant: hCustomer, Purpose: "customer", GenesysStatus: 200}},
		{name: "identify fails", text: hConv + " agent", setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
			f.genesys.IdentifyFn = func(context.Context, *genesys.Conversation, genesys.Selector) ([]genesys.Participant, error) {
				return nil, unavailable
			}
		}, want: auditLine{Action: "command", Outcome: "genesys_error", Reason: genesys.UserMessage(unavailable), Conversation: hConv, GenesysStatus: 503, CorrelationID: "corr-503"}},
		// A Genesys message may quote what the user typed: it reaches Slack escaped.
		{name: "identify refuses with the input quoted", text: hConv + " agent", setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
			f.genesys.IdentifyFn = func(context.Context, *genesys.Conversation, genesys.Selector) ([]genesys.Participant, error) {
				return nil, &genesys.InputError{Field: "selector", Message: `"<!channel>" is not a phone number`}
			}
		}, want: auditLine{Action: "command", Outcome: "genesys_error", Reason: `"<!channel>" is not a phone number`, Conversation: hConv},
			wantReply: `"&lt;!channel&gt;" is not a phone number`},
		{name: "find not enabled", text: "jane@example.com",
			want:    auditLine{Action: "command", Outcome: "bad_input", Reason: "find_not_enabled"},
			metrics: map[string]int{"command:bad_input": 1}},
		{name: "find: user id instead of a conversation", text: hUserID, find: true, setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(nil, notFound)
			f.finder.GetUserFn = func(context.Context, string) (*genesys.User, error) {
				return &genesys.User{ID: hUserID, Name: "Jane Doe", Email: "jane@example.com"}, nil
			}
			f.finder.FindConversationsFn = func(context.Context, genesys.ConversationFilter) (genesys.FindResult, error) {
				return genesys.FindResult{}, nil
			}
			f.finder.LiveConversationsFn = func(context.Context, genesys.ConversationFilter, []genesys.ConversationSummary, int) (genesys.LiveResult, error) {
				return genesys.LiveResult{}, nil
			}
		}, want: auditLine{Action: "command", Outcome: "find_none", Reason: "agent Jane Doe (jane@example.com)"}},
		{name: "find: one call shows its participants", text: "jane@example.com", find: true, setup: func(f *fixture) {
			f.finder.FindUserByEmailFn = func(context.Context, string) (*genesys.User, error) {
				return &genesys.User{ID: hUserID, Name: "Jane Doe", Email: "jane@example.com"}, nil
			}
			f.finder.FindConversationsFn = func(context.Context, genesys.ConversationFilter) (genesys.FindResult, error) {
				return genesys.FindResult{Total: 1, Conversations: []genesys.ConversationSummary{{ID: hConv}}}, nil
			}
			f.finder.LiveConversationsFn = func(context.Context, genesys.ConversationFilter, []genesys.ConversationSummary, int) (genesys.LiveResult, error) {
				return genesys.LiveResult{Conversations: []*genesys.Conversation{liveCall(hConv)}}, nil
			}
		}, want: auditLine{Action: "command", Outcome: "picker_shown", Conversation: hConv}},
		{name: "find: several calls", text: "queue:Support", find: true, setup: func(f *fixture) {
			f.finder.ResolveQueueFn = func(context.Context, string) (genesys.Queue, error) {
				return genesys.Queue{ID: hConv2, Name: "Support"}, nil
			}
			f.finder.FindConversationsFn = func(context.Context, genesys.ConversationFilter) (genesys.FindResult, error) {
				return genesys.FindResult{Total: 2}, nil
			}
			f.finder.LiveConversationsFn = func(context.Context, genesys.ConversationFilter, []genesys.ConversationSummary, int) (genesys.LiveResult, error) {
				return genesys.LiveResult{Conversations: []*genesys.Conversation{liveCall(hConv), liveCall(hConv2)}}, nil
			}
		}, want: auditLine{Action: "command", Outcome: "find_picker_shown", Reason: "queue Support"},
			wantReply: encodeConversationButton(hConv2, "")},
		{name: "find: media: narrows the search", text: "jane@example.com media:message", find: true, setup: func(f *fixture) {
			f.finder.FindUserByEmailFn = func(context.Context, string) (*genesys.User, error) {
				return &genesys.User{ID: hUserID, Name: "Jane Doe", Email: "jane@example.com"}, nil
			}
			f.finder.FindConversationsFn = func(_ context.Context, flt genesys.ConversationFilter) (genesys.FindResult, error) {
				if flt.Media != genesys.MediaMessage || flt.UserID != hUserID {
					return genesys.FindResult{}, fmt.Errorf("filter %+v", flt)
				}
				return genesys.FindResult{}, nil
			}
			f.finder.LiveConversationsFn = func(context.Context, genesys.ConversationFilter, []genesys.ConversationSummary, int) (genesys.LiveResult, error) {
				return genesys.LiveResult{}, nil
			}
		}, want: auditLine{Action: "command", Outcome: "find_none", Reason: "agent Jane Doe (jane@example.com) (messages only)"},
			wantReply: "analytics for messages that have not ended"},
		{name: "find: unknown e-mail", text: "nobody@example.com", find: true, setup: func(f *fixture) {
			f.finder.FindUserByEmailFn = func(context.Context, string) (*genesys.User, error) { return nil, genesys.ErrUserNotFound }
		}, want: auditLine{Action: "command", Outcome: "find_no_user", Reason: "user_not_found"},
			wantReply: "No Genesys user has the e-mail address"},
		{name: "find: mention without e-mail", text: "<@U0NOMAIL01>", find: true, setup: func(f *fixture) {
			f.users.UserEmailFn = func(context.Context, string) (string, error) { return "", errNoSlackEmail }
		}, want: auditLine{Action: "command", Outcome: "bad_input", Reason: "mention_without_email"}},
		{name: "find: analytics fails", text: "+13175550123", find: true, setup: func(f *fixture) {
			f.finder.NormalizePhoneFn = func(string) (string, error) { return "+13175550123", nil }
			f.finder.FindConversationsFn = func(context.Context, genesys.ConversationFilter) (genesys.FindResult, error) {
				return genesys.FindResult{}, unavailable
			}
		}, want: auditLine{Action: "command", Outcome: "genesys_error", Reason: genesys.UserMessage(unavailable), GenesysStatus: 503, CorrelationID: "corr-503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(tt.find)
			if tt.setup != nil {
				tt.setup(f)
			}
			f.h.HandleSlash(context.Background(), slashRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: hActor, Text: tt.text, ResponseURL: hURL, TriggerID: "trig-1"})
			tt.want.SlackUser = hActor
			checkOneAudit(t, f, tt.want)
			reply, ok := f.firstReply()
			if !ok {
				t.Fatal("the user got no answer")
			}
			if tt.wantReply != "" && !strings.Contains(allText(reply.msg), tt.wantReply) {
				t.Errorf("answer %q does not contain %q", allText(reply.msg), tt.wantReply)
			}
			checkMetrics(t, f, tt.metrics)
		})
	}
}

func parseError(text string) string {
	_, err := parseCommand(text)
	return err.Error()
}

func checkOneAudit(t *testing.T, f *fixture, want auditLine) {
	t.Helper()
	got := f.audits(t)
	if len(got) != 1 {
		t.Fatalf("%d audit lines, want 1:\n%s", len(got), f.logs)
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("audit line (-want +got):\n%s", diff)
	}
}

func checkMetrics(t *testing.T, f *fixture, want map[string]int) {
	t.Helper()
	got := f.metrics.snapshot()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("metric %s = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func disconnectOK(corr string) func(context.Context, string, string) (genesys.DisconnectResult, error) {
	return func(context.Context, string, string) (genesys.DisconnectResult, error) {
		return genesys.DisconnectResult{Outcome: genesys.DisconnectAccepted, CorrelationID: corr}, nil
	}
}

func disconnectErr(err error) func(context.Context, string, string) (genesys.DisconnectResult, error) {
	return func(context.Context, string, string) (genesys.DisconnectResult, error) {
		return genesys.DisconnectResult{}, err
	}
}

func confirmed(ok bool) func(context.Context, string, string) (genesys.Confirmation, error) {
	return func(context.Context, string, string) (genesys.Confirmation, error) {
		return genesys.Confirmation{Confirmed: ok}, nil
	}
}

func TestHandlerClick(t *testing.T) {
	t.Parallel()
	agentButton := encodeButtonValue(buttonValue{hConv, hAgent})
	disconnectClick := clickRequest{ActionID: actionDisconnect + ":0", Value: agentButton}
	liveAndPatch := func(f *fixture) {
		f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
	}
	tests := []struct {
		name      string
		click     clickRequest
		setup     func(f *fixture)
		want      auditLine
		wantReply string // a substring of the last private answer
		wantPosts int    // messages posted in channels
		metrics   map[string]int
	}{
		{name: "confirmed", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectOK("corr-202")
			f.genesys.ConfirmDisconnectFn = confirmed(true)
		}, want: auditLine{Action: "click", Outcome: "confirmed", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 202, CorrelationID: "corr-202"},
			wantReply: "Genesys confirmed it", wantPosts: 1,
			metrics: map[string]int{"disconnect:confirmed": 1, "click:disconnect,confirmed": 1}},
		{name: "unconfirmed", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectOK("corr-202")
			f.genesys.ConfirmDisconnectFn = confirmed(false)
		}, want: auditLine{Action: "click", Outcome: "unconfirmed", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 202, CorrelationID: "corr-202"},
			wantReply: "not confirmed", wantPosts: 1,
			metrics: map[string]int{"disconnect:unconfirmed": 1, "click:disconnect,unconfirmed": 1}},
		{name: "confirmation fails", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectOK("corr-202")
			f.genesys.ConfirmDisconnectFn = func(context.Context, string, string) (genesys.Confirmation, error) {
				return genesys.Confirmation{}, unavailable
			}
		}, want: auditLine{Action: "click", Outcome: "unconfirmed", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 202, CorrelationID: "corr-202"},
			wantPosts: 1},
		// An uncertain answer (a 504 here) is settled by re-reading the call.
		{name: "504, the re-read shows them gone", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectErr(gatewayLost)
			f.genesys.ConfirmDisconnectFn = confirmed(true)
		}, want: auditLine{Action: "click", Outcome: "confirmed", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 504, CorrelationID: "corr-504"},
			wantReply: "Genesys confirmed it", wantPosts: 1,
			metrics: map[string]int{"disconnect:confirmed": 1, "click:disconnect,confirmed": 1}},
		{name: "504, the re-read shows them still there", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectErr(gatewayLost)
			f.genesys.ConfirmDisconnectFn = confirmed(false)
		}, want: auditLine{Action: "click", Outcome: "failed", Reason: "They are still on the call. Genesys is having trouble right now (HTTP 504); try again in a minute.", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 504, CorrelationID: "corr-504"},
			wantReply: "could not disconnect", wantPosts: 1,
			metrics: map[string]int{"disconnect:failed": 1, "click:disconnect,failed": 1}},
		{name: "504, and the re-read fails", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectErr(gatewayLost)
			f.genesys.ConfirmDisconnectFn = func(context.Context, string, string) (genesys.Confirmation, error) {
				return genesys.Confirmation{}, unavailable
			}
		}, want: auditLine{Action: "click", Outcome: "unknown", Reason: "Genesys answered HTTP 504 and the call could not be read back", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 504, CorrelationID: "corr-504"},
			wantReply: "not confirmed", wantPosts: 1,
			metrics: map[string]int{"disconnect:unknown": 1, "click:disconnect,unknown": 1}},
		// No answer at all: the request may still be on its way, so a
		// participant still there is not a failure yet.
		{name: "timeout, still there", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectErr(&genesys.TransportError{Operation: "patchParticipant", Err: context.DeadlineExceeded})
			f.genesys.ConfirmDisconnectFn = confirmed(false)
		}, want: auditLine{Action: "click", Outcome: "unknown", Reason: "Genesys did not answer in time and they were still on the call when the bot looked again", Conversation: hConv, Participant: hAgent, Purpose: "agent"},
			wantPosts: 1},
		{name: "nothing sent: no token", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectErr(&genesys.APIError{Operation: "token", Status: 503})
		}, want: auditLine{Action: "click", Outcome: "failed", Reason: "Nothing was sent to Genesys: the bot could not get a Genesys access token. Genesys is having trouble right now (HTTP 503); try again in a minute.", Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 503},
			wantReply: "Nothing was sent", wantPosts: 1,
			metrics: map[string]int{"disconnect:failed": 1, "click:disconnect,failed": 1}},
		{name: "already gone", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = func(context.Context, string, string) (genesys.DisconnectResult, error) {
				return genesys.DisconnectResult{Outcome: genesys.DisconnectAlreadyGone, CorrelationID: "corr-gone"}, nil
			}
		}, want: auditLine{Action: "click", Outcome: "already_gone", Conversation: hConv, Participant: hAgent, Purpose: "agent", CorrelationID: "corr-gone"},
			wantReply: "already left", wantPosts: 1,
			metrics: map[string]int{"disconnect:already_gone": 1, "click:disconnect,already_gone": 1}},
		{name: "failed", click: disconnectClick, setup: func(f *fixture) {
			liveAndPatch(f)
			f.genesys.DisconnectParticipantFn = disconnectErr(forbidden)
		}, want: auditLine{Action: "click", Outcome: "failed", Reason: genesys.UserMessage(forbidden), Conversation: hConv, Participant: hAgent, Purpose: "agent", GenesysStatus: 403, CorrelationID: "corr-403"},
			wantReply: "could not disconnect", wantPosts: 1,
			metrics: map[string]int{"disconnect:failed": 1, "click:disconnect,failed": 1}},
		{name: "re-read fails", click: disconnectClick, setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(nil, unavailable)
		}, want: auditLine{Action: "click", Outcome: "genesys_error", Reason: genesys.UserMessage(unavailable), Conversation: hConv, Participant: hAgent, GenesysStatus: 503, CorrelationID: "corr-503"},
			wantReply: "Nothing was disconnected",
			metrics:   map[string]int{"disconnect:genesys_error": 1, "click:disconnect,genesys_error": 1}},
		{name: "stale", click: disconnectClick, setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(callWithGoneAgent(), nil)
		}, want: auditLine{Action: "click", Outcome: "stale", Reason: "participant_not_active", Conversation: hConv, Participant: hAgent, Purpose: "agent"},
			wantReply: "Nothing was disconnected",
			metrics:   map[string]int{"disconnect:stale": 1}},
		{name: "stale redelivered", click: clickRequest{ActionID: actionDisconnect + ":0", Value: agentButton, Redelivered: true}, setup: func(f *fixture) {
			f.genesys.GetConversationFn = getConv(callWithGoneAgent(), nil)
		}, want: auditLine{Action: "click", Outcome: "stale", Reason: "participant_not_active_redelivered", Conversation: hConv, Participant: hAgent, Purpose: "agent"},
			wantReply: "it was not repeated"},
		{name: "duplicate in flight", click: disconnectClick, setup: func(f *fixture) {
			f.h.claim(buttonValue{hConv, hAgent}, "U0SUPER002")
		}, want: auditLine{Action: "click", Outcome: "duplicate", Reason: "in_flight", Conversation: hConv, Participant: hAgent},
			wantReply: "<@U0SUPER002> is already disconnecting",
			metrics:   map[string]int{"disconnect:duplicate": 1}},
		{name: "denied", click: disconnectClick, setup: func(f *fixture) { f.authz.AuthorizeFn = deny },
			want:    auditLine{Action: "click", Outcome: "denied", Reason: authz.ReasonNotInAllowList, Conversation: hConv, Participant: hAgent},
			metrics: map[string]int{"disconnect:denied": 1, "denied:" + authz.ReasonNotInAllowList: 1}},
		// Every click is authorized first, whatever its action id.
		{name: "Cancel by someone not allowed", click: clickRequest{ActionID: actionCancel, Value: "cancel"}, setup: func(f *fixture) { f.authz.AuthorizeFn = deny },
			want:      auditLine{Action: "cancel", Outcome: "denied", Reason: authz.ReasonNotInAllowList},
			wantReply: "allow-list",
			metrics:   map[string]int{"click:cancel,denied": 1, "denied:" + authz.ReasonNotInAllowList: 1}},
		{name: "unknown action by someone not allowed", click: clickRequest{ActionID: "launch_missiles", Value: agentButton}, setup: func(f *fixture) { f.authz.AuthorizeFn = deny },
			want:    auditLine{Action: "click", Outcome: "denied", Reason: authz.ReasonNotInAllowList, Conversation: hConv, Participant: hAgent},
			metrics: map[string]int{"disconnect:denied": 1, "click:unknown,denied": 1, "denied:" + authz.ReasonNotInAllowList: 1}},
		{name: "conversation click by someone not allowed", click: clickRequest{ActionID: actionConversation + ":0", Value: "c1:nope"}, setup: func(f *fixture) { f.authz.AuthorizeFn = deny },
			want:    auditLine{Action: "pick_conversation", Outcome: "denied", Reason: authz.ReasonNotInAllowList},
			metrics: map[string]int{"click:conversation,denied": 1, "denied:" + authz.ReasonNotInAllowList: 1}},
		{name: "bad button", click: clickRequest{ActionID: actionDisconnect + ":0", Value: "v1:forged"},
			want:      auditLine{Action: "click", Outcome: "bad_button", Reason: "invalid_value"},
			wantReply: "That button is not valid",
			metrics:   map[string]int{"disconnect:bad_button": 1, "click:disconnect,bad_button": 1}},
		{name: "participant not in the conversation", click: clickRequest{ActionID: actionDisconnect + ":0", Value: encodeButtonValue(buttonValue{hConv, hUserID})},
			setup: liveAndPatch,
			want:  auditLine{Action: "click", Outcome: "bad_button", Reason: "participant_not_in_conversation", Conversation: hConv, Participant: hUserID}},
		{name: "unknown action", click: clickRequest{ActionID: "launch_missiles", Value: agentButton},
			want:      auditLine{Action: "click", Outcome: "bad_button", Reason: "unknown_action"},
			wantReply: "not one disconnectbot knows",
			metrics:   map[string]int{"disconnect:bad_button": 1, "click:unknown,bad_button": 1}},
		{name: "cancel", click: clickRequest{ActionID: actionCancel, Value: "cancel"},
			want:      auditLine{Action: "cancel", Outcome: "cancelled"},
			wantReply: "Cancelled",
			metrics:   map[string]int{"click:cancel,cancelled": 1}},
		{name: "conversation click", click: clickRequest{ActionID: actionConversation + ":1", Value: encodeConversationButton(hConv, "")},
			setup:     liveAndPatch,
			want:      auditLine{Action: "pick_conversation", Outcome: "picker_shown", Conversation: hConv},
			wantReply: agentButton,
			metrics:   map[string]int{"click:conversation,picker_shown": 1}},
		{name: "conversation click on an ended call", click: clickRequest{ActionID: actionConversation + ":0", Value: encodeConversationButton(hConv, "")},
			setup:     func(f *fixture) { f.genesys.GetConversationFn = getConv(endedCall(hConv), nil) },
			want:      auditLine{Action: "pick_conversation", Outcome: "conversation_ended", Conversation: hConv},
			wantReply: "has ended since the list was made",
			metrics:   map[string]int{"click:conversation,conversation_ended": 1}},
		{name: "conversation click with a bad value", click: clickRequest{ActionID: actionConversation + ":0", Value: "c1:nope"},
			want:    auditLine{Action: "pick_conversation", Outcome: "bad_button", Reason: "invalid_value"},
			metrics: map[string]int{"click:conversation,bad_button": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(false)
			if tt.setup != nil {
				tt.setup(f)
			}
			click := tt.click
			click.TeamID, click.ChannelID, click.UserID, click.ResponseURL = "T0TEAM0001", hChannel, hActor, hURL
			click.TriggerID, click.ActionTS = "trig-1", "1700000000.000001"
			f.h.HandleClick(context.Background(), click)
			tt.want.SlackUser = hActor
			checkOneAudit(t, f, tt.want)
			var last sent
			for _, s := range f.slack.messages() {
				if s.kind == "respond" && !s.opts.InChannel {
					last = s
				}
			}
			if tt.wantReply != "" && !strings.Contains(allText(last.msg), tt.wantReply) {
				t.Errorf("last answer %q does not contain %q", allText(last.msg), tt.wantReply)
			}
			if got := len(f.posts()); got != tt.wantPosts {
				t.Errorf("%d channel posts, want %d", got, tt.wantPosts)
			}
			checkMetrics(t, f, tt.metrics)
			if n := sum(f.metrics.snapshot(), "click:"); n != 1 {
				t.Errorf("%d clicks counted, want 1", n)
			}
		})
	}
}

func sum(counts map[string]int, prefix string) int {
	n := 0
	for k, v := range counts {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// A click Slack delivers twice (same trigger and action) is handled once.
func TestHandlerClickRedelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(false)
	f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
	patches := 0
	f.genesys.DisconnectParticipantFn = func(context.Context, string, string) (genesys.DisconnectResult, error) {
		patches++
		return genesys.DisconnectResult{Outcome: genesys.DisconnectAccepted}, nil
	}
	f.genesys.ConfirmDisconnectFn = confirmed(true)
	click := clickRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: hActor, ResponseURL: hURL,
		ActionID: actionDisconnect + ":0", Value: encodeButtonValue(buttonValue{hConv, hAgent}), TriggerID: "trig-1", ActionTS: "1.1"}
	f.h.HandleClick(context.Background(), click)
	click.Redelivered = true
	f.h.HandleClick(context.Background(), click)
	if patches != 1 {
		t.Errorf("%d PATCHes, want 1", patches)
	}
	if got := f.audits(t); len(got) != 1 {
		t.Errorf("%d audit lines, want 1", len(got))
	}
	checkMetrics(t, f, map[string]int{"disconnect:confirmed": 1, "click:disconnect,confirmed": 1})
}

// The outcome is copied to the audit channel, and reaches the user even
// when the channel refuses it.
func TestHandlerClickOutcomeDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(false)
	f.h.AuditChannel = "C0AUDIT001"
	f.genesys.GetConversationFn = getConv(liveCall(hConv), nil)
	f.genesys.DisconnectParticipantFn = disconnectOK("")
	f.genesys.ConfirmDisconnectFn = confirmed(true)
	f.slack.PostFn = func(channel string, _ message) error {
		if channel == hChannel {
			return errors.New("not_in_channel")
		}
		return nil
	}
	f.slack.RespondFn = func(_ string, _ message, opts respondOptions) error {
		if opts.InChannel {
			return errors.New("expired_url")
		}
		return nil
	}
	f.h.HandleClick(context.Background(), clickRequest{TeamID: "T0TEAM0001", ChannelID: hChannel, UserID: hActor, ResponseURL: hURL,
		ActionID: actionDisconnect + ":0", Value: encodeButtonValue(buttonValue{hConv, hAgent}), TriggerID: "trig-1"})
	var to []string
	for _, s := range f.slack.messages() {
		if s.kind == "post" {
			to = append(to, s.to)
		}
	}
	if diff := cmp.Diff([]string{hChannel, "C0AUDIT001"}, to); diff != "" {
		t.Errorf("posts (-want +got):\n%s", diff)
	}
	msgs := f.slack.messages()
	last := msgs[len(msgs)-1]
	if !last.opts.Replace || !strings.Contains(allText(last.msg), "could not be posted in the channel") {
		t.Errorf("the user's copy %+v does not replace the picker with the not-posted warning", last)
	}
}
