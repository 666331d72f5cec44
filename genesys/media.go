package genesys

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Media is a communication medium, named as the analytics mediaType
// dimension names it.
type Media string

// The media a conversation participant can have. Each lives in its own
// array of the generic Participant (calls, callbacks, chats, …).
const (
	MediaVoice       Media = "voice"       // calls[]
	MediaCallback    Media = "callback"    // callbacks[]
	MediaChat        Media = "chat"        // chats[] (ACD web chat, deprecated by Genesys)
	MediaEmail       Media = "email"       // emails[]
	MediaMessage     Media = "message"     // messages[]: SMS, WhatsApp, web messaging, social, open
	MediaVideo       Media = "video"       // videos[]
	MediaCobrowse    Media = "cobrowse"    // cobrowsesessions[]
	MediaScreenshare Media = "screenshare" // screenshares[]
	MediaSocial      Media = "social"      // socialExpressions[] (no analytics name)
)

// mediaOrder is the order in which a conversation lists its media.
var mediaOrder = []Media{MediaVoice, MediaCallback, MediaChat, MediaEmail, MediaMessage, MediaVideo, MediaCobrowse, MediaScreenshare, MediaSocial}

// FindMedia are the media a search can be narrowed to (ParseMedia).
var FindMedia = []Media{MediaVoice, MediaCallback, MediaChat, MediaEmail, MediaMessage}

// ParseMedia reads a medium a supervisor typed: voice, callback, chat,
// email or message (also call, e-mail, messaging, sms, whatsapp, and the
// analytics names video, cobrowse, screenshare).
func ParseMedia(s string) (Media, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "voice", "call", "calls", "phone":
		return MediaVoice, nil
	case "callback", "callbacks":
		return MediaCallback, nil
	case "chat", "chats":
		return MediaChat, nil
	case "email", "e-mail", "emails", "mail":
		return MediaEmail, nil
	case "message", "messages", "messaging", "sms", "whatsapp":
		return MediaMessage, nil
	case "video":
		return MediaVideo, nil
	case "cobrowse", "co-browse":
		return MediaCobrowse, nil
	case "screenshare", "screen-share":
		return MediaScreenshare, nil
	}
	return "", &InputError{Field: "media", Value: shorten(s, 32), Message: fmt.Sprintf("media %q is not one of voice, callback, chat, email, message", shorten(s, 32))}
}

// Label names the medium for people: "voice call", "callback", "e-mail",
// "chat", …; messages by their platform (MessageLabel).
func (m Media) Label() string {
	switch m {
	case MediaVoice:
		return "voice call"
	case MediaCallback:
		return "callback"
	case MediaChat:
		return "chat"
	case MediaEmail:
		return "e-mail"
	case MediaMessage:
		return "message"
	case MediaVideo:
		return "video"
	case MediaCobrowse:
		return "co-browse"
	case MediaScreenshare:
		return "screen share"
	case MediaSocial:
		return "social media"
	case "":
		return "unknown media"
	}
	return string(m)
}

// messagePlatforms are the Message.type values Genesys documents, with the
// name people know them by.
var messagePlatforms = map[string]string{
	"sms":          "SMS",
	"whatsapp":     "WhatsApp",
	"webmessaging": "web",
	"facebook":     "Facebook",
	"instagram":    "Instagram",
	"twitter":      "X (Twitter)",
	"line":         "LINE",
	"telegram":     "Telegram",
	"kakao":        "KakaoTalk",
	"apple":        "Apple Messages",
	"open":         "Open Messaging",
}

// MessageLabel names a message by its platform: "WhatsApp message", "SMS
// message", "web message"; a platform Genesys does not document is shown
// in brackets when it is a plain word, else left out.
func MessageLabel(messageType string) string {
	t := strings.ToLower(strings.TrimSpace(messageType))
	if name, ok := messagePlatforms[t]; ok {
		return name + " message"
	}
	if t == "" || t == "unknown" || len(t) > 24 || strings.IndexFunc(t, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' && r != '.'
	}) >= 0 {
		return "message"
	}
	return "message (" + t + ")"
}

// family is the media-family endpoint set that handles a medium, or "" when
// it has none (then only the generic endpoints can act on it).
func (m Media) family() EndpointFamily {
	switch m {
	case MediaVoice:
		return FamilyCalls
	case MediaCallback:
		return FamilyCallbacks
	case MediaChat:
		return FamilyChats
	case MediaEmail:
		return FamilyEmails
	case MediaMessage:
		return FamilyMessages
	}
	return ""
}

// The media-family endpoint sets besides calls. They are not values of
// Config.Endpoints: a fallback chooses them per participant.
const (
	FamilyCallbacks EndpointFamily = "callbacks"
	FamilyChats     EndpointFamily = "chats"
	FamilyEmails    EndpointFamily = "emails"
	FamilyMessages  EndpointFamily = "messages"
)

// familyMedia is the medium a family endpoint set handles ("" for generic
// and auto).
func familyMedia(f EndpointFamily) Media {
	for _, m := range mediaOrder {
		if m.family() == f && f != "" {
			return m
		}
	}
	return ""
}

// Communication is one media session of a participant: a call, a callback,
// a chat, an e-mail, a message thread, a video, a co-browse or screen-share
// session, a social expression.
type Communication struct {
	Media Media  `json:"media"`
	ID    string `json:"id,omitempty"`
	State State  `json:"state"`
	// Direction is inbound or outbound where the medium has one.
	Direction string `json:"direction,omitempty"`
	// Held exists on calls, callbacks, chats, e-mails, messages and social
	// expressions; Muted on calls and (audio) on videos.
	Held             bool      `json:"held,omitempty"`
	Muted            bool      `json:"muted,omitempty"`
	ConnectedTime    time.Time `json:"connectedTime,omitzero"`
	DisconnectedTime time.Time `json:"disconnectedTime,omitzero"`
	DisconnectType   string    `json:"disconnectType,omitempty"`
	// MessageType is a message's platform as Genesys names it (sms,
	// whatsapp, webmessaging, facebook, open, …; any other value is kept).
	MessageType string `json:"messageType,omitempty"`
	// FromAddress and ToAddress are a message's addresses (E.164 numbers
	// for SMS and WhatsApp).
	FromAddress string `json:"fromAddress,omitempty"`
	ToAddress   string `json:"toAddress,omitempty"`
}

// Label names the session for people: "voice call", "WhatsApp message", …
func (c Communication) Label() string {
	if c.Media == MediaMessage {
		return MessageLabel(c.MessageType)
	}
	return c.Media.Label()
}

// Live reports whether the state is one of a session that is up or coming
// up: connected, alerting, dialing, contacting or offering.
func (s State) Live() bool {
	switch s {
	case StateConnected, StateAlerting, StateDialing, StateContacting, StateOffering:
		return true
	}
	return false
}

// rank orders sessions for describing a participant: live, then waiting
// (parked, scheduled, none, unknown), then ended.
func (c Communication) rank() int {
	switch {
	case c.State.Live():
		return 2
	case c.State.Ended():
		return 0
	}
	return 1
}

// companion reports whether the medium rides along another one (a co-browse
// or a screen share during a call or a chat) rather than being the
// interaction itself.
func (m Media) companion() bool { return m == MediaCobrowse || m == MediaScreenshare }

// pickCommunication chooses the session that describes the participant
// now: the best rank, then the interaction over a companion session, and
// among equals the latest activity (activity[i] is
// the latest time session i reports; later entries win ties: Genesys
// appends new sessions). It returns -1 for none.
func pickCommunication(cs []Communication, activity []time.Time) int {
	best := -1
	for i, c := range cs {
		if best < 0 {
			best = i
			continue
		}
		b := cs[best]
		if c.rank() != b.rank() {
			if c.rank() > b.rank() {
				best = i
			}
			continue
		}
		if c.Media.companion() != b.Media.companion() {
			if !c.Media.companion() {
				best = i
			}
			continue
		}
		if !activity[i].Before(activity[best]) {
			best = i
		}
	}
	return best
}

// applyCommunications sets what the participant's sessions say: its media,
// hold, mute, direction, times, disconnect type and state. The state is:
//   - live when any session is live (the live one describes it), ended when
//     all have ended (the latest describes it);
//   - with no sessions at all, the participant's own state when Genesys
//     gives one (the notification shape), else ended when it has an end
//     time, else none;
//   - otherwise (parked, scheduled, none: waiting, not live) ended when the
//     participant has an end time, else the state of its latest session.
//
// The media-family shapes carry the state on the participant; their one
// session is built from it, so the same rule reads them.
func (p *Participant) applyCommunications(ownState string, activity []time.Time) {
	i := pickCommunication(p.Communications, activity)
	if i < 0 {
		switch {
		case ownState != "":
			p.State = normState(ownState)
		case !p.EndTime.IsZero():
			p.State = StateDisconnected
		}
		return
	}
	c := p.Communications[i]
	p.Media, p.MessageType = c.Media, c.MessageType
	p.Held, p.Muted = c.Held, c.Muted
	if c.Direction != "" {
		p.Direction = c.Direction
	}
	if c.DisconnectType != "" {
		p.DisconnectType = c.DisconnectType
	}
	if !c.ConnectedTime.IsZero() {
		p.ConnectedTime = c.ConnectedTime
	}
	switch {
	case c.State.Live():
		p.State = c.State
	case c.State.Ended():
		// The best session is ended only when all are.
		p.State = c.State
		if p.EndTime.IsZero() {
			p.EndTime = c.DisconnectedTime
		}
	case !p.EndTime.IsZero():
		p.State = StateDisconnected
	default:
		p.State = c.State
	}
}

// Label names the participant's medium for people, from the session that
// describes it now: "voice call", "WhatsApp message", "callback", …
func (p Participant) Label() string {
	if p.Media == MediaMessage {
		return MessageLabel(p.MessageType)
	}
	return p.Media.Label()
}

// HasMedia reports whether the participant has a session of medium m.
func (p Participant) HasMedia(m Media) bool {
	return slices.ContainsFunc(p.Communications, func(c Communication) bool { return c.Media == m })
}

// conversationMedia lists the media of the participants' sessions, in
// mediaOrder, each once.
func conversationMedia(ps []Participant) []Media {
	var out []Media
	for _, m := range mediaOrder {
		for _, p := range ps {
			if p.HasMedia(m) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// HasMedia reports whether any participant has a session of medium m.
func (c *Conversation) HasMedia(m Media) bool { return slices.Contains(c.Media, m) }

// MediaLabel names the conversation's media for people, e.g. "voice call",
// "WhatsApp message", "voice call + message": live sessions first, by the
// label of the session each live participant is on.
func (c *Conversation) MediaLabel() string {
	var labels []string
	add := func(l string) {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	for _, p := range c.Participants {
		if p.Media != "" && p.State.Live() {
			add(p.Label())
		}
	}
	if len(labels) == 0 {
		for _, m := range c.Media {
			add(m.Label())
		}
	}
	if len(labels) == 0 {
		return "unknown media"
	}
	return strings.Join(labels, " + ")
}
