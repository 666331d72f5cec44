package bot

import (
	"context"
	"fmt"
	"sync"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// In-memory fakes of the handler's interfaces, in the benbjohnson/wtf mock
// style: each method calls its func field, so a test sets only what its
// case needs. A call nobody set up panics, naming the method: the flow did
// something the case did not expect.

type mockGenesys struct {
	GetConversationFn       func(ctx context.Context, conversationID string) (*genesys.Conversation, error)
	DisconnectParticipantFn func(ctx context.Context, conversationID, participantID string) (genesys.DisconnectResult, error)
	ConfirmDisconnectFn     func(ctx context.Context, conversationID, participantID string) (genesys.Confirmation, error)
	IdentifyFn              func(ctx context.Context, conv *genesys.Conversation, sel genesys.Selector) ([]genesys.Participant, error)
}

var _ Genesys = (*mockGenesys)(nil)

func unexpected(method string) { panic(fmt.Sprintf("unexpected call to %s", method)) }

func (m *mockGenesys) GetConversation(ctx context.Context, id string) (*genesys.Conversation, error) {
	if m.GetConversationFn == nil {
		unexpected("Genesys.GetConversation")
	}
	return m.GetConversationFn(ctx, id)
}

func (m *mockGenesys) DisconnectParticipant(ctx context.Context, conv, p string) (genesys.DisconnectResult, error) {
	if m.DisconnectParticipantFn == nil {
		unexpected("Genesys.DisconnectParticipant")
	}
	return m.DisconnectParticipantFn(ctx, conv, p)
}

func (m *mockGenesys) ConfirmDisconnect(ctx context.Context, conv, p string) (genesys.Confirmation, error) {
	if m.ConfirmDisconnectFn == nil {
		unexpected("Genesys.ConfirmDisconnect")
	}
	return m.ConfirmDisconnectFn(ctx, conv, p)
}

func (m *mockGenesys) Identify(ctx context.Context, conv *genesys.Conversation, sel genesys.Selector) ([]genesys.Participant, error) {
	if m.IdentifyFn == nil {
		unexpected("Genesys.Identify")
	}
	return m.IdentifyFn(ctx, conv, sel)
}

type mockAuthorizer struct {
	AuthorizeFn func(ctx context.Context, r authz.Request) authz.Decision
}

func (m *mockAuthorizer) Authorize(ctx context.Context, r authz.Request) authz.Decision {
	if m.AuthorizeFn == nil {
		unexpected("authorizer.Authorize")
	}
	return m.AuthorizeFn(ctx, r)
}

type mockFinder struct {
	FindConversationsFn func(ctx context.Context, f genesys.ConversationFilter) (genesys.FindResult, error)
	LiveConversationsFn func(ctx context.Context, f genesys.ConversationFilter, candidates []genesys.ConversationSummary, limit int) (genesys.LiveResult, error)
	ResolveQueueFn      func(ctx context.Context, nameOrID string) (genesys.Queue, error)
	FindUserByEmailFn   func(ctx context.Context, email string) (*genesys.User, error)
	GetUserFn           func(ctx context.Context, userID string) (*genesys.User, error)
	NormalizePhoneFn    func(raw string) (string, error)
}

var _ Finder = (*mockFinder)(nil)

func (m *mockFinder) FindConversations(ctx context.Context, f genesys.ConversationFilter) (genesys.FindResult, error) {
	if m.FindConversationsFn == nil {
		unexpected("Finder.FindConversations")
	}
	return m.FindConversationsFn(ctx, f)
}

func (m *mockFinder) LiveConversations(ctx context.Context, f genesys.ConversationFilter, c []genesys.ConversationSummary, limit int) (genesys.LiveResult, error) {
	if m.LiveConversationsFn == nil {
		unexpected("Finder.LiveConversations")
	}
	return m.LiveConversationsFn(ctx, f, c, limit)
}

func (m *mockFinder) ResolveQueue(ctx context.Context, nameOrID string) (genesys.Queue, error) {
	if m.ResolveQueueFn == nil {
		unexpected("Finder.ResolveQueue")
	}
	return m.ResolveQueueFn(ctx, nameOrID)
}

func (m *mockFinder) FindUserByEmail(ctx context.Context, email string) (*genesys.User, error) {
	if m.FindUserByEmailFn == nil {
		unexpected("Finder.FindUserByEmail")
	}
	return m.FindUserByEmailFn(ctx, email)
}

func (m *mockFinder) GetUser(ctx context.Context, userID string) (*genesys.User, error) {
	if m.GetUserFn == nil {
		unexpected("Finder.GetUser")
	}
	return m.GetUserFn(ctx, userID)
}

func (m *mockFinder) NormalizePhone(raw string) (string, error) {
	if m.NormalizePhoneFn == nil {
		unexpected("Finder.NormalizePhone")
	}
	return m.NormalizePhoneFn(raw)
}

type mockSlackUsers struct {
	UserEmailFn func(ctx context.Context, userID string) (string, error)
}

func (m *mockSlackUsers) UserEmail(ctx context.Context, userID string) (string, error) {
	if m.UserEmailFn == nil {
		unexpected("slackUsers.UserEmail")
	}
	return m.UserEmailFn(ctx, userID)
}

// sent is one message the flow handed to the responder.
type sent struct {
	kind string // "respond", "post", "ephemeral" or "update"
	to   string // response_url or channel
	msg  message
	opts respondOptions
}

// mockResponder records every message; the Fn fields, when set, decide
// what each call returns.
type mockResponder struct {
	RespondFn func(responseURL string, msg message, opts respondOptions) error
	PostFn    func(channel string, msg message) error

	mu   sync.Mutex
	sent []sent
}

func (m *mockResponder) record(s sent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, s)
}

func (m *mockResponder) Respond(_ context.Context, url string, msg message, opts respondOptions) error {
	m.record(sent{kind: "respond", to: url, msg: msg, opts: opts})
	if m.RespondFn != nil {
		return m.RespondFn(url, msg, opts)
	}
	return nil
}

func (m *mockResponder) Post(_ context.Context, channel string, msg message) (string, error) {
	m.record(sent{kind: "post", to: channel, msg: msg})
	if m.PostFn != nil {
		return "", m.PostFn(channel, msg)
	}
	return "1700000000.000100", nil
}

func (m *mockResponder) PostEphemeral(_ context.Context, channel, _ string, msg message) error {
	m.record(sent{kind: "ephemeral", to: channel, msg: msg})
	return nil
}

func (m *mockResponder) Update(_ context.Context, channel, ts string, msg message) error {
	m.record(sent{kind: "update", to: channel + "/" + ts, msg: msg})
	return nil
}

func (m *mockResponder) messages() []sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sent(nil), m.sent...)
}

// mockMetrics counts what the handler reports, by "counter:label,label".
type mockMetrics struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *mockMetrics) add(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[key]++
}

func (m *mockMetrics) Command(outcome string)       { m.add("command:" + outcome) }
func (m *mockMetrics) Disconnect(outcome string)    { m.add("disconnect:" + outcome) }
func (m *mockMetrics) Click(action, outcome string) { m.add("click:" + action + "," + outcome) }
func (m *mockMetrics) Denied(reason string)         { m.add("denied:" + reason) }
func (m *mockMetrics) SocketConnected(bool)         {}
func (m *mockMetrics) Reconnect()                   {}

func (m *mockMetrics) snapshot() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}
