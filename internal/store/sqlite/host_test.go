package sqlite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestHostConformance(t *testing.T) {
	storetest.RunHost(t, func(t *testing.T) storetest.HostBackend { return mustOpen(t) })
}

// TestHostQueryPlans: the sign-in check and the key lookup are index
// searches, whatever another tenant holds.
func TestHostQueryPlans(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	big, _ := db.CreateTenant(ctx, "big")
	small, _ := db.CreateTenant(ctx, "small")
	us := make([]store.User, 5000)
	for i := range us {
		us[i] = store.User{ID: fmt.Sprintf("u%d", i), Attrs: storetest.BenchUser(i)}
	}
	if err := db.BulkCreateUsers(ctx, big.ID, us); err != nil {
		t.Fatal(err)
	}
	for i := range 300 { // a big archive too
		if err := db.DeleteUser(ctx, big.ID, us[i].ID, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		testHostPlans(t, db, small.ID, big.ID)
	}
}

func testHostPlans(t *testing.T, db *DB, small, big int64) {
	for _, tc := range []struct {
		stmt string
		args []any
		want string
	}{
		{"host.statusByID", []any{small, "u1"}, "USING INDEX users_id (tenant_id=? AND id=?)"},
		{"host.statusByUserName", []any{small, "x"}, "USING INDEX users_user_name (tenant_id=? AND user_name_fold=?)"},
		{"host.archivedStatus", []any{small, "u1"}, "USING INDEX archived_users_id (tenant_id=? AND id=?)"},
		{"host.statusByID", []any{big, "u1"}, "USING INDEX users_id (tenant_id=? AND id=?)"},
		{"host.archivedStatus", []any{big, "u1"}, "USING INDEX archived_users_id (tenant_id=? AND id=?)"},
		{"host.appKey", []any{"k"}, "USING INDEX sqlite_autoindex_app_keys_1 (id=?)"},
	} {
		plan := explain(t, db, "EXPLAIN QUERY PLAN "+db.Statement(tc.stmt), tc.args...)
		if !strings.Contains(plan, tc.want) || strings.Contains(plan, "SCAN") {
			t.Errorf("%s: plan does not use %s, or scans:\n%s", tc.stmt, tc.want, plan)
		}
	}
}
