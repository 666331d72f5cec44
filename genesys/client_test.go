package genesys

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
	"github.com/google/go-cmp/cmp"
)

// newClient returns a client for srv with test-friendly timings; mod may
// change the config first.
func newClient(tb testing.TB, srv *genesystest.Server, mod func(*Config)) *Client {
	tb.Helper()
	cfg := Config{
		APIURL:          srv.URL,
		ClientID:        srv.ClientID,
		ClientSecret:    srv.ClientSecret,
		RetryBudget:     2 * time.Second,
		ConfirmTimeout:  2 * time.Second,
		ConfirmInterval: 2 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c.backoffBase = 2 * time.Millisecond
	return c
}

func mustKind(t *testing.T, err error, want Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %s", want)
	}
	if got := ErrorKind(err); got != want {
		t.Fatalf("ErrorKind(%v) = %s, want %s", err, got, want)
	}
}

func TestResolveRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, api, login string
		wantErr        bool
	}{
		{"us-east-1", "https://api.mypurecloud.com", "https://login.mypurecloud.com", false},
		{" EU-West-1 ", "https://api.mypurecloud.ie", "https://login.mypurecloud.ie", false},
		{"us-east-2", "https://api.use2.us-gov-pure.cloud", "https://login.use2.us-gov-pure.cloud", false},
		{"ap-southeast-2", "https://api.mypurecloud.com.au", "https://login.mypurecloud.com.au", false},
		{"mypurecloud.com", "https://api.mypurecloud.com", "https://login.mypurecloud.com", false},
		{"usw2.pure.cloud", "https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud", false},
		{"api.mypurecloud.com", "https://api.mypurecloud.com", "https://login.mypurecloud.com", false},
		{"https://api.mypurecloud.com", "https://api.mypurecloud.com", "https://login.mypurecloud.com", false},
		{"https://api.mypurecloud.de/", "https://api.mypurecloud.de", "https://login.mypurecloud.de", false},
		{"login.mypurecloud.jp", "https://api.mypurecloud.jp", "https://login.mypurecloud.jp", false},
		{"", "", "", true},
		{"us-east-9", "", "", true},
		{"example.com", "", "", true},
		{"https://api.mypurecloud.com/api/v2", "", "", true},
		{"mypurecloud.com.evil.example", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			api, login, err := ResolveRegion(tc.in)
			if tc.wantErr {
				mustKind(t, err, KindInput)
				if !strings.Contains(err.Error(), "us-east-1") || !strings.Contains(err.Error(), "region") {
					t.Errorf("error %q should list the valid regions", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if api != tc.api || login != tc.login {
				t.Errorf("got %s %s, want %s %s", api, login, tc.api, tc.login)
			}
		})
	}
	names := RegionNames()
	if len(names) != 17 {
		t.Errorf("%d regions, want 17", len(names))
	}
	for _, n := range names {
		if _, _, err := ResolveRegion(n); err != nil {
			t.Errorf("region %s: %v", n, err)
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	ok := Config{Region: "us-east-1", ClientID: "id", ClientSecret: "secret"}
	tests := []struct {
		name      string
		mod       func(*Config)
		wantField string // the refused Config field; "" = valid
		api       string
		login     string
	}{
		{"region", func(*Config) {}, "", "https://api.mypurecloud.com", "https://login.mypurecloud.com"},
		{"no client id", func(c *Config) { c.ClientID = " " }, "ClientID", "", ""},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret", "", ""},
		{"no region", func(c *Config) { c.Region = "" }, "Region", "", ""},
		{"bad region", func(c *Config) { c.Region = "mars-1" }, "Region", "", ""},
		{"api url wins", func(c *Config) { c.APIURL = "https://api.euw2.pure.cloud/" }, "", "https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud"},
		{"proxy serves both", func(c *Config) { c.APIURL = "http://127.0.0.1:8080/genesys" }, "", "http://127.0.0.1:8080/genesys", "http://127.0.0.1:8080/genesys"},
		{"login override", func(c *Config) { c.LoginURL = "https://sso.example.com" }, "", "https://api.mypurecloud.com", "https://sso.example.com"},
		{"bad api scheme", func(c *Config) { c.APIURL = "ftp://x" }, "APIURL", "", ""},
		{"api no host", func(c *Config) { c.APIURL = "https://" }, "APIURL", "", ""},
		{"api creds", func(c *Config) { c.APIURL = "https://u:p@api.mypurecloud.com" }, "APIURL", "", ""},
		{"api query", func(c *Config) { c.APIURL = "https://api.mypurecloud.com?x=1" }, "APIURL", "", ""},
		{"bad login", func(c *Config) { c.LoginURL = "::" }, "LoginURL", "", ""},
		{"bad endpoints", func(c *Config) { c.Endpoints = "fast" }, "Endpoints", "", ""},
		{"negative budget", func(c *Config) { c.RetryBudget = -time.Second }, "RetryBudget", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tc.mod(&cfg)
			c, err := New(context.Background(), cfg)
			if tc.wantField != "" {
				mustKind(t, err, KindInput)
				if inErr, ok := errors.AsType[*InputError](err); !ok || inErr.Field != tc.wantField {
					t.Errorf("error %#v does not name the field %s", err, tc.wantField)
				}
				if strings.Contains(err.Error(), "genesys.") {
					t.Errorf("error %q names a configuration key; genesys knows no config file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.apiURL != tc.api || c.loginURL != tc.login {
				t.Errorf("urls %s %s, want %s %s", c.apiURL, c.loginURL, tc.api, tc.login)
			}
			if c.retryBudget != DefaultRetryBudget || c.confirmTimeout != DefaultConfirmTimeout || c.endpoints != FamilyAuto {
				t.Errorf("defaults not applied: %+v", c)
			}
		})
	}
}

func TestValidateID(t *testing.T) {
	t.Parallel()
	good := []string{"3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11", "3F0C8A52-8A0E-4C1B-9D6E-2F1A7B9C0D11"}
	bad := []string{"", "abc", "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d1", "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11/../x", "3f0c8a52x8a0e-4c1b-9d6e-2f1a7b9c0d11", "../../users/me", "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d1g", strings.Repeat("é", 300)}
	for _, id := range good {
		if err := ValidateID("conversation id", id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range bad {
		err := ValidateID("conversation id", id)
		mustKind(t, err, KindInput)
		if !strings.HasPrefix(err.Error(), "conversation id") || !strings.Contains(err.Error(), "UUID") || len(err.Error()) > 200 {
			t.Errorf("%q: unclear message %q", id, err)
		}
		if UserMessage(err) != err.Error() {
			t.Errorf("UserMessage differs from the input error: %q", UserMessage(err))
		}
	}
	if got := ValidateID("conversation id", "abc").Error(); got != `conversation id "abc" is not a Genesys id (expected a UUID like 3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11)` {
		t.Errorf("message %q", got)
	}
}

func TestMalformedIDsSendNothing(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	good := "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11"
	calls := map[string]func(bad string) error{
		"GetConversation": func(b string) error { _, err := c.GetConversation(ctx, b); return err },
		"Disconnect/conv": func(b string) error { _, err := c.DisconnectParticipant(ctx, b, good); return err },
		"Disconnect/part": func(b string) error { _, err := c.DisconnectParticipant(ctx, good, b); return err },
		"Confirm/conv":    func(b string) error { _, err := c.ConfirmDisconnect(ctx, b, good); return err },
		"Confirm/part":    func(b string) error { _, err := c.ConfirmDisconnect(ctx, good, b); return err },
		"GetUser":         func(b string) error { _, err := c.GetUser(ctx, b); return err },
		"FindUserByEmail": func(b string) error { _, err := c.FindUserByEmail(ctx, b); return err },
		"Identify/user-email": func(b string) error {
			_, err := c.Identify(ctx, &Conversation{}, Selector{Kind: SelectUserEmail, Value: b})
			return err
		},
		"Identify/user-id": func(b string) error {
			_, err := c.Identify(ctx, &Conversation{}, Selector{Kind: SelectUserID, Value: b})
			return err
		},
	}
	for name, call := range calls {
		for _, bad := range []string{"", "abc", "../../oauth/token", good + "/participants", "a@b"} {
			mustKind(t, call(bad), KindInput)
			_ = name
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests reached Genesys: %+v", n, srv.Requests())
	}
	if s := c.Stats(); s != (Stats{}) {
		t.Errorf("stats %+v", s)
	}
}

func TestTokenReusedAcrossCalls(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	conv := srv.ThreePartyConference()
	const workers, each = 8, 125
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := c.GetConversation(context.Background(), conv.ID); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("token requests at the server = %d, want 1", got)
	}
	if got := c.Stats(); got != (Stats{Requests: workers * each, TokenRequests: 1}) {
		t.Errorf("Stats = %+v", got)
	}
	if !c.TokenHealthy() {
		t.Error("TokenHealthy false after good fetches")
	}
	for _, r := range srv.Requests() {
		if r.Op != genesystest.OpToken && (!r.Authorized || r.UserAgent != DefaultUserAgent) {
			t.Fatalf("request %+v", r)
		}
	}
}

func TestShortLivedTokenIsReused(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, genesystest.WithTokenLifetime(30*time.Second))
	c := newClient(t, srv, nil)
	conv := srv.ThreePartyConference()
	for range 5 {
		if _, err := c.GetConversation(context.Background(), conv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.TokenRequests(); got != 1 {
		t.Errorf("token requests = %d, want 1 (a 30 s token must not count as expired)", got)
	}
}

func TestRecoversFrom401(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, nil)
	conv := srv.ThreePartyConference()
	ctx := context.Background()
	if _, err := c.GetConversation(ctx, conv.ID); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	if _, err := c.GetConversation(ctx, conv.ID); err != nil {
		t.Fatalf("after ExpireTokens: %v", err)
	}
	if got, want := srv.TokenRequests(), 2; got != want {
		t.Errorf("token requests %d, want %d", got, want)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		if r.Op == genesystest.OpGetConversation {
			statuses = append(statuses, r.Status)
		}
	}
	if diff := cmp.Diff([]int{200, 401, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	// A 401 that a fresh token does not cure is an auth error after exactly
	// one retry.
	srv.ResetRequests()
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpGetConversation, Status: 401})
	_, err := c.GetConversation(ctx, conv.ID)
	mustKind(t, err, KindAuth)
	if got := srv.CountOp(genesystest.OpGetConversation); got != 2 {
		t.Errorf("attempts %d, want 2", got)
	}
	if !strings.Contains(UserMessage(err), "OAuth client id") {
		t.Errorf("UserMessage %q", UserMessage(err))
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	const secret = "wrong-secret-DO-NOT-LEAK-1234"
	var logs bytes.Buffer
	c := newClient(t, srv, func(cfg *Config) {
		cfg.ClientSecret = secret
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	err := c.CheckToken(context.Background())
	mustKind(t, err, KindAuth)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "invalid_client" || apiErr.Operation != "token" {
		t.Fatalf("error %#v", err)
	}
	for _, s := range []string{err.Error(), UserMessage(err), logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("secret leaked in %q", s)
		}
	}
	if !strings.Contains(err.Error(), "client id and secret") || !strings.Contains(err.Error(), "region") {
		t.Errorf("error %q should say what to check", err)
	}
	if !strings.Contains(UserMessage(err), "client id and secret") {
		t.Errorf("UserMessage %q", UserMessage(err))
	}
	if c.TokenHealthy() {
		t.Error("TokenHealthy after a failed fetch")
	}
	// An API call fails the same way, without reaching the API.
	_, err = c.GetConversation(context.Background(), srv.ThreePartyConference().ID)
	mustKind(t, err, KindAuth)
	if n := srv.CountOp(genesystest.OpGetConversation); n != 0 {
		t.Errorf("%d API requests without a token", n)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	conv := srv.ThreePartyConference()

	t.Run("retry-after within budget", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 4 * time.Second; cfg.Endpoints = FamilyCalls })
		srv.RateLimit(genesystest.OpGetCall, 1, time.Second)
		if _, err := c.GetConversation(context.Background(), conv.ID); err != nil {
			t.Fatal(err)
		}
		if got := srv.CountOp(genesystest.OpGetCall); got != 2 {
			t.Errorf("attempts %d, want 2 (429, then success after Retry-After)", got)
		}
	})
	t.Run("retry-after beyond budget", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 4 * time.Second })
		srv.RateLimit(genesystest.OpGetUser, 1, 30*time.Second)
		before := srv.CountOp(genesystest.OpGetUser)
		_, err := c.GetUser(context.Background(), "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
		mustKind(t, err, KindRateLimited)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.RetryAfter != 30*time.Second || apiErr.Code != "too.many.requests.retry.after" {
			t.Fatalf("error %#v", err)
		}
		if got := srv.CountOp(genesystest.OpGetUser) - before; got != 1 {
			t.Errorf("%d attempts, want 1 (fail fast)", got)
		}
		if got := UserMessage(err); !strings.Contains(got, "30 s") {
			t.Errorf("UserMessage %q", got)
		}
		if CorrelationID(err) == "" {
			t.Error("no correlation id")
		}
	})
}

func TestServerErrorsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		failures int
		wantErr  Kind // KindUnknown = success
		attempts int
	}{
		{500, 2, KindUnknown, 3},
		{502, 1, KindUnknown, 2},
		{503, 3, KindUnknown, 4},
		{504, 1, KindUnknown, 2},
		{501, 1, KindUnavailable, 1},
		{409, 1, KindUnknown, 2},
		{409, 2, KindUnknown, 3},
		{409, 5, KindConflict, 3},
		{400, 1, KindBadRequest, 1},
		{404, 1, KindNotFound, 1},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			c := newClient(t, srv, nil)
			conv := srv.ThreePartyConference()
			srv.FailNext(genesystest.OpGetConversation, tc.failures, tc.status)
			_, err := c.GetConversation(context.Background(), conv.ID)
			if tc.wantErr == KindUnknown {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				mustKind(t, err, tc.wantErr)
			}
			if got := srv.CountOp(genesystest.OpGetConversation); got != tc.attempts {
				t.Errorf("attempts %d, want %d", got, tc.attempts)
			}
		})
	}
}

func TestPersistentOutageIsBounded(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 300 * time.Millisecond })
	c.backoffBase = 20 * time.Millisecond
	conv := srv.ThreePartyConference()
	srv.InjectFault(genesystest.Fault{Op: genesystest.OpGetConversation, Status: 503})
	_, err := c.GetConversation(context.Background(), conv.ID)
	mustKind(t, err, KindUnavailable)
	n := srv.CountOp(genesystest.OpGetConversation)
	// Waits of ≥10, 20, 40, 80, 160 ms exhaust 300 ms: at most 6 attempts.
	if n < 2 || n > 6 {
		t.Errorf("%d attempts, want 2..6", n)
	}
	if got := UserMessage(err); !strings.Contains(got, "Genesys is having trouble") || !strings.Contains(got, "503") {
		t.Errorf("UserMessage %q", got)
	}

	// A context deadline cuts retries short, whatever the budget.
	srv.ResetRequests()
	c2 := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = time.Minute })
	c2.backoffBase = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	_, err = c2.GetConversation(ctx, conv.ID)
	mustKind(t, err, KindUnavailable)
	if n := srv.CountOp(genesystest.OpGetConversation); n > 4 {
		t.Errorf("%d attempts within a 120 ms deadline", n)
	}
}

func TestTransportError(t *testing.T) {
	t.Parallel()
	// A listener that hangs up on every connection. It stays open for the
	// whole test: a closed port could be reused by a parallel test's server,
	// which would then answer (and count) these requests.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	url := "http://" + ln.Addr().String()
	c, err := New(context.Background(), Config{APIURL: url, ClientID: "id", ClientSecret: "s", RetryBudget: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c.backoffBase = time.Millisecond
	_, err = c.GetConversation(context.Background(), "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
	mustKind(t, err, KindUnavailable)
	var tErr *TransportError
	if !errors.As(err, &tErr) || tErr.Operation != "token" {
		t.Errorf("error %#v", err)
	}
	if c.Stats().TokenRequests < 2 {
		t.Errorf("token fetch not retried: %+v", c.Stats())
	}
	if !strings.Contains(UserMessage(err), "could not reach Genesys") {
		t.Errorf("UserMessage %q", UserMessage(err))
	}
}

// garbageServer issues tokens and answers every API call with body.
func garbageServer(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":86400}`))
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("ININ-Correlation-Id", "corr-1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGarbageResponses(t *testing.T) {
	t.Parallel()
	huge := `{"id":"` + strings.Repeat("x", maxBody) + `"}`
	tests := []struct {
		name, contentType, body string
		status                  int
		kind                    Kind
		decode                  bool
	}{
		{"html", "text/html", "<html>login</html>", 200, KindUnknown, true},
		{"truncated", "application/json", `{"id":"3f0c`, 200, KindUnknown, true},
		{"wrong types", "application/json", `{"id":5,"participants":"x"}`, 200, KindUnknown, true},
		{"no id", "application/json", `{"participants":[]}`, 200, KindUnknown, true},
		{"empty", "application/json", ``, 200, KindUnknown, true},
		{"too large", "application/json", huge, 200, KindUnknown, true},
		{"html error", "text/html", "<html>bad gateway</html>", 400, KindBadRequest, false},
		{"garbage error body", "application/json", `{"code":5`, 403, KindForbidden, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := garbageServer(t, tc.status, tc.contentType, tc.body)
			c, err := New(context.Background(), Config{APIURL: srv.URL, ClientID: "id", ClientSecret: "s"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetConversation(context.Background(), "3f0c8a52-8a0e-4c1b-9d6e-2f1a7b9c0d11")
			mustKind(t, err, tc.kind)
			var dErr *DecodeError
			if errors.As(err, &dErr) != tc.decode {
				t.Errorf("DecodeError? %v: %v", !tc.decode, err)
			}
			if CorrelationID(err) != "corr-1" {
				t.Errorf("correlation id %q", CorrelationID(err))
			}
			if len(err.Error()) > 1000 || len(UserMessage(err)) > 300 {
				t.Errorf("message too long: %d/%d", len(err.Error()), len(UserMessage(err)))
			}
		})
	}
}

func TestObserverAndLogs(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t)
	var (
		mu     sync.Mutex
		events []RequestEvent
		logs   bytes.Buffer
	)
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Observer = func(e RequestEvent) {
			mu.Lock()
			defer mu.Unlock()
			if (e.Status == 503) != (e.Wait > 0) {
				t.Errorf("event %+v: Wait should be set exactly on the retried 503", e)
			}
			e.Duration, e.Wait = 0, 0
			events = append(events, e)
		}
		// Requests run on the calling goroutine, so the buffer needs no lock.
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.UserAgent = "disconnectbot-test/1"
	})
	conv := srv.ThreePartyConference()
	srv.FailNext(genesystest.OpGetConversation, 1, 503)
	if _, err := c.GetConversation(context.Background(), conv.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []RequestEvent{
		{Operation: "token", Method: "POST", Status: 200, Attempt: 1, TokenRequest: true},
		{Operation: "getConversation", Method: "GET", Status: 503, Attempt: 1},
		{Operation: "getConversation", Method: "GET", Status: 200, Attempt: 2},
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	tok := c.tokens.cached(time.Now())
	if tok == nil {
		t.Fatal("no cached token")
	}
	out := logs.String()
	for _, key := range []string{`"op":"getConversation"`, `"method":"GET"`, `"path":"/api/v2/conversations/` + conv.ID + `"`, `"status":503`, `"duration_ms":`, `"attempt":2`, `"correlation_id":"`, `"op":"token"`} {
		if !strings.Contains(out, key) {
			t.Errorf("logs lack %s:\n%s", key, out)
		}
	}
	if strings.Contains(out, tok.AccessToken) || strings.Contains(out, srv.ClientSecret) || strings.Contains(out, "Bearer") {
		t.Errorf("logs leak a credential:\n%s", out)
	}
	for _, r := range srv.Requests() {
		if r.UserAgent != "disconnectbot-test/1" {
			t.Errorf("user agent %q on %s", r.UserAgent, r.Op)
		}
	}
}

// newEmulator is genesystest.New, closed when the test ends.
func newEmulator(tb testing.TB, opts ...genesystest.Option) *genesystest.Server {
	tb.Helper()
	s := genesystest.New(opts...)
	tb.Cleanup(s.Close)
	return s
}
