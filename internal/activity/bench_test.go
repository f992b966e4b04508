package activity_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// BenchmarkSCIMWrite measures SCIM writes (user creates and PATCHes from
// 8 concurrent clients, like an IdP pushing) through the real handler on a
// file-backed SQLite database (synchronous=FULL), with activity recording
// off and on. Compare ns/op (per request) of the two.
func BenchmarkSCIMWrite(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "activity=off"
		if on {
			name = "activity=on"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			cfg := server.Config{Store: db, Logger: logger}
			var rec *activity.Recorder
			if on {
				rec = activity.New(activity.Config{Store: db, Logger: logger})
				defer rec.Close()
				cfg.Activity = rec
			}
			tn, _ := db.CreateTenant(ctx, "acme")
			db.UpdateTenant(ctx, "acme", func(t *store.Tenant) error { t.ProvisioningActive, t.PasswordSignIn = true, false; return nil })
			id, secret := auth.NewKey()
			db.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "b " + id, Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret), CreatedBy: "b"})
			authz := "Basic " + auth.Basic(id, secret)
			srv := httptest.NewServer(server.New(cfg))
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var n atomic.Int64
			var do func(method, path, body string) int
			do = func(method, path, body string) int {
				req, _ := http.NewRequest(method, srv.URL+"/t/acme/scim/v2"+path, strings.NewReader(body))
				req.Header.Set("Authorization", authz)
				req.Header.Set("Content-Type", "application/scim+json")
				req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return 0
				}
				loc := res.Header.Get("Location")
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 201 && loc != "" {
					uid := loc[strings.LastIndex(loc, "/")+1:]
					do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false,"title":"Engineer"}}]}`)
				}
				return res.StatusCode
			}
			b.SetParallelism(4) // 4 × GOMAXPROCS clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if s := do("POST", "/Users", fmt.Sprintf(`{"userName":"u%d@example.com","name":{"givenName":"U"},"emails":[{"value":"u%d@example.com","primary":true}]}`, i, i)); s != 201 {
						b.Errorf("create: %d", s)
					}
				}
			})
			b.StopTimer()
			if rec != nil {
				rec.Close()
				b.ReportMetric(float64(rec.Dropped()), "dropped")
				if rec.Written() != 2*int64(b.N) && rec.Dropped() == 0 {
					b.Errorf("written %d activity records, want %d", rec.Written(), 2*b.N)
				}
			}
			b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}
