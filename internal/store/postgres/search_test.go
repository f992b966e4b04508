package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
	"github.com/scimd/scimd/internal/store/storetest"
)

// TestSearchPlans: the console's search by words reads index ranges on
// PostgreSQL too, once the planner has statistics (VACUUM ANALYZE) of a
// tenant of 20,000 users: each range of the leading word is an index scan,
// and neither users nor user_emails is read sequentially, for one word and
// for two, for the page and for its count.
func TestSearchPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 users")
	}
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	us := make([]store.User, 20000)
	for i := range us {
		us[i] = store.User{ID: fmt.Sprintf("u-%d", i), Attrs: storetest.BenchUser(i)}
	}
	if err := db.BulkCreateUsers(ctx, tn.ID, us); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for _, words := range [][]string{{"user0012345"}, {"user", "number1234"}} {
		search, err := sqlstore.SearchCond(tn.ID, words)
		if err != nil {
			t.Fatal(err)
		}
		where := sqlstore.And(sqlstore.Cond{SQL: "users.tenant_id = ?", Args: []any{tn.ID}}, search)
		for _, sortBy := range []string{"", "userName", "meta.lastModified"} {
			ord, err := compileSort(schema.UserType, sortBy, false)
			if err != nil {
				t.Fatal(err)
			}
			q, args, count := db.SearchQuery(where, ord, 50, 0, false)
			for _, p := range []struct {
				name, q string
				args    []any
			}{{"page", q, args}, {"count", count, where.Args}} {
				plan := explainPG(t, ctx, db, p.q, p.args)
				what := p.name + " of " + strings.Join(words, " ") + " sortBy=" + sortBy
				for _, index := range []string{"users_user_name", "users_display_name", "users_given_name", "users_family_name",
					"users_formatted_name", "users_external_fold", "user_emails_value"} {
					if !strings.Contains(plan, index) {
						t.Errorf("%s: plan does not use %s:\n%s", what, index, plan)
					}
				}
				if strings.Contains(plan, "Seq Scan on users") || strings.Contains(plan, "Seq Scan on user_emails") {
					t.Errorf("%s: plan scans a table:\n%s", what, plan)
				}
				if testing.Verbose() {
					t.Logf("%s:\n%s", what, plan)
				}
			}
		}
	}
}

// explainPG returns the plan of q (with ? placeholders) for args.
func explainPG(t *testing.T, ctx context.Context, db *DB, q string, args []any) string {
	t.Helper()
	bound, err := bind("EXPLAIN "+q, len(args))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.pool.Query(ctx, bound, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMigrationUserSearch upgrades a database as scimd left it before
// migration 0014_user_search.sql and checks that the users already stored
// are found by their name parts and externalId, folded from doc_fold.
func TestMigrationUserSearch(t *testing.T) {
	db := migratedFrom(t, "0014_user_search.sql", `INSERT INTO tenants (id, name, created) VALUES (1, 'acme', 0);
		INSERT INTO users (seq, tenant_id, id, version, created, modified, user_name, user_name_fold, external_id, active, doc, doc_fold) VALUES
			(1, 1, 'u1', 1, 0, 0, 'ada', 'ada', 'HR-Ω1', true,
			'{"userName":"ada","externalId":"HR-Ω1","name":{"givenName":"Ada","familyName":"ÅSTRÖM","formatted":"Countess Ada"}}',
			'{"userName":"ada","externalId":"hr-ω1","name":{"givenName":"ada","familyName":"åström","formatted":"countess ada"}}'),
			(2, 1, 'u2', 1, 0, 0, 'bob', 'bob', NULL, true, '{"userName":"bob","name":{"givenName":7}}', '{"userName":"bob","name":{"givenName":7}}');
		INSERT INTO user_counts (tenant_id, slot, n) VALUES (1, 0, 2)`)
	defer db.Close()
	storetest.CheckSearchBackfill(t, db, 1)
}

// BenchmarkSearchUsers: see storetest.Bench.SearchUsers.
//
//	bash scripts/with-postgres.sh go test -run '^$' -bench SearchUsers -benchtime 20x ./internal/store/postgres
//	SCIMD_BENCH_SEARCH_USERS=1000000 bash scripts/with-postgres.sh go test -run '^$' -bench SearchUsers -benchtime 20x -timeout 60m ./internal/store/postgres
func BenchmarkSearchUsers(b *testing.B) { bench.SearchUsers(b) }
