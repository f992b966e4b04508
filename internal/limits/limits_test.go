package limits

import (
	"context"
	"errors"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestKeyRate(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{KeyRate: 10, KeyBurst: 20, Now: c.now})
	for i := range 20 {
		if err := l.Allow("k", 0); err != nil {
			t.Fatalf("request %d of the burst refused: %v", i, err)
		}
	}
	var r *Refusal
	if err := l.Allow("k", 0); !errors.As(err, &r) || r.Reason != ReasonKeyRate || r.RetryAfter != time.Second {
		t.Fatalf("21st request: %v, want a key_rate refusal retrying after 1s", err)
	}
	// Another key has its own bucket.
	if err := l.Allow("other", 0); err != nil {
		t.Errorf("another key: %v", err)
	}
	// 10 per second refill: after 0.5 s, 5 more.
	c.t = c.t.Add(500 * time.Millisecond)
	for i := range 5 {
		if err := l.Allow("k", 0); err != nil {
			t.Fatalf("refilled request %d: %v", i, err)
		}
	}
	if err := l.Allow("k", 0); err == nil {
		t.Error("the 6th request after 0.5 s was allowed")
	}
	// A tenant's own rate (here 1000/s) overrides the default, and its
	// burst is at least the rate.
	for i := range 1000 {
		if err := l.Allow("fast", 1000); err != nil {
			t.Fatalf("request %d at the tenant's rate: %v", i, err)
		}
	}
	// Off.
	off := New(Config{KeyRate: -1})
	for range 10_000 {
		if err := off.Allow("k", 0); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTenantConcurrency(t *testing.T) {
	l := New(Config{TenantConcurrency: 2, QueueWait: 50 * time.Millisecond})
	ctx := t.Context()
	r1, err1 := l.Acquire(ctx, 1)
	r2, err2 := l.Acquire(ctx, 1)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// Another tenant is not held back.
	r3, err := l.Acquire(ctx, 2)
	if err != nil {
		t.Fatalf("another tenant: %v", err)
	}
	r3()
	// The third of tenant 1 waits, then is refused.
	var r *Refusal
	if _, err := l.Acquire(ctx, 1); !errors.As(err, &r) || r.Reason != ReasonTenantConcurrency || r.RetryAfter != time.Second {
		t.Fatalf("third request: %v, want a tenant_concurrency refusal", err)
	}
	// One waiting gets the slot given back while it waits.
	got := make(chan error, 1)
	go func() {
		rel, err := l.Acquire(ctx, 1)
		if err == nil {
			rel()
		}
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	r1()
	if err := <-got; err != nil {
		t.Errorf("a request waiting for a slot given back: %v", err)
	}
	// A cancelled wait ends at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Acquire(cctx, 1); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
	r2()
}

func TestIdleStateIsForgotten(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Config{Now: c.now})
	for i := range 100 {
		rel, err := l.Acquire(t.Context(), int64(i))
		if err != nil {
			t.Fatal(err)
		}
		rel()
		l.Allow(string(rune('a'+i%26))+"key", 0)
	}
	held, _ := l.Acquire(t.Context(), 1000) // in flight: kept
	c.t = c.t.Add(idleAfter + 2*time.Minute)
	rel, _ := l.Acquire(t.Context(), 5000) // sweeps
	rel()
	if tn, keys := l.Sizes(); tn != 2 || keys != 0 {
		t.Errorf("after the idle period: %d tenants, %d keys; want 2 (one in flight, one new), 0", tn, keys)
	}
	held()
}
