package slacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrAckTimeout is wrapped by the error a Send* call returns when the bot
// did not ack within Options.AckDeadline (after all redeliveries).
var ErrAckTimeout = errors.New("slacktest: envelope not acked before the deadline")

// Envelope is a raw Socket Mode envelope for SendEnvelope.
type Envelope struct {
	Type                   string // "slash_commands", "interactive", "events_api"
	Payload                any    // marshalled to JSON; json.RawMessage is sent as is
	AcceptsResponsePayload bool
	// ConnID delivers to this connection (see ConnectionIDs); 0 uses
	// Options.Distribution.
	ConnID int
}

// Delivery describes the delivery attempt that was acked (or, on error, the
// last attempt).
type Delivery struct {
	EnvelopeID   string
	Type         string
	RetryAttempt int // 0 for the first delivery
	ConnID       int
	ResponseURL  string // the response_url in the payload, if any
	TriggerID    string
	AckLatency   time.Duration
	AckPayload   json.RawMessage // nil when the ack had no payload
}

// Ack is one ack frame received from the app.
type Ack struct {
	EnvelopeID   string
	Type         string
	RetryAttempt int
	ConnID       int // connection the ack arrived on
	Payload      json.RawMessage
	Latency      time.Duration // from writing the envelope to reading the ack
	// Late acks arrived after the deadline, or belong to a delivery whose
	// socket LoseNextAcks dropped; the fake ignores them, as Slack would.
	Late bool
	// Errors lists Block Kit violations in a slash command ack payload; such
	// a message is not shown.
	Errors []string
	Time   time.Time
}

// AckFailure is an envelope that was not acked before the deadline.
type AckFailure struct {
	EnvelopeID   string
	Type         string
	RetryAttempt int
	ConnID       int
	Deadline     time.Duration
	Redelivered  bool // a new attempt followed
	Time         time.Time
}

// pending is an envelope waiting for its ack.
type pending struct {
	id      string
	typ     string
	attempt int
	connID  int
	sent    time.Time
	lost    bool
	ackCh   chan Ack // buffered; receives the in-time ack
	ru      *responseURL
}

type envelopeFrame struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`
	Payload                json.RawMessage `json:"payload"`
}

// Acks returns every ack received, oldest first.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// AckFailures returns every missed ack deadline, oldest first.
func (s *Server) AckFailures() []AckFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AckFailure(nil), s.ackFailures...)
}

// LoseNextAcks makes the fake drop the socket right after writing each of
// the next n envelopes, so their acks cannot arrive (any ack for them is
// recorded as Late). Those envelopes are redelivered after the ack deadline
// even when Options.Redeliver is off.
func (s *Server) LoseNextAcks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseAcks += n
}

// handleFrame processes a text frame from the app: an ack.
func (s *Server) handleFrame(c *conn, data []byte) {
	var f struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.EnvelopeID == "" {
		s.log.Warn("slacktest: unexpected frame from app", "conn", c.id, "bytes", len(data))
		return
	}
	payload := bytes.TrimSpace(f.Payload)
	if len(payload) == 0 || string(payload) == "null" {
		payload = nil
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	a := Ack{EnvelopeID: f.EnvelopeID, ConnID: c.id, Payload: payload, Time: now}
	p := s.pending[f.EnvelopeID]
	switch {
	case p != nil && !p.lost:
		delete(s.pending, p.id)
		a.Type, a.RetryAttempt, a.Latency = p.typ, p.attempt, now.Sub(p.sent)
		if p.ru != nil && payload != nil {
			a.Errors = s.ackMessageLocked(p.ru, payload)
		}
		s.stats.Acks++
		p.ackCh <- a
	case p != nil:
		a.Type, a.RetryAttempt, a.Latency, a.Late = p.typ, p.attempt, now.Sub(p.sent), true
		s.stats.LateAcks++
	default:
		typ, ok := s.expired[f.EnvelopeID]
		if !ok {
			s.stats.UnknownAcks++
			s.log.Warn("slacktest: ack for unknown envelope", "conn", c.id, "envelope_id", f.EnvelopeID)
			return
		}
		a.Type, a.Late = typ, true
		s.stats.LateAcks++
	}
	s.acks = append(s.acks, a)
	s.log.Info("slacktest: ack", "conn", c.id, "envelope_id", a.EnvelopeID, "latency", a.Latency, "late", a.Late)
}

// ackMessageLocked shows the message in a slash command's ack payload.
func (s *Server) ackMessageLocked(ru *responseURL, payload json.RawMessage) []string {
	var b responseBody
	if json.Unmarshal(payload, &b) != nil {
		return []string{"ack payload is not a JSON object"}
	}
	b.normalize()
	if b.Text == "" && b.Blocks == nil && b.Attachments == nil {
		return nil // a bare ack
	}
	if code, errs := b.check(); code != "" {
		return append([]string{code}, errs...)
	}
	b.ReplaceOriginal, b.DeleteOriginal = false, false
	s.applyResponseLocked(ru, b, KindAck)
	return nil
}

// pickConn chooses the connection for the next envelope, waiting for one
// to be open.
func (s *Server) pickConn(ctx context.Context, want int) (*conn, error) {
	if want != 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.conns[want]
		if !ok || c.draining {
			return nil, fmt.Errorf("slacktest: connection %d is not open", want)
		}
		return c, nil
	}
	var c *conn
	err := s.waitFor(ctx, func() bool {
		ids := s.readyConnIDsLocked()
		if len(ids) == 0 {
			return false
		}
		var i int
		if s.opts.Distribution == Random {
			i = rand.IntN(len(ids))
		} else {
			i = s.rr % len(ids)
			s.rr++
		}
		c = s.conns[ids[i]]
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("slacktest: no socket mode connection: %w", err)
	}
	return c, nil
}

// SendEnvelope delivers an envelope and waits for the ack. When the ack
// does not arrive within Options.AckDeadline it records an AckFailure and,
// if redelivery applies, delivers the same payload again with a new
// envelope_id, retry_attempt+1 and retry_reason "timeout". It returns an
// error wrapping ErrAckTimeout when the last attempt timed out.
func (s *Server) SendEnvelope(ctx context.Context, env Envelope) (Delivery, error) {
	return s.deliver(ctx, env, nil)
}

func (s *Server) deliver(ctx context.Context, env Envelope, ru *responseURL) (Delivery, error) {
	payload, err := marshalPayload(env.Payload)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Type: env.Type}
	if ru != nil {
		d.ResponseURL = ru.url
	}
	retryReason := ""
	for attempt := 0; ; {
		want := env.ConnID
		if attempt > 0 {
			want = 0 // Slack redelivers to any open connection
		}
		c, err := s.pickConn(ctx, want)
		if err != nil {
			return d, err
		}
		p := s.addPending(env.Type, attempt, c.id, ru)
		err = c.write(envelopeFrame{
			EnvelopeID:             p.id,
			Type:                   env.Type,
			AcceptsResponsePayload: env.AcceptsResponsePayload,
			RetryAttempt:           attempt,
			RetryReason:            retryReason,
			Payload:                payload,
		})
		if err != nil {
			// Never reached the app: try another connection, same attempt.
			s.unsend(p, c)
			if want != 0 {
				return d, fmt.Errorf("slacktest: write envelope: %w", err)
			}
			continue
		}
		d.EnvelopeID, d.ConnID, d.RetryAttempt = p.id, c.id, attempt
		s.log.Info("slacktest: envelope sent", "conn", c.id, "type", env.Type, "envelope_id", p.id, "retry_attempt", attempt)
		if p.lost {
			s.mu.Lock()
			s.stats.Drops++
			s.notifyLocked()
			s.mu.Unlock()
			c.close()
		}
		a, acked, redeliver, err := s.awaitAck(ctx, p)
		switch {
		case acked:
			d.AckLatency, d.AckPayload = a.Latency, a.Payload
			return d, nil
		case err != nil:
			return d, err
		case !redeliver:
			return d, fmt.Errorf("%w: %s envelope %s (retry_attempt %d) after %s", ErrAckTimeout, env.Type, p.id, attempt, s.opts.AckDeadline)
		}
		attempt++
		retryReason = "timeout"
	}
}

func marshalPayload(payload any) (json.RawMessage, error) {
	if raw, ok := payload.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("slacktest: marshal payload: %w", err)
	}
	return b, nil
}

// addPending records an envelope about to be written to connection connID.
func (s *Server) addPending(typ string, attempt, connID int, ru *responseURL) *pending {
	p := &pending{id: newUUID(), typ: typ, attempt: attempt, connID: connID, ackCh: make(chan Ack, 1), ru: ru}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loseAcks > 0 {
		s.loseAcks--
		p.lost = true
	}
	p.sent = time.Now()
	s.pending[p.id] = p
	s.stats.Envelopes++
	if attempt > 0 {
		s.stats.Redeliveries++
	}
	s.notifyLocked()
	return p
}

// unsend forgets an envelope whose write failed, and retires the
// connection it failed on.
func (s *Server) unsend(p *pending, c *conn) {
	s.mu.Lock()
	delete(s.pending, p.id)
	s.stats.Envelopes--
	if p.attempt > 0 {
		s.stats.Redeliveries--
	}
	if p.lost {
		s.loseAcks++
	}
	c.draining = true
	s.notifyLocked()
	s.mu.Unlock()
	c.close()
}

// awaitAck waits for p's ack until the ack deadline. When it does not come
// it records the AckFailure and says whether the envelope is redelivered;
// err is set when ctx ended or the server closed.
func (s *Server) awaitAck(ctx context.Context, p *pending) (a Ack, acked, redeliver bool, err error) {
	timer := time.NewTimer(s.opts.AckDeadline)
	select {
	case a := <-p.ackCh:
		timer.Stop()
		return a, true, false, nil
	case <-timer.C:
	case <-ctx.Done():
		err = ctx.Err()
	case <-s.closed:
		err = ErrClosed
	}
	timer.Stop()

	s.mu.Lock()
	if _, still := s.pending[p.id]; !still {
		// The ack won the race against the timer.
		s.mu.Unlock()
		return <-p.ackCh, true, false, nil
	}
	delete(s.pending, p.id)
	s.expired[p.id] = p.typ
	if err != nil {
		s.notifyLocked()
		s.mu.Unlock()
		return Ack{}, false, false, err
	}
	redeliver = (s.opts.Redeliver || p.lost) && p.attempt < s.opts.MaxRetries
	s.stats.AckTimeouts++
	s.ackFailures = append(s.ackFailures, AckFailure{
		EnvelopeID: p.id, Type: p.typ, RetryAttempt: p.attempt, ConnID: p.connID,
		Deadline: s.opts.AckDeadline, Redelivered: redeliver, Time: time.Now(),
	})
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Warn("slacktest: ack deadline missed", "conn", p.connID, "type", p.typ, "envelope_id", p.id, "retry_attempt", p.attempt, "redeliver", redeliver)
	return Ack{}, false, redeliver, nil
}

// SlashCommand is a slash command invocation for SendSlashCommand. Empty
// fields get defaults: the server's team, the user's and channel's known
// names.
type SlashCommand struct {
	TeamID      string
	ChannelID   string
	ChannelName string
	UserID      string
	UserName    string
	Command     string // with the leading slash, e.g. "/disconnect"
	Text        string
	ConnID      int // deliver to this connection; 0 uses Options.Distribution
}

type slashPayload struct {
	Token               string `json:"token"`
	TeamID              string `json:"team_id"`
	TeamDomain          string `json:"team_domain"`
	ChannelID           string `json:"channel_id"`
	ChannelName         string `json:"channel_name"`
	UserID              string `json:"user_id"`
	UserName            string `json:"user_name"`
	Command             string `json:"command"`
	Text                string `json:"text"`
	APIAppID            string `json:"api_app_id"`
	EnterpriseID        string `json:"enterprise_id,omitempty"`
	EnterpriseName      string `json:"enterprise_name,omitempty"`
	IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	ResponseURL         string `json:"response_url"`
	TriggerID           string `json:"trigger_id"`
}

// verificationToken is the legacy per-app token Slack puts into payloads;
// it is not a credential of the fake.
const verificationToken = "fakeVerificationToken0000"

func (s *Server) triggerID() string {
	s.mu.Lock()
	n := s.nextSeqLocked()
	s.mu.Unlock()
	return fmt.Sprintf("%d.%d.%s", s.tsBase+n, n, randomHex(16))
}

// SendSlashCommand delivers a slash_commands envelope and returns once the
// bot acked it (see SendEnvelope for deadlines and redelivery). A message in
// the ack payload is recorded as a KindAck Message.
func (s *Server) SendSlashCommand(ctx context.Context, cmd SlashCommand) (Delivery, error) {
	if cmd.TeamID == "" {
		cmd.TeamID = s.opts.TeamID
	}
	if cmd.ChannelName == "" {
		cmd.ChannelName = s.channelName(cmd.ChannelID)
	}
	if cmd.UserName == "" {
		cmd.UserName = s.userName(cmd.UserID)
	}
	s.mu.Lock()
	ru := s.newResponseURLLocked(cmd.ChannelID, cmd.UserID, nil)
	s.mu.Unlock()
	trig := s.triggerID()
	pl := slashPayload{
		Token:               verificationToken,
		TeamID:              cmd.TeamID,
		TeamDomain:          s.opts.TeamDomain,
		ChannelID:           cmd.ChannelID,
		ChannelName:         cmd.ChannelName,
		UserID:              cmd.UserID,
		UserName:            cmd.UserName,
		Command:             cmd.Command,
		Text:                cmd.Text,
		APIAppID:            s.opts.AppID,
		EnterpriseID:        s.opts.EnterpriseID,
		EnterpriseName:      s.opts.EnterpriseName,
		IsEnterpriseInstall: s.opts.EnterpriseInstall,
		ResponseURL:         ru.url,
		TriggerID:           trig,
	}
	d, err := s.deliver(ctx, Envelope{Type: "slash_commands", Payload: pl, AcceptsResponsePayload: true, ConnID: cmd.ConnID}, ru)
	d.TriggerID = trig
	return d, err
}

// BlockAction is a button click for SendBlockAction. Click fills it from a
// recorded message; use SendBlockAction directly to send clicks Slack would
// never send (stale or forged buttons).
type BlockAction struct {
	TeamID      string
	ChannelID   string
	ChannelName string
	UserID      string
	UserName    string
	ActionID    string
	BlockID     string // mandatory for slack-go to see a BlockAction
	Value       string
	Text        string // button label
	MessageTS   string
	IsEphemeral bool
	// ResponseURL to put into the payload; empty creates one that acts on
	// the message identified by ChannelID and MessageTS.
	ResponseURL string
	ConnID      int
}

type baUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

type baContainer struct {
	Type        string `json:"type"`
	MessageTS   string `json:"message_ts"`
	ChannelID   string `json:"channel_id"`
	IsEphemeral bool   `json:"is_ephemeral"`
}

type baAction struct {
	ActionID string   `json:"action_id"`
	BlockID  string   `json:"block_id"`
	Type     string   `json:"type"`
	Text     *textObj `json:"text,omitempty"`
	Value    string   `json:"value,omitempty"`
	ActionTS string   `json:"action_ts"`
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type teamRef struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

type blockActionsPayload struct {
	Type                string          `json:"type"`
	User                baUser          `json:"user"`
	APIAppID            string          `json:"api_app_id"`
	Token               string          `json:"token"`
	Container           baContainer     `json:"container"`
	TriggerID           string          `json:"trigger_id"`
	Team                teamRef         `json:"team"`
	Enterprise          *idName         `json:"enterprise"`
	IsEnterpriseInstall bool            `json:"is_enterprise_install"`
	Channel             idName          `json:"channel"`
	Message             map[string]any  `json:"message,omitempty"`
	State               json.RawMessage `json:"state"`
	ResponseURL         string          `json:"response_url"`
	Actions             []baAction      `json:"actions"`
}

// SendBlockAction delivers an interactive block_actions envelope for one
// button click and returns once the bot acked it.
func (s *Server) SendBlockAction(ctx context.Context, ba BlockAction) (Delivery, error) {
	if ba.TeamID == "" {
		ba.TeamID = s.opts.TeamID
	}
	if ba.ChannelName == "" {
		ba.ChannelName = s.channelName(ba.ChannelID)
	}
	if ba.UserName == "" {
		ba.UserName = s.userName(ba.UserID)
	}
	s.mu.Lock()
	var ru *responseURL
	if ba.ResponseURL != "" {
		ru = s.responseURLByURL(ba.ResponseURL)
	} else {
		var src *msgKey
		if ba.MessageTS != "" {
			src = &msgKey{ba.ChannelID, ba.MessageTS}
		}
		ru = s.newResponseURLLocked(ba.ChannelID, ba.UserID, src)
	}
	var message map[string]any
	if v := s.visible[msgKey{ba.ChannelID, ba.MessageTS}]; v != nil && !ba.IsEphemeral && !v.deleted {
		message = s.messageJSON(v.msg)
	}
	actionTS := s.newTSLocked()
	s.mu.Unlock()
	rurl := ba.ResponseURL
	if ru != nil {
		rurl = ru.url
	}
	trig := s.triggerID()
	act := baAction{ActionID: ba.ActionID, BlockID: ba.BlockID, Type: "button", Value: ba.Value, ActionTS: actionTS}
	if ba.Text != "" {
		act.Text = &textObj{Type: "plain_text", Text: ba.Text, Emoji: true}
	}
	pl := blockActionsPayload{
		Type:                "block_actions",
		User:                baUser{ID: ba.UserID, Username: ba.UserName, Name: ba.UserName, TeamID: ba.TeamID},
		APIAppID:            s.opts.AppID,
		Token:               verificationToken,
		Container:           baContainer{Type: "message", MessageTS: ba.MessageTS, ChannelID: ba.ChannelID, IsEphemeral: ba.IsEphemeral},
		TriggerID:           trig,
		Team:                teamRef{ID: ba.TeamID, Domain: s.opts.TeamDomain},
		IsEnterpriseInstall: s.opts.EnterpriseInstall,
		Channel:             idName{ID: ba.ChannelID, Name: ba.ChannelName},
		Message:             message,
		State:               json.RawMessage(`{"values":{}}`),
		ResponseURL:         rurl,
		Actions:             []baAction{act},
	}
	if s.opts.EnterpriseID != "" {
		pl.Enterprise = &idName{ID: s.opts.EnterpriseID, Name: s.opts.EnterpriseName}
	}
	// Block actions carry no response payload; the ack is never shown.
	d, err := s.deliver(ctx, Envelope{Type: "interactive", Payload: pl, ConnID: ba.ConnID}, nil)
	d.ResponseURL, d.TriggerID = rurl, trig
	return d, err
}

// Click clicks, as userID, the button with actionID (and value, when not
// empty) in the current version of msg. It fails when the message is gone,
// is not visible to the user, or has no such button (or several that the
// value does not tell apart). The payload carries the right block_id, value,
// label, container and a response_url that acts on msg.
func (s *Server) Click(ctx context.Context, userID string, msg Message, actionID, value string) (Delivery, error) {
	cur, ok := s.Current(msg)
	if !ok {
		return Delivery{}, fmt.Errorf("slacktest: click %s: message %s in %s is deleted or unknown", actionID, msg.TS, msg.Channel)
	}
	if cur.User != "" && cur.User != userID {
		return Delivery{}, fmt.Errorf("slacktest: click %s: message %s is ephemeral to %s, not visible to %s", actionID, cur.TS, cur.User, userID)
	}
	all := s.Buttons(cur)
	var match []Button
	for _, b := range all {
		if b.ActionID == actionID && (value == "" || b.Value == value) {
			match = append(match, b)
		}
	}
	switch len(match) {
	case 0:
		return Delivery{}, fmt.Errorf("slacktest: click: no button %s value %q in message %s; it has %s", actionID, value, cur.TS, describeButtons(all))
	case 1:
	default:
		return Delivery{}, fmt.Errorf("slacktest: click: %d buttons match %s value %q in message %s: %s", len(match), actionID, value, cur.TS, describeButtons(match))
	}
	b := match[0]
	teamID := ""
	s.mu.Lock()
	if u, ok := s.users[userID]; ok {
		teamID = u.TeamID
	}
	s.mu.Unlock()
	return s.SendBlockAction(ctx, BlockAction{
		TeamID:      teamID,
		ChannelID:   cur.Channel,
		UserID:      userID,
		ActionID:    b.ActionID,
		BlockID:     b.BlockID,
		Value:       b.Value,
		Text:        b.Text,
		MessageTS:   cur.TS,
		IsEphemeral: cur.User != "",
	})
}
