package slacktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Block Kit limits enforced by the fake, as Slack's Block Kit reference
// documents them.
const (
	maxBlocks          = 50
	maxActionsElements = 25
	maxContextElements = 10
	maxSectionText     = 3000
	maxSectionFields   = 10
	maxFieldText       = 2000
	maxHeaderText      = 150
	maxBlockID         = 255
	maxActionID        = 255
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxButtonURL       = 3000
	maxConfirmTitle    = 100
	maxConfirmText     = 300
	maxConfirmButton   = 30
	maxMessageText     = 40000
)

var knownElements = map[string]bool{
	"button": true, "checkboxes": true, "datepicker": true, "datetimepicker": true,
	"email_text_input": true, "file_input": true, "image": true, "multi_static_select": true,
	"multi_external_select": true, "multi_users_select": true, "multi_conversations_select": true,
	"multi_channels_select": true, "number_input": true, "overflow": true, "plain_text_input": true,
	"radio_buttons": true, "rich_text_input": true, "static_select": true, "external_select": true,
	"users_select": true, "conversations_select": true, "channels_select": true, "timepicker": true,
	"url_text_input": true, "workflow_button": true, "feedback_buttons": true, "icon_button": true,
}

// checkContent validates a message's text and blocks the way chat.* methods
// do. It returns the compacted blocks (nil for none or an empty array), or
// an error code with Slack-style details.
func checkContent(text string, blocks json.RawMessage, hasAttachments bool) (json.RawMessage, string, []string) {
	if len(blocks) > 0 {
		errs, formatOK := ValidateBlocks(blocks)
		if !formatOK {
			return nil, "invalid_blocks_format", nil
		}
		if len(errs) > 0 {
			return nil, "invalid_blocks", errs
		}
		var buf bytes.Buffer
		if json.Compact(&buf, blocks) == nil {
			blocks = buf.Bytes()
		}
		if string(blocks) == "[]" {
			blocks = nil
		}
	}
	if text == "" && len(blocks) == 0 && !hasAttachments {
		return nil, "no_text", nil
	}
	if utf8.RuneCountInString(text) > maxMessageText {
		return nil, "msg_too_long", nil
	}
	return blocks, "", nil
}

// ValidateBlocks checks a JSON array of blocks against Block Kit's rules.
// formatOK is false when blocks is not a JSON array of objects; otherwise
// errs lists every violation as "<reason> [json-pointer:/blocks/…]", the
// format Slack uses in invalid_blocks errors.
func ValidateBlocks(blocks json.RawMessage) (errs []string, formatOK bool) {
	var arr []any
	if err := json.Unmarshal(blocks, &arr); err != nil {
		return nil, false
	}
	v := &validator{}
	if len(arr) > maxBlocks {
		v.add("/blocks", "no more than %d items allowed", maxBlocks)
	}
	blockIDs := map[string]bool{}
	for i, raw := range arr {
		ptr := "/blocks/" + strconv.Itoa(i)
		b, ok := raw.(map[string]any)
		if !ok {
			v.add(ptr, "must be an object")
			continue
		}
		v.block(ptr, b, blockIDs)
	}
	return v.errs, true
}

type validator struct{ errs []string }

func (v *validator) add(ptr, format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

func (v *validator) length(ptr, s string, lo, hi int) {
	n := utf8.RuneCountInString(s)
	if n < lo {
		v.add(ptr, "must be more than %d characters", lo-1)
	}
	if hi > 0 && n > hi {
		v.add(ptr, "must be less than %d characters", hi+1)
	}
}

// optString checks an optional string field; it returns the value.
func (v *validator) optString(ptr string, obj map[string]any, key string, hi int) (string, bool) {
	raw, present := obj[key]
	if !present {
		return "", false
	}
	s, ok := raw.(string)
	if !ok {
		v.add(ptr+"/"+key, "must be a string")
		return "", false
	}
	v.length(ptr+"/"+key, s, 1, hi)
	return s, true
}

func (v *validator) block(ptr string, b map[string]any, blockIDs map[string]bool) {
	if id, ok := v.optString(ptr, b, "block_id", maxBlockID); ok {
		if blockIDs[id] {
			v.add(ptr+"/block_id", "duplicate block_id %q", id)
		}
		blockIDs[id] = true
	}
	typ, _ := b["type"].(string)
	switch typ {
	case "section":
		v.section(ptr, b)
	case "actions":
		arr := v.elements(ptr, b, maxActionsElements)
		actionIDs := map[string]bool{}
		for j, el := range arr {
			v.element(ptr+"/elements/"+strconv.Itoa(j), el, actionIDs)
		}
	case "context":
		v.context(ptr, b)
	case "divider":
	case "header":
		v.text(ptr+"/text", b["text"], 1, maxHeaderText, true)
	case "rich_text":
		if _, ok := b["elements"].([]any); !ok {
			v.add(ptr+"/elements", "missing required field: elements")
		}
	case "image":
		v.image(ptr, b)
		if title, ok := b["title"]; ok {
			v.text(ptr+"/title", title, 1, 2000, true)
		}
	case "input":
		v.text(ptr+"/label", b["label"], 1, 2000, true)
		if el, ok := b["element"]; ok {
			v.element(ptr+"/element", el, map[string]bool{})
		} else {
			v.add(ptr+"/element", "missing required field: element")
		}
	case "markdown":
		if t, ok := b["text"].(string); ok {
			v.length(ptr+"/text", t, 1, 12000)
		} else {
			v.add(ptr+"/text", "missing required field: text")
		}
	case "file", "video", "table":
		// Accepted without further checks; the bot does not use them.
	case "":
		v.add(ptr+"/type", "missing required field: type")
	default:
		v.add(ptr+"/type", "unsupported block type %q", typ)
	}
}

// section checks a section block: text or fields, and an accessory.
func (v *validator) section(ptr string, b map[string]any) {
	text, hasText := b["text"]
	fields, hasFields := b["fields"]
	if !hasText && !hasFields {
		v.add(ptr, "must provide either text or fields")
	}
	if hasText {
		v.text(ptr+"/text", text, 1, maxSectionText, false)
	}
	if hasFields {
		arr, ok := fields.([]any)
		switch {
		case !ok:
			v.add(ptr+"/fields", "must be an array")
		case len(arr) > maxSectionFields:
			v.add(ptr+"/fields", "no more than %d items allowed", maxSectionFields)
		}
		for j, f := range arr {
			v.text(ptr+"/fields/"+strconv.Itoa(j), f, 1, maxFieldText, false)
		}
	}
	if acc, ok := b["accessory"]; ok {
		v.element(ptr+"/accessory", acc, map[string]bool{})
	}
}

// elements checks that a block has between 1 and most elements.
func (v *validator) elements(ptr string, b map[string]any, most int) []any {
	arr, ok := b["elements"].([]any)
	switch {
	case !ok:
		v.add(ptr+"/elements", "missing required field: elements")
	case len(arr) == 0:
		v.add(ptr+"/elements", "must provide at least 1 item")
	case len(arr) > most:
		v.add(ptr+"/elements", "no more than %d items allowed", most)
	}
	return arr
}

// context checks a context block: text and image elements.
func (v *validator) context(ptr string, b map[string]any) {
	for j, el := range v.elements(ptr, b, maxContextElements) {
		p := ptr + "/elements/" + strconv.Itoa(j)
		obj, _ := el.(map[string]any)
		switch t, _ := obj["type"].(string); t {
		case "plain_text", "mrkdwn":
			v.text(p, el, 1, maxSectionText, false)
		case "image":
			v.image(p, obj)
		default:
			v.add(p+"/type", "unsupported context element type %q", t)
		}
	}
}

// text checks a text composition object.
func (v *validator) text(ptr string, raw any, lo, hi int, plainOnly bool) {
	obj, ok := raw.(map[string]any)
	if !ok {
		if raw == nil {
			v.add(ptr, "missing required field: text object")
		} else {
			v.add(ptr, "must be a text object")
		}
		return
	}
	typ, _ := obj["type"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		v.add(ptr+"/type", "must be one of plain_text, mrkdwn")
	case plainOnly && typ != "plain_text":
		v.add(ptr+"/type", "must be plain_text")
	}
	if e, _ := obj["emoji"].(bool); e && typ == "mrkdwn" {
		v.add(ptr+"/emoji", "emoji is only allowed on plain_text")
	}
	if vb, _ := obj["verbatim"].(bool); vb && typ == "plain_text" {
		v.add(ptr+"/verbatim", "verbatim is only allowed on mrkdwn")
	}
	s, ok := obj["text"].(string)
	if !ok {
		v.add(ptr+"/text", "missing required field: text")
		return
	}
	v.length(ptr+"/text", s, lo, hi)
}

func (v *validator) image(ptr string, obj map[string]any) {
	_, url := obj["image_url"].(string)
	_, file := obj["slack_file"]
	if !url && !file {
		v.add(ptr+"/image_url", "missing required field: image_url")
	}
	if alt, ok := obj["alt_text"].(string); !ok {
		v.add(ptr+"/alt_text", "missing required field: alt_text")
	} else {
		v.length(ptr+"/alt_text", alt, 1, 2000)
	}
}

func (v *validator) style(ptr string, obj map[string]any) {
	if raw, ok := obj["style"]; ok {
		if s, _ := raw.(string); s != "primary" && s != "danger" {
			v.add(ptr+"/style", "must be one of primary, danger")
		}
	}
}

// element checks an interactive or image element; actionIDs collects the
// action_ids of one block to find duplicates.
func (v *validator) element(ptr string, raw any, actionIDs map[string]bool) {
	el, ok := raw.(map[string]any)
	if !ok {
		v.add(ptr, "must be an object")
		return
	}
	typ, _ := el["type"].(string)
	if !knownElements[typ] {
		v.add(ptr+"/type", "unsupported element type %q", typ)
		return
	}
	if typ == "image" {
		v.image(ptr, el)
		return
	}
	if id, ok := v.optString(ptr, el, "action_id", maxActionID); ok {
		if actionIDs[id] {
			v.add(ptr+"/action_id", "duplicate action_id %q", id)
		}
		actionIDs[id] = true
	}
	if c, ok := el["confirm"]; ok {
		v.confirm(ptr+"/confirm", c)
	}
	if typ != "button" {
		return
	}
	v.text(ptr+"/text", el["text"], 1, maxButtonText, true)
	v.optString(ptr, el, "value", maxButtonValue)
	v.optString(ptr, el, "url", maxButtonURL)
	v.optString(ptr, el, "accessibility_label", 75)
	v.style(ptr, el)
}

func (v *validator) confirm(ptr string, raw any) {
	c, ok := raw.(map[string]any)
	if !ok {
		v.add(ptr, "must be an object")
		return
	}
	v.text(ptr+"/title", c["title"], 1, maxConfirmTitle, true)
	v.text(ptr+"/text", c["text"], 1, maxConfirmText, false)
	v.text(ptr+"/confirm", c["confirm"], 1, maxConfirmButton, true)
	v.text(ptr+"/deny", c["deny"], 1, maxConfirmButton, true)
	v.style(ptr, c)
}

// generatedID makes the block_id/action_id Slack would invent for a block or
// element that has none. It is deterministic so Buttons and Click agree.
func generatedID(seed string, path ...int) string {
	h := sha256.New()
	h.Write([]byte(seed))
	for _, p := range path {
		h.Write([]byte{'/', byte(p), byte(p >> 8)})
	}
	return base32.StdEncoding.EncodeToString(h.Sum(nil))[:5]
}

// normalizeBlocks fills in the block_id and action_id values Slack adds to
// stored messages; seed is the message ts.
func normalizeBlocks(blocks json.RawMessage, seed string) json.RawMessage {
	var arr []map[string]any
	if json.Unmarshal(blocks, &arr) != nil {
		return blocks
	}
	for i, b := range arr {
		if b == nil {
			continue
		}
		if _, ok := b["block_id"].(string); !ok {
			b["block_id"] = generatedID(seed, i)
		}
		fill := func(el map[string]any, j int) {
			if t, _ := el["type"].(string); t == "image" {
				return
			}
			if _, ok := el["action_id"].(string); !ok {
				el["action_id"] = generatedID(seed, i, j+1)
			}
		}
		switch b["type"] {
		case "actions":
			els, _ := b["elements"].([]any)
			for j, e := range els {
				if el, ok := e.(map[string]any); ok {
					fill(el, j)
				}
			}
		case "section":
			if acc, ok := b["accessory"].(map[string]any); ok {
				fill(acc, -1)
			}
		}
	}
	out, err := json.Marshal(arr)
	if err != nil {
		return blocks
	}
	return out
}

// Button is a button found in a message.
type Button struct {
	ActionID string
	BlockID  string
	Value    string
	Text     string
	Style    string // "", "primary" or "danger"
	URL      string
	Confirm  *ConfirmDialog
}

// ConfirmDialog is a button's confirm object, as plain strings.
type ConfirmDialog struct {
	Title   string
	Text    string
	Confirm string
	Deny    string
	Style   string
}

type textObj struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type rawElement struct {
	Type     string   `json:"type"`
	ActionID string   `json:"action_id"`
	Text     *textObj `json:"text"`
	Value    string   `json:"value"`
	URL      string   `json:"url"`
	Style    string   `json:"style"`
	Confirm  *struct {
		Title   *textObj `json:"title"`
		Text    *textObj `json:"text"`
		Confirm *textObj `json:"confirm"`
		Deny    *textObj `json:"deny"`
		Style   string   `json:"style"`
	} `json:"confirm"`
}

type rawBlock struct {
	Type      string          `json:"type"`
	BlockID   string          `json:"block_id"`
	Text      *textObj        `json:"text"`
	Fields    []textObj       `json:"fields"`
	Elements  json.RawMessage `json:"elements"`
	Accessory *rawElement     `json:"accessory"`
}

func (t *textObj) str() string {
	if t == nil {
		return ""
	}
	return t.Text
}

// Buttons lists the buttons of msg (action blocks and section accessories)
// in display order, with the block_id and action_id Slack would report for
// them.
func (s *Server) Buttons(msg Message) []Button {
	return buttons(msg.Blocks, msg.TS)
}

func buttons(blocks json.RawMessage, seed string) []Button {
	if len(blocks) == 0 {
		return nil
	}
	var arr []rawBlock
	if json.Unmarshal(normalizeBlocks(blocks, seed), &arr) != nil {
		return nil
	}
	var out []Button
	add := func(blockID string, el rawElement) {
		if el.Type != "button" {
			return
		}
		b := Button{ActionID: el.ActionID, BlockID: blockID, Value: el.Value, Text: el.Text.str(), Style: el.Style, URL: el.URL}
		if c := el.Confirm; c != nil {
			b.Confirm = &ConfirmDialog{Title: c.Title.str(), Text: c.Text.str(), Confirm: c.Confirm.str(), Deny: c.Deny.str(), Style: c.Style}
		}
		out = append(out, b)
	}
	for _, b := range arr {
		switch b.Type {
		case "actions":
			var els []rawElement
			_ = json.Unmarshal(b.Elements, &els)
			for _, el := range els {
				add(b.BlockID, el)
			}
		case "section":
			if b.Accessory != nil {
				add(b.BlockID, *b.Accessory)
			}
		}
	}
	return out
}

// describeButtons is used in error messages.
func describeButtons(bs []Button) string {
	if len(bs) == 0 {
		return "no buttons"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = fmt.Sprintf("%s=%q (%q)", b.ActionID, b.Value, b.Text)
	}
	return strings.Join(parts, ", ")
}
