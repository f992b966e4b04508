package events

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, p := range []store.EventPosition{{}, {Tx: 0, Seq: 1}, {Tx: 123456789, Seq: 987654321}, {Tx: 1<<62 + 5, Seq: 1<<62 + 7}} {
		got, err := ParseCursor(Cursor(p))
		if err != nil || got != p {
			t.Errorf("ParseCursor(Cursor(%+v)) = %+v, %v", p, got, err)
		}
	}
}

func TestParseCursorRefuses(t *testing.T) {
	for _, s := range []string{"", "x", "!!!", Cursor(store.EventPosition{})[:4], "ZTEuLTEuMg", "ZTIuMS4y", "ZTEuMS4yLjM"} {
		if _, err := ParseCursor(s); !errors.Is(err, ErrBadCursor) {
			t.Errorf("ParseCursor(%q) = %v, want ErrBadCursor", s, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor(store.EventPosition{Tx: 1, Seq: 2}))
	f.Add("ZTEuLTEuMg")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseCursor(s)
		if err != nil {
			return
		}
		if q, err := ParseCursor(Cursor(p)); err != nil || q != p {
			t.Fatalf("%q parsed to %+v, which does not round-trip: %+v, %v", s, p, q, err)
		}
	})
}

func TestPublic(t *testing.T) {
	e := store.Event{
		ID: "evt_1", Position: store.EventPosition{Seq: 7}, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)),
		Tenant: "acme", Type: store.EventUserCreated, Resource: store.EventResource{Type: "User", ID: "u-1"},
		Actor: store.Actor{Kind: store.ActorAPIKey, ID: "k", Client: "Okta"}, Data: json.RawMessage(`{"resource":{"id":"u-1"}}`),
	}
	b, err := json.Marshal(Public(e))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_1","type":"user.created","tenant":"acme","time":"2026-01-02T02:04:05.000000006Z","resource":{"type":"User","id":"u-1"},` +
		`"actor":{"kind":"api_key","id":"k","client":"Okta"},"cursor":"` + Cursor(e.Position) + `","data":{"resource":{"id":"u-1"}}}`
	if string(b) != want {
		t.Errorf("Public JSON:\n got %s\nwant %s", b, want)
	}
}
