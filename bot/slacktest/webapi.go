package slacktest

import (
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type apiResp map[string]any

func apiErr(code string) apiResp { return apiResp{"ok": false, "error": code} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// parseRequest collects query, form and JSON body parameters the way Slack
// accepts them. JSON values that are not strings are re-encoded as JSON.
func parseRequest(r *http.Request) (url.Values, []byte, error) {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return nil, nil, err
		}
		values := r.URL.Query()
		if len(strings.TrimSpace(string(body))) == 0 {
			return values, nil, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return values, body, err
		}
		for k, raw := range obj {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				values.Set(k, str)
			} else if string(raw) != "null" {
				values.Set(k, string(raw))
			}
		}
		return values, body, nil
	case "multipart/form-data":
		if err := r.ParseMultipartForm(4 << 20); err != nil {
			return nil, nil, err
		}
		return r.Form, nil, nil
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		return r.Form, nil, nil
	}
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// applyFault answers the request according to f; it reports whether the
// request was answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, call *Call) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		case <-s.closed:
			t.Stop()
		}
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		call.Status, call.Error = f.Status, "ratelimited"
		s.recordCall(*call)
		w.Header().Set("Retry-After", retryAfterHeader(f.RetryAfter))
		writeJSON(w, f.Status, apiErr("ratelimited"))
		return true
	case f.Status != 0 && f.Status != http.StatusOK:
		call.Status = f.Status
		s.recordCall(*call)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, "<html><body><h1>"+http.StatusText(f.Status)+"</h1></body></html>")
		return true
	case f.Error != "":
		call.Status, call.Error = http.StatusOK, f.Error
		s.recordCall(*call)
		writeJSON(w, http.StatusOK, apiErr(f.Error))
		return true
	}
	return false
}

// handleAPI serves /api/<method>.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	values, body, perr := parseRequest(r)
	token := bearer(r)
	if values != nil && values.Get("token") != "" {
		token = values.Get("token")
	}
	call := Call{Method: method, HTTPMethod: r.Method, Values: s.redactValues(values), Time: time.Now()}
	if len(body) > 0 && json.Valid(body) {
		call.Body = json.RawMessage(s.redact(string(body)))
	}

	if f, ok := s.takeFault(method); ok {
		if s.applyFault(w, r, f, &call) {
			s.countOpenFailure(method)
			return
		}
	}

	var resp apiResp
	switch {
	case perr != nil:
		resp = apiErr("invalid_form_data")
	case method == "apps.connections.open":
		resp = s.connectionsOpen(token)
	default:
		h, known := s.methods()[method]
		switch {
		case !known:
			resp = apiErr("unknown_method")
		case token == "":
			resp = apiErr("not_authed")
		case strings.HasPrefix(token, "xapp-"):
			resp = apiErr("not_allowed_token_type")
		case token != s.opts.BotToken:
			resp = apiErr("invalid_auth")
		default:
			resp = h(values)
		}
	}
	call.Status = http.StatusOK
	if ok, _ := resp["ok"].(bool); !ok {
		call.Error, _ = resp["error"].(string)
		s.countOpenFailure(method)
		s.log.Info("slacktest: web api error", "method", method, "error", call.Error)
	}
	s.recordCall(call)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) countOpenFailure(method string) {
	if method != "apps.connections.open" {
		return
	}
	s.mu.Lock()
	s.stats.OpenFailures++
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) methods() map[string]func(url.Values) apiResp {
	return map[string]func(url.Values) apiResp{
		"auth.test":             s.authTest,
		"chat.postMessage":      s.chatPostMessage,
		"chat.postEphemeral":    s.chatPostEphemeral,
		"chat.update":           s.chatUpdate,
		"usergroups.users.list": s.usergroupsUsersList,
		"users.info":            s.usersInfo,
	}
}

func (s *Server) authTest(url.Values) apiResp {
	r := apiResp{
		"ok":                    true,
		"url":                   "https://" + s.opts.TeamDomain + ".slack.com/",
		"team":                  DefaultTeamName,
		"user":                  DefaultBotUserName,
		"team_id":               s.opts.TeamID,
		"user_id":               DefaultBotUserID,
		"bot_id":                s.opts.BotID,
		"is_enterprise_install": s.opts.EnterpriseInstall,
	}
	if s.opts.EnterpriseID != "" {
		r["enterprise_id"] = s.opts.EnterpriseID
	}
	if s.opts.EnterpriseInstall {
		// An org-wide install is not tied to one workspace.
		r["team_id"], r["team"] = s.opts.EnterpriseID, s.opts.EnterpriseName
		r["url"] = "https://" + s.opts.TeamDomain + ".enterprise.slack.com/"
	}
	return r
}

// messageJSON is the message object Slack returns from chat.postMessage and
// chat.update and puts into block_actions payloads.
func (s *Server) messageJSON(m Message) map[string]any {
	out := map[string]any{
		"type":   "message",
		"user":   DefaultBotUserID,
		"bot_id": s.opts.BotID,
		"app_id": s.opts.AppID,
		"team":   s.opts.TeamID,
		"text":   m.Text,
		"ts":     m.TS,
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = normalizeBlocks(m.Blocks, m.TS)
	}
	return out
}

// content parses text/blocks/attachments form fields.
func (s *Server) content(v url.Values) (text string, blocks json.RawMessage, errResp apiResp) {
	text = v.Get("text")
	if raw := strings.TrimSpace(v.Get("blocks")); raw != "" {
		blocks = json.RawMessage(raw)
	}
	att := strings.TrimSpace(v.Get("attachments"))
	blocks, code, errs := checkContent(text, blocks, att != "" && att != "[]" && att != "null")
	if code != "" {
		r := apiErr(code)
		if len(errs) > 0 {
			r["errors"] = errs
		}
		return "", nil, r
	}
	return text, blocks, nil
}

func (s *Server) chatPostMessage(v url.Values) apiResp {
	s.mu.Lock()
	ch, ok := s.lookupChannelLocked(v.Get("channel"))
	s.mu.Unlock()
	if !ok {
		return apiErr("channel_not_found")
	}
	text, blocks, errResp := s.content(v)
	if errResp != nil {
		return errResp
	}
	s.mu.Lock()
	m := Message{Kind: KindPost, Channel: ch.ID, TS: s.newTSLocked(), ThreadTS: v.Get("thread_ts"), Text: text, Blocks: blocks, Time: time.Now()}
	s.addMessageLocked(m, true)
	s.mu.Unlock()
	return apiResp{"ok": true, "channel": ch.ID, "ts": m.TS, "message": s.messageJSON(m)}
}

func (s *Server) chatPostEphemeral(v url.Values) apiResp {
	s.mu.Lock()
	ch, ok := s.lookupChannelLocked(v.Get("channel"))
	user := v.Get("user")
	u, known := s.users[user]
	userOK := user != "" && (known && !u.Deleted || !known && len(s.users) == 0)
	s.mu.Unlock()
	if !ok {
		return apiErr("channel_not_found")
	}
	if !userOK {
		return apiErr("user_not_in_channel")
	}
	text, blocks, errResp := s.content(v)
	if errResp != nil {
		return errResp
	}
	s.mu.Lock()
	m := Message{Kind: KindEphemeral, Channel: ch.ID, User: user, TS: s.newTSLocked(), ThreadTS: v.Get("thread_ts"), Text: text, Blocks: blocks, Time: time.Now()}
	s.addMessageLocked(m, true)
	s.mu.Unlock()
	return apiResp{"ok": true, "message_ts": m.TS}
}

func (s *Server) usergroupsUsersList(v url.Values) apiResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	members, ok := s.groups[v.Get("usergroup")]
	if !ok {
		return apiErr("no_such_subteam")
	}
	return apiResp{"ok": true, "users": append([]string{}, members...)}
}

func (s *Server) userJSON(u User, locale bool) map[string]any {
	out := map[string]any{
		"id":          u.ID,
		"team_id":     u.TeamID,
		"name":        u.Name,
		"deleted":     u.Deleted,
		"real_name":   u.RealName,
		"tz":          "Europe/Berlin",
		"tz_label":    "Central European Time",
		"tz_offset":   3600,
		"is_admin":    false,
		"is_owner":    false,
		"is_bot":      u.IsBot,
		"is_app_user": false,
		"updated":     s.tsBase,
		"profile": map[string]any{
			"email":                   u.Email,
			"real_name":               u.RealName,
			"real_name_normalized":    u.RealName,
			"display_name":            u.Name,
			"display_name_normalized": u.Name,
			"team":                    u.TeamID,
		},
	}
	if locale {
		out["locale"] = "en-US"
	}
	return out
}

func (s *Server) usersInfo(v url.Values) apiResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[v.Get("user")]
	if !ok {
		return apiErr("user_not_found")
	}
	return apiResp{"ok": true, "user": s.userJSON(u, v.Get("include_locale") == "true")}
}

// chatUpdate replaces a message the bot posted. Ephemeral messages cannot be
// updated (Slack: only through their response_url); a message the bot
// never posted, or a deleted one, is message_not_found.
func (s *Server) chatUpdate(v url.Values) apiResp {
	s.mu.Lock()
	ch, ok := s.lookupChannelLocked(v.Get("channel"))
	k := msgKey{ch.ID, v.Get("ts")}
	cur := s.visible[k]
	var prev Message
	found := cur != nil && !cur.deleted
	if found {
		prev = cur.msg
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return apiErr("channel_not_found")
	case !found:
		return apiErr("message_not_found")
	case prev.User != "":
		return apiErr("cant_update_message")
	}
	if !v.Has("blocks") {
		// Slack keeps the previous blocks when the update carries none.
		v = url.Values(maps.Clone(v))
		v.Set("blocks", string(prev.Blocks))
	}
	text, blocks, errResp := s.content(v)
	if errResp != nil {
		return errResp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Message{Kind: KindUpdate, Channel: ch.ID, TS: k.ts, ThreadTS: prev.ThreadTS, Text: text, Blocks: blocks, Time: time.Now()}
	cur.msg = m
	s.addMessageLocked(m, false)
	return apiResp{"ok": true, "channel": ch.ID, "ts": k.ts, "text": text, "message": s.messageJSON(m)}
}
