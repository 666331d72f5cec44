package slacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Message kinds.
const (
	KindPost      = "post"      // chat.postMessage
	KindEphemeral = "ephemeral" // chat.postEphemeral
	KindUpdate    = "update"    // chat.update
	KindResponse  = "response"  // a post to a response_url
	KindAck       = "ack"       // a message in a slash command's ack payload
)

// Message is one message-bearing event the bot caused. Messages are never
// mutated: a chat.update or a replace_original response is a new Message
// with the TS of the message it changed.
type Message struct {
	Kind    string
	Channel string
	// User is the only user who can see the message; empty for messages
	// everyone in the channel sees. Ephemeral posts, ephemeral responses and
	// replacements of ephemeral messages carry it.
	User     string
	TS       string // identifies the (visible) message; see Current
	ThreadTS string
	Text     string
	Blocks   json.RawMessage // as sent (compacted JSON); nil when none

	// response_url and ack fields.
	ResponseType    string // "in_channel", "ephemeral" or "" as sent
	ReplaceOriginal bool
	DeleteOriginal  bool
	ResponseURL     string // the response_url used, if any
	Time            time.Time
}

// Ephemeral reports whether only Message.User sees the message.
func (m Message) Ephemeral() bool { return m.User != "" }

// Call is one recorded HTTP request to the Web API or a response_url.
// Tokens are redacted.
type Call struct {
	Method     string     // Web API method, or MethodResponseURL
	HTTPMethod string     // GET, POST
	URL        string     // for response_url calls, the URL used
	Values     url.Values // query and form values
	Body       json.RawMessage
	Status     int    // HTTP status of the answer
	Error      string // "error" of an ok:false answer
	Time       time.Time
}

type msgKey struct{ channel, ts string }

type visibleMsg struct {
	msg     Message // current content
	deleted bool
}

// responseURL is the state behind one /response/<id>.
type responseURL struct {
	id      string
	url     string
	channel string
	user    string  // who triggered the command or action
	source  *msgKey // the message the action came from (block_actions)
	last    *msgKey // the last message posted through this URL
	created time.Time
	uses    int
}

var tokenRE = regexp.MustCompile(`\b(x(?:ox[a-z]|app))-[0-9A-Za-z-]+`)

// redact masks everything that looks like a Slack token, keeping its type
// prefix, like slack-go's debug logging.
func (s *Server) redact(v string) string {
	if s.opts.BotToken != "" {
		v = strings.ReplaceAll(v, s.opts.BotToken, "xoxb-REDACTED")
	}
	if s.opts.AppToken != "" {
		v = strings.ReplaceAll(v, s.opts.AppToken, "xapp-REDACTED")
	}
	return tokenRE.ReplaceAllString(v, "$1-REDACTED")
}

func (s *Server) redactValues(in url.Values) url.Values {
	out := make(url.Values, len(in))
	for k, vs := range in {
		for _, v := range vs {
			out[k] = append(out[k], s.redact(v))
		}
	}
	return out
}

func (s *Server) recordCall(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.stats.APICalls++
	s.notifyLocked()
}

// Calls returns every recorded Web API and response_url call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the recorded calls of one method.
func (s *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns every recorded message event, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// MessageCount is len(Messages()); pass it to WaitMessageAfter to wait only
// for messages recorded from now on.
func (s *Server) MessageCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// WaitMessage returns the first recorded message (including ones recorded
// before the call) for which match is true, waiting until one arrives or
// ctx ends.
func (s *Server) WaitMessage(ctx context.Context, match func(Message) bool) (Message, error) {
	return s.WaitMessageAfter(ctx, 0, match)
}

// WaitMessageAfter is WaitMessage ignoring the first n recorded messages.
func (s *Server) WaitMessageAfter(ctx context.Context, n int, match func(Message) bool) (Message, error) {
	var found Message
	err := s.waitFor(ctx, func() bool {
		for i := n; i < len(s.messages); i++ {
			if match(s.messages[i]) {
				found = s.messages[i]
				return true
			}
		}
		return false
	})
	return found, err
}

// Current returns what the message identified by msg's channel and TS looks
// like now (after updates and replace_original responses). ok is false when
// the message was deleted or is unknown.
func (s *Server) Current(msg Message) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.visible[msgKey{msg.Channel, msg.TS}]
	if v == nil || v.deleted {
		return Message{}, false
	}
	return v.msg, true
}

// ChannelPosts returns every message posted for everyone in channel
// (chat.postMessage, or an in_channel response), in order, as posted.
func (s *Server) ChannelPosts(channel string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Channel == channel && m.User == "" && (m.Kind == KindPost || m.ResponseType == "in_channel") {
			out = append(out, m)
		}
	}
	return out
}

// Visible returns the messages user currently sees in channel: channel
// messages plus user's ephemeral ones, in the order they were first posted,
// each in its current version. Deleted messages are left out.
func (s *Server) Visible(channel, user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, k := range s.visibleOrder {
		v := s.visible[k]
		if k.channel != channel || v.deleted {
			continue
		}
		if v.msg.User != "" && v.msg.User != user {
			continue
		}
		out = append(out, v.msg)
	}
	return out
}

// addMessageLocked records m and, when it is a new message, makes it visible.
func (s *Server) addMessageLocked(m Message, isNew bool) {
	s.messages = append(s.messages, m)
	k := msgKey{m.Channel, m.TS}
	if isNew {
		s.visible[k] = &visibleMsg{msg: m}
		s.visibleOrder = append(s.visibleOrder, k)
	}
	s.notifyLocked()
}

// newResponseURLLocked registers a response_url for an interaction by user
// in channel, optionally tied to the message it came from.
func (s *Server) newResponseURLLocked(channel, user string, source *msgKey) *responseURL {
	id := randomHex(12)
	ru := &responseURL{
		id:      id,
		url:     s.ts.URL + "/response/" + id,
		channel: channel,
		user:    user,
		source:  source,
		created: time.Now(),
	}
	s.responseURLs[id] = ru
	return ru
}

func (s *Server) responseURLByURL(u string) *responseURL {
	id, ok := strings.CutPrefix(u, s.ts.URL+"/response/")
	if !ok {
		return nil
	}
	return s.responseURLs[id]
}

// flexBool accepts true/false and "true"/"false", as Slack does.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true":
		*b = true
	default:
		*b = false
	}
	return nil
}

// responseBody is a response_url post or a slash command ack payload.
// slack-go sends "blocks":null and an empty metadata object, so both must
// be accepted.
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	Attachments     json.RawMessage `json:"attachments"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal flexBool        `json:"replace_original"`
	DeleteOriginal  flexBool        `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// normalize turns null/empty blocks into nil and a JSON string holding an
// array into the array.
func (b *responseBody) normalize() {
	b.Blocks = bytes.TrimSpace(b.Blocks)
	if len(b.Blocks) > 0 && b.Blocks[0] == '"' {
		var str string
		if json.Unmarshal(b.Blocks, &str) == nil {
			b.Blocks = json.RawMessage(str)
		}
	}
	if string(b.Blocks) == "null" {
		b.Blocks = nil
	}
	b.Attachments = bytes.TrimSpace(b.Attachments)
	if string(b.Attachments) == "null" || string(b.Attachments) == "[]" {
		b.Attachments = nil
	}
}

// check validates the message content; it returns the error code and the
// detailed errors.
func (b *responseBody) check() (string, []string) {
	if b.DeleteOriginal {
		return "", nil
	}
	blocks, code, errs := checkContent(b.Text, b.Blocks, len(b.Attachments) > 0)
	if code != "" {
		return code, errs
	}
	b.Blocks = blocks
	return "", nil
}

// applyResponseLocked applies a response_url post (or ack message) and
// records the resulting Message.
func (s *Server) applyResponseLocked(ru *responseURL, b responseBody, kind string) Message {
	m := Message{
		Kind:            kind,
		Channel:         ru.channel,
		ThreadTS:        b.ThreadTS,
		Text:            b.Text,
		Blocks:          b.Blocks,
		ResponseType:    b.ResponseType,
		ReplaceOriginal: bool(b.ReplaceOriginal),
		DeleteOriginal:  bool(b.DeleteOriginal),
		ResponseURL:     ru.url,
		Time:            time.Now(),
	}
	target := ru.source
	if target == nil {
		target = ru.last
	}
	var tv *visibleMsg
	if target != nil {
		tv = s.visible[*target]
	}
	if kind != KindAck && tv != nil && (m.DeleteOriginal || m.ReplaceOriginal) {
		m.TS = target.ts
		m.User = tv.msg.User // a replacement keeps its audience
		if m.DeleteOriginal {
			tv.deleted = true
		} else {
			tv.msg = m
		}
		s.addMessageLocked(m, false)
		return m
	}
	if m.DeleteOriginal {
		// Nothing to delete; record the attempt anyway.
		s.addMessageLocked(m, false)
		return m
	}
	m.TS = s.newTSLocked()
	if m.ResponseType != "in_channel" {
		m.User = ru.user // responses are ephemeral unless in_channel
	}
	k := msgKey{m.Channel, m.TS}
	ru.last = &k
	s.addMessageLocked(m, true)
	return m
}

// handleResponseURL serves POST /response/<id>.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	call := Call{
		Method:     MethodResponseURL,
		HTTPMethod: r.Method,
		URL:        s.ts.URL + r.URL.Path,
		Body:       json.RawMessage(s.redact(string(body))),
		Time:       time.Now(),
	}
	if !json.Valid(call.Body) {
		call.Body = nil
	}
	reply := func(status int, code string, errs []string) {
		call.Status, call.Error = status, code
		s.recordCall(call)
		resp := apiResp{"ok": code == ""}
		if code != "" {
			resp["error"] = code
		}
		if len(errs) > 0 {
			resp["errors"] = errs
		}
		writeJSON(w, status, resp)
	}
	if r.Method != http.MethodPost {
		reply(http.StatusMethodNotAllowed, "invalid_request", nil)
		return
	}
	if f, ok := s.takeFault(MethodResponseURL); ok {
		if s.applyFault(w, r, f, &call) {
			return
		}
	}
	var b responseBody
	if err := json.Unmarshal(body, &b); err != nil {
		reply(http.StatusBadRequest, "invalid_payload", nil)
		return
	}
	b.normalize()
	id := strings.TrimPrefix(r.URL.Path, "/response/")

	s.mu.Lock()
	ru := s.responseURLs[id]
	switch {
	case ru == nil:
		s.mu.Unlock()
		reply(http.StatusNotFound, "no_such_url", nil)
		return
	case time.Since(ru.created) > s.opts.ResponseURLTTL:
		s.mu.Unlock()
		reply(http.StatusNotFound, "expired_url", nil)
		return
	case ru.uses >= DefaultResponseURLMaxUses:
		s.mu.Unlock()
		reply(http.StatusNotFound, "used_url", nil)
		return
	}
	if code, errs := b.check(); code != "" {
		s.mu.Unlock()
		reply(http.StatusBadRequest, code, errs)
		return
	}
	ru.uses++
	s.applyResponseLocked(ru, b, KindResponse)
	s.mu.Unlock()
	reply(http.StatusOK, "", nil)
}
