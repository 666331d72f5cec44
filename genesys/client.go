package genesys

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Defaults for Config fields left zero.
const (
	DefaultRetryBudget     = 4 * time.Second
	DefaultConfirmTimeout  = 5 * time.Second
	DefaultConfirmInterval = 100 * time.Millisecond
	DefaultUserAgent       = "disconnectbot"

	// maxBody bounds how much of any response is read.
	maxBody = 1 << 20
	// maxConfirmInterval caps the growing confirm poll interval.
	maxConfirmInterval = time.Second
	// defaultBackoff is the first retry wait for 5xx, transport errors and 409.
	defaultBackoff = 100 * time.Millisecond
	// maxBackoff caps one retry wait.
	maxBackoff = 2 * time.Second
)

// Operation names, used in errors, logs, RequestEvent and the emulator.
const (
	opToken                = "token"
	opGetConversation      = "getConversation"
	opGetCall              = "getCall"
	opPatchParticipant     = "patchParticipant"
	opPatchCallParticipant = "patchCallParticipant"
	opGetUser              = "getUser"
	opSearchUsers          = "searchUsers"
)

// Config configures a Client. Region, or APIURL, and the client credentials
// are required; everything else has a default.
type Config struct {
	// Region is a Genesys Cloud region name ("us-east-1") or domain
	// ("mypurecloud.com"); see RegionNames.
	Region       string
	ClientID     string
	ClientSecret string
	// APIURL and LoginURL override the URLs derived from Region (proxies,
	// tests). When only APIURL is set, LoginURL is derived from it
	// (https://api.x → https://login.x), or is the same URL when the host
	// does not start with "api.".
	APIURL   string
	LoginURL string
	// Endpoints chooses the conversation endpoint family; "" means FamilyAuto.
	Endpoints EndpointFamily
	// HTTPClient is the base HTTP client; it is copied, never modified.
	// The default has a 30 s overall timeout.
	HTTPClient *http.Client
	// Logger receives one debug record per HTTP attempt; default discards.
	Logger *slog.Logger
	// RetryBudget bounds the total time one operation spends waiting to retry.
	RetryBudget time.Duration
	// ConfirmTimeout bounds ConfirmDisconnect.
	ConfirmTimeout time.Duration
	// ConfirmInterval is the first wait between confirm polls; it grows by
	// half each poll, up to 1 s.
	ConfirmInterval time.Duration
	// Observer, if set, is called after every HTTP attempt, token requests
	// included. It must be safe for concurrent use and return quickly.
	Observer  func(RequestEvent)
	UserAgent string
	// RequestsPerMinute is the request budget of the OAuth client as a whole
	// (every replica together); 0 means DefaultRequestsPerMinute. Replicas
	// is how many processes share it (0 means 1): each takes its share.
	// See WithBulkPriority.
	RequestsPerMinute, Replicas int
}

// RequestEvent describes one HTTP attempt, for metrics.
type RequestEvent struct {
	Operation    string // getConversation, getCall, patchParticipant, patchCallParticipant, getUser, searchUsers, queryConversations, getQueues, token
	Method       string
	Status       int // 0 = transport error, no answer
	Duration     time.Duration
	Attempt      int // 1 for the first attempt of an operation
	TokenRequest bool
	// Wait is how long the client waits before its next attempt after this
	// one: Retry-After or the backoff. It is 0 when it will not retry, when
	// it retries at once (a 401 answered with a fresh token), and on token
	// requests (the token endpoint's retries are counted on the API call).
	Wait time.Duration
}

// Stats counts HTTP attempts since the Client was made.
type Stats struct {
	Requests      int64 // API attempts, retries included, token requests excluded
	TokenRequests int64 // token endpoint attempts
}

// Client talks to one Genesys Cloud org. It is safe for concurrent use.
type Client struct {
	apiURL    string // no trailing slash
	loginURL  string
	endpoints EndpointFamily
	// preferCalls is learned in FamilyAuto mode: Genesys answered not.a.user
	// on the generic family, so the media families (calls for voice) are
	// used from then on (and the other way round).
	preferCalls atomic.Bool
	// hints are the media of the participants read lately (family.go).
	hints mediaHints

	http      *http.Client
	log       *slog.Logger
	observer  func(RequestEvent)
	userAgent string

	retryBudget     time.Duration
	confirmTimeout  time.Duration
	confirmInterval time.Duration
	backoffBase     time.Duration // tests shorten it

	tokens *tokenCache
	budget *budget     // budget.go
	claims sweepClaims // sweep.go

	requests      atomic.Int64
	tokenRequests atomic.Int64
}

// New validates cfg and returns a Client. ctx is the process's root context:
// the token source keeps it for every token refresh, so cancel it only at
// shutdown. New makes no request; call CheckToken to test the credentials.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, &InputError{Field: "ClientID", Message: "the OAuth client id is required (the id of a client-credentials grant)"}
	}
	if strings.TrimSpace(cfg.ClientSecret) == "" {
		return nil, &InputError{Field: "ClientSecret", Message: "the OAuth client secret is required (the secret of a client-credentials grant)"}
	}
	apiURL, loginURL, err := resolveURLs(cfg)
	if err != nil {
		return nil, err
	}
	fam, err := parseFamily(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	if err := checkDurations(cfg); err != nil {
		return nil, err
	}

	c := &Client{
		apiURL:          apiURL,
		loginURL:        loginURL,
		endpoints:       fam,
		log:             cfg.Logger,
		observer:        cfg.Observer,
		userAgent:       cfg.UserAgent,
		retryBudget:     orDefault(cfg.RetryBudget, DefaultRetryBudget),
		confirmTimeout:  orDefault(cfg.ConfirmTimeout, DefaultConfirmTimeout),
		confirmInterval: orDefault(cfg.ConfirmInterval, DefaultConfirmInterval),
		backoffBase:     defaultBackoff,
	}
	if err := checkBudget(cfg); err != nil { // budget.go
		return nil, err
	}
	c.budget = newBudget(cfg.RequestsPerMinute, cfg.Replicas)
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}

	base := cfg.HTTPClient
	if base == nil {
		base = defaultHTTPClient()
	}
	apiHTTP := *base
	c.http = &apiHTTP

	// The token endpoint gets its own copy of the client whose transport
	// counts, observes and logs each attempt: oauth2 makes those requests,
	// so this is the only place to see them.
	tokenHTTP := *base
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	tokenHTTP.Transport = &tokenTransport{next: next, c: c}

	cc := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     loginURL + "/oauth/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	c.tokens = newTokenCache(context.WithValue(ctx, oauth2.HTTPClient, &tokenHTTP), cc)
	return c, nil
}

// parseFamily reads Config.Endpoints; "" means FamilyAuto.
func parseFamily(f EndpointFamily) (EndpointFamily, error) {
	fam := EndpointFamily(strings.ToLower(strings.TrimSpace(string(f))))
	switch fam {
	case "":
		return FamilyAuto, nil
	case FamilyAuto, FamilyGeneric, FamilyCalls:
		return fam, nil
	}
	return "", &InputError{Field: "Endpoints", Value: string(fam), Message: fmt.Sprintf("the endpoint family %q is not valid; use auto, generic or calls", shorten(string(fam), 32))}
}

// checkDurations refuses negative timings (zero means the default).
func checkDurations(cfg Config) error {
	for _, d := range []struct {
		field, what string
		v           time.Duration
	}{{"RetryBudget", "the retry budget", cfg.RetryBudget}, {"ConfirmTimeout", "the confirmation timeout", cfg.ConfirmTimeout}, {"ConfirmInterval", "the confirmation interval", cfg.ConfirmInterval}} {
		if d.v < 0 {
			return &InputError{Field: d.field, Message: fmt.Sprintf("%s must not be negative (got %s)", d.what, d.v)}
		}
	}
	return nil
}

func orDefault(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 20 * time.Second
	// Enough idle connections for a burst of supervisors: each new one is a
	// TLS handshake with Genesys on the disconnect's critical path.
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

func resolveURLs(cfg Config) (apiURL, loginURL string, err error) {
	switch {
	case cfg.APIURL != "":
		apiURL, err = checkBaseURL("APIURL", "the API URL", cfg.APIURL)
		if err != nil {
			return "", "", err
		}
		loginURL = deriveLoginURL(apiURL)
	case cfg.Region != "":
		apiURL, loginURL, err = ResolveRegion(cfg.Region)
		if err != nil {
			return "", "", err
		}
	default:
		return "", "", &InputError{Field: "Region", Message: "the region is required (one of: " + strings.Join(RegionNames(), ", ") + "), unless an API URL is given"}
	}
	if cfg.LoginURL != "" {
		loginURL, err = checkBaseURL("LoginURL", "the login URL", cfg.LoginURL)
		if err != nil {
			return "", "", err
		}
	}
	return apiURL, loginURL, nil
}

func checkBaseURL(field, what, raw string) (string, error) {
	bad := func(why string) error {
		return &InputError{Field: field, Message: fmt.Sprintf("%s %q is not usable: %s", what, shorten(raw, 100), why)}
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", &InputError{Field: field, Message: fmt.Sprintf("%s is not a valid URL (expected something like https://api.mypurecloud.com)", what)}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", bad("it must start with https://")
	}
	if u.Host == "" {
		return "", bad("it has no host")
	}
	if u.User != nil {
		// Never keep credentials in a URL: it ends up in logs and errors.
		return "", &InputError{Field: field, Message: what + " must not contain a user name or password"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", bad("it must not have a query or fragment")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// deriveLoginURL applies the SDKs' rule: the login host is the
// API host with "api." replaced by "login.". Other hosts (a proxy, the
// emulator) serve both.
func deriveLoginURL(apiURL string) string {
	if rest, ok := strings.CutPrefix(apiURL, "https://api."); ok {
		return "https://login." + rest
	}
	if rest, ok := strings.CutPrefix(apiURL, "http://api."); ok {
		return "http://login." + rest
	}
	return apiURL
}

// CloseIdleConnections closes idle keep-alive connections, for a clean
// shutdown (and for goroutine-leak checks in tests).
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
	if ts, ok := c.tokens.root.Value(oauth2.HTTPClient).(*http.Client); ok {
		ts.CloseIdleConnections()
	}
}

// Stats returns the request counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), TokenRequests: c.tokenRequests.Load()}
}

// CheckToken makes sure the client holds a valid token, fetching one when
// the cached one is missing or about to expire. Use it to test credentials
// at startup and for readiness.
func (c *Client) CheckToken(ctx context.Context) error {
	_, err := c.tokens.token(ctx)
	return err
}

// TokenHealthy reports whether the last token fetch succeeded. It is false
// before the first fetch.
func (c *Client) TokenHealthy() bool { return c.tokens.healthy.Load() }

// tokenTransport counts and reports token-endpoint attempts. It never logs
// the request or response body (they carry the secret and the token).
type tokenTransport struct {
	next http.RoundTripper
	c    *Client
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.c.userAgent)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	d := time.Since(start)
	t.c.tokenRequests.Add(1)
	status, corr := 0, ""
	if err == nil {
		status = resp.StatusCode
		corr = resp.Header.Get(correlationHeader)
	}
	t.c.logAttempt(req.Context(), opToken, req.Method, req.URL.Path, status, d, 1, corr, err)
	if t.c.observer != nil {
		t.c.observer(RequestEvent{Operation: opToken, Method: req.Method, Status: status, Duration: d, Attempt: 1, TokenRequest: true})
	}
	return resp, err
}

const correlationHeader = "ININ-Correlation-Id"

func (c *Client) logAttempt(ctx context.Context, op, method, path string, status int, d time.Duration, attempt int, corr string, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Int64("duration_ms", d.Milliseconds()),
		slog.Int("attempt", attempt),
		slog.String("correlation_id", corr),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "genesys request", attrs...)
}

// readBody reads at most maxBody+1 bytes so callers can tell "too large".
func readBody(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, maxBody+1))
}
