package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// BenchmarkUsersCSV exports a tenant of n users (SCIMD_BENCH_CSV_USERS,
// default 100,000) as CSV through the console, on a SQLite file, and
// reports the peak heap in use while it streams (sampled every 5 ms), so
// that runs at different n show whether memory stays flat.
//
//	SCIMD_BENCH_CSV_USERS=1000000 go test -run '^$' -bench UsersCSV -benchtime 1x -timeout 60m ./internal/console/
func BenchmarkUsersCSV(b *testing.B) {
	n := 100_000
	if s := os.Getenv("SCIMD_BENCH_CSV_USERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	e := newEnvAt(b, filepath.Join(b.TempDir(), "csv.db"))
	start := time.Now()
	const batch = 10_000
	for lo := 0; lo < n; lo += batch {
		us := make([]store.User, min(batch, n-lo))
		for i := range us {
			k := lo + i
			us[i] = store.User{ID: fmt.Sprintf("u-%07d", k), Created: start, Modified: start, Attrs: map[string]any{
				"userName": fmt.Sprintf("user%07d@example.com", k), "displayName": fmt.Sprintf("User %d", k), "externalId": fmt.Sprintf("ext-%07d", k),
				"name":   map[string]any{"givenName": "User", "familyName": fmt.Sprintf("Number%d", k)},
				"emails": []any{map[string]any{"value": fmt.Sprintf("user%07d@example.com", k), "primary": true}}, "active": true}}
		}
		if err := e.db.BulkCreateUsers(context.Background(), e.tenant.ID, us); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d users loaded in %v", n, time.Since(start).Round(time.Millisecond))
	br := e.signedIn("member")
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var bytes int64
	for b.Loop() {
		res, err := br.c.Get(br.base + "/users.csv")
		if err != nil {
			b.Fatal(err)
		}
		bytes, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%d, %v", res.StatusCode, err)
		}
	}
	close(stop)
	<-sampled
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-before-MB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(bytes)/(1<<20), "csv-MB")
	b.ReportMetric(float64(n), "users")
}
