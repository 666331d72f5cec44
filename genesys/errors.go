package genesys

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrUserNotFound means a user search found nobody.
	ErrUserNotFound = errors.New("genesys: no such user")
	// ErrParticipantNotFound means the conversation has no participant with
	// the requested id.
	ErrParticipantNotFound = errors.New("genesys: no such participant in the conversation")
)

// Error codes Genesys sends that the client acts on.
const (
	codeNotAUser             = "not.a.user"
	codeCallDisconnected     = "conversation.error.call.disconnected"
	codeNoActiveConversation = "conversation.error.participant.no.active.conversations"
	codeNotParticipant       = "conversation.error.not.conversation.participant"
	codeNotActiveParticipant = "conversation.error.forbidden.not.active.participant"
)

// ErrorBody is the error document Genesys returns with every non-2xx answer.
type ErrorBody struct {
	Message           string         `json:"message,omitempty"`
	Code              string         `json:"code,omitempty"`
	Status            int            `json:"status,omitempty"`
	EntityID          string         `json:"entityId,omitempty"`
	EntityName        string         `json:"entityName,omitempty"`
	MessageWithParams string         `json:"messageWithParams,omitempty"`
	MessageParams     map[string]any `json:"messageParams,omitempty"`
	ContextID         string         `json:"contextId,omitempty"`
	Details           []ErrorDetail  `json:"details,omitempty"`
	Errors            []ErrorBody    `json:"errors,omitempty"`
	Limit             *ErrorLimit    `json:"limit,omitempty"`
}

// ErrorDetail is one entry of ErrorBody.Details.
type ErrorDetail struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
}

// ErrorLimit names the limit a 429 hit.
type ErrorLimit struct {
	Key       string `json:"key,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Value     int64  `json:"value,omitempty"`
}

// APIError is a non-2xx answer from Genesys, from the API or from the token
// endpoint (Operation "token"). It never contains a token or a secret.
type APIError struct {
	Operation     string // stable operation name, e.g. "getConversation", "patchParticipant", "token"
	Method        string
	Path          string // URL path, ids included (they are not secret)
	Status        int
	Code          string // Genesys error code ("not.found") or OAuth error ("invalid_client")
	Message       string
	CorrelationID string        // ININ-Correlation-Id header, or contextId from the body
	RetryAfter    time.Duration // from Retry-After on 429
	Body          ErrorBody
	// AfterUncertainAttempt is set when an earlier attempt of the same
	// operation may have reached Genesys without its answer reaching us (a
	// transport error, a timeout or a 5xx). A "call already disconnected"
	// answer then most likely means that earlier attempt did the work.
	AfterUncertainAttempt bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "genesys: %s %s %s: %d", e.Operation, e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(": " + t)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Operation == opToken && ErrorKind(e) == KindAuth {
		b.WriteString("; check the OAuth client id and secret and the region")
	}
	if e.CorrelationID != "" {
		b.WriteString(" [correlation id " + e.CorrelationID + "]")
	}
	return b.String()
}

// TransportError is a request that got no HTTP answer: DNS, TLS, connection
// reset, timeout.
type TransportError struct {
	Operation, Method, Path string
	Err                     error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("genesys: %s %s %s: %v", e.Operation, e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// DecodeError is a 2xx answer whose body could not be understood: not JSON,
// the wrong JSON, or too large. It usually means genesys.api_url points at
// something that is not Genesys (a proxy login page, say).
type DecodeError struct {
	Operation     string
	Status        int
	ContentType   string
	CorrelationID string
	Err           error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("genesys: %s: cannot read the response (HTTP %d, %s): %v", e.Operation, e.Status, e.ContentType, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// uncertainError is an operation that ended without a final answer of its
// own (the token fetch failed, the context ended) after an earlier attempt
// that may have been carried out. It reads like the error it wraps.
type uncertainError struct{ err error }

func (e *uncertainError) Error() string { return e.err.Error() }
func (e *uncertainError) Unwrap() error { return e.err }

// markUncertain wraps err as an uncertainError when uncertain is set.
func markUncertain(err error, uncertain bool) error {
	if !uncertain || err == nil {
		return err
	}
	return &uncertainError{err: err}
}

// MaybeApplied reports whether a failed request may nevertheless have taken
// effect in Genesys, so that its outcome must be read back before anyone is
// told it failed. It is true when an attempt was sent and no definite
// answer came back: a 5xx (except 501 Not Implemented), a timeout, a
// transport error or lost answer, or a 2xx whose body could not be read;
// and when an earlier attempt of the same
// operation was like that although the last answer was definite (a 429, a
// 409, a token failure: APIError.AfterUncertainAttempt). It is false when
// nothing reached the endpoint (bad input, token failures, the context
// ending before any attempt) and for a 4xx to the first and only attempt.
func MaybeApplied(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := errors.AsType[*uncertainError](err); ok {
		return true
	}
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		if apiErr.Operation == opToken {
			return false
		}
		return apiErr.AfterUncertainAttempt || uncertainAnswer(apiErr.Status) ||
			apiErr.Status == http.StatusRequestTimeout
	}
	if tErr, ok := errors.AsType[*TransportError](err); ok {
		return tErr.Operation != opToken
	}
	if dErr, ok := errors.AsType[*DecodeError](err); ok {
		// A 2xx whose body we could not read: it was carried out.
		return dErr.Operation != opToken
	}
	return false
}

// Kind classifies an error for callers that react differently to each.
type Kind int

// The error kinds.
const (
	KindUnknown     Kind = iota
	KindInput            // bad input, rejected before any request
	KindAuth             // credentials refused, or 401 even with a fresh token
	KindForbidden        // 403: the OAuth client's role lacks a permission
	KindNotFound         // 404, or no matching user/participant
	KindConflict         // 409
	KindRateLimited      // 429
	KindUnavailable      // 5xx, transport error, timeout
	KindNotAUser         // 400 not.a.user: client credentials refused on this endpoint
	KindBadRequest       // any other 4xx
)

var kindNames = [...]string{"unknown", "input", "auth", "forbidden", "not_found", "conflict", "rate_limited", "unavailable", "not_a_user", "bad_request"}

// String returns a stable snake_case name, suitable for logs and metric labels.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ErrorKind classifies err. It returns KindUnknown for nil and for errors
// that did not come from this package.
func ErrorKind(err error) Kind {
	if err == nil {
		return KindUnknown
	}
	var inErr *InputError
	var mErr *MediaError
	if errors.As(err, &inErr) || errors.As(err, &mErr) {
		return KindInput
	}
	if errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrParticipantNotFound) || errors.Is(err, ErrQueueNotFound) {
		return KindNotFound
	}
	var ambErr *AmbiguousQueueError
	if errors.As(err, &ambErr) {
		return KindInput
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.kind()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindUnavailable
	}
	if errors.Is(err, context.Canceled) {
		return KindUnknown
	}
	var tErr *TransportError
	if errors.As(err, &tErr) {
		return KindUnavailable
	}
	return KindUnknown
}

func (e *APIError) kind() Kind {
	if e.Operation == opToken {
		switch {
		case e.Status == http.StatusTooManyRequests:
			return KindRateLimited
		case e.Status >= 500:
			return KindUnavailable
		default:
			// 400 invalid_client, 401 unauthorized, 403 disabled client...
			return KindAuth
		}
	}
	switch {
	case e.Status == http.StatusBadRequest && e.Code == codeNotAUser:
		return KindNotAUser
	case e.Status == http.StatusUnauthorized:
		return KindAuth
	case e.Status == http.StatusForbidden:
		return KindForbidden
	case e.Status == http.StatusNotFound:
		return KindNotFound
	case e.Status == http.StatusConflict:
		return KindConflict
	case e.Status == http.StatusTooManyRequests:
		return KindRateLimited
	case e.Status == http.StatusRequestTimeout || e.Status >= 500:
		return KindUnavailable
	case e.Status >= 400:
		return KindBadRequest
	}
	return KindUnknown
}

// CorrelationID returns the ININ-Correlation-Id carried by err, or "".
// Genesys support asks for it.
func CorrelationID(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.CorrelationID
	}
	var dErr *DecodeError
	if errors.As(err, &dErr) {
		return dErr.CorrelationID
	}
	return ""
}

// permissionFor names the Genesys permission an operation needs, for 403
// messages. The calls GET and user GET document no permission, but in
// practice the view permissions are what an admin must grant.
func permissionFor(op string) string {
	switch op {
	case opPatchParticipant, opPatchCallParticipant, opPatchCallbackParticipant, opPatchChatParticipant, opPatchEmailParticipant, opPatchMessageParticipant, opTeardown:
		return "conversation:communication:disconnect"
	case opGetConversation, opGetCall, opGetCallback, opGetChat, opGetEmail, opGetMessage:
		return "conversation:communication:view"
	case opSearchUsers, opGetUser:
		return "directory:user:view"
	case opQueryConversations:
		return "analytics:conversationDetail:view"
	case opGetQueues:
		return "routing:queue:view"
	}
	return ""
}

// UserMessage turns err into one short sentence that is safe to post in a
// chat channel: what happened and what to do. It never contains a token, a
// secret, or a raw response body. Log the full error separately.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	if msg, ok := mediaMessage(err); ok {
		return msg
	}
	if msg, ok := localMessage(err); ok {
		return msg
	}
	apiErr, _ := errors.AsType[*APIError](err)
	if msg := kindMessage(ErrorKind(err), apiErr, err); msg != "" {
		return msg
	}
	if errors.Is(err, context.Canceled) {
		return "The request was cancelled before Genesys answered."
	}
	return "Something went wrong talking to Genesys; details are in the bot's log."
}

// localMessage is the message for errors that say what went wrong without
// an API answer to interpret: bad input, nothing found, an unreadable answer.
func localMessage(err error) (string, bool) {
	var inErr *InputError
	if errors.As(err, &inErr) {
		return inErr.Message, true
	}
	if errors.Is(err, ErrUserNotFound) {
		return "No Genesys user has that e-mail address; check the spelling.", true
	}
	if errors.Is(err, ErrParticipantNotFound) {
		return "That participant is not part of the conversation; list the participants again.", true
	}
	if errors.Is(err, ErrQueueNotFound) {
		return "No Genesys queue has that name; check the spelling, or give the queue id.", true
	}
	var ambErr *AmbiguousQueueError
	if errors.As(err, &ambErr) {
		return "Several Genesys queues match that name; give the exact name or the queue id.", true
	}
	var decErr *DecodeError
	if errors.As(err, &decErr) {
		if decErr.Operation == opToken {
			return "The Genesys login server sent an answer the bot could not read; check the bot's Genesys region (or login URL).", true
		}
		return "Genesys sent an answer the bot could not read; check the bot's Genesys region (or that its API URL points at the Genesys API).", true
	}
	return "", false
}

// kindMessage is the message for an error of kind k; apiErr is the API
// answer err carries, or nil. It returns "" for kinds it has no words for.
func kindMessage(k Kind, apiErr *APIError, err error) string {
	hasAPI := apiErr != nil
	switch k {
	case KindAuth:
		if hasAPI && apiErr.Operation != opToken {
			return "Genesys rejected the bot's access token even after renewing it; check the bot's Genesys OAuth client id and secret, and its region."
		}
		return "Genesys did not accept the bot's OAuth client; check its client id and secret, and that the bot's Genesys region is the org's region."
	case KindForbidden:
		if hasAPI && apiErr.Code == codeNotActiveParticipant {
			return "Genesys refused: that participant is no longer active in the conversation."
		}
		if hasAPI {
			if perm := permissionFor(apiErr.Operation); perm != "" {
				return "The bot's Genesys OAuth client lacks the permission " + perm + "; add it to the client's role."
			}
		}
		return "The bot's Genesys OAuth client lacks a permission for this; check the client's role."
	case KindNotFound:
		if hasAPI {
			switch {
			case apiErr.Code == codeNotParticipant:
				return "That participant is not part of the conversation; list the participants again."
			case apiErr.Operation == opGetUser:
				return "Genesys has no such user; check the user id."
			}
		}
		return "Genesys could not find it: the conversation has ended or the id is wrong."
	case KindConflict:
		return "Genesys reported a conflicting change to the conversation; try again."
	case KindRateLimited:
		if hasAPI && apiErr.RetryAfter > 0 {
			secs := int(math.Ceil(apiErr.RetryAfter.Seconds()))
			return fmt.Sprintf("Genesys is rate-limiting the bot; try again in %d s.", secs)
		}
		return "Genesys is rate-limiting the bot; try again in a minute."
	case KindUnavailable:
		if hasAPI {
			return fmt.Sprintf("Genesys is having trouble right now (HTTP %d); try again in a minute.", apiErr.Status)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "Genesys did not answer in time; try again in a minute."
		}
		return "The bot could not reach Genesys; try again in a minute, and if it persists check the bot's Genesys region (or API URL)."
	case KindNotAUser:
		return "Genesys refuses the bot's client-credentials token on this endpoint (not.a.user); set the bot's endpoint family to auto or to the other family."
	case KindBadRequest:
		if hasAPI && apiErr.Code != "" {
			return fmt.Sprintf("Genesys rejected the request (%s); details are in the bot's log.", apiErr.Code)
		}
		return "Genesys rejected the request; details are in the bot's log."
	}
	return ""
}
