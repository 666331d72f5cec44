package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// slackAPI is the responder backed by the Slack Web API and response_urls.
type slackAPI struct {
	API  *slack.Client
	HTTP *http.Client
	// ResponseHosts are the hosts a response_url may point at. Slack's are
	// hooks.slack.com; the host of slack.api_url is added so a proxy or a
	// fake works. A response_url anywhere else is refused: the bot would
	// otherwise post call details to whatever URL an envelope names.
	ResponseHosts []string
	// MaxRateLimitWait bounds how long a post waits for Slack's Retry-After.
	MaxRateLimitWait time.Duration
}

// idleConnsPerHost is how many idle keep-alive connections NewHTTPClient
// keeps per host. net/http's default of 2 makes concurrent supervisors open
// a new connection (a TLS handshake with Slack) for most calls: the
// benchmark with 100 concurrent supervisors counted about 3 new connections
// per slash+click with the default, and about 0.3 with this.
const idleConnsPerHost = 64

// NewHTTPClient returns an HTTP client for Slack's Web API and response_urls
// (slack.OptionHTTPClient and newSlackAPI): http.DefaultTransport's
// settings, but keeping idleConnsPerHost idle connections per host.
func NewHTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerHost
	return &http.Client{Timeout: timeout, Transport: t}
}

// newSlackAPI returns a responder for api. apiURL is slack.api_url.
// httpClient should be the one api uses, so both share connections; nil
// means NewHTTPClient(10 * time.Second).
func newSlackAPI(api *slack.Client, apiURL string, httpClient *http.Client) *slackAPI {
	hosts := []string{"hooks.slack.com"}
	if u, err := url.Parse(apiURL); err == nil && u.Hostname() != "" && u.Hostname() != "slack.com" {
		hosts = append(hosts, u.Hostname())
	}
	if httpClient == nil {
		httpClient = NewHTTPClient(10 * time.Second)
	}
	return &slackAPI{API: api, HTTP: httpClient, ResponseHosts: hosts, MaxRateLimitWait: 5 * time.Second}
}

type responsePayload struct {
	Text            string        `json:"text"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
	ResponseType    string        `json:"response_type,omitempty"`
	ReplaceOriginal bool          `json:"replace_original"`
}

// checkResponseURL allows https to Slack's hosts, and http(s) to the host of
// slack.api_url on any port (a proxy or a test server may answer
// response_urls on another port than the Web API). Loopback names count as
// one host, so a server on 127.0.0.1 may hand out localhost URLs.
func (s *slackAPI) checkResponseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("response_url is not a URL")
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "https" && (host == "slack.com" || strings.HasSuffix(host, ".slack.com")) {
		return nil
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("response_url scheme %q is not http(s)", u.Scheme)
	}
	for _, h := range s.ResponseHosts {
		h = strings.ToLower(h)
		if h == "hooks.slack.com" {
			continue // Slack's own host: https only, handled above
		}
		if host == h || (isLoopback(host) && isLoopback(h)) {
			return nil
		}
	}
	return fmt.Errorf("response_url host %q is not Slack's", u.Hostname())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Respond posts msg to a response_url.
func (s *slackAPI) Respond(ctx context.Context, responseURL string, msg message, opts respondOptions) error {
	if err := s.checkResponseURL(responseURL); err != nil {
		return err
	}
	p := responsePayload{Text: guardMrkdwn(msg.Text), Blocks: msg.Blocks, ReplaceOriginal: opts.Replace, ResponseType: "ephemeral"}
	if opts.InChannel {
		p.ResponseType = "in_channel"
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	return s.withRateLimit(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.HTTP.Do(req)
		if err != nil {
			return fmt.Errorf("posting to response_url: %w", redactURLError(err))
		}
		defer resp.Body.Close()
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode == http.StatusTooManyRequests {
			return &slack.RateLimitedError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("response_url answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(reply)))
		}
		var ok struct {
			OK    *bool  `json:"ok"`
			Error string `json:"error"`
		}
		if json.Unmarshal(reply, &ok) == nil && ok.OK != nil && !*ok.OK {
			return fmt.Errorf("response_url refused the message: %s", ok.Error)
		}
		return nil
	})
}

// PostEphemeral shows msg to user in channel.
func (s *slackAPI) PostEphemeral(ctx context.Context, channel, user string, msg message) error {
	return s.withRateLimit(ctx, func() error {
		_, err := s.API.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(guardMrkdwn(msg.Text), false), slack.MsgOptionBlocks(msg.Blocks...))
		return err
	})
}

// Post posts msg to a channel.
func (s *slackAPI) Post(ctx context.Context, channel string, msg message) (string, error) {
	var ts string
	err := s.withRateLimit(ctx, func() error {
		var err error
		_, ts, err = s.API.PostMessageContext(ctx, channel, slack.MsgOptionText(guardMrkdwn(msg.Text), false), slack.MsgOptionBlocks(msg.Blocks...))
		return err
	})
	return ts, err
}

// Update replaces the content of a message the bot posted.
func (s *slackAPI) Update(ctx context.Context, channel, ts string, msg message) error {
	return s.withRateLimit(ctx, func() error {
		_, _, _, err := s.API.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(msg.Blocks...))
		return err
	})
}

// withRateLimit retries f while Slack rate-limits it, as long as the wait
// stays under MaxRateLimitWait in total.
func (s *slackAPI) withRateLimit(ctx context.Context, f func() error) error {
	waited := time.Duration(0)
	for {
		err := f()
		rl, ok := errors.AsType[*slack.RateLimitedError](err)
		if !ok {
			return err
		}
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		if waited+wait > s.MaxRateLimitWait {
			return fmt.Errorf("slack rate limit: retry after %s exceeds the %s budget: %w", wait, s.MaxRateLimitWait, err)
		}
		waited += wait
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func retryAfter(h string) time.Duration {
	var secs int
	if _, err := fmt.Sscanf(h, "%d", &secs); err != nil || secs < 0 {
		return time.Second
	}
	return time.Duration(secs) * time.Second
}

// redactURLError drops the URL from a transport error: a response_url is a
// bearer credential for replying in the channel, so it stays out of logs.
func redactURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s response_url: %w", ue.Op, ue.Err)
	}
	return err
}
