package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// Bench runs the store benchmarks that every backend shares, so that their
// figures compare. A backend's bench_test.go declares one Bench and a
// BenchmarkX function for each method X that calls it.
type Bench struct {
	// Open returns an empty store that stays open until Close.
	Open func(b *testing.B) store.Store
	// Load stores users as CreateUser would, but in as few transactions as
	// the backend likes (sqlstore's BulkCreateUsers).
	Load func(ctx context.Context, s store.Store, tenantID int64, us []store.User) error
	// Settle, when set, runs once a fixture is loaded: what the database
	// would soon do by itself (PostgreSQL: VACUUM ANALYZE).
	Settle func(ctx context.Context, s store.Store) error
	// Compile compiles a filter over users in the backend's dialect, for
	// CompileFilter.
	Compile func(e filter.Expr) error

	mu       sync.Mutex
	fixtures map[int]*BenchFixture
	opened   []store.Store
}

// BenchFixture is a store whose tenant "bench" holds N users made by
// BenchUser (ids BenchUserID(Tenant, i)) and whose tenant "other" holds
// N/10, so that the tenant predicate matters.
type BenchFixture struct {
	Store  store.Store
	Tenant int64
	N      int
}

// BenchUser is the attributes of the ith user of a benchmark fixture.
func BenchUser(i int) map[string]any {
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

// BenchUserID is the id of the ith user of a fixture's tenant.
func BenchUserID(tenantID int64, i int) string { return fmt.Sprintf("%d-%08d", tenantID, i) }

// Fixture returns the fixture of n users, building it on first use (once
// per process).
func (bn *Bench) Fixture(b *testing.B, n int) *BenchFixture {
	b.Helper()
	bn.mu.Lock()
	defer bn.mu.Unlock()
	if f := bn.fixtures[n]; f != nil {
		return f
	}
	ctx := context.Background()
	s := bn.open(b)
	start := time.Now()
	other, err := s.CreateTenant(ctx, "other")
	if err != nil {
		b.Fatal(err)
	}
	tn, err := s.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range []struct {
		id int64
		n  int
	}{{other.ID, n / 10}, {tn.ID, n}} {
		if err := bn.Load(ctx, s, t.id, benchUsers(t.id, t.n)); err != nil {
			b.Fatal(err)
		}
	}
	if bn.Settle != nil {
		if err := bn.Settle(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("fixture of %d users built in %v", n, time.Since(start).Round(time.Millisecond))
	f := &BenchFixture{Store: s, Tenant: tn.ID, N: n}
	if bn.fixtures == nil {
		bn.fixtures = map[int]*BenchFixture{}
	}
	bn.fixtures[n] = f
	return f
}

func (bn *Bench) open(b *testing.B) store.Store {
	s := bn.Open(b)
	bn.opened = append(bn.opened, s)
	return s
}

// Close closes the stores the benchmarks opened.
func (bn *Bench) Close() {
	bn.mu.Lock()
	defer bn.mu.Unlock()
	for _, s := range bn.opened {
		s.Close()
	}
	bn.opened, bn.fixtures = nil, nil
}

func benchUsers(tenantID int64, n int) []store.User {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	us := make([]store.User, n)
	for i := range us {
		created := at.Add(time.Duration(i) * time.Second)
		us[i] = store.User{ID: BenchUserID(tenantID, i), Created: created, Modified: created, Attrs: BenchUser(i)}
	}
	return us
}

// CreateUser creates users one after the other.
func (bn *Bench) CreateUser(b *testing.B) {
	s, tenant := bn.empty(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		now := time.Now()
		if _, err := s.CreateUser(ctx, tenant, store.User{ID: fmt.Sprint(i), Created: now, Modified: now, Attrs: BenchUser(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// CreateUserParallel creates users from 8 goroutines per CPU.
func (bn *Bench) CreateUserParallel(b *testing.B) {
	s, tenant := bn.empty(b)
	ctx := context.Background()
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
			if _, err := s.CreateUser(ctx, tenant, store.User{ID: fmt.Sprint(i), Created: now, Modified: now, Attrs: BenchUser(i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// empty opens an empty store with a tenant "bench".
func (bn *Bench) empty(b *testing.B) (store.Store, int64) {
	bn.mu.Lock()
	s := bn.open(b)
	bn.mu.Unlock()
	tn, err := s.CreateTenant(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	return s, tn.ID
}

// GetUser reads users by id in a tenant of 10,000.
func (bn *Bench) GetUser(b *testing.B) {
	f := bn.Fixture(b, 10_000)
	ctx := context.Background()
	for b.Loop() {
		if _, err := f.Store.User(ctx, f.Tenant, BenchUserID(f.Tenant, rand.IntN(f.N))); err != nil {
			b.Fatal(err)
		}
	}
}

// UserNameEq finds users by userName, as Okta does before every create,
// in tenants of 10,000 and 100,000.
func (bn *Bench) UserNameEq(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			f := bn.Fixture(b, n)
			ctx := context.Background()
			for b.Loop() {
				e := &filter.Compare{Path: filter.Path{Attr: "userName"}, Op: filter.Eq,
					Value: fmt.Sprintf("USER%07d@EXAMPLE.COM", rand.IntN(n))}
				p, err := f.Store.ListUsers(ctx, f.Tenant, store.Query{Filter: e, Count: 100})
				if err != nil || p.Total != 1 {
					b.Fatalf("total %d, err %v", p.Total, err)
				}
			}
		})
	}
}

// EmailTypeValueEq finds users by a work e-mail address.
func (bn *Bench) EmailTypeValueEq(b *testing.B) {
	f := bn.Fixture(b, 100_000)
	ctx := context.Background()
	for b.Loop() {
		e, err := filter.Parse(fmt.Sprintf(`emails[type eq "work"].value eq "user%07d@example.com"`, rand.IntN(f.N)))
		if err != nil {
			b.Fatal(err)
		}
		p, err := f.Store.ListUsers(ctx, f.Tenant, store.Query{Filter: e, Count: 100})
		if err != nil || p.Total != 1 {
			b.Fatalf("total %d, err %v", p.Total, err)
		}
	}
}

// UpdateUser flips users' active flag (a PATCH deactivate or reactivate).
func (bn *Bench) UpdateUser(b *testing.B) {
	f := bn.Fixture(b, 10_000)
	ctx := context.Background()
	for b.Loop() {
		_, err := f.Store.UpdateUser(ctx, f.Tenant, BenchUserID(f.Tenant, rand.IntN(f.N)), func(u *store.User) error {
			u.Attrs["active"] = !u.Attrs["active"].(bool)
			u.Modified = time.Now()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// ListPage100 reads pages of 100 in a tenant of 100,000: first, deep,
// sorted, filtered, and the count alone.
func (bn *Bench) ListPage100(b *testing.B) {
	f := bn.Fixture(b, 100_000)
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
				p, err := f.Store.ListUsers(ctx, f.Tenant, bc.q)
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

// CompileFilter compiles CompileFilterExpr, a filter of many forms, to SQL.
func (bn *Bench) CompileFilter(b *testing.B) {
	e, err := filter.Parse(CompileFilterExpr)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := bn.Compile(e); err != nil {
			b.Fatal(err)
		}
	}
}

// CompileFilterExpr is the filter of the compile benchmark.
const CompileFilterExpr = `userName sw "j" and (emails[type eq "work" and value co "@example.com"] or ` +
	schema.EnterpriseURN + `:department eq "Sales") and not (title pr) and meta.lastModified gt "2024-01-01T00:00:00Z"`

// ReplaceMembers replaces the 10,000 members of a group with 10,000 others
// (a PUT of a large group, or Okta's "Push now"), and back: each
// replacement writes 20,000 membership events in its transaction.
func (bn *Bench) ReplaceMembers(b *testing.B) {
	f := bn.Fixture(b, 100_000)
	ctx := context.Background()
	gs := f.Store.(store.GroupStore)
	sets := [2][]store.Member{}
	for i := range 20_000 {
		sets[i/10_000] = append(sets[i/10_000], store.Member{Value: BenchUserID(f.Tenant, 50_000+i)})
	}
	id := fmt.Sprintf("replace-%d", time.Now().UnixNano())
	at := time.Now()
	if _, err := gs.CreateGroup(ctx, f.Tenant, store.Group{ID: id, Created: at, Modified: at,
		Attrs: map[string]any{"displayName": id}, Members: sets[0]}); err != nil {
		b.Fatal(err)
	}
	i := 1
	for b.Loop() {
		members := sets[i%2]
		i++
		_, err := gs.UpdateGroup(ctx, f.Tenant, id, false, func(*store.Group) ([]store.MemberOp, error) {
			return []store.MemberOp{{Kind: store.RemoveAllMembers}, {Kind: store.AddMembers, Members: members}}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(20_000*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// ReadEvents reads the event log by pages of 1,000 from the oldest, in a
// store of 100,000 users' creation events (wrapping around at the end).
func (bn *Bench) ReadEvents(b *testing.B) {
	f := bn.Fixture(b, 100_000)
	ctx := context.Background()
	var after *store.EventPosition
	read := 0
	for b.Loop() {
		p, err := f.Store.ReadEvents(ctx, store.EventQuery{After: after, Limit: 1000, TenantIDs: []int64{f.Tenant}})
		if err != nil {
			b.Fatal(err)
		}
		read += len(p.Events)
		after = p.Next
		if len(p.Events) < 1000 {
			after = nil
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
