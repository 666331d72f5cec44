package genesys

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxEarlyExpiry is how long before expiry a token is replaced, like the
// Genesys SDK's automatic refresh. Short-lived tokens use a tenth of their
// lifetime instead, so a 2 s test token is still reused.
const maxEarlyExpiry = 60 * time.Second

// tokenCache holds the current access token. It exists instead of
// oauth2.ReuseTokenSource because a 401 from the API must be able to drop
// the token, and because one fetch should serve all concurrent callers while
// each caller can still give up when its own context ends.
type tokenCache struct {
	root context.Context // process context with the counting HTTP client
	conf *clientcredentials.Config

	// sem serialises fetches; a channel so that waiting honours ctx.
	sem chan struct{}

	mu      sync.Mutex
	tok     *oauth2.Token
	fetched time.Time

	healthy atomic.Bool
}

func newTokenCache(root context.Context, conf *clientcredentials.Config) *tokenCache {
	return &tokenCache{root: root, conf: conf, sem: make(chan struct{}, 1)}
}

// cached returns the current token if it is not about to expire.
func (t *tokenCache) cached(now time.Time) *oauth2.Token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok == nil {
		return nil
	}
	if t.tok.Expiry.IsZero() {
		return t.tok
	}
	early := min(maxEarlyExpiry, t.tok.Expiry.Sub(t.fetched)/10)
	if now.Before(t.tok.Expiry.Add(-early)) {
		return t.tok
	}
	return nil
}

// token returns a valid token, fetching a new one when needed.
func (t *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	if tok := t.cached(time.Now()); tok != nil {
		return tok, nil
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.sem }()
	// Someone else may have fetched while we waited.
	if tok := t.cached(time.Now()); tok != nil {
		return tok, nil
	}

	// The fetch lives under the root context (it carries the HTTP client and
	// ends at shutdown) but is also cut when this caller gives up.
	fctx, cancel := context.WithCancel(t.root)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	start := time.Now()
	tok, err := t.conf.Token(fctx)
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about the credentials.
			return nil, ctx.Err()
		}
		t.healthy.Store(false)
		return nil, tokenError(err)
	}
	t.mu.Lock()
	t.tok, t.fetched = tok, start
	t.mu.Unlock()
	t.healthy.Store(true)
	return tok, nil
}

// invalidate drops tok if it is still the cached token, so the next call
// fetches a fresh one. Comparing first keeps a burst of 401s on one old
// token from throwing away a newer one.
func (t *tokenCache) invalidate(tok *oauth2.Token) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && tok != nil && t.tok.AccessToken == tok.AccessToken {
		t.tok = nil
	}
}

// tokenError converts an oauth2 error to this package's error types without
// keeping anything that could hold the secret or a token.
func tokenError(err error) error {
	const path = "/oauth/token"
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &APIError{Operation: opToken, Method: http.MethodPost, Path: path, Code: re.ErrorCode, Message: re.ErrorDescription}
		if re.Response != nil {
			e.Status = re.Response.StatusCode
			e.CorrelationID = re.Response.Header.Get(correlationHeader)
			if e.Status == http.StatusTooManyRequests {
				e.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
			}
		}
		// Genesys may answer with its ErrorBody or with
		// {error, description, error_description}.
		var body struct {
			ErrorBody
			Error       string `json:"error"`
			Description string `json:"description"`
		}
		if json.Unmarshal(re.Body, &body) == nil {
			e.Body = body.ErrorBody
			if e.Code == "" {
				e.Code = firstNonEmpty(body.Error, body.Code)
			}
			if e.Message == "" {
				e.Message = firstNonEmpty(body.Description, body.Message)
			}
			if e.CorrelationID == "" {
				e.CorrelationID = body.ContextID
			}
		}
		e.Message = shorten(e.Message, 300)
		return e
	}
	var uErr *url.Error
	if errors.As(err, &uErr) {
		return &TransportError{Operation: opToken, Method: http.MethodPost, Path: path, Err: uErr.Err}
	}
	return &DecodeError{Operation: opToken, Status: http.StatusOK, ContentType: "", Err: err}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
