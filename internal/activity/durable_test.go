package activity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// lost is a recorder whose records never reach the store: what a process
// killed right after its commits leaves.
type lost struct{}

func (lost) Record(context.Context, server.ActivityEvent) {}

// TestChangesSurviveTheQueue: every acknowledged change has its activity
// record, written with the change, even when the recorder's queue never
// reaches the store; with the recorder working, each request has exactly
// one record, with its diff.
func TestChangesSurviveTheQueue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		working bool
	}{{"recorder lost", false}, {"recorder working", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			db, err := sqlite.Open(ctx, ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			var rec server.ActivityRecorder = lost{}
			var real *activity.Recorder
			if tc.working {
				real = activity.New(activity.Config{Store: db, Logger: logger})
				defer real.Close()
				rec = real
			}
			tn, _ := db.CreateTenant(ctx, "acme")
			db.UpdateTenant(ctx, "acme", func(t *store.Tenant) error { t.ProvisioningActive = true; return nil })
			id, secret := auth.NewKey()
			if err := db.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "k " + id, Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret)}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(server.New(server.Config{Store: db, Logger: logger, Activity: rec}))
			defer srv.Close()
			do := func(method, path, body string) (int, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+"/t/acme/scim/v2"+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Basic "+auth.Basic(id, secret))
				req.Header.Set("Content-Type", "application/scim+json")
				req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var m map[string]any
				json.NewDecoder(res.Body).Decode(&m)
				return res.StatusCode, m
			}
			st, u := do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","title":"Dr"}`)
			if st != 201 {
				t.Fatalf("create: %d %v", st, u)
			}
			uid, _ := u["id"].(string)
			if st, _ := do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`); st != 200 {
				t.Fatalf("patch: %d", st)
			}
			if st, _ := do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ADA"}`); st != 409 {
				t.Fatalf("duplicate create: %d", st)
			}
			if st, _ := do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`+
				`{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bob"}},{"method":"DELETE","path":"/Users/`+uid+`"}]}`); st != 200 {
				t.Fatalf("bulk: %d", st)
			}
			if real != nil {
				real.Flush()
			}
			as, _, err := db.ActivityLog(ctx, tn.ID, store.ActivityQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				Method, Path string
				Status       int
				Note         bool
			}
			var got []row
			for i := len(as) - 1; i >= 0; i-- { // oldest first
				a := as[i]
				note := len(a.Changes) > 0 && a.Changes[0].Attr == "(note)"
				got = append(got, row{a.Method, a.Path, a.Status, note})
				if a.ResourceID == "" && a.Status < 300 && !strings.HasSuffix(a.Path, "/Bulk") {
					t.Errorf("%s %s: no resource id", a.Method, a.Path)
				}
			}
			var want []row
			if tc.working {
				want = []row{
					{"POST", "/scim/v2/Users", 201, false},
					{"PATCH", "/scim/v2/Users/" + uid, 200, false},
					{"POST", "/scim/v2/Users", 409, false},
					{"POST", "/scim/v2/Users", 201, false},
					{"DELETE", "/scim/v2/Users/" + uid, 204, false},
					{"POST", "/scim/v2/Bulk", 200, false},
				}
			} else { // only the changes, each written with its commit
				want = []row{
					{"POST", "/scim/v2/Users", 201, true},
					{"PATCH", "/scim/v2/Users/" + uid, 200, true},
					{"POST", "/scim/v2/Users", 201, true},
					{"DELETE", "/scim/v2/Users/" + uid, 204, true},
				}
			}
			// Records of changes are written with their commits, the others
			// by the recorder a moment later: ids need not follow the
			// requests' order.
			key := func(r row) string { return fmt.Sprint(r) }
			sort.Slice(got, func(i, j int) bool { return key(got[i]) < key(got[j]) })
			sort.Slice(want, func(i, j int) bool { return key(want[i]) < key(want[j]) })
			if len(got) != len(want) {
				t.Fatalf("activity log:\n got %+v\nwant %+v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
