package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/storetest"
)

// Benchmarks:
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/store/sqlite
//	go test -run '^$' -bench 'AddMember|RemoveMember|GetGroup100k' -benchtime 2s ./internal/store/sqlite
//	SCIMD_BENCH_STARTINDEX_WALK=1 go test -v -run '^$' -bench ExportUsers -benchtime 2s -timeout 60m ./internal/store/sqlite
//
// The fixtures of 10k and 100k users are built once per process, in one
// transaction each, in a temporary directory that TestMain removes; those
// of the group benchmarks (110k users, groups of 100 and 100,000: about
// 10 s) and of the export (1.1M users: about 40 s) are generated in SQL
// (genUsers). Fixtures are built only by the benchmarks that need them,
// never by plain go test.

func TestMain(m *testing.M) {
	code := m.Run()
	bench.Close()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

var (
	fixtureMu  sync.Mutex
	fixtureDir string
	fixtureSeq int
)

// openFixture opens a new database in fixtureDir, which lives until the
// process ends (a benchmark's TempDir would be removed while later
// benchmarks still use the fixture).
func openFixture(b *testing.B, name string) *DB {
	b.Helper()
	fixtureMu.Lock()
	if fixtureDir == "" {
		d, err := os.MkdirTemp("", "scimd-bench-")
		if err != nil {
			fixtureMu.Unlock()
			b.Fatal(err)
		}
		fixtureDir = d
	}
	fixtureSeq++
	path := filepath.Join(fixtureDir, fmt.Sprintf("%s-%d.db", name, fixtureSeq))
	fixtureMu.Unlock()
	db, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

var bench = &storetest.Bench{
	Open: func(b *testing.B) store.Store { return openFixture(b, "bench") },
	Load: func(ctx context.Context, s store.Store, tenantID int64, us []store.User) error {
		return s.(*DB).BulkCreateUsers(ctx, tenantID, us)
	},
	Compile: func(e filter.Expr) error {
		_, err := compileFilter(schema.UserType, e, 1)
		return err
	},
}

func BenchmarkCreateUser(b *testing.B)         { bench.CreateUser(b) }
func BenchmarkCreateUserParallel(b *testing.B) { bench.CreateUserParallel(b) }
func BenchmarkGetUser(b *testing.B)            { bench.GetUser(b) }
func BenchmarkUserNameEq(b *testing.B)         { bench.UserNameEq(b) }
func BenchmarkEmailTypeValueEq(b *testing.B)   { bench.EmailTypeValueEq(b) }
func BenchmarkUpdateUser(b *testing.B)         { bench.UpdateUser(b) }
func BenchmarkListPage100(b *testing.B)        { bench.ListPage100(b) }
func BenchmarkReplaceMembers(b *testing.B)     { bench.ReplaceMembers(b) }
func BenchmarkReadEvents(b *testing.B)         { bench.ReadEvents(b) }

func BenchmarkCompileFilter(b *testing.B) { bench.CompileFilter(b) }

// genUsers inserts n users of the tenant, numbered from first, with one
// INSERT … SELECT over a recursive CTE: a million users in seconds rather
// than minutes. The documents are like benchAttrFn's; user_emails rows are
// not made (nothing these fixtures serve reads them).
func genUsers(ctx context.Context, db *DB, tenantID int64, first, n int) error {
	const q = `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
	INSERT INTO users (tenant_id, id, version, created, modified, user_name, user_name_fold, external_id, display_name_fold, active,
		given_name_fold, family_name_fold, external_id_fold, doc, password_hash)
	SELECT ?, printf('%d-%08d', ?, i), 1, ? + i * 1000000000, ? + i * 1000000000,
		printf('user%07d@example.com', i), printf('user%07d@example.com', i), printf('ext-%07d', i), printf('user %d', i), 1,
		'user', printf('number%d', i), printf('ext-%07d', i),
		jsonb_object(
			'userName', printf('user%07d@example.com', i),
			'externalId', printf('ext-%07d', i),
			'displayName', printf('User %d', i),
			'active', json('true'),
			'name', json_object('givenName', 'User', 'familyName', printf('Number%d', i)),
			'title', CASE i % 3 WHEN 0 THEN 'Engineer' WHEN 1 THEN 'Manager' ELSE 'Sales' END,
			'emails', json_array(
				json_object('value', printf('user%07d@example.com', i), 'type', 'work', 'primary', json('true')),
				json_object('value', printf('user%07d@home.example.org', i), 'type', 'home')),
			'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', json_object('department', CASE i % 2 WHEN 0 THEN 'Engineering' ELSE 'Sales' END)),
		''
	FROM n`
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	// In transactions of genChunk users, each well within the writer's
	// time limit.
	const genChunk = 25_000
	for lo := first; lo < first+n; lo += genChunk {
		hi := min(lo+genChunk, first+n)
		err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, q, lo, hi, tenantID, tenantID, at, at); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO user_counts (tenant_id, slot, n) VALUES (?, 0, ?) ON CONFLICT (tenant_id, slot) DO UPDATE SET n = user_counts.n + excluded.n", tenantID, hi-lo)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

var (
	groupFixtureOnce sync.Once
	groupFix         *groupFixture
)

// groupFixture is a tenant of 110,000 users with a group of 100 members
// (users 0-99) and one of 100,000 (users 0-99,999); users 100,000 and up
// are members of neither, for adding.
type groupFixture struct {
	db             *DB
	tenant         int64
	g100, g100k    string
	pool, poolSize int
}

func getGroupFixture(b *testing.B) *groupFixture {
	b.Helper()
	groupFixtureOnce.Do(func() {
		ctx := context.Background()
		db := openFixture(b, "groups")
		start := time.Now()
		tn, err := db.CreateTenant(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		const users = 110_000
		if err := genUsers(ctx, db, tn.ID, 0, users); err != nil {
			b.Fatal(err)
		}
		f := &groupFixture{db: db, tenant: tn.ID, g100: "g-100", g100k: "g-100k", pool: 100_000, poolSize: 10_000}
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, g := range []struct {
			id string
			n  int
		}{{f.g100, 100}, {f.g100k, 100_000}} {
			members := make([]store.Member, g.n)
			for i := range members {
				members[i].Value = storetest.BenchUserID(tn.ID, i)
			}
			if _, err := db.CreateGroup(ctx, tn.ID, store.Group{ID: g.id, Created: at, Modified: at,
				Attrs: map[string]any{"displayName": "Group " + g.id}, Members: members}); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("group fixture (%d users, groups of 100 and 100,000) built in %v", users, time.Since(start).Round(time.Millisecond))
		groupFix = f
	})
	if groupFix == nil {
		b.Fatal("group fixture failed")
	}
	return groupFix
}

func memberOp(kind store.MemberOpKind, id string) store.MemberOp {
	if kind == store.AddMembers {
		return store.MemberOp{Kind: kind, Members: []store.Member{{Value: id}}}
	}
	return store.MemberOp{Kind: kind, IDs: []string{id}}
}

func changeMember(b *testing.B, f *groupFixture, group string, kind store.MemberOpKind, id string) {
	_, err := f.db.UpdateGroup(context.Background(), f.tenant, group, false, func(g *store.Group) ([]store.MemberOp, error) {
		g.Modified = time.Now()
		return []store.MemberOp{memberOp(kind, id)}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAddMember adds one member to a group of 100 and to a group of
// 100,000 (PATCH op add, path members); each costs one row. The member is
// removed again with the timer stopped, so the group keeps its size.
func BenchmarkAddMember(b *testing.B) {
	f := getGroupFixture(b)
	for _, g := range []struct{ name, id string }{{"members=100", f.g100}, {"members=100000", f.g100k}} {
		b.Run(g.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				id := storetest.BenchUserID(f.tenant, f.pool+i%f.poolSize)
				changeMember(b, f, g.id, store.AddMembers, id)
				b.StopTimer()
				changeMember(b, f, g.id, store.RemoveMembers, id)
				b.StartTimer()
				i++
			}
		})
	}
}

// BenchmarkRemoveMember removes one member of the group of 100,000 (and
// adds it back with the timer stopped).
func BenchmarkRemoveMember(b *testing.B) {
	f := getGroupFixture(b)
	for _, g := range []struct{ name, id string }{{"members=100", f.g100}, {"members=100000", f.g100k}} {
		b.Run(g.name, func(b *testing.B) {
			n := 100
			if g.id == f.g100k {
				n = 100_000
			}
			for b.Loop() {
				id := storetest.BenchUserID(f.tenant, rand.IntN(n))
				changeMember(b, f, g.id, store.RemoveMembers, id)
				b.StopTimer()
				changeMember(b, f, g.id, store.AddMembers, id)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkGetGroup100k reads the group of 100,000 with its members (each
// with its type and display name) and without (excludedAttributes=members).
func BenchmarkGetGroup100k(b *testing.B) {
	f := getGroupFixture(b)
	ctx := context.Background()
	for _, members := range []bool{true, false} {
		b.Run(fmt.Sprintf("members=%v", members), func(b *testing.B) {
			for b.Loop() {
				g, err := f.db.Group(ctx, f.tenant, f.g100k, members)
				if err != nil {
					b.Fatal(err)
				}
				if members && len(g.Members) != 100_000 {
					b.Fatalf("%d members", len(g.Members))
				}
			}
		})
	}
}

// exportFixture is a database whose tenant holds n users.
type exportFixture struct {
	db     *DB
	tenant int64
	n      int
}

var (
	exportFixtureOnce sync.Once
	exportFix         *exportFixture
)

// getExportFixture returns a database whose tenant "bench" holds 1,000,000
// users (and tenant "other" 100,000, created first).
func getExportFixture(b *testing.B) *exportFixture {
	b.Helper()
	exportFixtureOnce.Do(func() {
		ctx := context.Background()
		db := openFixture(b, "export")
		start := time.Now()
		other, err := db.CreateTenant(ctx, "other")
		if err != nil {
			b.Fatal(err)
		}
		tn, err := db.CreateTenant(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if err := genUsers(ctx, db, other.ID, 0, 100_000); err != nil {
			b.Fatal(err)
		}
		if err := genUsers(ctx, db, tn.ID, 0, 1_000_000); err != nil {
			b.Fatal(err)
		}
		b.Logf("fixture of 1,000,000 users (+100,000) built in %v", time.Since(start).Round(time.Millisecond))
		exportFix = &exportFixture{db: db, tenant: tn.ID, n: 1_000_000}
	})
	if exportFix == nil {
		b.Fatal("export fixture failed")
	}
	return exportFix
}

// BenchmarkExportUsers reads a tenant of 1,000,000 users in pages of 1,000
// (an IdP's import): one page at the start, in the middle and near the end,
// by cursor and by startIndex (a page requested out of the blue, so
// OFFSET walks the index up to it: the offset cache is emptied before each);
// and the whole tenant (walk: one op is
// 1,000 pages; ns/page is reported) by cursor and by startIndex.
func BenchmarkExportUsers(b *testing.B) {
	f := getExportFixture(b)
	ctx := context.Background()
	const page = 1000
	// position returns the cursor of the user before the given depth in
	// the order of sortBy.
	position := func(sortBy string, depth int) *store.Position {
		if depth == 0 {
			return nil
		}
		p, err := f.db.ListUsers(ctx, f.tenant, store.Query{SortBy: sortBy, StartIndex: depth, Count: 1})
		if err != nil || len(p.Users) != 1 {
			b.Fatalf("position at %d: %v", depth, err)
		}
		var seq int64
		if err := f.db.read.QueryRowContext(ctx, "SELECT seq FROM users WHERE tenant_id = ? AND id = ?", f.tenant, p.Users[0].ID).Scan(&seq); err != nil {
			b.Fatal(err)
		}
		pos := &store.Position{Seq: seq}
		if sortBy == "userName" {
			pos.Key = p.Users[0].Attrs["userName"] // ASCII: folded is itself
		}
		return pos
	}
	for _, sortBy := range []string{"", "userName"} {
		for _, depth := range []int{0, 500_000, 990_000} {
			name := fmt.Sprintf("sortBy=%s/page-at=%d", sortBy, depth)
			if sortBy == "" {
				name = fmt.Sprintf("page-at=%d", depth)
			}
			after := position(sortBy, depth)
			b.Run("cursor/"+name, func(b *testing.B) {
				for b.Loop() {
					p, err := f.db.ListUsers(ctx, f.tenant, store.Query{SortBy: sortBy, Cursor: true, After: after, Count: page})
					if err != nil || len(p.Users) != page || p.Total != f.n {
						b.Fatalf("%d users, total %d, err %v", len(p.Users), p.Total, err)
					}
				}
			})
			b.Run("startIndex/"+name, func(b *testing.B) {
				for b.Loop() {
					f.db.ForgetOffsets() // a page out of the blue: OFFSET
					p, err := f.db.ListUsers(ctx, f.tenant, store.Query{SortBy: sortBy, StartIndex: depth + 1, Count: page})
					if err != nil || len(p.Users) != page || p.Total != f.n {
						b.Fatalf("%d users, total %d, err %v", len(p.Users), p.Total, err)
					}
				}
			})
		}
	}
	b.Run("cursor/walk", func(b *testing.B) {
		pages := 0
		for b.Loop() {
			q := store.Query{Cursor: true, Count: page}
			n := 0
			for {
				p, err := f.db.ListUsers(ctx, f.tenant, q)
				if err != nil {
					b.Fatal(err)
				}
				n += len(p.Users)
				pages++
				if p.Next == nil {
					break
				}
				q.After = p.Next
			}
			if n != f.n {
				b.Fatalf("walked %d users", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pages), "ns/page")
	})
	// By startIndex, the offset cache turns a sequential walk into keyset
	// pages; without it (uncached: every page an OFFSET), the walk is
	// quadratic and runs only with SCIMD_BENCH_STARTINDEX_WALK=1.
	for _, cached := range []bool{true, false} {
		name := "startIndex/walk"
		if !cached {
			name += "-uncached"
		}
		b.Run(name, func(b *testing.B) {
			if !cached && os.Getenv("SCIMD_BENCH_STARTINDEX_WALK") == "" {
				b.Skip("quadratic; set SCIMD_BENCH_STARTINDEX_WALK=1")
			}
			pages := 0
			for b.Loop() {
				n := 0
				for start := 1; start <= f.n; start += page {
					if !cached {
						f.db.ForgetOffsets()
					}
					p, err := f.db.ListUsers(ctx, f.tenant, store.Query{StartIndex: start, Count: page})
					if err != nil {
						b.Fatal(err)
					}
					n += len(p.Users)
					pages++
				}
				if n != f.n {
					b.Fatalf("walked %d users", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pages), "ns/page")
		})
	}
}
