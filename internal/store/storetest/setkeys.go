package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// SETBackend is a store that implements both Store and SETStore.
type SETBackend interface {
	store.Store
	store.SETStore
}

// RunSETs runs the conformance suite of store.SETStore. newStore must
// return a new, empty store for each call; the suite closes it.
func RunSETs(t *testing.T, newStore func(t *testing.T) SETBackend) {
	tests := []testCase[SETBackend]{
		{"Keys", testSETKeys},
		{"KeysRefused", testSETKeysRefused},
		{"KeysRace", testSETKeysRace},
		{"PollerStartsAtHorizon", testSETPollerHorizon},
		{"Acks", testSETAcks},
		{"AcksBounded", testSETAcksBounded},
		{"AcksConcurrent", testSETAcksConcurrent},
	}
	runCases(t, tests, newStore)
}

func setKey(id string, created time.Time) store.SETKey {
	return store.SETKey{ID: id, Algorithm: "ES256", Public: []byte("public " + id), Sealed: []byte{0, 1, 2, 255, byte(len(id))}, Created: created}
}

// keyState is a key as the tests compare it.
type keyState struct {
	ID               string
	Signing          bool
	Retired, Until   time.Time
	PublicOK, SealOK bool
}

func keyStates(ks []store.SETKey) []keyState {
	out := make([]keyState, len(ks))
	for i, k := range ks {
		want := setKey(k.ID, k.Created)
		out[i] = keyState{k.ID, k.Signing, k.Retired, k.PublishedUntil,
			bytes.Equal(k.Public, want.Public) && k.Algorithm == "ES256", bytes.Equal(k.Sealed, want.Sealed)}
	}
	return out
}

func mustKeys(t *testing.T, s SETBackend) []store.SETKey {
	t.Helper()
	ks, err := s.SETKeys(t.Context())
	if err != nil {
		t.Fatalf("SETKeys: %v", err)
	}
	return ks
}

func testSETKeys(t *testing.T, s SETBackend) {
	ctx := t.Context()
	if ks := mustKeys(t, s); len(ks) != 0 {
		t.Fatalf("a new store has keys %+v", ks)
	}
	t1, t2, t3 := base, base.Add(time.Hour), base.Add(3*time.Hour)
	if err := s.AddSETKey(ctx, setKey("k1", t1), false, time.Time{}); err != nil {
		t.Fatalf("AddSETKey(first): %v", err)
	}
	// A second instance starting at once finds a key signing already.
	wantErr(t, "AddSETKey without rotate while a key signs", s.AddSETKey(ctx, setKey("k1b", t1), false, time.Time{}), store.ErrConflict)
	if diff := cmp.Diff([]keyState{{ID: "k1", Signing: true, PublicOK: true, SealOK: true}}, keyStates(mustKeys(t, s))); diff != "" {
		t.Fatalf("after the first key (-want +got):\n%s", diff)
	}
	if ks := mustKeys(t, s); !ks[0].Created.Equal(t1) || !ks[0].Published(t3.Add(1000*time.Hour)) {
		t.Errorf("first key %+v: created %v, want %v; a signing key is always published", ks[0], ks[0].Created, t1)
	}

	// Rotation: k1 stops signing at t2 and stays published for 90 minutes.
	if err := s.AddSETKey(ctx, setKey("k2", t2), true, t2.Add(90*time.Minute)); err != nil {
		t.Fatalf("AddSETKey(rotate): %v", err)
	}
	ks := mustKeys(t, s)
	if diff := cmp.Diff([]keyState{
		{ID: "k2", Signing: true, PublicOK: true, SealOK: true},
		{ID: "k1", Retired: t2, Until: t2.Add(90 * time.Minute), PublicOK: true, SealOK: true},
	}, keyStates(ks)); diff != "" {
		t.Fatalf("after a rotation (-want +got):\n%s", diff)
	}
	if !ks[1].Published(t2.Add(89*time.Minute)) || ks[1].Published(t2.Add(90*time.Minute)) {
		t.Errorf("the retired key is published until %v: Published(+89m) = %v, Published(+90m) = %v",
			ks[1].PublishedUntil, ks[1].Published(t2.Add(89*time.Minute)), ks[1].Published(t2.Add(90*time.Minute)))
	}

	// The next rotation, after k1's grace, deletes k1.
	if err := s.AddSETKey(ctx, setKey("k3", t3), true, t3.Add(time.Hour)); err != nil {
		t.Fatalf("AddSETKey(rotate again): %v", err)
	}
	if diff := cmp.Diff([]keyState{
		{ID: "k3", Signing: true, PublicOK: true, SealOK: true},
		{ID: "k2", Retired: t3, Until: t3.Add(time.Hour), PublicOK: true, SealOK: true},
	}, keyStates(mustKeys(t, s))); diff != "" {
		t.Fatalf("after a second rotation (-want +got):\n%s", diff)
	}
	// A key id is unique, and a refused rotation changes nothing.
	wantErr(t, "AddSETKey of an existing id", s.AddSETKey(ctx, setKey("k3", t3.Add(30*time.Minute)), true, t3.Add(2*time.Hour)), store.ErrConflict)
	if diff := cmp.Diff([]keyState{
		{ID: "k3", Signing: true, PublicOK: true, SealOK: true},
		{ID: "k2", Retired: t3, Until: t3.Add(time.Hour), PublicOK: true, SealOK: true},
	}, keyStates(mustKeys(t, s))); diff != "" {
		t.Errorf("a refused rotation changed the keys (-want +got):\n%s", diff)
	}
}

func testSETKeysRefused(t *testing.T, s SETBackend) {
	ctx := t.Context()
	for _, k := range []store.SETKey{
		{Algorithm: "ES256", Public: []byte("p"), Sealed: []byte("s"), Created: base},
		{ID: "k", Algorithm: "ES256", Sealed: []byte("s"), Created: base},
		{ID: "k", Algorithm: "ES256", Public: []byte("p"), Created: base},
		{ID: "k\x00", Algorithm: "ES256", Public: []byte("p"), Sealed: []byte("s"), Created: base},
	} {
		if err := s.AddSETKey(ctx, k, false, time.Time{}); err == nil {
			t.Errorf("AddSETKey(%+v) succeeded", k)
		}
	}
	if ks := mustKeys(t, s); len(ks) != 0 {
		t.Errorf("refused keys were stored: %+v", ks)
	}
}

// testSETKeysRace: instances that make the first key at once, or rotate at
// once, leave exactly one signing key; the others get ErrConflict.
func testSETKeysRace(t *testing.T, s SETBackend) {
	ctx := t.Context()
	for _, rotate := range []bool{false, true} {
		const n = 6
		ok := concurrently(t, fmt.Sprintf("rotate=%v", rotate), n, func(i int) error {
			return s.AddSETKey(ctx, setKey(fmt.Sprintf("k-%v-%d", rotate, i), base.Add(time.Duration(i)*time.Second)), rotate, base.Add(time.Hour))
		})
		signing := 0
		for _, k := range mustKeys(t, s) {
			if k.Signing {
				signing++
			}
		}
		if signing != 1 || ok < 1 || !rotate && ok != 1 {
			t.Errorf("rotate=%v: %d succeeded, %d keys sign; want one signing key", rotate, ok, signing)
		}
	}
}

func mustPoller(t *testing.T, s SETBackend, id string) store.SETPoller {
	t.Helper()
	p, err := s.SETPoller(t.Context(), id)
	if err != nil {
		t.Fatalf("SETPoller(%s): %v", id, err)
	}
	return p
}

func testSETPollerHorizon(t *testing.T, s SETBackend) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	if p := mustPoller(t, s, "early"); p.Floor != (store.EventPosition{}) || len(p.Acked) != 0 || p.ID != "early" {
		t.Errorf("a poller of an unpurged log = %+v, want the zero position", p)
	}
	for i := range 3 {
		mustCreateUser(t, s, acme.ID, newUser(fmt.Sprintf("u-%d", i), fmt.Sprintf("u%d", i), i, nil))
	}
	all := readAll(t, s, store.EventQuery{})
	if len(all) != 3 {
		t.Fatalf("events = %v", brief(all))
	}
	if n, err := s.PurgeEvents(ctx, time.Now().Add(time.Minute)); err != nil || n != 3 {
		t.Fatalf("PurgeEvents = %d, %v", n, err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-late", "late", 9, nil))
	// A poller created now starts at the horizon: it can read, and reads
	// what is retained.
	late := mustPoller(t, s, "late")
	if late.Floor != all[2].Position {
		t.Errorf("a poller created after a purge is at %+v, want the horizon %+v", late.Floor, all[2].Position)
	}
	if got := readAll(t, s, store.EventQuery{After: &late.Floor}); len(got) != 1 || got[0].Resource.ID != "u-late" {
		t.Errorf("reading from the new poller's floor: %v", brief(got))
	}
	// The early one is behind the horizon until reset.
	early := mustPoller(t, s, "early")
	if _, err := s.ReadEvents(ctx, store.EventQuery{After: &early.Floor, Limit: 10}); err != store.ErrEventsExpired {
		t.Errorf("reading from a floor before the horizon: %v, want ErrEventsExpired", err)
	}
	if err := s.AckSETs(ctx, "early", early.Floor, []store.EventPosition{{Tx: all[2].Position.Tx, Seq: all[2].Position.Seq + 100}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetSETPoller(ctx, "early"); err != nil {
		t.Fatalf("ResetSETPoller: %v", err)
	}
	if p := mustPoller(t, s, "early"); p.Floor != all[2].Position || len(p.Acked) != 0 {
		t.Errorf("after ResetSETPoller: %+v, want the horizon %+v and no acknowledgements", p, all[2].Position)
	}
	// Resetting a poller never seen creates it.
	if err := s.ResetSETPoller(ctx, "fresh"); err != nil {
		t.Fatal(err)
	}
	if p := mustPoller(t, s, "fresh"); p.Floor != all[2].Position {
		t.Errorf("reset of a new poller: %+v", p)
	}
	if _, err := s.SETPoller(ctx, "bad\x00id"); err == nil {
		t.Error("SETPoller accepted an id with NUL")
	}
}

func pos(seqs ...int64) []store.EventPosition {
	out := make([]store.EventPosition, len(seqs))
	for i, q := range seqs {
		out[i] = store.EventPosition{Tx: 7, Seq: q}
	}
	return out
}

func testSETAcks(t *testing.T, s SETBackend) {
	ctx := t.Context()
	ack := func(floor int64, acked ...int64) {
		t.Helper()
		if err := s.AckSETs(ctx, "p", pos(floor)[0], pos(acked...)); err != nil {
			t.Fatalf("AckSETs(%d, %v): %v", floor, acked, err)
		}
	}
	check := func(what string, floor int64, acked ...int64) {
		t.Helper()
		p := mustPoller(t, s, "p")
		want := store.SETPoller{ID: "p", Floor: pos(floor)[0], Acked: pos(acked...)}
		if len(acked) == 0 {
			want.Acked = nil
		}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	// A poller that was never read is created by its first acknowledgement.
	ack(3, 9, 5, 2, 3, 5)
	check("first acknowledgement: only positions after the floor, once each, in order", 3, 5, 9)
	ack(1, 4)
	check("an older floor does not move it back", 3, 4, 5, 9)
	ack(5)
	check("a newer floor forgets the acknowledgements at or before it", 5, 9)
	ack(5, 9, 12)
	check("the same acknowledgement twice", 5, 9, 12)
	ack(12)
	check("floor reaches the last", 12)
	// Another poller is another position.
	if err := s.AckSETs(ctx, "q", pos(1)[0], pos(2)); err != nil {
		t.Fatal(err)
	}
	if p := mustPoller(t, s, "q"); p.Floor != pos(1)[0] || len(p.Acked) != 1 {
		t.Errorf("poller q = %+v", p)
	}
	check("p untouched by q", 12)
}

func testSETAcksBounded(t *testing.T, s SETBackend) {
	ctx := t.Context()
	many := make([]store.EventPosition, store.MaxSETAcks+50)
	for i := range many {
		many[i] = store.EventPosition{Tx: 1, Seq: int64(i + 10)}
	}
	if err := s.AckSETs(ctx, "p", store.EventPosition{Tx: 1, Seq: 1}, many); err != nil {
		t.Fatal(err)
	}
	if err := s.AckSETs(ctx, "p", store.EventPosition{Tx: 1, Seq: 1}, pos(1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if p := mustPoller(t, s, "p"); len(p.Acked) != store.MaxSETAcks || p.Acked[0] != many[0] || p.Acked[len(p.Acked)-1] != many[store.MaxSETAcks-1] {
		t.Errorf("kept %d acknowledgements (%v … %v), want the first %d", len(p.Acked), p.Acked[0], p.Acked[len(p.Acked)-1], store.MaxSETAcks)
	}
}

// testSETAcksConcurrent: polls of one poller through several instances at
// once leave the greatest floor and every acknowledgement after it.
func testSETAcksConcurrent(t *testing.T, s SETBackend) {
	ctx := t.Context()
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := s.AckSETs(ctx, "p", store.EventPosition{Tx: 1, Seq: int64(i)}, []store.EventPosition{{Tx: 1, Seq: int64(100 + i)}}); err != nil {
				t.Errorf("AckSETs #%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	p := mustPoller(t, s, "p")
	if p.Floor != (store.EventPosition{Tx: 1, Seq: n - 1}) || len(p.Acked) != n {
		t.Errorf("after %d concurrent acknowledgements: %+v; want floor seq %d and %d acknowledgements", n, p, n-1, n)
	}
}
