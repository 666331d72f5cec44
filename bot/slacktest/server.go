// Package slacktest is an in-process fake of the parts of Slack that the bot
// talks to: the Socket Mode link (apps.connections.open plus the WebSocket),
// the handful of Web API methods the bot calls, and response_url endpoints.
//
// The real slack-go client connects to it unchanged:
//
//	fake := slacktest.New(slacktest.Options{})
//	defer fake.Close()
//	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()),
//		slack.OptionAppLevelToken(fake.AppToken()))
//	client := socketmode.New(api)
//
// The fake follows the wire format documented in shared/slack/NOTES.md: it
// sends hello, WebSocket PING frames and disconnect frames, enforces the
// 3-second ack deadline (and can redeliver), validates Block Kit like Slack
// does, and records every call and every message so tests can assert on what
// a user would see. It needs no *testing.T so the demo command can use it too.
package slacktest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults used when the corresponding Options field is empty.
const (
	DefaultTeamID       = "T0DEMO0001"
	DefaultTeamDomain   = "disconnectbot-demo"
	DefaultTeamName     = "Disconnectbot Demo"
	DefaultAppID        = "A0DEMO0001"
	DefaultBotUserID    = "U0BOT00001"
	DefaultBotUserName  = "disconnectbot"
	DefaultBotID        = "B0DEMO0001"
	DefaultBotToken     = "xoxb-fake-0000000000-bot-token"
	DefaultAppToken     = "xapp-1-A0DEMO0001-fake-app-token"
	DefaultPingInterval = 5 * time.Second
	DefaultAckDeadline  = 3 * time.Second
	// DefaultMaxRetries is how often an unacked envelope is redelivered
	// ("up to 3 times", as a Slack maintainer wrote in bolt-python #845).
	DefaultMaxRetries = 3
	// DefaultMaxConnections is Slack's documented limit of concurrent
	// Socket Mode connections per app.
	DefaultMaxConnections = 10
	// DefaultResponseURLMaxUses and DefaultResponseURLTTL are the documented
	// response_url limits ("up to 5 times within 30 minutes").
	DefaultResponseURLMaxUses = 5
	DefaultResponseURLTTL     = 30 * time.Minute
	// disconnectGrace is how long a connection may stay open after the
	// fake sent it a disconnect frame before the fake closes it.
	disconnectGrace = 10 * time.Second
)

// Distribution selects which open connection receives the next envelope.
type Distribution int

const (
	// RoundRobin cycles through open connections in connection order.
	RoundRobin Distribution = iota
	// Random picks an open connection at random, like Slack ("no guaranteed
	// pattern").
	Random
)

// Options configures a Server. The zero value is usable.
type Options struct {
	TeamID     string // default DefaultTeamID
	TeamDomain string // default DefaultTeamDomain
	AppID      string // default DefaultAppID
	BotID      string // default DefaultBotID
	BotToken   string // xoxb token the Web API accepts; default DefaultBotToken
	AppToken   string // xapp token apps.connections.open accepts; default DefaultAppToken

	// EnterpriseID makes the workspace part of an Enterprise Grid org
	// (E…): auth.test returns it, and every payload carries it
	// (enterprise_id in slash commands, enterprise in block actions).
	EnterpriseID   string
	EnterpriseName string
	// EnterpriseInstall makes the app an org-wide install of that org:
	// auth.test answers is_enterprise_install true with the org's id as
	// team_id, and payloads say is_enterprise_install true while their
	// team_id is the workspace the user acted in.
	EnterpriseInstall bool

	// PingInterval is the gap between WebSocket PING frames the fake sends.
	// It must be shorter than the client's socketmode.OptionPingInterval
	// (30 s by default). Default DefaultPingInterval.
	PingInterval time.Duration
	// AckDeadline is how long an envelope may stay unacked before it counts
	// as a failure. Default DefaultAckDeadline (Slack's 3 seconds).
	AckDeadline time.Duration
	// Redeliver makes the fake redeliver envelopes that were not acked in
	// time, with a new envelope_id, retry_attempt+1 and retry_reason
	// "timeout". Envelopes hit by LoseNextAcks are always redelivered.
	Redeliver bool
	// MaxRetries bounds redeliveries per envelope. Default DefaultMaxRetries.
	MaxRetries int
	// Distribution spreads envelopes across connections. Default RoundRobin.
	Distribution Distribution
	// MaxConnections is the per-app connection limit; further connections get
	// a too_many_websockets disconnect. Default DefaultMaxConnections.
	MaxConnections int

	// ResponseURLTTL bounds each response_url's life (each also takes
	// DefaultResponseURLMaxUses posts at most).
	ResponseURLTTL time.Duration

	// Logger receives structured logs (never tokens). Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.TeamID, DefaultTeamID)
	def(&o.TeamDomain, DefaultTeamDomain)
	def(&o.AppID, DefaultAppID)
	def(&o.BotID, DefaultBotID)
	def(&o.BotToken, DefaultBotToken)
	def(&o.AppToken, DefaultAppToken)
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.AckDeadline <= 0 {
		o.AckDeadline = DefaultAckDeadline
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.ResponseURLTTL <= 0 {
		o.ResponseURLTTL = DefaultResponseURLTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// User is a workspace member known to the fake (users.info, rendering).
type User struct {
	ID       string
	TeamID   string // default: the server's team
	Name     string // handle, e.g. "jdoe"
	RealName string
	Email    string
	IsBot    bool
	Deleted  bool
}

// Channel is a conversation known to the fake. While no channel is added,
// every ID starting with C, G or D is accepted.
type Channel struct {
	ID        string
	Name      string
	IsPrivate bool
}

// Stats are counters of what happened on the fake since New.
type Stats struct {
	Opens         int // successful apps.connections.open calls
	OpenFailures  int // apps.connections.open calls answered with an error
	Connects      int // WebSocket connections that got hello
	Reconnects    int // Connects made after an earlier connection had ended
	Rejected      int // WebSocket handshakes refused (bad ticket, too many)
	Closed        int // WebSocket connections that ended
	Disconnects   int // disconnect frames sent
	Drops         int // connections the fake closed abruptly
	PingsSent     int
	PongsReceived int
	Envelopes     int // envelope frames written (including redeliveries)
	Acks          int // acks accepted in time
	LateAcks      int // acks after the deadline or for a lost delivery
	UnknownAcks   int // acks for envelope IDs the fake never sent
	AckTimeouts   int
	Redeliveries  int
	APICalls      int // Web API and response_url requests
}

// Server is the fake Slack. All methods are safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	ts       *httptest.Server
	upgrader websocket.Upgrader

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup // connection goroutines

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	seq     int64         // for IDs and message timestamps
	tsBase  int64

	users    map[string]User
	groups   map[string][]string
	channels map[string]Channel

	faults map[string][]*Fault

	// Socket Mode state.
	tickets     map[string]time.Time
	conns       map[int]*conn
	nextConnID  int
	rr          int
	pingsOff    bool
	loseAcks    int
	pending     map[string]*pending
	expired     map[string]string // envelope ID -> envelope type, for late acks
	acks        []Ack
	ackFailures []AckFailure

	// Recording.
	calls    []Call
	messages []Message
	stats    Stats

	// What users currently see, keyed by channel+ts.
	visible      map[msgKey]*visibleMsg
	visibleOrder []msgKey
	responseURLs map[string]*responseURL
}

// New starts a fake Slack on a random loopback port. Call Close when done.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:         opts,
		log:          opts.Logger,
		closed:       make(chan struct{}),
		changed:      make(chan struct{}),
		tsBase:       time.Now().Unix(),
		users:        map[string]User{},
		groups:       map[string][]string{},
		channels:     map[string]Channel{},
		faults:       map[string][]*Fault{},
		tickets:      map[string]time.Time{},
		conns:        map[int]*conn{},
		pending:      map[string]*pending{},
		expired:      map[string]string{},
		visible:      map[msgKey]*visibleMsg{},
		responseURLs: map[string]*responseURL{},
	}
	s.upgrader = websocket.Upgrader{
		// slack-go always sends Origin: https://api.slack.com, which the
		// default same-origin check rejects.
		CheckOrigin:     func(*http.Request) bool { return true },
		WriteBufferSize: 32 << 10,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/response/", s.handleResponseURL)
	s.ts = httptest.NewServer(mux)
	return s
}

// Close closes every connection, stops all goroutines and shuts the HTTP
// server down. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closed)
		conns := make([]*conn, 0, len(s.conns))
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		s.notifyLocked()
		s.mu.Unlock()
		for _, c := range conns {
			c.close()
		}
		s.wg.Wait()
		s.ts.Close()
	})
}

// ErrClosed is returned by blocking calls when the server is closed.
var ErrClosed = errors.New("slacktest: server closed")

// URL is the base URL of the fake, e.g. "http://127.0.0.1:P".
func (s *Server) URL() string { return s.ts.URL }

// APIURL is the Web API base for slack.OptionAPIURL, with the trailing slash
// slack-go needs.
func (s *Server) APIURL() string { return s.ts.URL + "/api/" }

// BotToken is the xoxb token the Web API accepts.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken is the xapp token apps.connections.open accepts.
func (s *Server) AppToken() string { return s.opts.AppToken }

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// AddUser adds or replaces a user.
func (s *Server) AddUser(u User) {
	if u.TeamID == "" {
		u.TeamID = s.opts.TeamID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// AddUserGroup adds or replaces a user group (subteam) and its members.
func (s *Server) AddUserGroup(id string, members ...string) {
	s.SetUserGroupMembers(id, members...)
}

// SetUserGroupMembers sets the members of a user group, creating it if needed.
func (s *Server) SetUserGroupMembers(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string{}, members...)
}

// AddChannel registers a channel. Once any channel is registered, unknown
// channels get channel_not_found.
func (s *Server) AddChannel(ch Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[ch.ID] = ch
}

// lookupChannelLocked resolves an ID (or a registered #name) to a channel.
func (s *Server) lookupChannelLocked(id string) (Channel, bool) {
	if id == "" {
		return Channel{}, false
	}
	if len(s.channels) == 0 {
		switch id[0] {
		case 'C', 'G', 'D':
			return Channel{ID: id, Name: strings.ToLower(id)}, true
		}
		return Channel{}, false
	}
	if ch, ok := s.channels[id]; ok {
		return ch, true
	}
	name := strings.TrimPrefix(id, "#")
	for _, ch := range s.channels {
		if ch.Name == name {
			return ch, true
		}
	}
	return Channel{}, false
}

func (s *Server) channelName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.lookupChannelLocked(id); ok && ch.Name != "" {
		return ch.Name
	}
	return strings.ToLower(id)
}

func (s *Server) userName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok && u.Name != "" {
		return u.Name
	}
	return strings.ToLower(id)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetRecordings forgets recorded calls, messages, acks and ack failures
// (not what users currently see, and not the counters), so long benchmarks
// do not grow memory without bound.
func (s *Server) ResetRecordings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.messages, s.acks, s.ackFailures = nil, nil, nil, nil
	s.notifyLocked()
}

// Opens is the number of successful apps.connections.open calls.
func (s *Server) Opens() int { return s.Stats().Opens }

// WaitStats blocks until cond holds for the current counters.
func (s *Server) WaitStats(ctx context.Context, cond func(Stats) bool) error {
	return s.waitFor(ctx, func() bool { return cond(s.stats) })
}

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (called with s.mu held) is true.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			// One last look: Close itself may have satisfied cond.
			s.mu.Lock()
			ok := cond()
			s.mu.Unlock()
			if ok {
				return nil
			}
			return ErrClosed
		}
	}
}

// nextSeqLocked returns a server-unique, increasing number.
func (s *Server) nextSeqLocked() int64 {
	s.seq++
	return s.seq
}

// newTSLocked returns a unique Slack message timestamp ("1700000000.000123").
func (s *Server) newTSLocked() string {
	n := s.nextSeqLocked()
	return fmt.Sprintf("%d.%06d", s.tsBase+n/1000000, n%1000000)
}

// readyConnIDsLocked returns the IDs of connections that may receive
// envelopes, in connection order.
func (s *Server) readyConnIDsLocked() []int {
	ids := make([]int, 0, len(s.conns))
	for id, c := range s.conns {
		if !c.draining {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids
}
