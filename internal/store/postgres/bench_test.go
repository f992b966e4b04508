package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
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
	bench.Close()
	ctx := context.Background()
	for _, name := range benchDBs {
		if err := pgtest.Drop(ctx, name); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// benchDBs are the databases the benchmarks created, dropped by TestMain.
var benchDBs []string

var bench = &storetest.Bench{
	Open: func(b *testing.B) store.Store {
		pgtest.ServerDSN(b)
		ctx := context.Background()
		dsn, name, err := pgtest.Create(ctx)
		if err != nil {
			b.Fatal(err)
		}
		benchDBs = append(benchDBs, name)
		db, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		return db
	},
	Load: func(ctx context.Context, s store.Store, tenantID int64, us []store.User) error {
		return s.(*DB).BulkCreateUsers(ctx, tenantID, us)
	},
	Compile: func(e filter.Expr) error {
		_, err := compileFilter(schema.UserType, e, 1)
		return err
	},
	// What autovacuum would do soon after a bulk load: statistics for the
	// planner, and the visibility map that index-only scans need.
	Settle: func(ctx context.Context, s store.Store) error {
		_, err := s.(*DB).pool.Exec(ctx, "VACUUM ANALYZE")
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
