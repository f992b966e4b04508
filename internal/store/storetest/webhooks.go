package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// WebhookBackend is a store that implements both Store and WebhookStore.
type WebhookBackend interface {
	store.Store
	store.WebhookStore
}

// RunWebhooks runs the conformance suite of store.WebhookStore. newStore
// must return a new, empty store for each call; the suite closes it.
func RunWebhooks(t *testing.T, newStore func(t *testing.T) WebhookBackend) {
	tests := []testCase[WebhookBackend]{
		{"CreateGetList", testWebhookCreate},
		{"Update", testWebhookUpdate},
		{"Delete", testWebhookDelete},
		{"Lease", testWebhookLease},
		{"LeaseRace", testWebhookLeaseRace},
		{"Record", testWebhookRecord},
		{"AttemptsBounded", testWebhookAttemptsBounded},
		{"Backlog", testWebhookBacklog},
		{"EventPositionBefore", testEventPositionBefore},
	}
	runCases(t, tests, newStore)
}

// newWebhook is an active endpoint as the webhook package makes one.
func newWebhook(id string) store.WebhookEndpoint {
	return store.WebhookEndpoint{ID: id, URL: "https://hooks.example.com/" + id, Format: store.WebhookStandard, State: store.WebhookActive,
		Secret: []byte("sealed\x00" + id), Created: base}
}

func mustWebhook(t *testing.T, s WebhookBackend, e store.WebhookEndpoint) store.WebhookEndpoint {
	t.Helper()
	if err := s.CreateWebhook(t.Context(), e); err != nil {
		t.Fatalf("CreateWebhook(%s): %v", e.ID, err)
	}
	return e
}

func testWebhookCreate(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	full := store.WebhookEndpoint{
		ID: "wh_full", URL: "https://hooks.example.com/in?x=1", Format: store.WebhookSET, TenantIDs: []int64{3, 1}, Types: []string{"user.*", "group.created"},
		State: store.WebhookFailing, StateReason: "gave up", Secret: []byte{0, 1, 2, 255}, PrevSecret: []byte{9, 8},
		PrevSecretUntil: base.Add(24 * time.Hour), Position: store.EventPosition{Tx: 7, Seq: 42}, Attempts: 3,
		NextAttempt: base.Add(time.Minute), FailingSince: base.Add(-time.Hour), LastError: "HTTP 500", LastSuccess: base.Add(-2 * time.Hour),
		Created: base,
	}
	mustWebhook(t, s, full)
	plain := mustWebhook(t, s, newWebhook("wh_plain"))
	plain.Created = base.Add(time.Second)
	if err := s.CreateWebhook(ctx, newWebhook("wh_later")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateWebhook of a taken id", s.CreateWebhook(ctx, newWebhook("wh_full")), store.ErrConflict)

	got, err := s.Webhook(ctx, "wh_full")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full, got); diff != "" {
		t.Errorf("Webhook(wh_full) (-want +got):\n%s", diff)
	}
	got, err = s.Webhook(ctx, "wh_plain")
	if err != nil || got.TenantIDs != nil || got.Types != nil || got.PrevSecret != nil || !got.NextAttempt.IsZero() || got.LeaseHolder != "" {
		t.Errorf("Webhook(wh_plain) = %+v, %v; want nil lists, no previous secret, no lease", got, err)
	}
	_, err = s.Webhook(ctx, "wh_none")
	wantErr(t, "Webhook of an unknown id", err, store.ErrNotFound)
	_, err = s.Webhook(ctx, "wh_\x00\xff")
	wantErr(t, "Webhook of an unstorable id", err, store.ErrNotFound)

	all, err := s.Webhooks(ctx)
	var ids []string
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	// Oldest first; created at the same time, by id.
	if err != nil || !cmp.Equal(ids, []string{"wh_full", "wh_later", "wh_plain"}) {
		t.Errorf("Webhooks = %v, %v", ids, err)
	}
	bad := newWebhook("wh_bad")
	bad.State = "paused"
	if err := s.CreateWebhook(ctx, bad); err == nil {
		t.Errorf("CreateWebhook accepted state %q", bad.State)
	}
	bad = newWebhook("wh_bad")
	bad.Secret = nil
	if err := s.CreateWebhook(ctx, bad); err == nil {
		t.Errorf("CreateWebhook accepted an endpoint without a secret")
	}
	if _, err := s.Webhook(ctx, "wh_bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused endpoint was stored: %v", err)
	}
}

func testWebhookUpdate(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	mustWebhook(t, s, newWebhook("wh_1"))
	if _, err := s.LeaseWebhook(ctx, "wh_1", "inst-a", base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateWebhook(ctx, "wh_1", func(e *store.WebhookEndpoint) error {
		e.ID, e.Created, e.LeaseHolder = "wh_other", base.Add(time.Hour), "inst-b" // ignored
		e.State, e.StateReason = store.WebhookDisabled, "by the operator"
		e.Secret, e.PrevSecret, e.PrevSecretUntil = []byte("new"), []byte("old"), base.Add(24*time.Hour)
		e.Position = store.EventPosition{Tx: 1, Seq: 2}
		e.TenantIDs, e.Types = []int64{5}, []string{"user.created"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := newWebhook("wh_1")
	want.State, want.StateReason = store.WebhookDisabled, "by the operator"
	want.Secret, want.PrevSecret, want.PrevSecretUntil = []byte("new"), []byte("old"), base.Add(24*time.Hour)
	want.Position = store.EventPosition{Tx: 1, Seq: 2}
	want.TenantIDs, want.Types = []int64{5}, []string{"user.created"}
	want.LeaseHolder, want.LeaseExpires = "inst-a", base.Add(time.Minute)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateWebhook returned (-want +got):\n%s", diff)
	}
	if stored, err := s.Webhook(ctx, "wh_1"); err != nil || !cmp.Equal(want, stored) {
		t.Errorf("stored after UpdateWebhook (-want +got):\n%s", cmp.Diff(want, stored))
	}

	abort := errors.New("abort")
	_, err = s.UpdateWebhook(ctx, "wh_1", func(e *store.WebhookEndpoint) error { e.State = store.WebhookActive; return abort })
	wantErr(t, "UpdateWebhook whose fn fails", err, abort)
	if _, err := s.UpdateWebhook(ctx, "wh_1", func(e *store.WebhookEndpoint) error { e.State = "paused"; return nil }); err == nil {
		t.Errorf("UpdateWebhook stored state %q", "paused")
	}
	if stored, _ := s.Webhook(ctx, "wh_1"); stored.State != store.WebhookDisabled {
		t.Errorf("state after refused updates = %q, want disabled", stored.State)
	}
	_, err = s.UpdateWebhook(ctx, "wh_none", func(*store.WebhookEndpoint) error { return nil })
	wantErr(t, "UpdateWebhook of an unknown id", err, store.ErrNotFound)
}

func testWebhookDelete(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	mustWebhook(t, s, newWebhook("wh_1"))
	mustWebhook(t, s, newWebhook("wh_2"))
	for _, id := range []string{"wh_1", "wh_2"} {
		if _, err := s.LeaseWebhook(ctx, id, "inst-a", base, base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		a := &store.WebhookAttempt{Time: base, EventID: "evt_" + id, EventType: store.EventUserCreated, Attempt: 1, Status: 200}
		if err := s.RecordWebhook(ctx, id, "inst-a", store.EventPosition{}, a, store.WebhookProgress{Position: store.EventPosition{Seq: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteWebhook(ctx, "wh_1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteWebhook again", s.DeleteWebhook(ctx, "wh_1"), store.ErrNotFound)
	_, err := s.Webhook(ctx, "wh_1")
	wantErr(t, "Webhook after delete", err, store.ErrNotFound)
	if as, err := s.WebhookAttempts(ctx, "wh_1", 10); err != nil || len(as) != 0 {
		t.Errorf("attempts of a deleted endpoint = %+v, %v; want none", as, err)
	}
	if as, err := s.WebhookAttempts(ctx, "wh_2", 10); err != nil || len(as) != 1 {
		t.Errorf("attempts of the other endpoint = %+v, %v; want 1", as, err)
	}
	err = s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{Seq: 1}, nil, store.WebhookProgress{})
	wantErr(t, "RecordWebhook of a deleted endpoint", err, store.ErrNotFound)
}

func testWebhookLease(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	mustWebhook(t, s, newWebhook("wh_1"))
	ttl := 15 * time.Second
	e, err := s.LeaseWebhook(ctx, "wh_1", "inst-a", base, base.Add(ttl))
	if err != nil || e.LeaseHolder != "inst-a" || !e.LeaseExpires.Equal(base.Add(ttl)) || e.URL != newWebhook("wh_1").URL {
		t.Fatalf("LeaseWebhook(a) = %+v, %v", e, err)
	}
	_, err = s.LeaseWebhook(ctx, "wh_1", "inst-b", base.Add(ttl-time.Nanosecond), base.Add(2*ttl))
	wantErr(t, "LeaseWebhook(b) while a holds it", err, store.ErrWebhookLease)
	// a renews.
	if e, err := s.LeaseWebhook(ctx, "wh_1", "inst-a", base.Add(5*time.Second), base.Add(20*time.Second)); err != nil || !e.LeaseExpires.Equal(base.Add(20*time.Second)) {
		t.Errorf("renewal = %+v, %v", e, err)
	}
	_, err = s.LeaseWebhook(ctx, "wh_1", "inst-b", base.Add(19*time.Second), base.Add(40*time.Second))
	wantErr(t, "LeaseWebhook(b) before the renewed lease expires", err, store.ErrWebhookLease)
	// a stops renewing: b takes over once the lease has expired.
	e, err = s.LeaseWebhook(ctx, "wh_1", "inst-b", base.Add(20*time.Second), base.Add(35*time.Second))
	if err != nil || e.LeaseHolder != "inst-b" {
		t.Fatalf("LeaseWebhook(b) after expiry = %+v, %v", e, err)
	}
	// a no longer writes delivery state.
	err = s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{}, &store.WebhookAttempt{Time: base, EventID: "evt_x", Attempt: 1, Status: 200},
		store.WebhookProgress{Position: store.EventPosition{Seq: 9}})
	wantErr(t, "RecordWebhook by the former holder", err, store.ErrWebhookLease)
	if got, _ := s.Webhook(ctx, "wh_1"); got.Position != (store.EventPosition{}) {
		t.Errorf("the former holder moved the position to %+v", got.Position)
	}
	if as, _ := s.WebhookAttempts(ctx, "wh_1", 10); len(as) != 0 {
		t.Errorf("the former holder recorded attempts: %+v", as)
	}
	// Release lets anyone take it at once; a release by a non-holder does nothing.
	if err := s.ReleaseWebhook(ctx, "wh_1", "inst-a"); err != nil {
		t.Fatal(err)
	}
	_, err = s.LeaseWebhook(ctx, "wh_1", "inst-c", base.Add(21*time.Second), base.Add(36*time.Second))
	wantErr(t, "LeaseWebhook(c) after a non-holder's release", err, store.ErrWebhookLease)
	if err := s.ReleaseWebhook(ctx, "wh_1", "inst-b"); err != nil {
		t.Fatal(err)
	}
	if e, err := s.LeaseWebhook(ctx, "wh_1", "inst-c", base.Add(21*time.Second), base.Add(36*time.Second)); err != nil || e.LeaseHolder != "inst-c" {
		t.Errorf("LeaseWebhook(c) after b's release = %+v, %v", e, err)
	}
	_, err = s.LeaseWebhook(ctx, "wh_none", "inst-a", base, base.Add(ttl))
	wantErr(t, "LeaseWebhook of an unknown endpoint", err, store.ErrNotFound)
}

// testWebhookLeaseRace: of many instances asking for a free lease at
// once, exactly one gets it.
func testWebhookLeaseRace(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	for round := range 5 {
		id := fmt.Sprintf("wh_%d", round)
		mustWebhook(t, s, newWebhook(id))
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				holder := fmt.Sprintf("inst-%d", i)
				_, err := s.LeaseWebhook(ctx, id, holder, base, base.Add(time.Minute))
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, holder)
					mu.Unlock()
				case !errors.Is(err, store.ErrWebhookLease):
					t.Errorf("LeaseWebhook: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		e, err := s.Webhook(ctx, id)
		if err != nil || len(won) != 1 || e.LeaseHolder != won[0] {
			t.Errorf("round %d: %v got the lease, the row says %q (%v); want exactly one", round, won, e.LeaseHolder, err)
		}
	}
}

func testWebhookRecord(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	mustWebhook(t, s, newWebhook("wh_1"))
	if _, err := s.LeaseWebhook(ctx, "wh_1", "inst-a", base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p1 := store.EventPosition{Tx: 0, Seq: 5}
	fail := &store.WebhookAttempt{Time: base, EventID: "evt_1", EventType: store.EventUserCreated, Attempt: 1, Status: 503,
		Latency: 1500 * time.Microsecond, Error: "HTTP 503: \x00busy\xff"}
	err := s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{}, fail, store.WebhookProgress{
		Attempts: 1, NextAttempt: base.Add(5 * time.Second), FailingSince: base, LastError: "HTTP 503: busy"})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := s.Webhook(ctx, "wh_1")
	if e.Attempts != 1 || !e.NextAttempt.Equal(base.Add(5*time.Second)) || !e.FailingSince.Equal(base) || e.LastError != "HTTP 503: busy" ||
		e.State != store.WebhookActive || !e.LastSuccess.IsZero() || e.Position != (store.EventPosition{}) {
		t.Errorf("after a failed attempt: %+v", e)
	}
	ok := &store.WebhookAttempt{Time: base.Add(6 * time.Second), EventID: "evt_1", EventType: store.EventUserCreated, Attempt: 2, Status: 204,
		Latency: 2 * time.Millisecond}
	if err := s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{}, ok, store.WebhookProgress{Position: p1, LastSuccess: ok.Time}); err != nil {
		t.Fatal(err)
	}
	e, _ = s.Webhook(ctx, "wh_1")
	if e.Position != p1 || e.Attempts != 0 || !e.NextAttempt.IsZero() || !e.FailingSince.IsZero() || e.LastError != "" || !e.LastSuccess.Equal(ok.Time) {
		t.Errorf("after a delivery: %+v", e)
	}
	// Progress without an attempt (filtered events skipped), LastSuccess kept.
	p2 := store.EventPosition{Seq: 9}
	if err := s.RecordWebhook(ctx, "wh_1", "inst-a", p1, nil, store.WebhookProgress{Position: p2}); err != nil {
		t.Fatal(err)
	}
	if e, _ = s.Webhook(ctx, "wh_1"); e.Position != p2 || !e.LastSuccess.Equal(ok.Time) {
		t.Errorf("after skipping: position %+v, last success %v", e.Position, e.LastSuccess)
	}
	as, err := s.WebhookAttempts(ctx, "wh_1", 10)
	want := []store.WebhookAttempt{*ok, *fail}
	want[0].EndpointID, want[1].EndpointID = "wh_1", "wh_1"
	want[1].Error = "HTTP 503: \uFFFDbusy\uFFFD" // stored cleaned
	if err != nil || len(as) != 2 || as[0].ID <= as[1].ID {
		t.Fatalf("WebhookAttempts = %+v, %v", as, err)
	}
	want[0].ID, want[1].ID = as[0].ID, as[1].ID
	if diff := cmp.Diff(want, as); diff != "" {
		t.Errorf("WebhookAttempts (-want +got):\n%s", diff)
	}

	// An operator replays meanwhile: the delivery's progress is not
	// stored, its attempt is.
	if _, err := s.UpdateWebhook(ctx, "wh_1", func(e *store.WebhookEndpoint) error { e.Position = store.EventPosition{Seq: 2}; return nil }); err != nil {
		t.Fatal(err)
	}
	late := &store.WebhookAttempt{Time: base.Add(time.Minute), EventID: "evt_9", Attempt: 1, Status: 200}
	err = s.RecordWebhook(ctx, "wh_1", "inst-a", p2, late, store.WebhookProgress{Position: store.EventPosition{Seq: 10}})
	wantErr(t, "RecordWebhook after a replay", err, store.ErrWebhookMoved)
	if e, _ = s.Webhook(ctx, "wh_1"); e.Position != (store.EventPosition{Seq: 2}) {
		t.Errorf("position after a replay and a stale delivery = %+v, want the replay's", e.Position)
	}
	if as, _ := s.WebhookAttempts(ctx, "wh_1", 1); len(as) != 1 || as[0].EventID != "evt_9" {
		t.Errorf("the stale delivery's attempt was not recorded: %+v", as)
	}

	// A delivery that gives up moves the endpoint to failing.
	err = s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{Seq: 2}, nil, store.WebhookProgress{Position: store.EventPosition{Seq: 2},
		Attempts: 12, FailingSince: base, LastError: "timeout", State: store.WebhookFailing, StateReason: "undeliverable for 24h"})
	if err != nil {
		t.Fatal(err)
	}
	if e, _ = s.Webhook(ctx, "wh_1"); e.State != store.WebhookFailing || e.StateReason != "undeliverable for 24h" || e.Attempts != 12 {
		t.Errorf("after giving up: %+v", e)
	}
	if err := s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{Seq: 2}, nil, store.WebhookProgress{State: store.WebhookActive}); err == nil {
		t.Errorf("RecordWebhook set the state to active (only the operator does)")
	}
}

func testWebhookAttemptsBounded(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	mustWebhook(t, s, newWebhook("wh_1"))
	mustWebhook(t, s, newWebhook("wh_2"))
	for _, id := range []string{"wh_1", "wh_2"} {
		if _, err := s.LeaseWebhook(ctx, id, "inst-a", base, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n := store.MaxWebhookAttempts + 7
	for i := range n {
		a := &store.WebhookAttempt{Time: base.Add(time.Duration(i) * time.Second), EventID: fmt.Sprintf("evt_%03d", i), Attempt: i + 1, Status: 500, Error: "HTTP 500"}
		if err := s.RecordWebhook(ctx, "wh_1", "inst-a", store.EventPosition{}, a, store.WebhookProgress{Attempts: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordWebhook(ctx, "wh_2", "inst-a", store.EventPosition{}, &store.WebhookAttempt{Time: base, EventID: "evt_other", Attempt: 1, Status: 200},
		store.WebhookProgress{}); err != nil {
		t.Fatal(err)
	}
	as, err := s.WebhookAttempts(ctx, "wh_1", 0) // 0: as many as kept
	if err != nil || len(as) != store.MaxWebhookAttempts {
		t.Fatalf("WebhookAttempts = %d, %v; want the newest %d", len(as), err, store.MaxWebhookAttempts)
	}
	if as[0].EventID != fmt.Sprintf("evt_%03d", n-1) || as[len(as)-1].EventID != fmt.Sprintf("evt_%03d", n-store.MaxWebhookAttempts) {
		t.Errorf("kept %s … %s, want the newest first", as[0].EventID, as[len(as)-1].EventID)
	}
	if as, _ := s.WebhookAttempts(ctx, "wh_1", 3); len(as) != 3 || as[0].EventID != fmt.Sprintf("evt_%03d", n-1) {
		t.Errorf("WebhookAttempts(3) = %+v", as)
	}
	if as, _ := s.WebhookAttempts(ctx, "wh_2", 10); len(as) != 1 {
		t.Errorf("the other endpoint's attempts = %+v, want its 1 (trimming is per endpoint)", as)
	}
}

func testWebhookBacklog(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	acme, bravo := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	settle(t, s)
	head, err := s.EventsHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustCreateUser(t, s, acme.ID, newUser(fmt.Sprintf("a%d", i), fmt.Sprintf("a%d", i), i, nil))
	}
	mustCreateUser(t, s, bravo.ID, newUser("b0", "b0", 0, nil))
	if _, err := s.CreateGroup(ctx, bravo.ID, store.Group{ID: "g0", Created: base, Modified: base, Attrs: map[string]any{"displayName": "G"}}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	for _, tc := range []struct {
		name    string
		tenants []int64
		types   []string
		max     int
		want    int64
	}{
		{"all", nil, nil, 100, 5},
		{"capped", nil, nil, 2, 2},
		{"one tenant", []int64{acme.ID}, nil, 100, 3},
		{"two tenants", []int64{acme.ID, bravo.ID}, nil, 100, 5},
		{"type prefix", nil, []string{"group.*"}, 100, 1},
		{"exact type", []int64{bravo.ID}, []string{store.EventUserCreated}, 100, 1},
		{"underscore is no wildcard", nil, []string{"user_*"}, 100, 0},
		{"every type", nil, []string{"*"}, 100, 5},
	} {
		e := newWebhook("wh_x")
		e.Position, e.TenantIDs, e.Types = head, tc.tenants, tc.types
		if n, err := s.WebhookBacklog(ctx, e, tc.max); err != nil || n != tc.want {
			t.Errorf("%s: WebhookBacklog = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	all := readAll(t, s, store.EventQuery{After: &head})
	e := newWebhook("wh_x")
	e.Position = all[len(all)-1].Position
	if n, err := s.WebhookBacklog(ctx, e, 100); err != nil || n != 0 {
		t.Errorf("WebhookBacklog at the head = %d, %v; want 0", n, err)
	}
}

func testEventPositionBefore(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	if p, err := s.EventPositionBefore(ctx, time.Now()); err != nil || p != (store.EventPosition{}) {
		t.Errorf("EventPositionBefore on an empty log = %+v, %v; want the zero position", p, err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u1", "u1", 0, nil))
	settle(t, s)
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	mustCreateUser(t, s, acme.ID, newUser("u2", "u2", 1, nil))
	mustCreateUser(t, s, acme.ID, newUser("u3", "u3", 2, nil))
	settle(t, s)
	p, err := s.EventPositionBefore(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s, store.EventQuery{After: &p})
	if ids := brief(got); len(ids) != 2 || ids[0].ID != "u2" || ids[1].ID != "u3" {
		t.Errorf("events after EventPositionBefore(mid) = %v; want u2, u3", ids)
	}
	if p, err := s.EventPositionBefore(ctx, base.Add(-24*time.Hour)); err != nil || p != (store.EventPosition{}) {
		t.Errorf("EventPositionBefore(before everything) = %+v, %v; want the zero position", p, err)
	}
}
