package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// apiRequest is one logical API call. body is kept as bytes so every retry
// sends it again from the start.
type apiRequest struct {
	op     string
	method string
	path   string // escaped, starting with /api/v2/
	body   []byte // nil for no body
	// settled, when set, is asked before an attempt is sent again after
	// one that may have taken effect (5xx, timeout, lost answer); true
	// means the work is done and do stops with success.
	settled func(ctx context.Context) bool
}

// apiResponse is what callers need from a successful answer.
type apiResponse struct {
	status        int
	correlationID string
	// settled is set when no attempt was answered with success but a
	// re-read showed the work done (apiRequest.settled).
	settled bool
}

// do sends req with retries and decodes a 2xx JSON body into out (if non-nil).
//
// Each round is token → send → decide → wait: decide (retry.go) holds the
// rules, this loop only carries them out. The loop is hand-written rather
// than go-retryablehttp (which the Genesys SDK uses) because the rules are
// per-status and per-operation and must share one time budget with the token
// refresh; retryablehttp's CheckRetry and Backoff hooks would say it less
// plainly.
func (c *Client) do(ctx context.Context, req apiRequest, out any) (apiResponse, error) {
	deadline := c.deadline(ctx)
	var (
		state   retryState
		attempt int
		// uncertain: an earlier attempt may have been carried out although
		// we saw no success (transport error or 5xx).
		uncertain bool
		lastCorr  string // correlation id of the last answer
	)
	for {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return apiResponse{}, markUncertain(ctx.Err(), uncertain)
			}
			var d decision
			d, state = decide(tokenFailure(err), state, time.Until(deadline), c.backoff(state.waits))
			if d.action == giveUp {
				return apiResponse{}, markUncertain(err, uncertain)
			}
			if err := sleep(ctx, d.wait); err != nil {
				return apiResponse{}, markUncertain(err, uncertain)
			}
			continue
		}

		if uncertain && req.settled != nil && req.settled(ctx) {
			// An earlier attempt did the work after all: sending it again
			// would only hit a leg that is already gone.
			return apiResponse{status: http.StatusAccepted, correlationID: lastCorr, settled: true}, nil
		}
		attempt++
		a := c.send(ctx, req, tok, attempt)
		if a.resp != nil {
			lastCorr = a.resp.Header.Get(correlationHeader)
		}
		if a.err == nil && a.resp.StatusCode >= 200 && a.resp.StatusCode < 300 {
			c.record(ctx, req, a, 0)
			return decodeSuccess(req, a.resp, a.body, out)
		}
		f, failed := c.attemptFailure(ctx, req, a, uncertain)
		if f.status == 0 && ctx.Err() != nil {
			c.record(ctx, req, a, 0)
			return apiResponse{}, failed
		}
		uncertain = uncertain || uncertainAnswer(f.status)
		var d decision
		d, state = decide(f, state, time.Until(deadline), c.backoff(state.waits))
		c.record(ctx, req, a, d.wait)
		switch d.action {
		case giveUp:
			return apiResponse{}, failed
		case refreshToken:
			c.tokens.invalidate(tok)
		case retryWait:
			if err := sleep(ctx, d.wait); err != nil {
				return apiResponse{}, markUncertain(err, uncertain)
			}
		}
	}
}

// deadline is when the operation's retry budget runs out: the budget from
// now, or the context's deadline if that comes first.
func (c *Client) deadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(c.retryBudget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// tokenFailure describes a failed token fetch for decide.
func tokenFailure(err error) failure {
	f := failure{token: true, kind: ErrorKind(err)}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		f.retryAfter = apiErr.RetryAfter
	}
	return f
}

// attemptFailure turns a failed attempt into the failure decide needs and
// the error to return. uncertain says whether an earlier attempt may have
// been carried out.
func (c *Client) attemptFailure(ctx context.Context, req apiRequest, a sent, uncertain bool) (failure, error) {
	if a.err != nil {
		cause := a.err
		if ctx.Err() != nil {
			cause = ctx.Err()
		} else if uErr, ok := errors.AsType[*url.Error](cause); ok {
			// The *url.Error repeats method and URL; keep only its cause.
			cause = uErr.Err
		}
		return failure{kind: KindUnavailable}, &TransportError{Operation: req.op, Method: req.method, Path: req.path, Err: cause}
	}
	apiErr := newAPIError(req, a.resp, a.body)
	apiErr.AfterUncertainAttempt = uncertain
	return failure{kind: apiErr.kind(), status: apiErr.Status, retryAfter: apiErr.RetryAfter}, apiErr
}

// decodeSuccess reads a 2xx answer into out (if non-nil).
func decodeSuccess(req apiRequest, resp *http.Response, body []byte, out any) (apiResponse, error) {
	corr := resp.Header.Get(correlationHeader)
	decodeErr := func(err error) error {
		return &DecodeError{Operation: req.op, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), CorrelationID: corr, Err: err}
	}
	if len(body) > maxBody {
		return apiResponse{}, decodeErr(fmt.Errorf("response is larger than %d bytes", maxBody))
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := decodeJSON(resp.Header.Get("Content-Type"), body, out); err != nil {
			return apiResponse{}, decodeErr(err)
		}
	}
	return apiResponse{status: resp.StatusCode, correlationID: corr}, nil
}

// sent is one HTTP attempt: its answer with the (bounded) body, or the error
// that stood in for one.
type sent struct {
	attempt  int
	resp     *http.Response // nil when err is set
	body     []byte
	err      error
	duration time.Duration
}

// send makes one HTTP attempt and reads the (bounded) body.
func (c *Client) send(ctx context.Context, req apiRequest, tok *oauth2.Token, attempt int) sent {
	var rd io.Reader
	if req.body != nil {
		rd = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, c.apiURL+req.path, rd)
	if err != nil {
		return sent{attempt: attempt, err: err}
	}
	hreq.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", c.userAgent)
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}

	if err := c.budget.wait(ctx); err != nil { // budget.go
		return sent{attempt: attempt, err: err}
	}
	t0 := time.Now()
	resp, err := c.http.Do(hreq)
	c.budget.observe(resp)
	var body []byte
	if err == nil {
		body, err = readBody(resp.Body)
		resp.Body.Close()
		if err != nil {
			resp = nil
		}
	}
	return sent{attempt: attempt, resp: resp, body: body, err: err, duration: time.Since(t0)}
}

// record counts, logs and reports one attempt; wait is how long the client
// will wait before the next one.
func (c *Client) record(ctx context.Context, req apiRequest, a sent, wait time.Duration) {
	c.requests.Add(1)
	status, corr := 0, ""
	if a.resp != nil {
		status = a.resp.StatusCode
		corr = a.resp.Header.Get(correlationHeader)
	}
	// Log the path only: the request carries the token in a header that is
	// never logged, and there are no secrets in our paths or bodies.
	c.logAttempt(ctx, req.op, req.method, req.path, status, a.duration, a.attempt, corr, a.err)
	if c.observer != nil {
		c.observer(RequestEvent{Operation: req.op, Method: req.method, Status: status, Duration: a.duration, Attempt: a.attempt, Wait: wait})
	}
}

// backoff is exponential from backoffBase with "equal jitter": half fixed,
// half random, so synchronized clients spread out but never retry at once.
func (c *Client) backoff(n int) time.Duration {
	d := c.backoffBase << min(n, 10)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	half := d / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newAPIError(req apiRequest, resp *http.Response, body []byte) *APIError {
	e := &APIError{
		Operation:     req.op,
		Method:        req.method,
		Path:          req.path,
		Status:        resp.StatusCode,
		CorrelationID: resp.Header.Get(correlationHeader),
	}
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Body = eb
		e.Code = eb.Code
		e.Message = shorten(firstNonEmpty(eb.Message, eb.MessageWithParams), 500)
		if e.CorrelationID == "" {
			e.CorrelationID = eb.ContextID
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// parseRetryAfter reads Retry-After as seconds (what Genesys sends) or as an
// HTTP date. It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		if secs > 86400 {
			secs = 86400
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// decodeJSON decodes body into out with a clear message for the things a
// misrouted request returns: HTML, empty bodies, truncated JSON.
func decodeJSON(contentType string, body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body where JSON was expected")
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && strings.Contains(mt, "html") {
		return fmt.Errorf("got %s, not JSON", mt)
	}
	if err := json.Unmarshal(body, out); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("invalid JSON at byte %d", syn.Offset)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return fmt.Errorf("unexpected JSON: field %q has type %s", typ.Field, typ.Value)
		}
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return nil
}
