package postgres

import (
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestKeysConformance(t *testing.T) {
	pgtest.ServerDSN(t) // skip once, not in every subtest
	storetest.RunKeys(t, func(t *testing.T) storetest.ConsoleBackend { return mustOpen(t) })
}

// migratedFrom returns a DB opened, and so migrated, on a new database
// that had the migrations whose names sort before prefix (the schema an
// older scimd left) and then setup's statements.
func migratedFrom(t *testing.T, prefix, setup string) *DB {
	t.Helper()
	ctx := t.Context()
	dsn := pgtest.NewDatabase(t)
	pool, err := newPool(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE schema_migrations (name TEXT COLLATE "C" PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	for _, p := range names {
		name := strings.TrimPrefix(p, "migrations/")
		if name >= prefix {
			break
		}
		body, _ := migrationFS.ReadFile(p)
		if _, err := applyMigration(ctx, pool, name, string(body)); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
	}
	if _, err := pool.Exec(ctx, setup, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrationKeyNames upgrades a database with keys of one tenant that
// share a name, ignoring case (see storetest.MigratedKeyNames).
func TestMigrationKeyNames(t *testing.T) {
	db := migratedFrom(t, "0013_key_rotation", `INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0), (2, 'globex', 0);
		INSERT INTO api_keys (id, tenant_id, name, scope, secret_hash, created_by, created, revoked) VALUES
			('a', 1, 'Okta', 'write', '\x01', 'x', 1, NULL),
			('b', 1, 'okta', 'write', '\x01', 'x', 2, NULL),
			('c', 1, 'OKTA', 'write', '\x01', 'x', 3, NULL),
			('d', 1, 'okta (2)', 'write', '\x01', 'x', 4, NULL),
			('e', 1, 'Okta', 'write', '\x01', 'x', 5, 6),
			('f', 2, 'Okta', 'write', '\x01', 'x', 7, NULL)`)
	storetest.MigratedKeyNames(t, db)
}
