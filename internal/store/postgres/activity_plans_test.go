package postgres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// TestActivityQueryPlans: the lookups of ActivitySummary and the log by
// request id or of failures can use their indexes (the partial ones too:
// the queries spell the indexes' conditions), with sequential scans made
// as costly as PostgreSQL allows, so that the plan shows the index the
// query can use whatever the table's size.
func TestActivityQueryPlans(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	big, err := db.CreateTenant(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	var recs []store.Activity
	for i := range 5000 {
		a := store.Activity{TenantID: big.ID, Time: at.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%d", i),
			KeyID: "k", Client: "Okta", Method: "GET", Path: "/scim/v2/Users", Status: 200}
		if i == 0 {
			a.Status = 409
		}
		if i == 1 {
			a.Method = "PATCH"
		}
		recs = append(recs, a)
	}
	// Another tenant with counts of many hours: the counts of one tenant
	// are found by its key, not by the hour.
	other, err := db.CreateTenant(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		recs = append(recs, store.Activity{TenantID: other.ID, Time: at.Add(time.Duration(i-2000) * time.Hour), KeyID: "k", Client: "Okta",
			Method: "GET", Path: "/scim/v2/Users", Status: 200})
	}
	if err := db.AddActivity(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, "ANALYZE activity; ANALYZE activity_counts"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, q string
		args    []any
		want    string // index names, separated by |
	}{
		{"last failure", db.Statement("activity.lastFailure"), []any{big.ID}, "activity_failures"},
		{"last change", db.Statement("activity.lastChange"), []any{big.ID}, "activity_changes"},
		{"counts", db.Statement("activity.counts"), []any{big.ID, at.Add(-24*time.Hour).UnixNano() / int64(time.Hour)}, "activity_counts_pkey"},
		{"count failure", db.Statement("activity.countFailure"), []any{big.ID, int64(1)}, "activity_pkey|activity_tenant"},
		{"log by request id", "SELECT id FROM activity WHERE tenant_id = ? AND request_id = ? ORDER BY id DESC LIMIT ?", []any{big.ID, "r1", 51},
			"activity_request"},
		{"log of failures", "SELECT id FROM activity WHERE tenant_id = ? AND status >= 400 ORDER BY id DESC LIMIT ?", []any{big.ID, 51},
			"activity_failures"},
	} {
		q, err := bind("EXPLAIN "+tc.q, len(tc.args))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, q, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		tx.Rollback(ctx)
		p := plan.String()
		uses := false
		for _, idx := range strings.Split(tc.want, "|") {
			uses = uses || strings.Contains(p, " using "+idx+" on ")
		}
		if !uses || strings.Contains(p, "Seq Scan") {
			t.Errorf("%s: plan does not use %s, or scans:\n%s", tc.name, tc.want, p)
		}
	}
}
