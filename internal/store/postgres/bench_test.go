package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// Benchmarks, the same as the SQLite backend's (internal/store/sqlite/
// bench_test.go), on the server named by SCIM_TEST_POSTGRES_DSN:
//
//	scripts/with-postgres.sh go test -run '^$' -bench . -benchtime 2s ./internal/store/postgres
//
// The fixtures of 10k and 100k users are built once per process, each in a
// database of its own that TestMain drops.

func TestMain(m *testing.M) {
	code := m.Run()
	ctx := context.Background()
	for _, f := range fixtureDBs {
		f.db.Close()
		if err := pgtest.Drop(ctx, f.name); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

var (
	fixtureMu   sync.Mutex
	fixtureDBs  = map[int]*benchFixture{}
	benchAttrFn = func(i int) map[string]any {
		return map[string]any{
			"userName":    fmt.Sprintf("user%07d@example.com", i),
			"externalId":  fmt.Sprintf("ext-%07d", i),
			"displayName": fmt.Sprintf("User %d", i),
			"active":      true,
			"name":        map[string]any{"givenName": "User", "familyName": fmt.Sprintf("Number%d", i)},
			"title":       []string{"Engineer", "Manager", "Sales"}[i%3],
			"emails": []any{
				map[string]any{"value": fmt.Sprintf("user%07d@example.com", i), "type": "work", "primary": true},
				map[string]any{"value": fmt.Sprintf("user%07d@home.example.org", i), "type": "home"},
			},
			schema.EnterpriseURN: map[string]any{"department": []string{"Engineering", "Sales"}[i%2]},
		}
	}
)

type benchFixture struct {
	db     *DB
	name   string // the database's
	tenant int64
	n      int
}

// fixture returns a database whose tenant "bench" holds n users (and whose
// tenant "other" holds n/10, so the tenant predicate matters).
func fixture(b *testing.B, n int) *benchFixture {
	b.Helper()
	pgtest.ServerDSN(b)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if f := fixtureDBs[n]; f != nil {
		return f
	}
	ctx := context.Background()
	dsn, name, err := pgtest.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	f := &benchFixture{db: db, name: name, n: n}
	fixtureDBs[n] = f
	start := time.Now()
	other, err := db.CreateTenant(ctx, "other")
	if err != nil {
		b.Fatal(err)
	}
	tn, err := db.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	f.tenant = tn.ID
	if err := bulkLoad(ctx, db, other.ID, n/10); err != nil {
		b.Fatal(err)
	}
	if err := bulkLoad(ctx, db, tn.ID, n); err != nil {
		b.Fatal(err)
	}
	// What autovacuum would do soon after a bulk load: statistics for the
	// planner, and the visibility map that index-only scans need.
	if _, err := db.pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("fixture of %d users built in %v", n, time.Since(start).Round(time.Millisecond))
	return f
}

// bulkLoad creates n users, a thousand to a transaction, through the
// same insert code as CreateUser.
func bulkLoad(ctx context.Context, db *DB, tenantID int64, n int) error {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	us := make([]store.User, n)
	for i := range us {
		created := at.Add(time.Duration(i) * time.Second)
		us[i] = store.User{ID: fmt.Sprintf("%d-%08d", tenantID, i), Created: created, Modified: created, Attrs: benchAttrFn(i)}
	}
	return db.BulkCreateUsers(ctx, tenantID, us)
}

func BenchmarkCreateUser(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	tn, err := db.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		now := time.Now()
		if _, err := db.CreateUser(ctx, tn.ID, store.User{ID: fmt.Sprint(i), Created: now, Modified: now, Attrs: benchAttrFn(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCreateUserParallel(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	tn, err := db.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	next := 0
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			now := time.Now()
			if _, err := db.CreateUser(ctx, tn.ID, store.User{ID: fmt.Sprint(i), Created: now, Modified: now, Attrs: benchAttrFn(i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGetUser(b *testing.B) {
	f := fixture(b, 10_000)
	ctx := context.Background()
	for b.Loop() {
		id := fmt.Sprintf("%d-%08d", f.tenant, rand.IntN(f.n))
		if _, err := f.db.User(ctx, f.tenant, id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserNameEq(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			ctx := context.Background()
			for b.Loop() {
				e := &filter.Compare{Path: filter.Path{Attr: "userName"}, Op: filter.Eq,
					Value: fmt.Sprintf("USER%07d@EXAMPLE.COM", rand.IntN(n))}
				p, err := f.db.ListUsers(ctx, f.tenant, store.Query{Filter: e, Count: 100})
				if err != nil || p.Total != 1 {
					b.Fatalf("total %d, err %v", p.Total, err)
				}
			}
		})
	}
}

func BenchmarkEmailTypeValueEq(b *testing.B) {
	f := fixture(b, 100_000)
	ctx := context.Background()
	for b.Loop() {
		e, err := filter.Parse(fmt.Sprintf(`emails[type eq "work"].value eq "user%07d@example.com"`, rand.IntN(f.n)))
		if err != nil {
			b.Fatal(err)
		}
		p, err := f.db.ListUsers(ctx, f.tenant, store.Query{Filter: e, Count: 100})
		if err != nil || p.Total != 1 {
			b.Fatalf("total %d, err %v", p.Total, err)
		}
	}
}

func BenchmarkUpdateUser(b *testing.B) {
	f := fixture(b, 10_000)
	ctx := context.Background()
	for b.Loop() {
		id := fmt.Sprintf("%d-%08d", f.tenant, rand.IntN(f.n))
		_, err := f.db.UpdateUser(ctx, f.tenant, id, func(u *store.User) error {
			u.Attrs["active"] = !u.Attrs["active"].(bool)
			u.Modified = time.Now()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListPage100(b *testing.B) {
	f := fixture(b, 100_000)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		q    store.Query
	}{
		{"first", store.Query{StartIndex: 1, Count: 100}},
		{"deep", store.Query{StartIndex: 90_001, Count: 100}},
		{"count-only", store.Query{Count: 0}},
		{"sortBy=userName/deep", store.Query{StartIndex: 90_001, Count: 100, SortBy: "userName"}},
		{"sortBy=name.familyName/first", store.Query{StartIndex: 1, Count: 100, SortBy: "name.familyName"}},
		{"filter=title/first", store.Query{StartIndex: 1, Count: 100, Filter: &filter.Compare{Path: filter.Path{Attr: "title"}, Op: filter.Eq, Value: "engineer"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				p, err := f.db.ListUsers(ctx, f.tenant, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				if bc.q.Count > 0 && len(p.Users) != bc.q.Count {
					b.Fatalf("%d users", len(p.Users))
				}
			}
		})
	}
}

func BenchmarkCompileFilter(b *testing.B) {
	e, err := filter.Parse(`userName sw "j" and (emails[type eq "work" and value co "@example.com"] or ` +
		schema.EnterpriseURN + `:department eq "Sales") and not (title pr) and meta.lastModified gt "2024-01-01T00:00:00Z"`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := compileFilter(schema.UserType, e, 1); err != nil {
			b.Fatal(err)
		}
	}
}
