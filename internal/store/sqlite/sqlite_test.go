package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/storetest"
)

// mustOpen opens a fresh database file in a temporary directory.
func mustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "scimd.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t) })
}

func TestConformanceMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("the file-backed run covers the same code")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(t.Context(), ":memory:")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db
	})
}

func TestMemoryDatabasesAreSeparate(t *testing.T) {
	ctx := t.Context()
	a, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.CreateTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateTenant(ctx, "acme"); err != nil {
		t.Errorf("second in-memory database sees the first's tenant: %v", err)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "scimd.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	applied, err := Migrate(ctx, path)
	if err != nil || len(applied) != 0 {
		t.Errorf("Migrate on a current database applied %v, err %v", applied, err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer db.Close()
	if got, err := db.Tenant(ctx, "acme"); err != nil || got.ID != tn.ID {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	embedded, _ := fs.Glob(migrationFS, "migrations/*.sql")
	var n int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(embedded) {
		t.Errorf("schema_migrations has %d rows (err %v), want %d", n, err, len(embedded))
	}

	fresh := filepath.Join(t.TempDir(), "fresh.db")
	applied, err = Migrate(ctx, fresh)
	if err != nil || len(applied) != len(embedded) || applied[0] != "0001_init.sql" {
		t.Errorf("Migrate on a new database = %v, %v", applied, err)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "scimd.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, "INSERT INTO schema_migrations VALUES ('9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, path); err == nil {
		db.Close()
		t.Fatal("Open accepted a database with an unknown migration")
	}
}

func TestPragmas(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	for _, tc := range []struct {
		pool, pragma, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "foreign_keys", "1"},
		{"write", "synchronous", "2"},
		{"write", "busy_timeout", "10000"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "query_only", "1"},
	} {
		p := db.write
		if tc.pool == "read" {
			p = db.read
		}
		var got string
		if err := p.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s pool: PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
}

// TestReadsDoNotWaitForWriter holds the write lock and reads meanwhile.
func TestReadsDoNotWaitForWriter(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := db.ListUsers(rctx, tn.ID, store.Query{Count: 10}); err != nil {
		t.Errorf("ListUsers while a write transaction is open: %v", err)
	}
	if _, err := db.TenantByID(rctx, tn.ID); err != nil {
		t.Errorf("TenantByID while a write transaction is open: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestQueryPlans checks that the lookups clients make all the time use an
// index and never scan the users table.
func TestQueryPlans(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	for _, tc := range []struct {
		filter, sortBy string
		wantIndex      string // a substring of the plan
	}{
		{`userName eq "alice"`, "", "users_user_name"},
		{`externalId eq "x"`, "", "users_external_id"},
		{`id eq "x"`, "", "users_id"},
		{`displayName eq "x"`, "", "users_display_name"},
		{`userName sw "al"`, "", "users_user_name"},
		{`emails[type eq "work"].value eq "x@example.com"`, "", "user_emails_value"},
		{`emails.value eq "x@example.com"`, "", "user_emails_value"},
		{`meta.lastModified gt "2024-01-01T00:00:00Z"`, "", "users_modified"},
		{"", "", "users_seq"},
		{"", "userName", "users_user_name"},
		{"", "meta.created", "users_created"},
	} {
		t.Run(tc.filter+" sortBy="+tc.sortBy, func(t *testing.T) {
			where := cond{sql: "users.tenant_id = ?", args: []any{int64(1)}}
			if tc.filter != "" {
				e, err := filter.Parse(tc.filter)
				if err != nil {
					t.Fatal(err)
				}
				f, err := compileFilter(schema.UserType, e, 1)
				if err != nil {
					t.Fatal(err)
				}
				where = and(where, f)
			}
			ord, err := compileSort(schema.UserType, tc.sortBy, false)
			if err != nil {
				t.Fatal(err)
			}
			q, args := pageQuery(where, ord, 100, 0)
			plan := explain(t, db, "EXPLAIN QUERY PLAN "+q, args...)
			if !strings.Contains(plan, tc.wantIndex) {
				t.Errorf("plan does not use %s:\n%s", tc.wantIndex, plan)
			}
			for _, line := range strings.Split(plan, "\n") {
				if strings.Contains(line, "SCAN users") || strings.Contains(line, "SCAN user_emails") {
					t.Errorf("plan scans a table:\n%s", plan)
				}
			}
			countPlan := explain(t, db, "EXPLAIN QUERY PLAN SELECT count(*) FROM users WHERE "+where.sql, where.args...)
			for _, line := range strings.Split(countPlan, "\n") {
				if strings.Contains(line, "SCAN users") && !strings.Contains(line, "INDEX") {
					t.Errorf("count scans the table:\n%s", countPlan)
				}
			}
		})
	}
	// Point reads by id.
	plan := explain(t, db, "EXPLAIN QUERY PLAN SELECT "+userCols+" FROM users WHERE users.tenant_id = ? AND users.id = ?", 1, "x")
	if !strings.Contains(plan, "users_id") {
		t.Errorf("User(id) plan:\n%s", plan)
	}
}

func explain(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %d %s\n", id, parent, detail)
	}
	return b.String()
}

// TestDurability acknowledges writes in a child process, kills it with
// SIGKILL without closing the database, and checks every acknowledged write
// is there.
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "scimd.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$")
	cmd.Env = append(os.Environ(), "SCIMD_DURABILITY_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "acked ") {
			acked++
			if acked == 20 {
				break
			}
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if acked < 20 {
		t.Fatalf("child acknowledged only %d writes", acked)
	}

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tn, err := db.Tenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.ListUsers(t.Context(), tn.ID, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total < acked {
		t.Errorf("after SIGKILL: %d users, but %d creations were acknowledged", p.Total, acked)
	}
}

// TestDurabilityChild is the child process of TestDurability: it creates
// users until killed, printing a line after each acknowledged creation.
func TestDurabilityChild(t *testing.T) {
	path := os.Getenv("SCIMD_DURABILITY_DB")
	if path == "" {
		t.Skip("run by TestDurability")
	}
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		u := store.User{ID: fmt.Sprintf("u-%d", i), Created: time.Now(), Modified: time.Now(),
			Attrs: map[string]any{"userName": fmt.Sprintf("user%d", i)}}
		if _, err := db.CreateUser(ctx, tn.ID, u); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("acked %d\n", i)
	}
}

func TestErrorMapping(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	err := db.CreateAPIKey(ctx, store.APIKey{ID: "k", TenantID: 42, Name: "x", Scope: store.ScopeRead, SecretHash: []byte{1}, Created: time.Now()})
	if err != store.ErrNotFound {
		t.Errorf("CreateAPIKey for a missing tenant: %v, want ErrNotFound", err)
	}
	if _, err := db.CreateUser(ctx, 42, store.User{ID: "u", Attrs: map[string]any{"userName": "x"}}); err != store.ErrNotFound {
		t.Errorf("CreateUser for a missing tenant: %v, want ErrNotFound", err)
	}
}
