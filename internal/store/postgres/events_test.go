package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// TestEventsWaitForEarlierTransactions: an event whose transaction
// started first but commits last is not skipped. While a transaction that
// wrote an event is open (as another instance's may be), events that
// commit after it stay invisible; once it commits, both are read, its own
// first.
func TestEventsWaitForEarlierTransactions(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	acme, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	held, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback(ctx)
	if _, err := held.Exec(ctx, `INSERT INTO events (id, at, tenant_id, type, resource_type, resource_id, actor, data)
		VALUES ('evt_held', $1, $2, 'user.created', 'User', 'u-held', '{"kind":"system"}', '{}')`, time.Now().UnixNano(), acme.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, acme.ID, store.User{ID: "u-later", Created: time.Now(), Modified: time.Now(),
		Attrs: map[string]any{"userName": "later"}}); err != nil {
		t.Fatal(err)
	}
	read := func(settle bool) []string {
		t.Helper()
		// Other tests' transactions on the shared server hold the feed
		// back too, for a moment.
		for deadline := time.Now().Add(20 * time.Second); settle && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if n, err := db.EventsPending(ctx); err != nil || n == 0 {
				break
			}
		}
		p, err := db.ReadEvents(ctx, store.EventQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range p.Events {
			ids = append(ids, e.Resource.ID)
		}
		return ids
	}
	if n, err := db.EventsPending(ctx); err != nil || n < 1 {
		t.Errorf("EventsPending = %d, %v with the later event held back; want at least 1", n, err)
	}
	if got := read(false); len(got) != 0 {
		t.Errorf("with an earlier transaction open, the feed shows %v; a reader would go past its event", got)
	}
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(true); len(got) != 2 || got[0] != "u-held" || got[1] != "u-later" {
		t.Errorf("after it commits, the feed shows %v, want [u-held u-later]", got)
	}
}

// TestStatementTimeout: a statement past statement_timeout is stopped by
// the database and reported as store.ErrTimeout; its write transaction
// keeps nothing.
func TestStatementTimeout(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := Open(t.Context(), dsn+sep+"statement_timeout=200")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var x any
	if err := db.Backend().DB().QueryRow(t.Context(), "SELECT pg_sleep(5)").Scan(&x); !errors.Is(err, store.ErrTimeout) {
		t.Errorf("slow read: %v, want ErrTimeout", err)
	}
	err = db.Backend().Write(t.Context(), sqlstore.TxOptions{}, func(ctx context.Context, q sqlstore.Querier) error {
		if _, err := q.Exec(ctx, "INSERT INTO server_secrets (name, value) VALUES ('t', '\\x00')"); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "SELECT pg_sleep(5)")
		return err
	})
	if !errors.Is(err, store.ErrTimeout) {
		t.Errorf("slow write: %v, want ErrTimeout", err)
	}
	if got, err := db.Secret(t.Context(), "t", []byte("new")); err != nil || string(got) != "new" {
		t.Errorf("the stopped write kept its insert: %q, %v", got, err)
	}
}
