package hostapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// BenchmarkUserStatus is the sign-in check, a whole request through the
// API handler (the application key read and checked, the tenant, the
// user and its groups looked up), in a tenant of 10,000 users beside
// another of 10,000:
//
//	go test -run '^$' -bench UserStatus -benchtime 2s ./internal/hostapi
//	bash scripts/with-postgres.sh go test -run '^$' -bench UserStatus -benchtime 2s ./internal/hostapi
func BenchmarkUserStatus(b *testing.B) {
	for _, backend := range backends(b) {
		b.Run(backend, func(b *testing.B) {
			e := newEnv(b, backend)
			ctx := context.Background()
			bulk := e.inst.st.(interface {
				BulkCreateUsers(ctx context.Context, tenantID int64, us []store.User) error
			})
			now := time.Now().UTC()
			for _, tn := range []store.Tenant{e.bravo, e.acme} {
				us := make([]store.User, 10000)
				for i := range us {
					us[i] = store.User{ID: fmt.Sprintf("%s-%05d", tn.Name, i), Created: now, Modified: now,
						Attrs: map[string]any{"userName": fmt.Sprintf("user%05d@%s.example", i, tn.Name), "active": true}}
				}
				if err := bulk.BulkCreateUsers(ctx, tn.ID, us); err != nil {
					b.Fatal(err)
				}
			}
			g := e.createGroup("acme", "Staff", "acme-04321")
			e.createGroup("acme", "Everyone", g)
			for _, tc := range []struct{ name, path string }{
				{"ByID", "/api/v1/tenants/acme/users/acme-04321"},
				{"ByUserName", "/api/v1/tenants/acme/users?userName=USER04321@acme.example"},
			} {
				b.Run(tc.name, func(b *testing.B) {
					req := httptest.NewRequest("GET", tc.path, nil)
					req.Header.Set("Authorization", "Bearer "+e.all)
					for b.Loop() {
						w := httptest.NewRecorder()
						e.inst.api.ServeHTTP(w, req)
						if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"exists":true,"groups":[{`) {
							b.Fatalf("%d %s", w.Code, w.Body)
						}
					}
				})
			}
		})
	}
}
