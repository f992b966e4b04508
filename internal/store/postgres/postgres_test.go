package postgres

import (
	"context"
	"testing"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
)

// mustOpen opens a DB on a fresh database of its own (see pgtest), closed
// when the test ends. Without SCIM_TEST_POSTGRES_DSN the test is skipped.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), pgtest.NewDatabase(tb))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.ServerDSN(t) // skip once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t) })
}
