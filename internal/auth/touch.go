package auth

import (
	"sync"
	"time"
)

// TouchEvery is how stale a key's last-used time may get: scimd records
// a key's use at most once per key per interval, not on every request.
const TouchEvery = time.Minute

// Touches decides when a key's use is worth writing: when its stored
// last-used time is older than TouchEvery and this process has not
// written one for it within TouchEvery. The zero value is ready.
type Touches struct {
	mu      sync.Mutex
	touched map[string]time.Time // key id → last time this process recorded use
}

// Due reports whether the use at now of key id, last recorded at
// lastUsed, should be written; when it says so, it counts it as written.
func (t *Touches) Due(id string, lastUsed, now time.Time) bool {
	if now.Sub(lastUsed) < TouchEvery {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.touched[id]) < TouchEvery {
		return false
	}
	if t.touched == nil {
		t.touched = map[string]time.Time{}
	}
	t.touched[id] = now
	return true
}
