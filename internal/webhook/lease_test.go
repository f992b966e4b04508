package webhook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// TestLeasePostgres: two instances on one PostgreSQL database, both
// delivering, while users are created through both. One of them holds
// the endpoint's lease at any time: the receiver never sees two
// deliveries at once, and sees every event in log order. When the
// holder stops mid-stream, the other takes over and nothing is lost.
func TestLeasePostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	var dbs [2]*postgres.DB
	var svcs [2]*Service
	for i := range dbs {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
		cfg := fastConfig(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		cfg.Instance = fmt.Sprintf("inst-%d", i)
		if svcs[i], err = New(cfg); err != nil {
			t.Fatal(err)
		}
	}
	tn, err := dbs[0].CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t, func(int) (int, time.Duration) { return 200, 2 * time.Millisecond })
	ep, _, _, err := svcs[0].Add(ctx, NewEndpoint{URL: r.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var stops [2]func()
	for i, s := range svcs {
		c, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(c); close(done) }()
		var once sync.Once
		stops[i] = func() { once.Do(func() { cancel(); <-done }) }
		t.Cleanup(stops[i])
	}

	// Writers on both instances, 4 at a time.
	write := func(from, n int) {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := from + w; i < from+n; i += 4 {
					now := time.Now()
					id := fmt.Sprintf("u%03d", i)
					if _, err := dbs[i%2].CreateUser(context.Background(), tn.ID, store.User{ID: id, Created: now, Modified: now,
						Attrs: map[string]any{"userName": id}}); err != nil {
						t.Errorf("CreateUser: %v", err)
					}
				}
			})
		}
		wg.Wait()
	}
	write(0, 60)
	waitFor(t, "some deliveries", func() bool { return len(r.deliveries()) >= 20 })
	cur, err := dbs[0].Webhook(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	holder := slices.Index([]string{"inst-0", "inst-1"}, cur.LeaseHolder)
	if holder < 0 {
		t.Fatalf("lease holder %q mid-stream", cur.LeaseHolder)
	}
	stopped := time.Now()
	stops[holder]() // releases its lease
	write(60, 60)
	other := 1 - holder
	waitFor(t, "the other instance to take over", func() bool {
		e, err := dbs[other].Webhook(ctx, ep.ID)
		return err == nil && e.LeaseHolder == fmt.Sprintf("inst-%d", other)
	})
	if d := time.Since(stopped); d > 3*time.Second {
		t.Errorf("the takeover of a released lease took %v", d)
	}

	// Everything, in the log's order.
	var want []string
	after := ep.Position
	for {
		p, err := dbs[0].ReadEvents(ctx, store.EventQuery{After: &after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			want = append(want, e.Resource.ID)
		}
		if len(want) == 120 {
			break
		}
		if p.Next != nil {
			after = *p.Next
		}
		time.Sleep(10 * time.Millisecond) // other transactions hold the feed back a moment
	}
	waitFor(t, "every event", func() bool { return len(dedup(r.resourceIDs())) == 120 })
	got := r.resourceIDs()
	if !slices.Equal(dedup(got), want) {
		t.Fatalf("received %v\nwant (log order) %v", got, want)
	}
	if len(got) > 121 {
		t.Errorf("%d deliveries of 120 events: more than the one in flight at the handover twice", len(got))
	}
	if m := r.maxInflight.Load(); m != 1 {
		t.Errorf("the receiver saw %d deliveries at once: two instances delivered together", m)
	}
}
