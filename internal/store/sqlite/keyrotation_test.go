package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/scimd/scimd/internal/store/storetest"
)

func TestKeysConformance(t *testing.T) {
	storetest.RunKeys(t, func(t *testing.T) storetest.ConsoleBackend { return mustOpen(t) })
}

// TestMigrationKeyNames upgrades a database with keys of one tenant that
// share a name, ignoring case (see storetest.MigratedKeyNames).
func TestMigrationKeyNames(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := openPool("file:"+escapePath(path)+"?", "_txlock=immediate&_pragma=journal_mode(WAL)"+pragmas(true), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrateTo(ctx, w, "0012_webhook_format.sql"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0), (2, 'globex', 0);
		INSERT INTO api_keys (id, tenant_id, name, scope, secret_hash, created_by, created, revoked) VALUES
			('a', 1, 'Okta', 'write', x'01', 'x', 1, NULL),
			('b', 1, 'okta', 'write', x'01', 'x', 2, NULL),
			('c', 1, 'OKTA', 'write', x'01', 'x', 3, NULL),
			('d', 1, 'okta (2)', 'write', x'01', 'x', 4, NULL),
			('e', 1, 'Okta', 'write', x'01', 'x', 5, 6),
			('f', 2, 'Okta', 'write', x'01', 'x', 7, NULL)`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.MigratedKeyNames(t, db)
}
