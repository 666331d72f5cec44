package slacktest

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Render renders a message as plain text for a terminal: the blocks when it
// has any, else its text. Buttons are numbered from 1 in the order Buttons
// returns them, e.g. "[1] Disconnect Jane Doe (agent)".
func (s *Server) Render(msg Message) string {
	if len(msg.Blocks) == 0 {
		return s.mrkdwn(msg.Text)
	}
	return s.RenderBlocks(msg.Blocks)
}

type renderElement struct {
	Type        string   `json:"type"`
	Text        any      `json:"text"` // text object, or a string in mrkdwn context elements
	URL         string   `json:"url"`
	AltText     string   `json:"alt_text"`
	Placeholder *textObj `json:"placeholder"`
}

type renderBlock struct {
	Type      string            `json:"type"`
	Text      json.RawMessage   `json:"text"`
	Fields    []textObj         `json:"fields"`
	Elements  []json.RawMessage `json:"elements"`
	Accessory *renderElement    `json:"accessory"`
	AltText   string            `json:"alt_text"`
}

// RenderBlocks renders a JSON array of blocks; see Render.
func (s *Server) RenderBlocks(blocks json.RawMessage) string {
	var arr []renderBlock
	if err := json.Unmarshal(blocks, &arr); err != nil {
		return "[unreadable blocks]"
	}
	r := &blockRenderer{s: s}
	for _, b := range arr {
		r.block(b)
	}
	return strings.Join(r.out, "\n")
}

// blockRenderer renders blocks as lines, numbering the buttons.
type blockRenderer struct {
	s       *Server
	out     []string
	buttons int
}

func (r *blockRenderer) element(el renderElement) string {
	switch el.Type {
	case "button":
		r.buttons++
		line := fmt.Sprintf("[%d] %s", r.buttons, r.s.textOf(el.Text))
		if el.URL != "" {
			line += " <" + el.URL + ">"
		}
		return line
	case "image":
		return "[image: " + el.AltText + "]"
	default:
		label := el.Type
		if el.Placeholder != nil {
			label += ": " + el.Placeholder.Text
		}
		return "[" + label + "]"
	}
}

func (r *blockRenderer) block(b renderBlock) {
	s := r.s
	switch b.Type {
	case "header":
		t := s.textOf(b.Text)
		r.out = append(r.out, t, strings.Repeat("=", utf8.RuneCountInString(t)))
	case "section":
		if len(b.Text) > 0 {
			r.out = append(r.out, s.textOf(b.Text))
		}
		for _, f := range b.Fields {
			r.out = append(r.out, "  "+strings.ReplaceAll(s.textOf(f), "\n", "\n  "))
		}
		if b.Accessory != nil {
			r.out = append(r.out, r.element(*b.Accessory))
		}
	case "divider":
		r.out = append(r.out, strings.Repeat("-", 40))
	case "context":
		r.out = append(r.out, "  "+strings.Join(r.contextParts(b.Elements), "  "))
	case "actions":
		for _, raw := range b.Elements {
			var el renderElement
			if json.Unmarshal(raw, &el) == nil {
				r.out = append(r.out, r.element(el))
			}
		}
	case "rich_text":
		r.out = append(r.out, s.mrkdwn(richText(b.Elements)))
	case "image":
		r.out = append(r.out, "[image: "+b.AltText+"]")
	case "markdown":
		var t string
		_ = json.Unmarshal(b.Text, &t)
		r.out = append(r.out, s.mrkdwn(t))
	default:
		r.out = append(r.out, "["+b.Type+" block]")
	}
}

func (r *blockRenderer) contextParts(elements []json.RawMessage) []string {
	var parts []string
	for _, raw := range elements {
		var el renderElement
		if json.Unmarshal(raw, &el) != nil {
			continue
		}
		if el.Type == "image" {
			parts = append(parts, "[image: "+el.AltText+"]")
		} else {
			parts = append(parts, r.s.textOf(raw))
		}
	}
	return parts
}

// textOf renders a text object (or a bare string).
func (s *Server) textOf(v any) string {
	switch t := v.(type) {
	case textObj:
		return s.textObject(t)
	case json.RawMessage:
		var obj textObj
		if json.Unmarshal(t, &obj) == nil && obj.Type != "" {
			return s.textObject(obj)
		}
		var str string
		if json.Unmarshal(t, &str) == nil {
			return s.mrkdwn(str)
		}
	case map[string]any:
		typ, _ := t["type"].(string)
		text, _ := t["text"].(string)
		return s.textObject(textObj{Type: typ, Text: text})
	case string:
		return s.mrkdwn(t)
	}
	return ""
}

func (s *Server) textObject(t textObj) string {
	if t.Type == "plain_text" {
		return t.Text
	}
	return s.mrkdwn(t.Text)
}

// richText flattens rich_text elements to text.
func richText(elements []json.RawMessage) string {
	var sb strings.Builder
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		var el struct {
			Type     string            `json:"type"`
			Text     string            `json:"text"`
			UserID   string            `json:"user_id"`
			URL      string            `json:"url"`
			Elements []json.RawMessage `json:"elements"`
		}
		if json.Unmarshal(raw, &el) != nil {
			return
		}
		switch el.Type {
		case "text":
			sb.WriteString(el.Text)
		case "user":
			sb.WriteString("<@" + el.UserID + ">")
		case "link":
			if el.Text != "" {
				sb.WriteString(el.Text)
			} else {
				sb.WriteString(el.URL)
			}
		}
		for _, c := range el.Elements {
			walk(c)
		}
		if el.Type == "rich_text_section" || el.Type == "rich_text_preformatted" || el.Type == "rich_text_quote" {
			sb.WriteString("\n")
		}
	}
	for _, e := range elements {
		walk(e)
	}
	return strings.TrimRight(sb.String(), "\n")
}

var mrkdwnLinkRE = regexp.MustCompile(`<([^<>]+)>`)

// mrkdwn converts Slack's link syntax to readable text; emphasis markers
// such as *bold* are kept.
func (s *Server) mrkdwn(text string) string {
	out := mrkdwnLinkRE.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			id := target[1:]
			s.mu.Lock()
			u, ok := s.users[id]
			s.mu.Unlock()
			switch {
			case ok && u.Name != "":
				return "@" + u.Name
			case hasLabel:
				return "@" + strings.TrimPrefix(label, "@")
			}
			return "@" + id
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + label
			}
			return "#" + s.channelName(target[1:])
		case strings.HasPrefix(target, "!"):
			if hasLabel {
				return label
			}
			cmd, _, _ := strings.Cut(target[1:], "^")
			return "@" + cmd
		case hasLabel:
			return label
		}
		return target
	})
	return emojiReplacer.Replace(html.UnescapeString(out))
}

// emojiReplacer shows the emoji short codes a terminal cannot as the
// characters Slack would draw (the common ones; others stay as :code:).
var emojiReplacer = strings.NewReplacer(
	":white_check_mark:", "✅", ":x:", "❌", ":warning:", "⚠️", ":hourglass:", "⌛",
	":hourglass_flowing_sand:", "⏳", ":information_source:", "ℹ️", ":no_entry:", "⛔",
	":broom:", "🧹", ":octagonal_sign:", "🛑", ":raised_hand:", "✋", ":leftwards_arrow_with_hook:", "↩️",
)
