package secevent

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// BenchmarkEncode is the cost of one SET: mapping a user.created event and
// signing it (ES256), keys cached.
func BenchmarkEncode(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "scimd.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	keys := &Keyring{Store: db}
	if _, err := keys.Ensure(b.Context()); err != nil {
		b.Fatal(err)
	}
	f := &Format{Issuer: "https://scimd.example", Keys: keys}
	ev := store.Event{ID: "evt_1", Type: store.EventUserCreated, Tenant: "acme", Resource: store.EventResource{Type: "User", ID: "u-1"},
		Data: json.RawMessage(`{"resource":` + userRes + `}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.Encode(b.Context(), ev, "https://receiver.example"); err != nil {
			b.Fatal(err)
		}
	}
}
