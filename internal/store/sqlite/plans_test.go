package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
	"github.com/scimd/scimd/internal/store/storetest"
)

// TestQueryPlansWithBigOtherTenant: a small tenant's lookups and pages are
// index searches whatever another tenant holds, before and after ANALYZE
// gives the planner statistics (which PRAGMA optimize does at Close).
func TestQueryPlansWithBigOtherTenant(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 users")
	}
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big, _ := db.CreateTenant(ctx, "big")
	small, _ := db.CreateTenant(ctx, "small")
	for _, tn := range []struct {
		id int64
		n  int
	}{{big.ID, 20000}, {small.ID, 10}} {
		us := make([]store.User, tn.n)
		for i := range us {
			us[i] = store.User{ID: fmt.Sprintf("%d-%d", tn.id, i), Attrs: storetest.BenchUser(i)}
		}
		if err := db.BulkCreateUsers(ctx, tn.id, us); err != nil {
			t.Fatal(err)
		}
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct{ filter, sortBy, want string }{
			{`userName eq "user0000003@example.com"`, "", "users_user_name (tenant_id=? AND user_name_fold=?)"},
			{`externalId eq "ext-0000003"`, "", "users_external_id (tenant_id=? AND external_id=?)"},
			{`emails[type eq "work"].value eq "user0000003@example.com"`, "", "user_emails_value (tenant_id=? AND value_fold=?)"},
			{"", "", "users_seq (tenant_id=?)"},
			{"", "userName", "users_user_name (tenant_id=?)"},
		} {
			where := sqlstore.Cond{SQL: "users.tenant_id = ?", Args: []any{small.ID}}
			if tc.filter != "" {
				e, err := filter.Parse(tc.filter)
				if err != nil {
					t.Fatal(err)
				}
				c, err := compileFilter(schema.UserType, e, small.ID)
				if err != nil {
					t.Fatal(err)
				}
				where = sqlstore.And(where, c)
			}
			ord, err := compileSort(schema.UserType, tc.sortBy, false)
			if err != nil {
				t.Fatal(err)
			}
			q, args := db.PageQuery(schema.UserType, where, ord, 100, 0)
			plan := explain(t, db, "EXPLAIN QUERY PLAN "+q, args...)
			if !strings.Contains(plan, tc.want) {
				t.Errorf("analyzed %v, filter %q, sortBy %q: plan does not use %s:\n%s", analyzed, tc.filter, tc.sortBy, tc.want, plan)
			}
			noScan(t, tc.filter, plan)
		}
	}
}
