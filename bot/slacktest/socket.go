package slacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// maxFrameSize mirrors Slack's 20 KiB limit on frames sent by the app;
	// bigger frames make gorilla close the socket with 1009, as reported
	// for Slack in slack-go #1196.
	maxFrameSize = 20480
	ticketTTL    = 30 * time.Second
	writeTimeout = 5 * time.Second
)

// conn is one Socket Mode WebSocket.
type conn struct {
	id              int
	ws              *websocket.Conn
	opened          time.Time
	debugReconnects bool
	done            chan struct{} // closed when the read loop ends

	wmu sync.Mutex // serialises data frames; gorilla allows one writer

	// Guarded by Server.mu.
	draining   bool // got a disconnect; receives no more envelopes
	graceTimer *time.Timer
}

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// close drops the TCP connection without a close frame, like a crashed peer
// or a load balancer cutting the link (the client sees 1006).
func (c *conn) close() { _ = c.ws.Close() }

type debugInfo struct {
	Host                      string `json:"host"`
	BuildNumber               int    `json:"build_number,omitempty"`
	ApproximateConnectionTime int    `json:"approximate_connection_time,omitempty"`
}

type helloFrame struct {
	Type           string    `json:"type"`
	NumConnections int       `json:"num_connections"`
	DebugInfo      debugInfo `json:"debug_info"`
	ConnectionInfo struct {
		AppID string `json:"app_id"`
	} `json:"connection_info"`
}

type disconnectFrame struct {
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	DebugInfo debugInfo `json:"debug_info"`
}

func (s *Server) debugInfo(c *conn, hello bool) debugInfo {
	d := debugInfo{Host: fmt.Sprintf("applink-fake-%d", c.id)}
	if hello {
		d.BuildNumber = 1
		// Seconds until Slack would refresh the link (Slack's hello
		// message says 18060); 360 with debug_reconnects.
		d.ApproximateConnectionTime = 18060
		if c.debugReconnects {
			d.ApproximateConnectionTime = 360
		}
	}
	return d
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random RFC 4122 v4 UUID, the shape of real envelope IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// connectionsOpen implements apps.connections.open.
func (s *Server) connectionsOpen(token string) apiResp {
	switch {
	case token == "":
		return apiErr("not_authed")
	case token != s.opts.AppToken && (strings.HasPrefix(token, "xoxb-") || strings.HasPrefix(token, "xoxp-")):
		return apiErr("not_allowed_token_type")
	case token != s.opts.AppToken:
		return apiErr("invalid_auth")
	}
	ticket := randomHex(16)
	s.mu.Lock()
	now := time.Now()
	for t, exp := range s.tickets {
		if now.After(exp) {
			delete(s.tickets, t)
		}
	}
	s.tickets[ticket] = now.Add(ticketTTL)
	s.stats.Opens++
	s.notifyLocked()
	s.mu.Unlock()
	u := "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + s.opts.AppID
	return apiResp{"ok": true, "url": u}
}

// handleLink upgrades /link/?ticket=… to a Socket Mode connection.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query() // extra parameters such as debug_reconnects are fine
	ticket := q.Get("ticket")
	s.mu.Lock()
	exp, ok := s.tickets[ticket]
	delete(s.tickets, ticket) // tickets are single use
	if !ok || time.Now().After(exp) {
		s.stats.Rejected++
		s.notifyLocked()
		s.mu.Unlock()
		s.log.Warn("slacktest: websocket with invalid ticket rejected")
		http.Error(w, "invalid or expired ticket", http.StatusUnauthorized)
		return
	}
	s.mu.Unlock()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Warn("slacktest: websocket upgrade failed", "err", err)
		return
	}
	ws.SetReadLimit(maxFrameSize)
	c := &conn{ws: ws, opened: time.Now(), debugReconnects: q.Get("debug_reconnects") == "true", done: make(chan struct{})}

	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		c.close()
		return
	default:
	}
	s.nextConnID++
	c.id = s.nextConnID
	if len(s.conns) >= s.opts.MaxConnections {
		s.stats.Rejected++
		s.stats.Disconnects++
		s.notifyLocked()
		s.mu.Unlock()
		_ = c.write(disconnectFrame{Type: "disconnect", Reason: "too_many_websockets", DebugInfo: s.debugInfo(c, false)})
		c.close()
		return
	}
	// The connection is registered as draining until hello is out, so no
	// envelope can overtake hello.
	c.draining = true
	s.conns[c.id] = c
	num := len(s.conns)
	s.wg.Add(2)
	s.mu.Unlock()

	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.stats.PongsReceived++
		s.notifyLocked()
		s.mu.Unlock()
		return nil
	})
	go s.readLoop(c)

	hello := helloFrame{Type: "hello", NumConnections: num, DebugInfo: s.debugInfo(c, true)}
	hello.ConnectionInfo.AppID = s.opts.AppID
	if err := c.write(hello); err != nil {
		c.close()
	}
	s.mu.Lock()
	if _, still := s.conns[c.id]; still {
		c.draining = false
		s.stats.Connects++
		if s.stats.Closed > 0 {
			s.stats.Reconnects++
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("slacktest: socket mode connection opened", "conn", c.id, "num_connections", num)
	go s.pingLoop(c)
}

func (s *Server) readLoop(c *conn) {
	defer s.wg.Done()
	defer func() {
		c.close()
		s.mu.Lock()
		delete(s.conns, c.id)
		if c.graceTimer != nil {
			c.graceTimer.Stop()
		}
		s.stats.Closed++
		close(c.done)
		s.notifyLocked()
		s.mu.Unlock()
		s.log.Info("slacktest: socket mode connection closed", "conn", c.id)
	}()
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.TextMessage {
			s.handleFrame(c, data)
		}
	}
}

func (s *Server) pingLoop(c *conn) {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	var n int
	for {
		select {
		case <-c.done:
			return
		case <-s.closed:
			return
		case <-t.C:
		}
		s.mu.Lock()
		off := s.pingsOff
		s.mu.Unlock()
		if off {
			continue
		}
		n++
		if err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), time.Now().Add(writeTimeout)); err != nil {
			continue // the read loop notices the broken connection
		}
		s.mu.Lock()
		s.stats.PingsSent++
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// SetPings turns the fake's WebSocket pings on or off. With pings off, the
// client declares a ping timeout and reconnects.
func (s *Server) SetPings(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingsOff = !enabled
}

// Connections is the number of open connections that can receive envelopes
// (connections told to disconnect no longer count).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.readyConnIDsLocked())
}

// ConnectionIDs lists the IDs of the connections counted by Connections, in
// the order they were opened. Use them with SlashCommand.ConnID and friends.
func (s *Server) ConnectionIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readyConnIDsLocked()
}

// WaitConnections blocks until at least n connections can receive envelopes.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return len(s.readyConnIDsLocked()) >= n })
}

// Disconnect sends {"type":"disconnect","reason":reason} to every connection,
// as Slack does before refreshing a link. An empty reason means
// "refresh_requested". The client reconnects through apps.connections.open;
// connections still open after disconnectGrace are closed.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	var targets []*conn
	for _, id := range s.readyConnIDsLocked() {
		targets = append(targets, s.conns[id])
	}
	s.mu.Unlock()
	for _, c := range targets {
		s.disconnect(c, reason)
	}
}

// DisconnectConnection sends a disconnect frame to one connection.
func (s *Server) DisconnectConnection(id int, reason string) error {
	s.mu.Lock()
	c, ok := s.conns[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("slacktest: no connection %d", id)
	}
	s.disconnect(c, reason)
	return nil
}

func (s *Server) disconnect(c *conn, reason string) {
	if reason == "" {
		reason = "refresh_requested"
	}
	s.mu.Lock()
	c.draining = true
	s.stats.Disconnects++
	if c.graceTimer == nil {
		c.graceTimer = time.AfterFunc(disconnectGrace, c.close)
	}
	s.notifyLocked()
	s.mu.Unlock()
	if err := c.write(disconnectFrame{Type: "disconnect", Reason: reason, DebugInfo: s.debugInfo(c, false)}); err != nil {
		c.close()
	}
	s.log.Info("slacktest: disconnect sent", "conn", c.id, "reason", reason)
}

// DropConnections closes every socket abruptly, without a close frame.
func (s *Server) DropConnections() {
	s.mu.Lock()
	targets := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		targets = append(targets, c)
	}
	s.stats.Drops += len(targets)
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range targets {
		c.close()
	}
}

// DropConnection closes one socket abruptly.
func (s *Server) DropConnection(id int) error {
	s.mu.Lock()
	c, ok := s.conns[id]
	if ok {
		s.stats.Drops++
		s.notifyLocked()
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("slacktest: no connection %d", id)
	}
	c.close()
	return nil
}
