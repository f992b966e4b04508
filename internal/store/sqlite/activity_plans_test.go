package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// activityLoad writes n records of tenant: reads that succeed, but for one
// failure and one change at the start, so that the last ones are far from
// the newest records.
func activityLoad(t *testing.T, s interface {
	AddActivity(ctx context.Context, as []store.Activity) error
}, tenantID int64, n int) {
	t.Helper()
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	batch := make([]store.Activity, 0, 1000)
	for i := range n {
		a := store.Activity{TenantID: tenantID, Time: at.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%d", i),
			KeyID: fmt.Sprintf("k%d", i%3), Client: "Okta", Method: "GET", Path: "/scim/v2/Users", Status: 200}
		switch i {
		case 0:
			a.Status = 409
		case 1:
			a.Method = "PATCH"
		}
		batch = append(batch, a)
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.AddActivity(t.Context(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// TestActivityQueryPlans: the lookups of ActivitySummary, the full
// record's failure count and the log by request id or of failures are
// index searches that read no more than they return, whatever the
// tenant's volume.
func TestActivityQueryPlans(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	big, _ := db.CreateTenant(ctx, "big")
	activityLoad(t, db, big.ID, 20000)
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name, q string
			args    []any
			want    string
		}{
			{"last", db.Statement("activity.last"), []any{big.ID}, "activity USING INDEX activity_tenant (tenant_id=?)"},
			{"last failure", db.Statement("activity.lastFailure"), []any{big.ID}, "activity USING INDEX activity_failures (tenant_id=?)"},
			{"last change", db.Statement("activity.lastChange"), []any{big.ID}, "activity USING INDEX activity_changes (tenant_id=?)"},
			{"counts", db.Statement("activity.counts"), []any{big.ID, 0}, "activity_counts USING PRIMARY KEY (tenant_id=? AND hour>?)"},
			{"count failure", db.Statement("activity.countFailure"), []any{big.ID, 1}, "activity USING INTEGER PRIMARY KEY (rowid=?)"},
			// As ActivityLog writes them.
			{"log by request id", "SELECT id FROM activity WHERE tenant_id = ? AND request_id = ? ORDER BY id DESC LIMIT ?", []any{big.ID, "r1", 51},
				"activity USING COVERING INDEX activity_request (tenant_id=? AND request_id=?)"},
			{"log of failures", "SELECT id FROM activity WHERE tenant_id = ? AND status >= 400 ORDER BY id DESC LIMIT ?", []any{big.ID, 51},
				"activity USING INDEX activity_failures (tenant_id=?)"},
		} {
			plan := explain(t, db, "EXPLAIN QUERY PLAN "+tc.q, tc.args...)
			if !strings.Contains(plan, "SEARCH "+tc.want) {
				t.Errorf("analyzed %v, %s: plan does not search %s:\n%s", analyzed, tc.name, tc.want, plan)
			}
			if strings.Contains(plan, "SCAN activity") {
				t.Errorf("analyzed %v, %s: plan scans:\n%s", analyzed, tc.name, plan)
			}
		}
	}
	sum, err := db.ActivitySummary(ctx, big.ID, time.Time{})
	if err != nil || sum.LastFailure == nil || sum.LastFailure.RequestID != "r0" || sum.LastChange == nil || sum.LastChange.RequestID != "r1" ||
		len(sum.Counts) != 3 || sum.Counts[0].Requests != 6667 {
		t.Errorf("ActivitySummary = %+v, %v", sum, err)
	}
}
