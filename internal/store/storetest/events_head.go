package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// testEventsHeadAfterRetention: once retention has deleted every event,
// the head is where they ended, not the zero position: a reader that
// resumes from it (after a resync) is not told that its cursor expired,
// and reads the next event.
func testEventsHeadAfterRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	if head, err := s.EventsHead(ctx); err != nil || head != (store.EventPosition{}) {
		t.Fatalf("EventsHead of an empty log = %+v, %v; want the zero position", head, err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-1", "one", 0, nil))
	mustCreateUser(t, s, acme.ID, newUser("u-2", "two", 1, nil))
	all := readAll(t, s, store.EventQuery{})
	if len(all) != 2 {
		t.Fatalf("%d events, want 2", len(all))
	}
	if n, err := s.PurgeEvents(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("PurgeEvents(all) = %d, %v; want 2", n, err)
	}
	head, err := s.EventsHead(ctx)
	if err != nil || head != all[1].Position {
		t.Fatalf("EventsHead after purging everything = %+v, %v; want the last purged position %+v", head, err, all[1].Position)
	}
	p, err := s.ReadEvents(ctx, store.EventQuery{After: &head, Limit: 10})
	if err != nil || len(p.Events) != 0 || p.Next == nil || *p.Next != head {
		t.Errorf("ReadEvents after the head = %+v, %v; want no events, Next the head", p, err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-3", "three", 2, nil))
	if got := readAll(t, s, store.EventQuery{After: &head}); len(got) != 1 || got[0].Resource.ID != "u-3" {
		t.Errorf("after the head: %v, want u-3's event", brief(got))
	}
	before := store.EventPosition{}
	if _, err := s.ReadEvents(ctx, store.EventQuery{After: &before, Limit: 10}); !errors.Is(err, store.ErrEventsExpired) {
		t.Errorf("read from before the purged events: %v, want ErrEventsExpired", err)
	}
}
