package genesystest

import (
	"slices"
)

// The per-media JSON shapes of the generic Participant's arrays and of the
// media-family conversations, following the definitions of the same name
// in the Genesys schema data (media_schema_test.go checks every one). Only
// fields the emulator can fill are present.

// mediaStates are the values each media's state enum allows.
var mediaStates = map[string][]string{
	MediaVoice:       {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "converting", "uploading", "transmitting", "none"},
	MediaCallback:    {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "scheduled", "none"},
	MediaCobrowse:    {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "scheduled", "none"},
	MediaChat:        {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "none"},
	MediaScreenshare: {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "none"},
	MediaSocial:      {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "none"},
	MediaVideo:       {"alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated", "none"},
	MediaEmail:       {"alerting", "connected", "disconnected", "none", "parked", "transmitting"},
	MediaMessage:     {"alerting", "connected", "parked", "disconnected"},
}

// wireState maps a state onto the media's enum: e-mails and messages have
// no terminated and no dialing-like states, most media have no parked.
func wireState(m, s string) string {
	allowed := mediaStates[m]
	if slices.Contains(allowed, s) {
		return s
	}
	switch s {
	case "terminated":
		return "disconnected"
	case "dialing", "contacting", "offering":
		return "alerting"
	case "parked":
		return "connected"
	}
	if slices.Contains(allowed, "none") {
		return "none"
	}
	return "alerting"
}

// mediaDisconnectTypes are the values each media's disconnectType enum
// allows; others are sent as "other".
var mediaDisconnectTypes = map[string][]string{
	MediaVoice:       {"endpoint", "endpoint.donotdisturb", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.donotdisturb", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
	MediaCallback:    {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
	MediaChat:        {"endpoint", "client", "system", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "error", "peer", "other", "uncallable", "timeout"},
	MediaCobrowse:    {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
	MediaEmail:       {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
	MediaMessage:     {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable", "inactivity", "session.expired", "takeover"},
	MediaScreenshare: {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
	MediaSocial:      {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
	MediaVideo:       {"endpoint", "client", "system", "timeout", "transfer", "transfer.conference", "transfer.consult", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "uncallable"},
}

// participantDisconnectTypes is the media-family participants'
// disconnectType enum (the same for every family).
var participantDisconnectTypes = []string{"endpoint", "endpoint.donotdisturb", "client", "system", "transfer", "transfer.conference", "transfer.consult", "transfer.donotdisturb", "transfer.forward", "transfer.noanswer", "transfer.notavailable", "transport.failure", "error", "peer", "other", "spam", "inactivity", "session.expired", "takeover"}

func wireDisconnectType(m, s string) string {
	if s == "" || slices.Contains(mediaDisconnectTypes[m], s) {
		return s
	}
	return "other"
}

// messageTypes is the Message.type enum; other values go out as "unknown".
var messageTypes = []string{"apple", "facebook", "instagram", "kakao", "line", "open", "sms", "telegram", "twitter", "webmessaging", "whatsapp", "unknown"}

func wireMessageType(s string) string {
	if slices.Contains(messageTypes, s) {
		return s
	}
	return "unknown"
}

// addressWire is Address.
type addressWire struct {
	Name              string `json:"name,omitempty"`
	AddressNormalized string `json:"addressNormalized,omitempty"`
	AddressRaw        string `json:"addressRaw,omitempty"`
	AddressDisplay    string `json:"addressDisplayable,omitempty"`
}

func address(a string) *addressWire {
	if a == "" {
		return nil
	}
	return &addressWire{AddressNormalized: a, AddressRaw: a, AddressDisplay: a}
}

// commonWire holds the fields every per-media item shares.
type commonWire struct {
	State            string `json:"state"`
	InitialState     string `json:"initialState,omitempty"`
	ID               string `json:"id"`
	DisconnectType   string `json:"disconnectType,omitempty"`
	ConnectedTime    string `json:"connectedTime,omitempty"`
	DisconnectedTime string `json:"disconnectedTime,omitempty"`
	Provider         string `json:"provider"`
}

func common(c Communication, provider string) commonWire {
	state := wireState(c.Media, c.State)
	out := commonWire{
		State:            state,
		ID:               c.ID,
		DisconnectType:   wireDisconnectType(c.Media, c.DisconnectType),
		ConnectedTime:    genesysTime(c.ConnectedTime),
		DisconnectedTime: genesysTime(c.DisconnectedTime),
		Provider:         provider,
	}
	if c.Media != MediaSocial {
		// SocialExpression is the one item without initialState.
		out.InitialState = wireState(c.Media, "alerting")
	}
	if !endedState(c.State) {
		out.DisconnectType, out.DisconnectedTime = "", ""
	}
	return out
}

// callbackWire is Callback.
type callbackWire struct {
	commonWire
	Direction             string   `json:"direction"`
	Held                  bool     `json:"held"`
	CallbackNumbers       []string `json:"callbackNumbers"`
	CallbackScheduledTime string   `json:"callbackScheduledTime,omitempty"`
	SkipEnabled           bool     `json:"skipEnabled"`
	TimeoutSeconds        int      `json:"timeoutSeconds"`
}

// chatWire is ConversationChat.
type chatWire struct {
	commonWire
	RoomID    string `json:"roomId"`
	Held      bool   `json:"held"`
	Direction string `json:"direction"`
}

// cobrowseWire is Cobrowsesession.
type cobrowseWire struct {
	commonWire
	CobrowseSessionID string   `json:"cobrowseSessionId"`
	CobrowseRole      string   `json:"cobrowseRole"`
	Controlling       []string `json:"controlling"`
}

// emailWire is Email.
type emailWire struct {
	commonWire
	Held          bool   `json:"held"`
	Subject       string `json:"subject,omitempty"`
	MessagesSent  int    `json:"messagesSent"`
	Direction     string `json:"direction"`
	AutoGenerated bool   `json:"autoGenerated"`
	Spam          bool   `json:"spam"`
}

// messageDetailsWire is MessageDetails.
type messageDetailsWire struct {
	MessageID           string `json:"messageId"`
	MessageStatus       string `json:"messageStatus"`
	MessageSegmentCount int    `json:"messageSegmentCount"`
	MessageTime         string `json:"messageTime,omitempty"`
}

// messageWire is Message.
type messageWire struct {
	commonWire
	Held        bool                 `json:"held"`
	Direction   string               `json:"direction"`
	Type        string               `json:"type"`
	ToAddress   *addressWire         `json:"toAddress,omitempty"`
	FromAddress *addressWire         `json:"fromAddress,omitempty"`
	Messages    []messageDetailsWire `json:"messages"`
}

// screenshareWire is Screenshare.
type screenshareWire struct {
	commonWire
	Context   string `json:"context"`
	Sharing   bool   `json:"sharing"`
	PeerCount int    `json:"peerCount"`
}

// socialWire is SocialExpression.
type socialWire struct {
	commonWire
	SocialMediaID  string `json:"socialMediaId"`
	SocialMediaHub string `json:"socialMediaHub"`
	SocialUserName string `json:"socialUserName"`
	PreviewText    string `json:"previewText"`
	Held           bool   `json:"held"`
}

// videoWire is Video.
type videoWire struct {
	commonWire
	Context       string   `json:"context"`
	AudioMuted    bool     `json:"audioMuted"`
	VideoMuted    bool     `json:"videoMuted"`
	SharingScreen bool     `json:"sharingScreen"`
	PeerCount     int      `json:"peerCount"`
	Msids         []string `json:"msids"`
}

// mediaArrays is the part of participantWire that carries the sessions.
type mediaArrays struct {
	Calls             []callWire        `json:"calls"`
	Callbacks         []callbackWire    `json:"callbacks"`
	Chats             []chatWire        `json:"chats"`
	Cobrowsesessions  []cobrowseWire    `json:"cobrowsesessions"`
	Emails            []emailWire       `json:"emails"`
	Messages          []messageWire     `json:"messages"`
	Screenshares      []screenshareWire `json:"screenshares"`
	SocialExpressions []socialWire      `json:"socialExpressions"`
	Videos            []videoWire       `json:"videos"`
}

// newMediaArrays renders a participant's sessions. Every array is present,
// empty when the participant has no session of that media, as Genesys
// sends them.
func newMediaArrays(p Participant) mediaArrays {
	out := mediaArrays{
		Calls: []callWire{}, Callbacks: []callbackWire{}, Chats: []chatWire{}, Cobrowsesessions: []cobrowseWire{},
		Emails: []emailWire{}, Messages: []messageWire{}, Screenshares: []screenshareWire{},
		SocialExpressions: []socialWire{}, Videos: []videoWire{},
	}
	for _, c := range p.Communications {
		switch c.Media {
		case MediaVoice:
			cw := common(c, "Edge")
			out.Calls = append(out.Calls, callWire{
				State: callState(c.State), ID: c.ID, Direction: c.Direction, RecordingState: "none",
				Muted: c.Muted, Held: c.Held, DisconnectType: cw.DisconnectType,
				ConnectedTime: cw.ConnectedTime, DisconnectedTime: cw.DisconnectedTime, Provider: "Edge",
			})
		case MediaCallback:
			out.Callbacks = append(out.Callbacks, callbackWire{
				commonWire: common(c, "PureCloud"), Direction: c.Direction, Held: c.Held,
				CallbackNumbers: nonNil(c.CallbackNumbers), CallbackScheduledTime: genesysTime(c.CallbackScheduledTime),
				SkipEnabled: true, TimeoutSeconds: 0,
			})
		case MediaChat:
			out.Chats = append(out.Chats, chatWire{commonWire: common(c, "PureCloud"), RoomID: "room-" + c.ID[:8], Held: c.Held, Direction: c.Direction})
		case MediaCobrowse:
			out.Cobrowsesessions = append(out.Cobrowsesessions, cobrowseWire{commonWire: common(c, "PureCloud"), CobrowseSessionID: c.ID, CobrowseRole: cobrowseRole(p), Controlling: []string{}})
		case MediaEmail:
			out.Emails = append(out.Emails, emailWire{commonWire: common(c, "PureCloud Email"), Held: c.Held, Subject: c.Subject, Direction: c.Direction})
		case MediaMessage:
			mw := messageWire{
				commonWire: common(c, "PureCloud Messaging"), Held: c.Held, Direction: c.Direction,
				Type: wireMessageType(c.MessageType), ToAddress: address(c.ToAddress), FromAddress: address(c.FromAddress),
				Messages: []messageDetailsWire{},
			}
			if !c.ConnectedTime.IsZero() {
				mw.Messages = append(mw.Messages, messageDetailsWire{MessageID: c.ID[:8] + "-m1", MessageStatus: "received", MessageSegmentCount: 1, MessageTime: genesysTime(c.ConnectedTime)})
			}
			out.Messages = append(out.Messages, mw)
		case MediaScreenshare:
			out.Screenshares = append(out.Screenshares, screenshareWire{commonWire: common(c, "PureCloud"), Context: "room-" + c.ID[:8], Sharing: p.Purpose == "customer", PeerCount: 1})
		case MediaSocial:
			out.SocialExpressions = append(out.SocialExpressions, socialWire{commonWire: common(c, "PureCloud"), SocialMediaID: c.ID, SocialMediaHub: "twitter", SocialUserName: p.Name, PreviewText: "", Held: c.Held})
		case MediaVideo:
			out.Videos = append(out.Videos, videoWire{commonWire: common(c, "PureCloud"), Context: "room-" + c.ID[:8], AudioMuted: c.Muted, PeerCount: 1, Msids: []string{}})
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func cobrowseRole(p Participant) string {
	if p.Purpose == "customer" {
		return "sharer"
	}
	return "viewer"
}

// mediaParticipantWire is the media-family participant
// (CallbackMediaParticipant, ChatMediaParticipant, EmailMediaParticipant,
// MessageMediaParticipant): state on the participant, related entities as
// DomainEntityRef, and each family's own fields (left out of the others).
type mediaParticipantWire struct {
	mediaParticipantBase
	// callbacks
	CallbackNumbers       []string `json:"callbackNumbers,omitempty"`
	CallbackScheduledTime string   `json:"callbackScheduledTime,omitempty"`
	// chats
	RoomID string `json:"roomId,omitempty"`
	// emails
	Subject string `json:"subject,omitempty"`
	// messages
	Type        string       `json:"type,omitempty"`
	ToAddress   *addressWire `json:"toAddress,omitempty"`
	FromAddress *addressWire `json:"fromAddress,omitempty"`
}

// familyConversationWire is CallbackConversation, ChatConversation,
// EmailConversation or MessageConversation.
type familyConversationWire struct {
	ID             string                 `json:"id"`
	Name           string                 `json:"name,omitempty"`
	Participants   []mediaParticipantWire `json:"participants"`
	OtherMediaURIs []string               `json:"otherMediaUris"`
	SelfURI        string                 `json:"selfUri"`
}

// familyConversationJSON renders c as family f's GET shows it: only the
// participants with a session of that media, each with the state of that
// session at participant level.
func familyConversationJSON(c Conversation, f family) familyConversationWire {
	out := familyConversationWire{
		ID: c.ID, Name: c.Name, Participants: []mediaParticipantWire{},
		OtherMediaURIs: otherMediaURIs(c, f.media),
		SelfURI:        "/api/v2/conversations/" + f.segment + "/" + c.ID,
	}
	for _, p := range c.Participants {
		if !p.hasMedia(f.media) {
			continue
		}
		state := p.familyState(f.media)
		pw := mediaParticipantWire{mediaParticipantBase: mediaParticipantBase{
			ID: p.ID, Name: p.Name, Address: p.Address,
			StartTime: genesysTime(p.StartTime), ConnectedTime: genesysTime(p.ConnectedTime),
			Purpose: p.Purpose, State: state, Direction: p.Direction, Attributes: map[string]string{},
			Provider: "PureCloud",
		}}
		if endedState(state) {
			pw.EndTime = genesysTime(p.EndTime)
			pw.DisconnectType = p.DisconnectType
			if !slices.Contains(participantDisconnectTypes, pw.DisconnectType) {
				pw.DisconnectType = "other"
			}
		}
		pw.User, pw.Queue, pw.ExternalContact = entityRefs(p)
		for _, cm := range p.Communications {
			if cm.Media != f.media {
				continue
			}
			pw.Held = pw.Held || (cm.Held && liveState(cm.State))
			switch f.media {
			case MediaCallback:
				pw.CallbackNumbers = nonNil(cm.CallbackNumbers)
				pw.CallbackScheduledTime = genesysTime(cm.CallbackScheduledTime)
			case MediaChat:
				pw.RoomID = "room-" + cm.ID[:8]
			case MediaEmail:
				pw.Subject = cm.Subject
			case MediaMessage:
				pw.Type = wireMessageType(cm.MessageType)
				pw.ToAddress, pw.FromAddress = address(cm.ToAddress), address(cm.FromAddress)
			}
		}
		out.Participants = append(out.Participants, pw)
	}
	return out
}
