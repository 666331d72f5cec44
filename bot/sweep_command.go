package bot

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// DefaultSweepOlder is the age of `/disconnect stuck` without older:.
const DefaultSweepOlder = "4h"

// StuckArgs is a parsed `/disconnect stuck [older:4h] [queue:NAME|ID] [media:M]`.
type StuckArgs struct {
	Older string // as typed (m, h, d units), validated
	Queue string // a queue name or id, "" = any
	Media string // one of genesys.StuckMedia, "" = any
}

// parseStuck reads the words after `stuck`, in any order; media is the
// `media:` parseCommand already took out of them.
func parseStuck(fields []string, media genesys.Media) (*StuckArgs, error) {
	args := &StuckArgs{Older: DefaultSweepOlder, Media: string(media)}
	seen := map[string]bool{}
	for _, f := range fields {
		key, val, ok := strings.Cut(f, ":")
		key = strings.ToLower(key)
		if !ok || (key != "older" && key != "queue") {
			return nil, inputErrorf("I don't understand %s after `stuck`. Use `older:4h`, `queue:NAME` and `media:voice|callback|chat|email|message`.", quote(f))
		}
		if seen[key] {
			return nil, inputErrorf("`%s:` is given twice.", key)
		}
		seen[key] = true
		val = strings.TrimSpace(strings.Trim(strings.TrimSpace(val), `"“”`))
		switch key {
		case "older":
			if _, err := genesys.ParseAge(val); err != nil {
				return nil, inputErrorf("`older:%s` is not an age; write it like `older:30m`, `older:4h` or `older:2d`.", escapeCode(truncate(val, 32)))
			}
			args.Older = strings.ToLower(val)
		case "queue":
			if strings.Trim(val, "* ") == "" {
				return nil, inputErrorf("Give the queue after `queue:`, e.g. `queue:Support`.")
			}
			args.Queue = val
		}
	}
	return args, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Sweep action ids; HandleClick sends every action id with this prefix to
// the Sweeper.
const (
	actionSweepPrefix   = "sweep:"
	actionSweepRun      = "sweep:run"
	actionSweepCancel   = "sweep:cancel"
	actionSweepStop     = "sweep:stop"
	actionSweepTeardown = "sweep:teardown"
)

// sweepButtonVersion versions the sweep button values.
const sweepButtonVersion = "s1"

// sweepRequest is what a "Disconnect all" or "Tear down" button carries:
// the filters (the sweep queries again with them, and the re-read decides
// what is done), the count the user was shown, and whether to tear down.
type sweepRequest struct {
	Older    string // validated age
	QueueID  string // "" or a Genesys id
	Media    string
	Count    int // what the confirm dialog stated
	Teardown bool
}

func encodeSweepRequest(r sweepRequest) string {
	td := "0"
	if r.Teardown {
		td = "1"
	}
	return strings.Join([]string{sweepButtonVersion, r.Older, r.QueueID, r.Media, strconv.Itoa(r.Count), td}, ";")
}

// decodeSweepRequest accepts exactly what encodeSweepRequest makes.
func decodeSweepRequest(s string) (sweepRequest, error) {
	parts := strings.Split(s, ";")
	if len(s) > 200 || len(parts) != 6 || parts[0] != sweepButtonVersion {
		return sweepRequest{}, errBadButton
	}
	r := sweepRequest{Older: parts[1], QueueID: parts[2], Media: parts[3]}
	if d, err := genesys.ParseAge(r.Older); err != nil || genesys.FormatAge(d) != r.Older {
		return sweepRequest{}, errBadButton
	}
	if r.QueueID != "" && (genesys.ValidateID("queue id", r.QueueID) != nil || strings.ToLower(r.QueueID) != r.QueueID) {
		return sweepRequest{}, errBadButton
	}
	if r.Media != "" && !containsString(genesys.StuckMedia, r.Media) {
		return sweepRequest{}, errBadButton
	}
	n, err := strconv.Atoi(parts[4])
	if err != nil || n < 0 || n > genesys.MaxStuckLimit || strconv.Itoa(n) != parts[4] {
		return sweepRequest{}, errBadButton
	}
	r.Count = n
	switch parts[5] {
	case "0":
	case "1":
		r.Teardown = true
	default:
		return sweepRequest{}, errBadButton
	}
	return r, nil
}

// A Stop button carries the sweep's id: 16 random bytes, hex.
func newSweepID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var errBadSweepID = errors.New("this Stop button is not one disconnectbot made")

func checkSweepID(s string) error {
	if len(s) != 32 {
		return errBadSweepID
	}
	if _, err := hex.DecodeString(s); err != nil || strings.ToLower(s) != s {
		return errBadSweepID
	}
	return nil
}
