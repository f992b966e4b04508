package postgres

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// TestConcurrentMigrate starts several migrators at once on an empty
// database: all succeed, each migration is applied exactly once, and the
// schema works.
func TestConcurrentMigrate(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	const n = 6
	var wg sync.WaitGroup
	applied := make([][]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			applied[i], errs[i] = Migrate(ctx, dsn)
		})
	}
	close(start)
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("migrator %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	if total != len(names) {
		t.Errorf("%d migrations applied in all by %d migrators, want %d (each once): %v", total, n, len(names), applied)
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open after migrating: %v", err)
	}
	defer db.Close()
	rows, _ := db.pool.Query(ctx, "SELECT name FROM schema_migrations ORDER BY name")
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(got) != len(names) {
		t.Errorf("schema_migrations = %v (%v), want %d rows", got, err, len(names))
	}
	if _, err := db.CreateTenant(ctx, "acme"); err != nil {
		t.Errorf("CreateTenant on the migrated schema: %v", err)
	}
	// Migrating again does nothing.
	if again, err := Migrate(ctx, dsn); err != nil || len(again) != 0 {
		t.Errorf("Migrate again = %v, %v; want nothing applied", again, err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	if _, err := db.pool.Exec(ctx, "INSERT INTO schema_migrations (name, applied) VALUES ('9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	_, err := Migrate(ctx, pgtestDSN(t, db))
	if err == nil || !strings.Contains(err.Error(), "newer version") {
		t.Errorf("Migrate = %v, want a refusal naming a newer version", err)
	}
}

// pgtestDSN returns the DSN of db's database.
func pgtestDSN(t *testing.T, db *DB) string {
	t.Helper()
	cfg := db.pool.Config().ConnConfig
	dsn, err := pgtest.WithDatabase(pgtest.ServerDSN(t), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

func TestOpenBadDSN(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := Open(ctx, "postgres://user:s3cret@[::1")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(invalid URL) = %v; want an error that does not show the password", err)
	}
}

// TestMigrateConsoleData: roles whose permissions 0003_console.sql stored
// as TEXT[] keep them through 0004_console.sql, which stores them as one
// text of names separated by spaces.
func TestMigrateConsoleData(t *testing.T) {
	ctx := t.Context()
	db := upgradedDB(t, "0004", `INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0);
		INSERT INTO roles (id, tenant_id, name, permissions) VALUES
			(1, 1, 'Owner', ARRAY['manage_api_keys', 'view_users']), (2, 1, 'Member', '{}')`)
	defer db.Close()
	roles, err := db.Roles(ctx, 1)
	want := []store.Role{
		{ID: 1, TenantID: 1, Name: "Owner", Permissions: []string{store.PermManageAPIKeys, store.PermViewUsers}},
		{ID: 2, TenantID: 1, Name: "Member"},
	}
	if err != nil || !reflect.DeepEqual(roles, want) {
		t.Errorf("Roles = %+v, %v; want %+v", roles, err, want)
	}
	if err := db.SetRolePermissions(ctx, 1, 2, []string{store.PermViewActivity}); err != nil {
		t.Fatalf("SetRolePermissions: %v", err)
	}
	var perms string
	if err := db.pool.QueryRow(ctx, "SELECT permissions FROM roles WHERE id = 2").Scan(&perms); err != nil || perms != store.PermViewActivity {
		t.Errorf("stored permissions = %q, %v", perms, err)
	}
}
