package genesys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Operations of the media-family endpoints besides calls.
const (
	opGetCallback              = "getCallback"
	opGetChat                  = "getChat"
	opGetEmail                 = "getEmail"
	opGetMessage               = "getMessage"
	opPatchCallbackParticipant = "patchCallbackParticipant"
	opPatchChatParticipant     = "patchChatParticipant"
	opPatchEmailParticipant    = "patchEmailParticipant"
	opPatchMessageParticipant  = "patchMessageParticipant"
)

// familyOps names a family's GET and participant PATCH.
func familyOps(f EndpointFamily) (get, patch string) {
	switch f {
	case FamilyCalls:
		return opGetCall, opPatchCallParticipant
	case FamilyCallbacks:
		return opGetCallback, opPatchCallbackParticipant
	case FamilyChats:
		return opGetChat, opPatchChatParticipant
	case FamilyEmails:
		return opGetEmail, opPatchEmailParticipant
	case FamilyMessages:
		return opGetMessage, opPatchMessageParticipant
	}
	return opGetConversation, opPatchParticipant
}

// conversationPath is the URL path of a conversation in family f.
func conversationPath(f EndpointFamily, id string) string {
	if familyMedia(f) == "" {
		return "/api/v2/conversations/" + url.PathEscape(id)
	}
	return "/api/v2/conversations/" + string(f) + "/" + url.PathEscape(id)
}

// MediaError says a conversation (or participant) is not of a medium the
// configured endpoints can handle: Config.Endpoints is FamilyCalls, which
// reads and disconnects voice calls only.
type MediaError struct {
	ConversationID string
	// Media are the conversation's other media as Genesys listed them;
	// empty when it did not say.
	Media []Media
}

func (e *MediaError) Error() string {
	var names []string
	for _, m := range e.Media {
		names = append(names, string(m))
	}
	what := "not a voice call"
	if len(names) > 0 {
		what += " (its media: " + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("genesys: conversation %s is %s, and the client uses the calls endpoints, which handle voice only", e.ConversationID, what)
}

// userMessage is the sentence for the channel.
func (e *MediaError) userMessage() string {
	what := "That conversation is not a voice call"
	if len(e.Media) > 0 {
		var labels []string
		for _, m := range e.Media {
			labels = append(labels, m.Label())
		}
		what = "That conversation is a " + strings.Join(labels, " + ") + ", not a voice call"
	}
	return what + ", and the bot's Genesys endpoints are set to calls (voice only); set them to auto to act on every medium."
}

// mediaHints remembers, per conversation the client read lately, the
// medium of each participant and the family that took its disconnect, so
// a fallback goes to the right media family without reading again. It is
// bounded; a miss only costs a read.
type mediaHints struct {
	mu    sync.Mutex
	order []string // conversation keys, oldest first
	media map[string]map[string]Media
	via   map[string]map[string]Media // medium whose family took a disconnect
}

const maxMediaHints = 512

func (h *mediaHints) conv(key string) {
	if _, ok := h.media[key]; ok {
		return
	}
	if h.media == nil {
		h.media, h.via = map[string]map[string]Media{}, map[string]map[string]Media{}
	}
	if len(h.order) >= maxMediaHints {
		old := h.order[0]
		h.order = slices.Delete(h.order, 0, 1)
		delete(h.media, old)
		delete(h.via, old)
	}
	h.order = append(h.order, key)
	h.media[key], h.via[key] = map[string]Media{}, map[string]Media{}
}

// remember records the media of conv's participants.
func (h *mediaHints) remember(conv *Conversation) {
	key := strings.ToLower(conv.ID)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conv(key)
	for _, p := range conv.Participants {
		if p.Media != "" {
			h.media[key][strings.ToLower(p.ID)] = p.Media
		}
	}
}

func (h *mediaHints) mediaOf(convID, pid string) (Media, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.media[strings.ToLower(convID)][strings.ToLower(pid)]
	return m, ok
}

// disconnectedVia records that a media family took the disconnect of pid.
func (h *mediaHints) disconnectedVia(convID, pid string, m Media) {
	key := strings.ToLower(convID)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conv(key)
	if m == "" {
		delete(h.via[key], strings.ToLower(pid))
		return
	}
	h.via[key][strings.ToLower(pid)] = m
}

func (h *mediaHints) viaOf(convID, pid string) Media {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.via[strings.ToLower(convID)][strings.ToLower(pid)]
}

// participantFamily is the media family that can disconnect the
// participant: from what the last read said, else from a fresh read. A
// participant whose medium has no family (video, co-browse, …) has none.
func (c *Client) participantFamily(ctx context.Context, convID, pid string) (EndpointFamily, error) {
	if m, ok := c.hints.mediaOf(convID, pid); ok {
		return m.family(), nil
	}
	conv, err := c.GetConversation(ctx, convID)
	if err != nil {
		return "", err
	}
	p, ok := findParticipant(conv, pid)
	if !ok {
		return "", fmt.Errorf("%w (participant %s, conversation %s)", ErrParticipantNotFound, pid, convID)
	}
	return p.Media.family(), nil
}

// readFamilies reads conv in family first and, when its answer points at
// other media (otherMediaUris), in those families too, and merges the
// participants: what the generic endpoint would have shown. follow=false
// reads only the first family (genesys.endpoints calls).
func (c *Client) readFamilies(ctx context.Context, id string, first EndpointFamily, follow bool) (*Conversation, error) {
	conv, others, err := c.getConversationIn(ctx, id, first)
	if err != nil {
		return nil, err
	}
	if !follow {
		if first == FamilyCalls && len(conv.Participants) == 0 {
			e := &MediaError{ConversationID: conv.ID}
			for _, f := range others {
				e.Media = append(e.Media, familyMedia(f))
			}
			return nil, e
		}
		return conv, nil
	}
	for _, f := range others {
		more, _, err := c.getConversationIn(ctx, id, f)
		if err != nil {
			return nil, err
		}
		mergeConversation(conv, more)
	}
	return conv, nil
}

// getConversationIn reads a conversation from one family; others are the
// families its answer points at.
func (c *Client) getConversationIn(ctx context.Context, id string, fam EndpointFamily) (*Conversation, []EndpointFamily, error) {
	op, _ := familyOps(fam)
	req := apiRequest{op: op, method: http.MethodGet, path: conversationPath(fam, id)}
	// Decoded straight into the wire type: a detour through
	// json.RawMessage scanned every answer twice.
	w := newWireConversation(fam)
	resp, err := c.do(ctx, req, w)
	if err != nil {
		return nil, nil, err
	}
	conv, err := conversationFrom(req.op, resp, w)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAnswerIDs(req.op, resp, id, conv); err != nil {
		return nil, nil, err
	}
	var others []EndpointFamily
	if wf, ok := w.(*wireFamilyConversation); ok {
		others = wf.otherFamilies()
	}
	return conv, others, nil
}

// mergeConversation adds more's participants and sessions to conv: a
// participant on several media appears in several family answers.
func mergeConversation(conv, more *Conversation) {
	for _, mp := range more.Participants {
		i := slices.IndexFunc(conv.Participants, func(p Participant) bool { return idEqual(p.ID, mp.ID) })
		if i < 0 {
			conv.Participants = append(conv.Participants, mp)
			continue
		}
		p := &conv.Participants[i]
		p.Communications = append(p.Communications, mp.Communications...)
		activity := make([]time.Time, len(p.Communications))
		for j, cm := range p.Communications {
			activity[j] = latest(wireTime{cm.ConnectedTime}, wireTime{cm.DisconnectedTime})
		}
		p.applyCommunications("", activity)
	}
	if conv.StartTime.IsZero() || (!more.StartTime.IsZero() && more.StartTime.Before(conv.StartTime)) {
		conv.StartTime = more.StartTime
	}
	conv.setMedia()
}

// patchParticipant sends the disconnect PATCH to one family and reads
// "already gone" answers as an outcome, not an error.
func (c *Client) patchParticipant(ctx context.Context, fam EndpointFamily, convID, pid string) (DisconnectResult, error) {
	_, op := familyOps(fam)
	req := apiRequest{op: op, method: http.MethodPatch, body: disconnectBody,
		path:    conversationPath(fam, convID) + "/participants/" + url.PathEscape(pid),
		settled: c.legGone(convID, pid, familyMedia(fam))}
	resp, err := c.do(ctx, req, nil)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest &&
			(apiErr.Code == codeCallDisconnected || apiErr.Code == codeNoActiveConversation) {
			res := DisconnectResult{Outcome: DisconnectAlreadyGone, CorrelationID: apiErr.CorrelationID}
			if apiErr.AfterUncertainAttempt {
				// Our own earlier attempt most likely dropped the leg and
				// its 202 was lost: not "someone else did it".
				res.Outcome = DisconnectAccepted
			}
			return res, nil
		}
		return DisconnectResult{}, err
	}
	return DisconnectResult{Outcome: DisconnectAccepted, CorrelationID: resp.correlationID, SettledByReread: resp.settled}, nil
}

// sessionsEnded reports whether every session of medium m the participant
// has is over (false when it has none).
func sessionsEnded(p Participant, m Media) bool {
	has := false
	for _, c := range p.Communications {
		if c.Media != m {
			continue
		}
		if !c.State.Ended() {
			return false
		}
		has = true
	}
	return has
}

// refusalMessages are the words for the refusals the conversation
// endpoints document (per operation, in Genesys's error catalogue) that a
// supervisor can act on. "Already gone" answers are outcomes, not errors.
var refusalMessages = map[string]string{
	"conversation.error.wrapup.code.required":   "Genesys requires a wrap-up code before that participant can be disconnected; the agent must wrap up in Genesys first (or an admin makes wrap-up optional for the queue).",
	"conversation.error.wrapup.cannot.skip":     "Genesys does not let that participant skip wrap-up; the agent must wrap up in Genesys first.",
	"conversation.error.cannot.disconnect.call": "Genesys says this interaction cannot be disconnected through the API right now; try again, and if it persists use Disconnect Interactions in the Genesys admin.",
	"conversation.error.hold.alerting":          "Genesys refused: the interaction is still alerting; try again once it is answered.",
	"postino.error.answer.not.alerting":         "Genesys's e-mail service refused: the e-mail is no longer in the state the request expects; list the participants again and retry.",
	"postino.error.transfer.canceled":           "Genesys's e-mail service refused because a pending transfer of that e-mail was canceled; list the participants again and retry.",
	"postino.error.wrong.org":                   "Genesys's e-mail service says the e-mail belongs to another organization; check that the bot's Genesys region and OAuth client are those of the org that owns the conversation.",
}

// mediaMessage is the channel sentence for the errors of other media: a
// conversation the configured endpoints cannot handle, and the documented
// refusals of the media families.
func mediaMessage(err error) (string, bool) {
	var mErr *MediaError
	if errors.As(err, &mErr) {
		return mErr.userMessage(), true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 {
		if msg, ok := refusalMessages[apiErr.Code]; ok {
			return msg, true
		}
	}
	return "", false
}
