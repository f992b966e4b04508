package sqlite

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
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
	var n int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(allMigrations) {
		t.Errorf("schema_migrations has %d rows (err %v), want %d", n, err, len(allMigrations))
	}

	fresh := filepath.Join(t.TempDir(), "fresh.db")
	applied, err = Migrate(ctx, fresh)
	if err != nil || !slices.Equal(applied, allMigrations) {
		t.Errorf("Migrate on a new database = %v, %v", applied, err)
	}
}

// allMigrations are the embedded migrations, in order.
var allMigrations = []string{"0001_init.sql", "0002_groups.sql", "0003_console.sql", "0004_shared_sql.sql", "0005_console.sql", "0006_server_secrets.sql", "0007_events.sql", "0008_appkeys.sql", "0009_webhooks.sql", "0010_set_keys.sql", "0011_tenant_rate_limit.sql", "0012_webhook_format.sql", "0013_activity_detail.sql", "0014_key_rotation.sql", "0015_user_search.sql", "0016_tenant_delete.sql"}

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
// index and never scan the users, groups or group_members table, by offset
// and by cursor (keyset) alike.
func TestQueryPlans(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	for _, tc := range []struct {
		groups         bool
		filter, sortBy string
		wantIndex      string // a substring of the plan
		cursorIndex    string // the same for the keyset page, if it differs
	}{
		{false, `userName eq "alice"`, "", "users_user_name", ""},
		{false, `externalId eq "x"`, "", "users_external_id", ""},
		{false, `id eq "x"`, "", "users_id", ""},
		{false, `displayName eq "x"`, "", "users_display_name", ""},
		{false, `userName sw "al"`, "", "users_user_name", "SEARCH users USING INDEX"},
		{false, `emails[type eq "work"].value eq "x@example.com"`, "", "user_emails_value", ""},
		{false, `emails.value eq "x@example.com"`, "", "user_emails_value", ""},
		{false, `meta.lastModified gt "2024-01-01T00:00:00Z"`, "", "users_modified", "SEARCH users USING INDEX"},
		{false, "", "", "users_seq", "users_seq (tenant_id=? AND seq>?)"},
		{false, "", "userName", "users_user_name", "users_user_name (tenant_id=? AND user_name_fold>?)"},
		{false, "", "meta.created", "users_created", "users_created (tenant_id=? AND created>?)"},
		{true, `displayName eq "Engineering"`, "", "groups_display_name", ""},
		{true, `externalId eq "x"`, "", "groups_external_id", ""},
		{true, `id eq "x"`, "", "groups_id", ""},
		{true, `members[value eq "u-1"]`, "", "group_members_member (tenant_id=? AND member_id=?)", ""},
		{true, `members.value eq "u-1" or members.value eq "u-2"`, "", "group_members_member (tenant_id=? AND member_id=?)", ""},
		{true, `id eq "g" and members[value eq "u-1"]`, "", "groups_id", ""},
		{true, `members pr`, "", "group_members_order (group_seq=?)", ""},
		{true, "", "", "groups_seq", "groups_seq (tenant_id=? AND seq>?)"},
		{true, "", "meta.lastModified", "groups_modified", "groups_modified (tenant_id=? AND modified>?)"},
	} {
		table, rt := "users", schema.UserType
		if tc.groups {
			table, rt = "groups", schema.GroupType
		}
		t.Run(rt.Name+" "+tc.filter+" sortBy="+tc.sortBy, func(t *testing.T) {
			where := sqlstore.Cond{SQL: table + ".tenant_id = ?", Args: []any{int64(1)}}
			if tc.filter != "" {
				e, err := filter.Parse(tc.filter)
				if err != nil {
					t.Fatal(err)
				}
				f, err := compileFilter(rt, e, 1)
				if err != nil {
					t.Fatal(err)
				}
				where = sqlstore.And(where, f)
			}
			ord, err := compileSort(rt, tc.sortBy, false)
			if err != nil {
				t.Fatal(err)
			}
			after, err := ord.After(&store.Position{Seq: 10, Key: keyFor(tc.sortBy)})
			if err != nil {
				t.Fatal(err)
			}
			cq, cargs := db.CursorQuery(rt, sqlstore.And(where, after), ord, 101)
			q, args := db.PageQuery(rt, where, ord, 100, 0)
			for _, p := range []struct{ name, q, want string }{
				{"page", explain(t, db, "EXPLAIN QUERY PLAN "+q, args...), tc.wantIndex},
				{"cursor page", explain(t, db, "EXPLAIN QUERY PLAN "+cq, cargs...), cmp.Or(tc.cursorIndex, tc.wantIndex)},
			} {
				if !strings.Contains(p.q, p.want) {
					t.Errorf("%s plan does not use %s:\n%s", p.name, p.want, p.q)
				}
				noScan(t, p.name, p.q)
			}
			countPlan := explain(t, db, "EXPLAIN QUERY PLAN SELECT count(*) FROM "+table+" WHERE "+where.SQL, where.Args...)
			for _, line := range strings.Split(countPlan, "\n") {
				if strings.Contains(line, "SCAN "+table) && !strings.Contains(line, "INDEX") {
					t.Errorf("count scans the table:\n%s", countPlan)
				}
			}
		})
	}
	// Point reads by id, members in order without a sort, writes of one
	// member by key.
	for _, tc := range []struct {
		q    string
		args []any
		want []string
	}{
		{db.Statement("user.byID"), []any{1, "x"}, []string{"users_id"}},
		{db.Statement("user.byUserName"), []any{1, "x"}, []string{"users_user_name"}},
		{db.Statement("group.byID"), []any{1, "x"}, []string{"groups_id"}},
		{db.Statement("group.members"), []any{1}, []string{"group_members_order (group_seq=?)", "users_id (tenant_id=? AND id=?)", "groups_id (tenant_id=? AND id=?)"}},
		{db.Statement("group.pageMembers"), []any{"[1]"}, []string{"group_members_order (group_seq=?)"}},
		{db.Statement("group.addMembers"), []any{1, 1, 1, `["x"]`}, []string{"users_id"}},
		{db.Statement("group.removeMembers"), []any{1, `["x"]`}, []string{"(group_seq=? AND member_id=?)"}},
		{db.Statement("group.deleteMembership"), []any{1, "x", "User"}, []string{"group_members_member (tenant_id=? AND member_id=?)"}},
		{db.Statement("group.touchParents"), []any{0, 1, "x", "User"}, []string{"group_members_member (tenant_id=? AND member_id=?)"}},
		{db.Statement("group.lockUsers"), []any{1, `["x"]`}, []string{"users_id (tenant_id=? AND id=?)"}},
		{db.Statement("group.lockGroups"), []any{1, `["x"]`}, []string{"groups_id (tenant_id=? AND id=?)"}},
		{db.Statement("group.ancestors"), []any{1, "g", 1, `["x"]`}, []string{"groups_id (tenant_id=? AND id=?)", "group_members_member (tenant_id=? AND member_id=?)"}},
		{db.Statement("group.userGroups"), []any{1, `["x"]`}, []string{"group_members_member (tenant_id=? AND member_id=?)"}},
	} {
		plan := explain(t, db, "EXPLAIN QUERY PLAN "+tc.q, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s\nplan does not use %s:\n%s", tc.q, w, plan)
			}
		}
		if strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") && (tc.q == db.Statement("group.members") || tc.q == db.Statement("group.pageMembers")) {
			t.Errorf("%s\nsorts:\n%s", tc.q, plan)
		}
		noScan(t, tc.q, plan)
	}
}

// keyFor returns a Position key of the type the sort key of sortBy has.
func keyFor(sortBy string) any {
	switch sortBy {
	case "":
		return nil
	case "meta.created", "meta.lastModified":
		return "2024-01-01T00:00:00Z"
	case "active":
		return true
	}
	return "m"
}

// noScan fails if plan scans a resource or membership table.
func noScan(t *testing.T, what, plan string) {
	t.Helper()
	for _, line := range strings.Split(plan, "\n") {
		for _, tbl := range []string{"users", "user_emails", "groups", "group_members"} {
			if strings.HasSuffix(line, "SCAN "+tbl) || strings.Contains(line, "SCAN "+tbl+" ") {
				t.Errorf("%s: plan scans %s:\n%s", what, tbl, plan)
			}
		}
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

// TestOffsetCache walks lists by startIndex, as an import does, and checks
// that pages after the first start from the remembered position, and that
// every page is the one OFFSET gives, also when the tenant changed between
// two pages, here or through another handle on the same file (another
// process).
func TestOffsetCache(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "scimd.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	titles := []any{"b", nil, "a", "c", ""}
	for i := range 30 {
		attrs := map[string]any{"userName": fmt.Sprintf("user%02d", (i*7)%30)}
		if tt := titles[i%len(titles)]; tt != nil {
			attrs["title"] = tt
		}
		if _, err := db.CreateUser(ctx, tn.ID, store.User{ID: fmt.Sprintf("u-%02d", i), Created: time.Now(), Modified: time.Now(), Attrs: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	// fresh lists by OFFSET alone, on a handle that remembers nothing.
	blank, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer blank.Close()
	fresh := func(q store.Query) []string {
		t.Helper()
		blank.ForgetOffsets()
		hits := blank.OffsetHits()
		p, err := blank.ListUsers(ctx, tn.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if blank.OffsetHits() != hits {
			t.Fatal("a page without a remembered position counted a hit")
		}
		var ids []string
		for _, u := range p.Users {
			ids = append(ids, u.ID)
		}
		return ids
	}
	n := 100
	for _, sortBy := range []string{"", "userName", "title", "meta.created"} {
		for _, desc := range []bool{false, true} {
			for _, change := range []string{"", "here", "elsewhere"} {
				hits := db.OffsetHits()
				for start := 1; start <= 31; start += 7 {
					q := store.Query{SortBy: sortBy, SortDescending: desc, StartIndex: start, Count: 7}
					want := fresh(q)
					p, err := db.ListUsers(ctx, tn.ID, q)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, u := range p.Users {
						got = append(got, u.ID)
					}
					if !slices.Equal(got, want) {
						t.Errorf("sortBy %q desc %v change %q, page at %d:\n got %v\nwant %v", sortBy, desc, change, start, got, want)
					}
					// Change the tenant between pages: delete the first
					// user of the page and create another.
					h := db
					if change == "elsewhere" {
						h = other
					}
					if change != "" && len(got) > 0 {
						if err := h.DeleteUser(ctx, tn.ID, got[0], false); err != nil {
							t.Fatal(err)
						}
						n++
						if _, err := h.CreateUser(ctx, tn.ID, store.User{ID: fmt.Sprintf("u-%03d", n), Created: time.Now(), Modified: time.Now(),
							Attrs: map[string]any{"userName": fmt.Sprintf("new%03d", n), "title": "b"}}); err != nil {
							t.Fatal(err)
						}
					}
				}
				if h := db.OffsetHits() - hits; change == "" && h != 4 || change != "" && h != 0 {
					t.Errorf("sortBy %q desc %v change %q: %d pages from a remembered position", sortBy, desc, change, h)
				}
			}
		}
	}
}

// TestMigrationSharedSQL upgrades a database as scimd left it before
// migration 0004 (counts kept by triggers, e-mail rows without folded
// type and display) and checks that the counts and folds carry over.
func TestMigrationSharedSQL(t *testing.T) {
	ctx := t.Context()
	db := upgradedDB(t, "0003_console.sql",
		"INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0)",
		`INSERT INTO users (seq, tenant_id, id, version, created, modified, user_name, user_name_fold, active, doc)
			VALUES (1, 1, 'u1', 1, 0, 0, 'Ada', 'ada', 1, jsonb('{"userName":"Ada","emails":[{"value":"A@x.example","type":"Work","display":"ADA"}]}'))`,
		`INSERT INTO users (seq, tenant_id, id, version, created, modified, user_name, user_name_fold, active, doc)
			VALUES (2, 1, 'u2', 1, 0, 0, 'Bob', 'bob', 1, jsonb('{"userName":"Bob"}'))`,
		"INSERT INTO user_emails (user_seq, pos, tenant_id, value, value_fold, type, display) VALUES (1, 0, 1, 'A@x.example', 'a@x.example', 'Work', 'ADA')",
		`INSERT INTO groups (seq, tenant_id, id, version, created, modified, display_name, display_name_fold, doc)
			VALUES (1, 1, 'g1', 1, 0, 0, 'Eng', 'eng', jsonb('{"displayName":"Eng"}'))`)
	defer db.Close()
	if p, err := db.ListUsers(ctx, 1, store.Query{}); err != nil || p.Total != 2 {
		t.Errorf("users counted after the migration: %d, %v; want 2", p.Total, err)
	}
	if p, err := db.ListGroups(ctx, 1, store.Query{}, false); err != nil || p.Total != 1 {
		t.Errorf("groups counted after the migration: %d, %v; want 1", p.Total, err)
	}
	var typeFold, displayFold string
	if err := db.read.QueryRowContext(ctx, "SELECT type_fold, display_fold FROM user_emails WHERE user_seq = 1").Scan(&typeFold, &displayFold); err != nil ||
		typeFold != "work" || displayFold != "ada" {
		t.Errorf("folds after the migration: %q, %q, %v", typeFold, displayFold, err)
	}
	// The counts are kept by the statements from now on.
	if err := db.DeleteUser(ctx, 1, "u2", true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, 1, store.User{ID: "u3", Attrs: map[string]any{"userName": "Cy"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, 1, store.User{ID: "u4", Attrs: map[string]any{"userName": "Di"}}); err != nil {
		t.Fatal(err)
	}
	if p, err := db.ListUsers(ctx, 1, store.Query{}); err != nil || p.Total != 3 {
		t.Errorf("users counted after changes: %d, %v; want 3", p.Total, err)
	}
}
