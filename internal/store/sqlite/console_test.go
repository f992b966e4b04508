package sqlite

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleBackend { return mustOpen(t) })
}

// TestConsoleUnstorableText: the console's storage treats text that
// PostgreSQL cannot hold (NUL, invalid UTF-8) as it does there, so that
// both backends behave alike.
func TestConsoleUnstorableText(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	bad := "a\x00b\xffc"
	recs := []store.Activity{
		{TenantID: tn.ID, Time: t0, Method: "GET", Path: "/scim/v2/Users/" + bad, UserAgent: bad, Status: 400},
		{TenantID: tn.ID, Time: t0, Method: "GET", Path: "/scim/v2/Users", Status: 200},
	}
	if err := db.AddActivity(ctx, recs); err != nil {
		t.Fatalf("AddActivity: %v", err)
	}
	got, _, err := db.ActivityLog(ctx, tn.ID, store.ActivityQuery{Text: bad})
	if err != nil || len(got) != 1 || got[0].UserAgent != "a\uFFFDb\uFFFDc" {
		t.Errorf("ActivityLog = %+v, %v", got, err)
	}
	if _, err := db.OperatorByEmail(ctx, bad); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OperatorByEmail(NUL) = %v, want ErrNotFound", err)
	}
	if _, err := db.CreateOperator(ctx, bad, "hash", t0); err == nil {
		t.Errorf("CreateOperator accepted an e-mail address with NUL")
	}
	key := "u:1:" + bad
	if th, err := db.UpdateThrottle(ctx, key, func(th *store.Throttle) { th.Failures++ }); err != nil || th.Failures != 1 || th.Key != key {
		t.Errorf("UpdateThrottle = %+v, %v", th, err)
	}
	if th, err := db.Throttle(ctx, key); err != nil || th.Failures != 1 {
		t.Errorf("Throttle = %+v, %v; want 1 failure", th, err)
	}
	if th, err := db.Throttle(ctx, "u:1:a\x00b\xfec"); err != nil || th.Failures != 0 {
		t.Errorf("Throttle of another key = %+v, %v; want none (keys compared as bytes)", th, err)
	}
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

// TestMigrateConsoleData: a database whose console tables have the shape
// 0003_console.sql gave them keeps their records through 0005_console.sql,
// which renames activity.time and signin_throttle.last, stores throttle
// keys as bytes and unset times as NULL instead of 0.
func TestMigrateConsoleData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "scimd.db")
	w, err := openPool("file:"+escapePath(path)+"?", "_txlock=immediate&_pragma=journal_mode(WAL)"+pragmas(true), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.ExecContext(ctx, "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL) STRICT"); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	for _, p := range names {
		name := strings.TrimPrefix(p, "migrations/")
		if name >= "0005" {
			break
		}
		body, _ := migrationFS.ReadFile(p)
		if _, err := applyMigration(ctx, w, name, string(body)); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
	}
	locked := t0.Add(time.Minute)
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0)", nil},
		{"INSERT INTO activity (tenant_id, time, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status) VALUES (1, ?, 'r1', 'k1', 'Okta', 'ua', 'GET', '/scim/v2/Users', 'User', '', 200)",
			[]any{t0.UnixNano()}},
		{"INSERT INTO signin_throttle (key, failures, last, locked_until) VALUES (?, 2, 0, 0), (?, 5, ?, ?)",
			[]any{"u:1:ada", "u:1:b\xffb", t0.UnixNano(), locked.UnixNano()}},
	} {
		if _, err := w.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.sql, err)
		}
	}
	w.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	defer db.Close()
	if th, err := db.Throttle(ctx, "u:1:ada"); err != nil || th.Failures != 2 || !th.Last.IsZero() || !th.LockedUntil.IsZero() {
		t.Errorf("Throttle(ada) = %+v, %v; want 2 failures, no times", th, err)
	}
	if th, err := db.Throttle(ctx, "u:1:b\xffb"); err != nil || th.Failures != 5 || !th.Last.Equal(t0) || !th.LockedUntil.Equal(locked) {
		t.Errorf("Throttle(b\\xffb) = %+v, %v; want 5 failures, last %v, locked until %v", th, err, t0, locked)
	}
	var unset int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM signin_throttle WHERE last_failure IS NULL AND locked_until IS NULL").Scan(&unset); err != nil || unset != 1 {
		t.Errorf("%d rows with NULL times (%v), want 1", unset, err)
	}
	as, _, err := db.ActivityLog(ctx, 1, store.ActivityQuery{})
	if err != nil || len(as) != 1 || !as[0].Time.Equal(t0) || as[0].RequestID != "r1" || len(as[0].Changes) != 0 {
		t.Errorf("ActivityLog = %+v, %v", as, err)
	}
	if n, err := db.PurgeActivity(ctx, t0.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("PurgeActivity = %d, %v; want 1", n, err)
	}
}
