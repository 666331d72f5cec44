package bot

import "time"

// recentSet remembers keys for a while, bounded in size, to drop redelivered
// Slack envelopes. Not safe for concurrent use; the handler locks around it.
type recentSet struct {
	max   int
	ttl   time.Duration
	seen  map[string]time.Time
	order []recentEntry // oldest first
}

type recentEntry struct {
	key string
	at  time.Time
}

func newRecentSet(max int, ttl time.Duration) *recentSet {
	return &recentSet{max: max, ttl: ttl, seen: make(map[string]time.Time, max)}
}

// add records key and reports whether it was not already there.
func (r *recentSet) add(key string, now time.Time) bool {
	if at, ok := r.seen[key]; ok && now.Sub(at) < r.ttl {
		return false
	}
	for len(r.order) > 0 && (len(r.order) >= r.max || now.Sub(r.order[0].at) >= r.ttl) {
		old := r.order[0]
		r.order = r.order[1:]
		// A key seen again after it expired has a newer entry further on;
		// only its newest entry may remove it.
		if r.seen[old.key].Equal(old.at) {
			delete(r.seen, old.key)
		}
	}
	r.seen[key] = now
	r.order = append(r.order, recentEntry{key, now})
	return true
}
