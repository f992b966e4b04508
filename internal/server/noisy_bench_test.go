package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/limits"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
	"github.com/scimd/scimd/internal/store/storetest"
)

// BenchmarkNoisyNeighbour measures what tenant B, a quiet tenant probing
// (a GET of a user, a userName lookup, a create), sees while tenant A
// floods the server with 32 concurrent clients sending slow substring
// filters, pages of 1,000 and writes, with the limits of a deployment
// (limits=on) and without (limits=off). It reports B's p50 and p99 and A's
// refusals; each op is one probe of B.
//
//	go test -run '^$' -bench NoisyNeighbour -benchtime 200x ./internal/server/
func BenchmarkNoisyNeighbour(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("limits=%v", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "noisy.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var keys [2]string
			var ids [2]int64
			for i, name := range []string{"a", "b"} {
				db.CreateTenant(ctx, name)
				tn, _ := db.UpdateTenant(ctx, name, func(t *store.Tenant) error { t.ProvisioningActive, t.PasswordSignIn = true, false; return nil })
				id, secret := auth.NewKey()
				db.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "k " + id, Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret)})
				keys[i], ids[i] = "Basic "+auth.Basic(id, secret), tn.ID
			}
			users := make([]store.User, 20_000)
			at := time.Now()
			for i := range users {
				users[i] = store.User{ID: storetest.BenchUserID(ids[0], i), Created: at, Modified: at, Attrs: storetest.BenchUser(i)}
			}
			if err := db.BulkCreateUsers(ctx, ids[0], users); err != nil {
				b.Fatal(err)
			}
			if err := db.BulkCreateUsers(ctx, ids[1], users[:100]); err != nil {
				b.Fatal(err)
			}
			cfg := server.Config{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), QueryTimeout: -1}
			if on {
				cfg.Limits, cfg.QueryTimeout = limits.New(limits.Config{}), 0
			}
			srv := httptest.NewServer(server.New(cfg))
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			do := func(tenant int, method, path, body string) int {
				req, _ := http.NewRequest(method, srv.URL+"/t/"+[]string{"a", "b"}[tenant]+"/scim/v2"+path, strings.NewReader(body))
				req.Header.Set("Authorization", keys[tenant])
				req.Header.Set("Content-Type", "application/scim+json")
				res, err := client.Do(req)
				if err != nil {
					return 0
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return res.StatusCode
			}
			slow := "/Users?filter=" + url.QueryEscape(`title co "eng" or name.familyName co "zz" or displayName co "q" or emails.value co "nope"`) + "&count=100"
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			refused := 0
			for w := range 32 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var st int
						switch i % 3 {
						case 0:
							st = do(0, "GET", slow, "")
						case 1:
							st = do(0, "GET", fmt.Sprintf("/Users?startIndex=%d&count=1000", 1+(i*977)%19_000), "")
						case 2:
							st = do(0, "POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"flood-%d-%d"}`, w, i))
						}
						if st == 429 {
							mu.Lock()
							refused++
							mu.Unlock()
						}
					}
				})
			}
			time.Sleep(500 * time.Millisecond) // the flood is on
			var lat []time.Duration
			probe := storetest.BenchUserID(ids[0], 7) // tenant b's users have tenant a's ids
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				var st int
				switch i % 3 {
				case 0:
					st = do(1, "GET", "/Users/"+probe, "")
				case 1:
					st = do(1, "GET", "/Users?filter="+url.QueryEscape(`userName eq "nobody"`), "")
				case 2:
					st = do(1, "POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"probe-%d-%d"}`, b.N, i))
				}
				lat = append(lat, time.Since(start))
				if st != 200 && st != 201 {
					b.Errorf("tenant b's probe %d: %d", i, st)
				}
			}
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "b-p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "b-p99-ms")
			b.ReportMetric(float64(refused), "a-429s")
		})
	}
}
