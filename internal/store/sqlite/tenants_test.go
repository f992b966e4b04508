package sqlite

import (
	"strings"
	"testing"
)

// TestTenantQueryPlans: the operator's counts and the chunks of a tenant's
// purge are index searches, whatever other tenants hold (TestHostQueryPlans
// loads the same big tenant).
func TestTenantQueryPlans(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	for _, tc := range []struct {
		stmt string
		args []any
		want []string
	}{
		{"tenant.countInactive", []any{1}, []string{"USING COVERING INDEX users_inactive (tenant_id=?)"}},
		{"tenant.countArchived", []any{1}, []string{"SEARCH archived_users USING COVERING INDEX"}},
		{"tenant.countKeys", []any{1, 0}, []string{"USING INDEX api_keys_tenant_created (tenant_id=?)"}},
		{"tenant.purgeMembers", []any{1, 500}, []string{"SEARCH group_members USING INDEX group_members_member (tenant_id=?)", "sqlite_autoindex_group_members_1 (group_seq=? AND member_id=?)"}},
		{"tenant.purgeUsers", []any{1, 500}, []string{"SEARCH users USING COVERING INDEX", "(tenant_id=?)", "USING INTEGER PRIMARY KEY"}},
		{"tenant.purgeEvents", []any{1, 500}, []string{"USING INDEX events_tenant (tenant_id=?)"}},
	} {
		plan := explain(t, db, "EXPLAIN QUERY PLAN "+db.Statement(tc.stmt), tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan does not use %s:\n%s", tc.stmt, w, plan)
			}
		}
		if strings.Contains(plan, "SCAN") {
			t.Errorf("%s: plan scans:\n%s", tc.stmt, plan)
		}
	}
}
