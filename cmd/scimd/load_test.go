package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// BenchmarkMixedWorkload drives real "scimd serve" processes (this test
// binary re-executed, see TestMain) over loopback with a mix of requests in
// the proportions an Okta provisioning integration sends (our estimate from
// its import and push cycles): userName lookups before every push, creates,
// reads by id, deactivate/reactivate PATCHes and PUT profile updates. The
// requests are spread round-robin over the instances, as a load balancer
// would. The tenant has password sign-in off (see the README). It reports
// req/s:
//
//	scripts/with-postgres.sh go test -run '^$' -bench MixedWorkload -benchtime 10s ./cmd/scimd
//
// backend=sqlite/instances=1 is the default deployment; backend=postgres
// runs one and three instances on one PostgreSQL database (skipped without
// SCIM_TEST_POSTGRES_DSN).
func BenchmarkMixedWorkload(b *testing.B) {
	for _, bc := range []struct {
		backend   string
		instances int
	}{{"sqlite", 1}, {"postgres", 1}, {"postgres", 3}} {
		b.Run(fmt.Sprintf("backend=%s/instances=%d", bc.backend, bc.instances), func(b *testing.B) {
			var dbURL string
			if bc.backend == "postgres" {
				dbURL = pgtest.NewDatabase(b)
			} else {
				dbURL = "sqlite:" + filepath.Join(b.TempDir(), "scimd.db")
			}
			env := map[string]string{"SCIMD_DATABASE": dbURL}
			key := newTenant(b, env, "load")
			// Okta sends a placeholder password with every create; with
			// password sign-in off it is neither hashed nor stored (an
			// argon2id hash per create would measure the hash).
			mustCLI(b, env, "tenants", "set", "load", "--password-signin", "off")
			insts := startInstances(b, bc.instances, dbURL)
			w := newWorkload(key.Basic, insts)
			w.seed(b, 500)
			b.ResetTimer()
			start := time.Now()
			b.SetParallelism(8) // 16 concurrent clients on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
				for pb.Next() {
					if err := w.request(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// workload is the state of a mixed workload: the users created so far.
type workload struct {
	basic  string
	bases  []string
	client *http.Client
	next   atomic.Int64 // round-robin over the instances
	seq    atomic.Int64 // for new userNames

	mu    sync.RWMutex
	users []loadUser
}

type loadUser struct{ id, userName string }

func newWorkload(basic string, insts []*instance) *workload {
	w := &workload{basic: basic, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}}
	for _, in := range insts {
		w.bases = append(w.bases, in.url+"/t/load/scim/v2")
	}
	return w
}

func (w *workload) seed(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		if err := w.create(r); err != nil {
			b.Fatal(err)
		}
	}
}

// The mix, out of 100 requests.
const (
	mixLookup = 40 // GET /Users?filter=userName eq "…"
	mixCreate = 15 // POST /Users
	mixGet    = 20 // GET /Users/{id}
	mixPatch  = 10 // PATCH active false/true
	mixPut    = 15 // PUT profile update
)

func (w *workload) request(r *rand.Rand) error {
	n := r.IntN(100)
	switch {
	case n < mixCreate:
		return w.create(r)
	}
	u := w.pick(r)
	switch n -= mixCreate; {
	case n < mixLookup:
		return w.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ToUpper(u.userName)+`"`), "", 200)
	case n < mixLookup+mixGet:
		return w.do("GET", "/Users/"+u.id, "", 200)
	case n < mixLookup+mixGet+mixPatch:
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%v}}]}`, r.IntN(2) == 0)
		return w.do("PATCH", "/Users/"+u.id, body, 200)
	default:
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"active":true,
			"name":{"givenName":"Given%d","familyName":"Family%d"},"title":"Title %d",
			"emails":[{"value":%q,"type":"work","primary":true}]}`, u.userName, r.IntN(1000), r.IntN(1000), r.IntN(50), u.userName)
		return w.do("PUT", "/Users/"+u.id, body, 200)
	}
}

func (w *workload) pick(r *rand.Rand) loadUser {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.users[r.IntN(len(w.users))]
}

func (w *workload) create(r *rand.Rand) error {
	name := fmt.Sprintf("load.user%07d@example.com", w.seq.Add(1))
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"active":true,"password":"Placeholder-1",
		"name":{"givenName":"Load","familyName":"User%d"},"emails":[{"value":%q,"type":"work","primary":true}]}`, name, r.IntN(1000), name)
	resp, err := w.send("POST", "/Users", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var u struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil || resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /Users: %d %v", resp.StatusCode, err)
	}
	w.mu.Lock()
	w.users = append(w.users, loadUser{u.ID, name})
	w.mu.Unlock()
	return nil
}

func (w *workload) send(method, path, body string) (*http.Response, error) {
	base := w.bases[int(w.next.Add(1))%len(w.bases)]
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Basic "+w.basic)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return w.client.Do(req)
}

func (w *workload) do(method, path, body string, want int) error {
	resp, err := w.send(method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return nil
}
