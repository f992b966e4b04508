package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
	"github.com/scimd/scimd/internal/store/storetest"
)

// searchIndexes are the indexes whose ranges find a word's candidates.
var searchIndexes = []string{"users_user_name", "users_display_name", "users_given_name", "users_family_name",
	"users_formatted_name", "users_external_fold", "user_emails_value"}

// TestSearchPlans: the console's search by words reads index ranges, for
// one word and for several, in every order the console offers, by offset
// and by cursor, and so does its count: each range of the leading word is
// an index search, the users are then found by seq (never by walking an
// index in the order asked for, which reads the whole tenant), and no
// plan scans users or user_emails.
func TestSearchPlans(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	for _, words := range [][]string{{"grace"}, {"grace", "hopper"}, {"Ada", "lovelace", "x"}} {
		search, err := sqlstore.SearchCond(1, words)
		if err != nil {
			t.Fatal(err)
		}
		where := sqlstore.And(sqlstore.Cond{SQL: "users.tenant_id = ?", Args: []any{int64(1)}}, search)
		for _, sortBy := range []string{"", "userName", "displayName", "meta.created", "meta.lastModified", "active"} {
			ord, err := compileSort(schema.UserType, sortBy, sortBy == "displayName")
			if err != nil {
				t.Fatal(err)
			}
			after, err := ord.After(&store.Position{Seq: 10, Key: keyFor(sortBy)})
			if err != nil {
				t.Fatal(err)
			}
			q, args, count := db.SearchQuery(where, ord, 50, 100, false)
			cq, cargs, _ := db.SearchQuery(sqlstore.And(where, after), ord, 1001, 0, true)
			for _, p := range []struct{ name, plan string }{
				{"page", explain(t, db, "EXPLAIN QUERY PLAN "+q, args...)},
				{"cursor page", explain(t, db, "EXPLAIN QUERY PLAN "+cq, cargs...)},
				{"count", explain(t, db, "EXPLAIN QUERY PLAN "+count, where.Args...)},
			} {
				what := p.name + " of " + strings.Join(words, " ") + " sortBy=" + sortBy
				for _, index := range searchIndexes {
					if !strings.Contains(p.plan, index+" (tenant_id=? AND ") {
						t.Errorf("%s: plan does not search %s:\n%s", what, index, p.plan)
					}
				}
				if !strings.Contains(p.plan, "SEARCH users USING INTEGER PRIMARY KEY (rowid=?)") {
					t.Errorf("%s: plan does not find the users by seq:\n%s", what, p.plan)
				}
				noScan(t, what, p.plan)
			}
		}
	}
}

// upgradedDB makes a database as an older scimd left it, its migrations
// stopping after last, runs seed on it, and opens it (which applies the
// newer migrations). The caller closes it.
func upgradedDB(t *testing.T, last string, seed ...string) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := openPool("file:"+escapePath(path)+"?", "_txlock=immediate&_pragma=journal_mode(WAL)"+pragmas(true), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrateTo(t.Context(), w, last); err != nil {
		t.Fatal(err)
	}
	for _, q := range seed {
		if _, err := w.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	w.Close()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMigrationUserSearch upgrades a database as scimd left it before
// migration 0015 and checks that the users already stored are found by
// their name parts and externalId, folded as scim.Fold folds.
func TestMigrationUserSearch(t *testing.T) {
	db := upgradedDB(t, "0012_webhook_format.sql",
		"INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0)",
		`INSERT INTO users (seq, tenant_id, id, version, created, modified, user_name, user_name_fold, external_id, active, doc)
			VALUES (1, 1, 'u1', 1, 0, 0, 'ada', 'ada', 'HR-Ω1', 1,
			jsonb('{"userName":"ada","externalId":"HR-Ω1","name":{"givenName":"Ada","familyName":"ÅSTRÖM","formatted":"Countess Ada"}}'))`,
		`INSERT INTO users (seq, tenant_id, id, version, created, modified, user_name, user_name_fold, active, doc)
			VALUES (2, 1, 'u2', 1, 0, 0, 'bob', 'bob', 1, jsonb('{"userName":"bob","name":{"givenName":7}}'))`,
		"INSERT INTO user_counts (tenant_id, slot, n) VALUES (1, 0, 2)")
	defer db.Close()
	storetest.CheckSearchBackfill(t, db, 1)
}

// BenchmarkSearchUsers searches the tenant of 1,000,000 users of the export
// fixture (and 100,000 in another tenant) as the console does: a page of 50
// sorted by userName, with the total. Each user has two e-mail rows (added
// here: genUsers makes none). "rare" words match one user or a few;
// "broad" ones a ninth of the tenant, which the page must count and sort.
//
//	go test -run '^$' -bench SearchUsers -benchtime 2s -timeout 30m ./internal/store/sqlite
func BenchmarkSearchUsers(b *testing.B) {
	f := getExportFixture(b)
	ctx := context.Background()
	searchEmailsOnce.Do(func() {
		start := time.Now()
		var last int64
		if err := f.db.read.QueryRowContext(ctx, "SELECT max(seq) FROM users").Scan(&last); err != nil {
			b.Fatal(err)
		}
		for lo := int64(0); lo <= last; lo += 20_000 {
			err := f.db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO user_emails (user_seq, pos, tenant_id, value, value_fold, type, type_fold, is_primary)
					SELECT seq, 0, tenant_id, user_name, user_name_fold, 'work', 'work', 1 FROM users WHERE seq > ? AND seq <= ?
					UNION ALL
					SELECT seq, 1, tenant_id, replace(user_name, '@example.com', '@home.example.org'), replace(user_name_fold, '@example.com', '@home.example.org'), 'home', 'home', 0
					FROM users WHERE seq > ? AND seq <= ?`, lo, lo+20_000, lo, lo+20_000)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("e-mail rows added in %v", time.Since(start).Round(time.Millisecond))
	})
	for _, tc := range []struct {
		name  string
		words []string
		total int
	}{
		{"one-word/rare", []string{"user0123456"}, 1},                             // userName, e-mails
		{"one-word/rare-familyName", []string{"Number12345"}, 11},                 // number12345, number123450…9
		{"two-words/rare", []string{"user", "number12345"}, 11},                   // "user" is everyone's givenName
		{"two-words/rare-email", []string{"user0123456@home", "NUMBER123456"}, 1}, // an e-mail and the familyName
		{"one-word/broad", []string{"number1"}, 111_111},                          // number1, number10…, number100000…number199999
		{"two-words/broad", []string{"user", "number1"}, 111_111},                 // both broad
		{"two-words/none", []string{"user0123456", "nobody"}, 0},                  // the rare word leads
		{"filter-equivalent/userName-sw", nil, 1},                                 // baseline: SCIM filter userName sw
	} {
		q := store.Query{Words: tc.words, SortBy: "userName", Count: 50}
		if tc.words == nil {
			e, err := filter.Parse(`userName sw "user0123456"`)
			if err != nil {
				b.Fatal(err)
			}
			q.Filter = e
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				p, err := f.db.ListUsers(ctx, f.tenant, q)
				if err != nil || p.Total != tc.total {
					b.Fatalf("total %d, err %v; want %d", p.Total, err, tc.total)
				}
			}
		})
	}
}

var searchEmailsOnce sync.Once

// BenchmarkSearchUsersShared: see storetest.Bench.SearchUsers; the same on
// PostgreSQL, to compare.
func BenchmarkSearchUsersShared(b *testing.B) { bench.SearchUsers(b) }
