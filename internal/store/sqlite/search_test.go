package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

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
