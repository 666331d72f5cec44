// Package genesystest is an in-process fake Genesys Cloud org for tests,
// benchmarks and demos. It serves the token endpoint and the conversation
// and user endpoints disconnectbot uses, over real HTTP, in the wire format
// of the Genesys Platform API v2 (shapes from testdata/openapi-subset.json, error
// bodies with contextId and the ININ-Correlation-Id header).
//
// A Server holds an org: users and conversations built with AddUser,
// AddConversation or ThreePartyConference. A PATCH that disconnects a
// participant answers 202 at once and takes effect after DisconnectDelay,
// like the real asynchronous API. Faults (errors, rate limits, slowness,
// refused client credentials, missing permissions, expired tokens) can be
// injected at any time, from any goroutine.
//
// It does not need a *testing.T, and does not import package testing, so a
// binary that runs it as a demo carries no test code: Close it when done.
package genesystest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Default credentials the emulator accepts unless WithCredentials is used.
const (
	DefaultClientID     = "disconnectbot-emulator-client"
	DefaultClientSecret = "emulator-secret-not-for-production"
)

// Defaults for the timing options.
const (
	DefaultTokenLifetime   = 24 * time.Hour
	DefaultDisconnectDelay = 50 * time.Millisecond
)

// Operation names, as used by Fault.Op, Request.Op and CountOp. They match
// the client's RequestEvent.Operation values.
const (
	OpToken                = "token"
	OpGetConversation      = "getConversation"
	OpGetCall              = "getCall"
	OpPatchParticipant     = "patchParticipant"
	OpPatchCallParticipant = "patchCallParticipant"
	OpGetUser              = "getUser"
	OpSearchUsers          = "searchUsers"
	OpUnknown              = "unknown" // no such route
)

// Genesys permission names the emulator enforces (see DenyPermission).
const (
	PermConversationView       = "conversation:communication:view"
	PermConversationDisconnect = "conversation:communication:disconnect"
	PermUserView               = "directory:user:view"
)

// Option configures a Server.
type Option func(*Server)

// WithCredentials sets the client id and secret the token endpoint accepts.
func WithCredentials(clientID, clientSecret string) Option {
	return func(s *Server) { s.ClientID, s.ClientSecret = clientID, clientSecret }
}

// WithTokenLifetime sets how long issued tokens live (rounded up to whole
// seconds, as expires_in is in seconds).
func WithTokenLifetime(d time.Duration) Option {
	return func(s *Server) { s.tokenLifetime = d }
}

// WithDisconnectDelay sets how long after an accepted PATCH the participant
// actually drops; 0 drops it before the 202 is sent.
func WithDisconnectDelay(d time.Duration) Option {
	return func(s *Server) { s.disconnectDelay = d }
}

// WithLatency adds a fixed delay to every response, for benchmarks.
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// Server is a fake Genesys org. Its exported fields are read-only after New.
type Server struct {
	// URL serves both the API (/api/v2/...) and the login host
	// (/oauth/token): use it as the client's APIURL and LoginURL.
	URL string
	// ClientID and ClientSecret are the accepted credentials.
	ClientID, ClientSecret string

	srv  *httptest.Server
	done chan struct{}

	mu              sync.Mutex
	closed          bool
	tokenLifetime   time.Duration
	disconnectDelay time.Duration
	latency         time.Duration
	tokens          map[string]time.Time // access token -> expiry
	users           []*User
	convs           map[string]*conversation
	faults          []*faultState
	denied          map[string]bool
	requests        []Request
	timers          map[*time.Timer]struct{}
	janeID, queueID string
	analyticsLag    time.Duration     // see WithAnalyticsLag (analytics.go)
	queues          []Queue           // see AddQueue (analytics.go)
	raw             map[string][]byte // see ServeRawConversation (media.go)
	rate            rateLimiter       // see WithRateLimit (ratelimit.go)
	pageHook        func(page int)    // see OnAnalyticsPage (sweep.go)
}

// New starts a fake org on a local port. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		ClientID:        DefaultClientID,
		ClientSecret:    DefaultClientSecret,
		done:            make(chan struct{}),
		tokenLifetime:   DefaultTokenLifetime,
		disconnectDelay: DefaultDisconnectDelay,
		tokens:          map[string]time.Time{},
		convs:           map[string]*conversation{},
		denied:          map[string]bool{},
		timers:          map[*time.Timer]struct{}{},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// Close stops pending disconnects and shuts the server down. It is safe to
// call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	for t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
	s.mu.Unlock()
	s.srv.Close()
}

// SetDisconnectDelay changes the delay for disconnects accepted from now on.
func (s *Server) SetDisconnectDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disconnectDelay = d
}

// ExpireTokens invalidates every issued token: the next API call with one
// gets 401 bad.credentials.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// DenyPermission removes a permission from the OAuth client's role: the
// requests that need it get 403 missing.permissions naming it. Generic
// conversation GET needs PermConversationView, both participant PATCHes
// need PermConversationDisconnect, user search needs PermUserView, the
// analytics query PermAnalyticsConversationView and the queue listing
// PermQueueView (analytics.go).
func (s *Server) DenyPermission(perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[perm] = true
}

// GrantPermission undoes DenyPermission.
func (s *Server) GrantPermission(perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.denied, perm)
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

func newToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
