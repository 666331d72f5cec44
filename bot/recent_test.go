package bot

import (
	"fmt"
	"testing"
	"time"
)

func TestRecentSet(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRecentSet(3, time.Minute)
	if !r.add("a", start) || r.add("a", start.Add(time.Second)) {
		t.Fatal("a second delivery within the TTL must be reported as seen")
	}
	// After the TTL the key is new again, and its old entry must not evict
	// the new one.
	if !r.add("a", start.Add(2*time.Minute)) {
		t.Fatal("a key past its TTL is new again")
	}
	if r.add("a", start.Add(2*time.Minute+time.Second)) {
		t.Fatal("the re-added key was forgotten by the eviction of its old entry")
	}
	// Bounded: the oldest keys go first.
	for i := range 5 {
		r.add(fmt.Sprint("k", i), start.Add(3*time.Minute))
	}
	if len(r.seen) > 3 || len(r.order) > 3 {
		t.Fatalf("set holds %d keys (%d entries), bound is 3", len(r.seen), len(r.order))
	}
	if !r.add("k0", start.Add(3*time.Minute)) {
		t.Fatal("the oldest key should have been evicted by the bound")
	}
}

func TestFirstTimeWithoutIDsIsAlwaysNew(t *testing.T) {
	t.Parallel()
	h := &handler{}
	for range 3 {
		if !h.firstTime("slash", "") {
			t.Fatal("a slash command without a trigger_id was dropped as a duplicate")
		}
	}
	if !h.firstTime("click", "T1", "1.2") || h.firstTime("click", "T1", "1.2") {
		t.Fatal("a click with ids must be deduplicated")
	}
}
