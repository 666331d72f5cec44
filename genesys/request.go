package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
}

// apiResponse is what callers need from a successful answer.
type apiResponse struct {
	status        int
	correlationID string
}

// do sends req with retries and decodes a 2xx JSON body into out (if non-nil).
//
// The retry loop is hand-written rather than go-retryablehttp (which the
// Genesys SDK uses) because the rules here are per-status and per-operation
// and must share one time budget with the token refresh: 401 is retried once
// with a fresh token, 429 waits exactly Retry-After or fails fast when that
// exceeds the budget, 409 is retried at most twice, and 5xx/transport errors
// back off with jitter. Expressing that through retryablehttp's CheckRetry and
// Backoff hooks would be longer than this loop and harder to read.
func (c *Client) do(ctx context.Context, req apiRequest, out any) (apiResponse, error) {
	start := time.Now()
	deadline := start.Add(c.retryBudget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var (
		attempt   int
		waits     int // retry waits so far, for exponential backoff
		conflicts int
		refreshed bool
		// uncertain: an earlier attempt may have been carried out although
		// we saw no success (transport error or 5xx).
		uncertain bool
	)
	// last is the attempt not yet given to the observer: it is reported
	// once the loop knows how long it waits before the next attempt
	// (RequestEvent.Wait), with Wait 0 when it retries at once or returns.
	var last *RequestEvent
	report := func(wait time.Duration) {
		if last != nil && c.observer != nil {
			last.Wait = wait
			c.observer(*last)
		}
		last = nil
	}
	defer report(0)
	// retryAfter sleeps for wait if that still fits the budget; it reports
	// false when the caller should return lastErr instead.
	retryAfter := func(wait time.Duration) (bool, error) {
		if time.Now().Add(wait).After(deadline) {
			return false, nil
		}
		report(wait)
		waits++
		if err := sleep(ctx, wait); err != nil {
			return false, err
		}
		return true, nil
	}

	for {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return apiResponse{}, ctx.Err()
			}
			k := ErrorKind(err)
			if k == KindUnavailable || k == KindRateLimited {
				wait := c.backoff(waits)
				var apiErr *APIError
				if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
					wait = apiErr.RetryAfter
				}
				if ok, serr := retryAfter(wait); serr != nil {
					return apiResponse{}, serr
				} else if ok {
					continue
				}
			}
			return apiResponse{}, err
		}

		report(0)
		attempt++
		resp, body, ev, err := c.send(ctx, req, tok, attempt)
		if ev.Attempt > 0 { // zero when no request could be made
			last = &ev
		}
		if err != nil {
			if ctx.Err() != nil {
				return apiResponse{}, &TransportError{Operation: req.op, Method: req.method, Path: req.path, Err: ctx.Err()}
			}
			// The *url.Error repeats method and URL; keep only its cause.
			var uErr *url.Error
			if errors.As(err, &uErr) {
				err = uErr.Err
			}
			tErr := &TransportError{Operation: req.op, Method: req.method, Path: req.path, Err: err}
			uncertain = true
			if ok, serr := retryAfter(c.backoff(waits)); serr != nil {
				return apiResponse{}, serr
			} else if ok {
				continue
			}
			return apiResponse{}, tErr
		}

		corr := resp.Header.Get(correlationHeader)
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if len(body) > maxBody {
				return apiResponse{}, &DecodeError{Operation: req.op, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), CorrelationID: corr, Err: fmt.Errorf("response is larger than %d bytes", maxBody)}
			}
			if out != nil && resp.StatusCode != http.StatusNoContent {
				if err := decodeJSON(resp.Header.Get("Content-Type"), body, out); err != nil {
					return apiResponse{}, &DecodeError{Operation: req.op, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), CorrelationID: corr, Err: err}
				}
			}
			return apiResponse{status: resp.StatusCode, correlationID: corr}, nil
		}

		apiErr := newAPIError(req, resp, body)
		apiErr.AfterUncertainAttempt = uncertain
		switch s := resp.StatusCode; {
		case s == http.StatusUnauthorized && !refreshed:
			// The token may have been revoked or expired early: one fresh
			// token, one more try, no wait.
			refreshed = true
			c.tokens.invalidate(tok)
			continue
		case s == http.StatusTooManyRequests:
			wait := apiErr.RetryAfter
			if wait <= 0 {
				wait = c.backoff(waits)
			}
			if ok, serr := retryAfter(wait); serr != nil {
				return apiResponse{}, serr
			} else if ok {
				continue
			}
		case s == http.StatusConflict && conflicts < 2:
			conflicts++
			if ok, serr := retryAfter(c.backoff(waits)); serr != nil {
				return apiResponse{}, serr
			} else if ok {
				continue
			}
		case s >= 500 && s != http.StatusNotImplemented:
			uncertain = true
			if ok, serr := retryAfter(c.backoff(waits)); serr != nil {
				return apiResponse{}, serr
			} else if ok {
				continue
			}
		}
		return apiResponse{}, apiErr
	}
}

// send makes one HTTP attempt and reads the (bounded) body. The caller
// hands the returned event to the observer.
func (c *Client) send(ctx context.Context, req apiRequest, tok *oauth2.Token, attempt int) (*http.Response, []byte, RequestEvent, error) {
	var rd *bytes.Reader
	if req.body != nil {
		rd = bytes.NewReader(req.body)
	}
	var hreq *http.Request
	var err error
	if rd != nil {
		hreq, err = http.NewRequestWithContext(ctx, req.method, c.apiURL+req.path, rd)
	} else {
		hreq, err = http.NewRequestWithContext(ctx, req.method, c.apiURL+req.path, nil)
	}
	if err != nil {
		return nil, nil, RequestEvent{}, err
	}
	hreq.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", c.userAgent)
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}

	t0 := time.Now()
	resp, err := c.http.Do(hreq)
	var body []byte
	if err == nil {
		body, err = readBody(resp.Body)
		resp.Body.Close()
		if err != nil {
			resp = nil
		}
	}
	d := time.Since(t0)
	c.requests.Add(1)
	status, corr := 0, ""
	if resp != nil {
		status = resp.StatusCode
		corr = resp.Header.Get(correlationHeader)
	}
	// Log the path only: the request carries the token in a header that is
	// never logged, and there are no secrets in our paths or bodies.
	c.logAttempt(ctx, req.op, req.method, req.path, status, d, attempt, corr, err)
	ev := RequestEvent{Operation: req.op, Method: req.method, Status: status, Duration: d, Attempt: attempt}
	if err != nil {
		return nil, nil, ev, err
	}
	return resp, body, ev, nil
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
