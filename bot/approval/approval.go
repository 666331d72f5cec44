// Package approval signs and verifies the values of the buttons on a
// four-eyes approval request.
//
// The bot keeps no state about a request: the Approve, Deny and Withdraw
// buttons carry everything an approval needs (what is to be done, who asked,
// in which channel, until when), MAC'd with a key all replicas share, so any
// replica can handle any click and nobody can change a field without the
// MAC failing. The expiry is part of what is signed, so restarting a replica
// cannot extend a request.
//
// A value is base64url (no padding) of
//
//	version(1) action(1) kind(1) id(8) expires(8, unix seconds, big endian)
//	team user channel                     (each: length byte + bytes)
//	disconnect: conversation(16) participant(16) purpose name
//	sweep:      count(uvarint) older-than-seconds(uvarint) queue media
//	HMAC-SHA256(key, domain || everything above)(32)
//
// which stays far below Slack's 2000-character limit for a button value
// (MaxValueLen): the worst case is measured by the tests.
package approval

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/disconnectbot/disconnectbot/authz"
)

// Version is the format version the first byte of every value carries.
// A value of another version is refused: its buttons are from a bot that
// signs differently, and the requester must ask again.
const Version = 1

// MaxValueLen is Slack's limit on a button value.
const MaxValueLen = 2000

// MinSecretLen is the shortest accepted signing secret, in bytes. A shorter
// key would make the MAC the weakest link.
const MinSecretLen = 32

// Field limits. They bound the encoded size and keep untrusted text short.
const (
	maxSlackID  = 32  // Slack ids; real ones are 9 to 11 characters
	maxPurpose  = 32  // Genesys participant purpose
	MaxQueueLen = 255 // a sweep's queue filter (name or id), in bytes
	MaxNameLen  = 255 // a participant's display name, in bytes
	maxMedia    = 32  // a sweep's media filter
	maxCount    = 1 << 24
	maxOlder    = 1 << 32 // seconds (136 years): far beyond any sweep, far inside time.Duration
)

// Action is what a button does with a request.
type Action byte

// The buttons of a request.
const (
	Approve  Action = 1
	Deny     Action = 2
	Withdraw Action = 3
)

func (a Action) String() string {
	switch a {
	case Approve:
		return "approve"
	case Deny:
		return "deny"
	case Withdraw:
		return "withdraw"
	}
	return fmt.Sprintf("action(%d)", byte(a))
}

// Kind is what a request asks to do.
type Kind byte

// What can be requested.
const (
	KindDisconnect Kind = 1 // disconnect one participant
	KindSweep      Kind = 2 // a bulk sweep of stuck conversations
)

// Sweep is what a sweep request asks for: the filters the requester gave
// and how many conversations matched when the request was made.
type Sweep struct {
	Count     int
	OlderThan time.Duration // whole seconds
	Queue     string        // name or id as typed; "" = any queue
	Media     string        // "" = any media
}

// Request is one approval request, as signed into its buttons.
type Request struct {
	ID      string // 16 lower-case hex digits (NewID)
	Kind    Kind
	Expires time.Time // whole seconds, UTC

	// Who asked, and where the request was posted.
	TeamID, UserID, ChannelID string

	// KindDisconnect: whom.
	ConversationID, ParticipantID string // UUIDs, lower case
	Purpose                       string // the participant's purpose when asked
	// Name is how the participant was shown when asked (a name or a masked
	// number; untrusted text, escape it), so that any replica can redraw
	// the request without asking Genesys. At most MaxNameLen bytes.
	Name string

	// KindSweep: what.
	Sweep Sweep
}

// NewID returns a random request id.
func NewID() string {
	var b [8]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic("approval: crypto/rand failed: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Errors Verify returns. ErrInvalid deliberately does not say what is wrong
// with a value: a forger learns nothing from it.
var (
	ErrInvalid = errors.New("approval: not a valid approval button (tampered with, from another bot, or signed with another secret)")
	ErrExpired = errors.New("approval: the request has expired")
)

// Signer signs and verifies values. It is safe for concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for secret, which must be at least
// MinSecretLen bytes long.
func NewSigner(secret string) (*Signer, error) {
	switch {
	case secret == "":
		return nil, errors.New("the signing secret is missing; set it to a random key shared by all replicas (e.g. the output of: openssl rand -base64 48)")
	case len(secret) < MinSecretLen:
		return nil, fmt.Errorf("the signing secret is %d bytes long; use at least %d random bytes (e.g. the output of: openssl rand -base64 48)", len(secret), MinSecretLen)
	}
	return &Signer{key: []byte(secret)}, nil
}

var encoding = base64.RawURLEncoding.Strict()

// domain separates these MACs from any other use of the same secret.
const domain = "disconnectbot/approval\x00"

const macLen = sha256.Size

func (s *Signer) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(domain))
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the value of the button that does action with r.
func (s *Signer) Sign(r Request, action Action) (string, error) {
	body, err := marshal(r, action)
	if err != nil {
		return "", err
	}
	value := encoding.EncodeToString(append(body, s.mac(body)...))
	if len(value) > MaxValueLen {
		// Cannot happen with the field limits above; checked so that a
		// future field cannot silently break the buttons.
		return "", fmt.Errorf("approval: value is %d characters, over Slack's %d", len(value), MaxValueLen)
	}
	return value, nil
}

// Verify checks value's MAC and expiry and returns the request and the
// action it signs. The MAC is checked (in constant time) before any field is
// read. An expired request returns ErrExpired together with the request, so
// the caller can say since when.
func (s *Signer) Verify(value string, now time.Time) (Request, Action, error) {
	if len(value) > MaxValueLen {
		return Request{}, 0, ErrInvalid
	}
	// Go's base64 decoders skip \r and \n; a value is one canonical
	// string, so anything outside the alphabet is refused first.
	if strings.ContainsAny(value, "\r\n") {
		return Request{}, 0, ErrInvalid
	}
	raw, err := encoding.DecodeString(value)
	if err != nil || len(raw) <= macLen {
		return Request{}, 0, ErrInvalid
	}
	body, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sum, s.mac(body)) {
		return Request{}, 0, ErrInvalid
	}
	r, action, err := unmarshal(body)
	if err != nil {
		return Request{}, 0, ErrInvalid
	}
	if !now.Before(r.Expires) {
		return r, action, ErrExpired
	}
	return r, action, nil
}

func marshal(r Request, action Action) ([]byte, error) {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if action < Approve || action > Withdraw {
		bad("unknown action %d", action)
	}
	id, err := hex.DecodeString(r.ID)
	if err != nil || len(id) != 8 || r.ID != strings.ToLower(r.ID) {
		bad("request id %q is not 16 lower-case hex digits", r.ID)
	}
	if r.Expires.IsZero() || r.Expires.Unix() <= 0 {
		bad("no expiry")
	}
	for _, id := range []struct {
		what, id string
		valid    func(string) bool
	}{{"team", r.TeamID, authz.IsTeamID}, {"user", r.UserID, authz.IsUserID}, {"channel", r.ChannelID, authz.IsChannelID}} {
		if !id.valid(id.id) || len(id.id) > maxSlackID {
			bad("%s id %q is not a Slack %s id", id.what, id.id, id.what)
		}
	}

	b := make([]byte, 0, 128)
	b = append(b, Version, byte(action), byte(r.Kind))
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Expires.Unix()))
	b = appendString(b, r.TeamID)
	b = appendString(b, r.UserID)
	b = appendString(b, r.ChannelID)
	switch r.Kind {
	case KindDisconnect:
		conv, err1 := parseUUID(r.ConversationID)
		part, err2 := parseUUID(r.ParticipantID)
		if err1 != nil {
			bad("conversation id %q is not a UUID", r.ConversationID)
		}
		if err2 != nil {
			bad("participant id %q is not a UUID", r.ParticipantID)
		}
		if !isWord(r.Purpose, maxPurpose) && r.Purpose != "" {
			bad("purpose %q is not a lower-case word of at most %d characters", r.Purpose, maxPurpose)
		}
		b = append(b, conv[:]...)
		b = append(b, part[:]...)
		if len(r.Name) > MaxNameLen || !utf8.ValidString(r.Name) {
			bad("name is longer than %d bytes or not UTF-8", MaxNameLen)
		}
		b = appendString(b, r.Purpose)
		b = appendString(b, r.Name)
	case KindSweep:
		sw := r.Sweep
		if sw.Count < 0 || sw.Count > maxCount {
			bad("count %d out of range", sw.Count)
		}
		if sw.OlderThan < 0 || sw.OlderThan > maxOlder*time.Second || sw.OlderThan%time.Second != 0 {
			bad("older-than %s is not a whole number of seconds", sw.OlderThan)
		}
		if len(sw.Queue) > MaxQueueLen || !utf8.ValidString(sw.Queue) {
			bad("queue filter is longer than %d bytes or not UTF-8", MaxQueueLen)
		}
		if !isWord(sw.Media, maxMedia) && sw.Media != "" {
			bad("media %q is not a lower-case word", sw.Media)
		}
		b = binary.AppendUvarint(b, uint64(max(sw.Count, 0)))
		b = binary.AppendUvarint(b, uint64(max(sw.OlderThan/time.Second, 0)))
		b = appendString(b, sw.Queue)
		b = appendString(b, sw.Media)
	default:
		bad("unknown kind %d", r.Kind)
	}
	if len(errs) > 0 {
		return nil, errors.New("approval: cannot sign: " + strings.Join(errs, "; "))
	}
	return b, nil
}

// reader reads body strictly: any short read, out-of-range value or
// trailing byte fails the whole value.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) bytes(n int) []byte {
	if r.err || len(r.b) < n {
		r.err = true
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte1() byte { return r.bytes(1)[0] }

func (r *reader) str() string {
	n := int(r.byte1())
	return string(r.bytes(n))
}

func (r *reader) uvarint() uint64 {
	if r.err {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	// n <= 0: truncated or overflow; a non-minimal encoding is refused too,
	// so every request has exactly one encoding.
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func unmarshal(body []byte) (Request, Action, error) {
	rd := &reader{b: body}
	if rd.byte1() != Version {
		return Request{}, 0, ErrInvalid
	}
	action := Action(rd.byte1())
	r := Request{Kind: Kind(rd.byte1())}
	r.ID = hex.EncodeToString(rd.bytes(8))
	exp := binary.BigEndian.Uint64(rd.bytes(8))
	r.TeamID, r.UserID, r.ChannelID = rd.str(), rd.str(), rd.str()
	switch r.Kind {
	case KindDisconnect:
		r.ConversationID = formatUUID(rd.bytes(16))
		r.ParticipantID = formatUUID(rd.bytes(16))
		r.Purpose, r.Name = rd.str(), rd.str()
	case KindSweep:
		count, older := rd.uvarint(), rd.uvarint()
		if count > maxCount || older > maxOlder {
			return Request{}, 0, ErrInvalid
		}
		r.Sweep = Sweep{Count: int(count), OlderThan: time.Duration(older) * time.Second, Queue: rd.str(), Media: rd.str()}
	default:
		return Request{}, 0, ErrInvalid
	}
	if rd.err || len(rd.b) != 0 || exp == 0 || exp > 1<<40 {
		return Request{}, 0, ErrInvalid
	}
	r.Expires = time.Unix(int64(exp), 0).UTC()
	// Re-marshal: whatever does not come out byte for byte the same (a bad
	// id, an unknown action, a long field) is refused.
	again, err := marshal(r, action)
	if err != nil || string(again) != string(body) {
		return Request{}, 0, ErrInvalid
	}
	return r, action, nil
}

func appendString(b []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255] // marshal has already refused it; keep the length byte honest
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func isWord(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func parseUUID(s string) ([16]byte, error) {
	var out [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return out, errors.New("not a UUID")
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if h != strings.ToLower(h) {
		return out, errors.New("not a lower-case UUID")
	}
	if _, err := hex.Decode(out[:], []byte(h)); err != nil {
		return out, err
	}
	return out, nil
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
