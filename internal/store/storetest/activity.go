package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimd/scimd/internal/store"
)

// testActivityDetail: a record keeps the SCIM error's scimType and detail,
// the query string and the request id; the log selects by request id and
// by status class; a pending record carries them and its full record
// sets scimType and detail.
func testActivityDetail(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, other := mustTenant(t, s, "acme"), mustTenant(t, s, "other")
	recs := []store.Activity{
		{TenantID: acme.ID, Time: base, RequestID: "req-ok", KeyID: "k1", Client: "Okta", Method: "GET", Path: "/scim/v2/Users",
			Query: `filter=userName+eq+%22a%22`, Status: 200},
		{TenantID: acme.ID, Time: base, RequestID: "req-409", KeyID: "k1", Client: "Okta", Method: "POST", Path: "/scim/v2/Users",
			Status: 409, ScimType: "uniqueness", Detail: `a user with userName "a" already exists`},
		{TenantID: acme.ID, Time: base, RequestID: "req-503", KeyID: "k1", Client: "Okta", Method: "GET", Path: "/scim/v2/Users",
			Status: 503, Detail: "the request took too long and was stopped"},
		{TenantID: other.ID, Time: base, RequestID: "req-409", Method: "POST", Path: "/scim/v2/Users", Status: 409},
	}
	if err := s.AddActivity(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.ActivityLog(ctx, acme.ID, store.ActivityQuery{RequestID: "req-409"})
	if err != nil || len(got) != 1 {
		t.Fatalf("ActivityLog by request id = %+v, %v; want 1 record", got, err)
	}
	want := recs[1]
	want.ID = got[0].ID
	if diff := cmp.Diff(want, got[0], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("record by request id (-want +got):\n%s", diff)
	}
	if got, _, _ := s.ActivityLog(ctx, acme.ID, store.ActivityQuery{RequestID: "req-ok"}); len(got) != 1 || got[0].Query != recs[0].Query {
		t.Errorf("the query string is not kept: %+v", got)
	}
	for _, tc := range []struct {
		q    store.ActivityQuery
		want []string // request ids, newest first
	}{
		{store.ActivityQuery{Status: 2}, []string{"req-ok"}},
		{store.ActivityQuery{Status: 4}, []string{"req-409"}},
		{store.ActivityQuery{Status: 5}, []string{"req-503"}},
		{store.ActivityQuery{Status: 3}, nil},
		{store.ActivityQuery{Failed: true}, []string{"req-503", "req-409"}},
		{store.ActivityQuery{RequestID: "req"}, nil}, // exact, not a prefix
		{store.ActivityQuery{RequestID: "req-503", Status: 4}, nil},
	} {
		got, _, err := s.ActivityLog(ctx, acme.ID, tc.q)
		var ids []string
		for _, a := range got {
			ids = append(ids, a.RequestID)
		}
		if err != nil || !cmp.Equal(ids, tc.want) {
			t.Errorf("ActivityLog(%+v) = %v, %v; want %v", tc.q, ids, err, tc.want)
		}
	}

	// A pending record keeps the query; the full record sets scimType and
	// detail.
	p := &store.PendingActivity{Record: store.Activity{TenantID: acme.ID, Time: base, RequestID: "req-pend", KeyID: "k2", Client: "Entra",
		Method: "POST", Path: "/scim/v2/Users", Query: "attributes=userName", ResourceType: "User", Status: 201}}
	if _, err := s.CreateUser(store.WithActivity(ctx, p), acme.ID, newUser("u-1", "alice", 0, nil)); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.ActivityLog(ctx, acme.ID, store.ActivityQuery{RequestID: "req-pend"})
	if len(got) != 1 || got[0].ID != p.ID || got[0].Query != "attributes=userName" || got[0].ScimType != "" || got[0].Detail != "" {
		t.Fatalf("pending record = %+v", got)
	}
	full := p.Record
	full.ID, full.ResourceID, full.Status, full.Detail = p.ID, "u-1", 500, "internal error"
	if err := s.AddActivity(ctx, []store.Activity{full}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.ActivityLog(ctx, acme.ID, store.ActivityQuery{RequestID: "req-pend"})
	if len(got) != 1 || got[0].Status != 500 || got[0].Detail != "internal error" || got[0].Query != "attributes=userName" || got[0].ResourceID != "u-1" {
		t.Errorf("full record = %+v", got)
	}
	// Purging the user empties the detail and the query too.
	if err := s.PurgeUser(ctx, acme.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.ActivityLog(ctx, acme.ID, store.ActivityQuery{RequestID: "req-pend"})
	if len(got) != 1 || got[0].Detail != "" || got[0].Query != "" || got[0].Status != 500 {
		t.Errorf("record of a purged user = %+v", got)
	}
}

// testActivitySummary: the last request, change and failure of a tenant,
// and its counts by key and client since a time truncated to its hour,
// kept by AddActivity, by pending records and by their full records, and
// purged with the records.
func testActivitySummary(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, other := mustTenant(t, s, "acme"), mustTenant(t, s, "other")
	summary := func(since time.Time) store.ActivitySummary {
		t.Helper()
		sum, err := s.ActivitySummary(ctx, acme.ID, since)
		if err != nil {
			t.Fatalf("ActivitySummary: %v", err)
		}
		return sum
	}
	if sum := summary(base); sum.LastRequest != nil || sum.LastChange != nil || sum.LastFailure != nil || len(sum.Counts) != 0 {
		t.Errorf("summary of a tenant without activity = %+v", sum)
	}
	hour := base.Truncate(time.Hour)
	rec := func(at time.Time, id, key, client, method, path string, status int) store.Activity {
		return store.Activity{TenantID: acme.ID, Time: at, RequestID: id, KeyID: key, Client: client, Method: method, Path: path, Status: status}
	}
	recs := []store.Activity{
		rec(hour.Add(-time.Minute), "old", "k1", "Okta", "GET", "/scim/v2/Users", 200), // the hour before
		rec(hour, "change", "k1", "Okta", "PATCH", "/scim/v2/Users/u", 200),
		rec(hour.Add(time.Minute), "fail", "k1", "Okta", "GET", "/scim/v2/Users", 400),
		rec(hour.Add(2*time.Minute), "failed-write", "k2", "Entra", "POST", "/scim/v2/Users", 409),
		rec(hour.Add(3*time.Minute), "search", "k2", "Entra", "POST", "/scim/v2/Users/.search", 200),
		rec(hour.Add(4*time.Minute), "read", "k2", "Entra", "GET", "/scim/v2/Groups", 200),
		rec(hour.Add(time.Hour), "next-hour", "k1", "Okta", "GET", "/scim/v2/Users", 200),
		rec(hour.Add(time.Hour), "next-hour-2", "k1", "Okta", "GET", "/scim/v2/Users", 200),
		rec(hour.Add(time.Hour), "unauth", "", "other", "GET", "/scim/v2/Users", 401),
	}
	if err := s.AddActivity(ctx, recs); err != nil {
		t.Fatal(err)
	}
	noise := []store.Activity{{TenantID: other.ID, Time: hour.Add(2 * time.Hour), RequestID: "other", KeyID: "k1", Client: "Okta",
		Method: "DELETE", Path: "/scim/v2/Users/x", Status: 500}}
	if err := s.AddActivity(ctx, noise); err != nil {
		t.Fatal(err)
	}
	sum := summary(base) // base is within hour: the whole hour counts
	ids := func(sum store.ActivitySummary) [3]string {
		var out [3]string
		for i, a := range []*store.Activity{sum.LastRequest, sum.LastChange, sum.LastFailure} {
			if a != nil {
				out[i] = a.RequestID
			}
		}
		return out
	}
	if got, want := ids(sum), [3]string{"unauth", "change", "unauth"}; got != want {
		t.Errorf("last request, change, failure = %v, want %v", got, want)
	}
	wantCounts := []store.ActivityCount{
		{KeyID: "k1", Client: "Okta", Requests: 4, Failures: 1},
		{KeyID: "k2", Client: "Entra", Requests: 3, Failures: 1},
		{KeyID: "", Client: "other", Requests: 1, Failures: 1},
	}
	if diff := cmp.Diff(wantCounts, sum.Counts); diff != "" {
		t.Errorf("counts since %v (-want +got):\n%s", base, diff)
	}
	if got := summary(hour.Add(-time.Nanosecond)).Counts; len(got) != 3 || got[0].Requests != 5 {
		t.Errorf("counts since the hour before = %+v, want k1 with 5 requests", got)
	}
	if got := summary(hour.Add(3 * time.Hour)).Counts; len(got) != 0 {
		t.Errorf("counts since later = %+v, want none", got)
	}

	// A pending record counts when it is written; its full record counts
	// its failure only, and only once.
	p := &store.PendingActivity{Record: store.Activity{TenantID: acme.ID, Time: hour.Add(time.Hour + time.Minute), RequestID: "pend",
		KeyID: "k3", Client: "OneLogin", Method: "POST", Path: "/scim/v2/Users", ResourceType: "User", Status: 201}}
	if _, err := s.CreateUser(store.WithActivity(ctx, p), acme.ID, newUser("u-1", "alice", 0, nil)); err != nil {
		t.Fatal(err)
	}
	count := func(key string) store.ActivityCount {
		t.Helper()
		for _, c := range summary(hour).Counts {
			if c.KeyID == key {
				return c
			}
		}
		return store.ActivityCount{}
	}
	if c := count("k3"); c.Requests != 1 || c.Failures != 0 {
		t.Errorf("after the pending record: %+v, want 1 request", c)
	}
	if got := ids(summary(hour)); got[0] != "pend" || got[1] != "pend" {
		t.Errorf("last request, change after the pending record = %v", got)
	}
	full := p.Record
	full.ID, full.Time, full.Status, full.Detail = p.ID, full.Time.Add(time.Hour), 499, "" // the client went away
	for range 2 {                                                                          // applied twice, counted once
		if err := s.AddActivity(ctx, []store.Activity{full}); err != nil {
			t.Fatal(err)
		}
	}
	if c := count("k3"); c.Requests != 1 || c.Failures != 1 {
		t.Errorf("after a failed full record: %+v, want 1 request, 1 failure", c)
	}
	if got := ids(summary(hour)); got[1] != "change" || got[2] != "pend" {
		t.Errorf("last change, failure after the failed full record = %v, want change, pend", got)
	}
	p2 := &store.PendingActivity{Record: store.Activity{TenantID: acme.ID, Time: hour.Add(time.Hour + time.Minute), RequestID: "pend2",
		KeyID: "k3", Client: "OneLogin", Method: "POST", Path: "/scim/v2/Users", ResourceType: "User", Status: 201}}
	if _, err := s.CreateUser(store.WithActivity(ctx, p2), acme.ID, newUser("u-2", "bob", 1, nil)); err != nil {
		t.Fatal(err)
	}
	full = p2.Record
	full.ID = p2.ID
	if err := s.AddActivity(ctx, []store.Activity{full}); err != nil {
		t.Fatal(err)
	}
	if c := count("k3"); c.Requests != 2 || c.Failures != 1 {
		t.Errorf("after a successful full record: %+v, want 2 requests, 1 failure", c)
	}

	// Purging removes the counts of the hours that ended before the limit.
	if _, err := s.PurgeActivity(ctx, hour.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := summary(hour.Add(-2 * time.Hour)).Counts; len(got) != 4 || got[0].KeyID != "k1" || got[0].Requests != 4 {
		t.Errorf("counts after purging the hour before = %+v, want k1 with 4 requests first", got)
	}
	if _, err := s.PurgeActivity(ctx, hour.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if sum := summary(hour.Add(-2 * time.Hour)); sum.LastRequest != nil || len(sum.Counts) != 0 {
		t.Errorf("summary after purging everything = %+v", sum)
	}
	if sum, err := s.ActivitySummary(ctx, other.ID, hour); err != nil || sum.LastFailure != nil || len(sum.Counts) != 0 {
		t.Errorf("other tenant's summary after purging everything = %+v, %v", sum, err)
	}
}
