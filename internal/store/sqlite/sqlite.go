package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

var _ store.Store = (*DB)(nil)

// DB is a [store.Store] backed by one SQLite database. It is safe for
// concurrent use.
type DB struct {
	// Store holds every statement; the DB is its backend.
	*sqlstore.Store

	write     *sql.DB // one connection, the writer's; transactions are BEGIN IMMEDIATE
	read      *sql.DB // query-only connections; the same pool as write for ":memory:"
	auth      *sql.DB // query-only connections of authentication (AuthDB); read for ":memory:"
	w         *writer
	ws        *stmtCache // statements of write transactions, prepared at Open
	rs        *stmtCache // statements of reads
	as        *stmtCache // statements of authentication reads
	closeOnce sync.Once
	closeErr  error
}

// busyTimeout is how long a connection waits for a lock held by another
// connection (another process sharing the file, or a checkpoint) before it
// fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// authConns is how many connections authentication reads have to
// themselves (see sqlstore.Backend.AuthDB).
const authConns = 2

// memSeq numbers the in-memory databases of this process.
var memSeq atomic.Int64

func init() {
	// scim_fold(x) is scim.Fold for SQL: filters on attributes whose
	// caseExact is false compare scim_fold(column) with a literal folded in
	// Go, so both sides go through the same function.
	sqlite.MustRegisterDeterministicScalarFunction("scim_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return scim.Fold(v), nil
		case []byte:
			return scim.Fold(string(v)), nil
		default: // NULL and numbers fold to themselves
			return v, nil
		}
	})
}

// Open opens (creating it if needed) the SQLite database at path and brings
// its schema up to date with [Migrate]. A path of ":memory:" opens a fresh
// in-memory database private to this DB; it is served by a single
// connection, so it suits tests and demos, not load.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	db := &DB{}
	if path == ":memory:" {
		name := fmt.Sprintf("file:scimd-mem-%d-%d?mode=memory&cache=shared", os.Getpid(), memSeq.Add(1))
		w, err := openPool(name, "&_txlock=immediate"+pragmas(false), 1)
		if err != nil {
			return nil, err
		}
		db.write, db.read, db.auth = w, w, w
	} else {
		name := "file:" + escapePath(path) + "?"
		w, err := openPool(name, "_txlock=immediate&_pragma=journal_mode(WAL)"+pragmas(true), 1)
		if err != nil {
			return nil, err
		}
		// The writer has set WAL mode (a property of the file) before any
		// reader connects.
		if err := w.PingContext(ctx); err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		db.write = w
		r, err := openPool(name, "_pragma=query_only(1)"+pragmas(false), max(4, runtime.GOMAXPROCS(0)))
		if err != nil {
			w.Close()
			return nil, err
		}
		db.read = r
		a, err := openPool(name, "_pragma=query_only(1)"+pragmas(false), authConns)
		if err != nil {
			w.Close()
			r.Close()
			return nil, err
		}
		db.auth = a
	}
	if _, err := migrate(ctx, db.write); err != nil {
		db.closePools()
		return nil, err
	}
	db.ws = newStmtCache(db.write)
	db.rs = newStmtCache(db.read)
	db.as = newStmtCache(db.auth)
	if err := db.ws.prepareAll(ctx, writeStmts); err != nil {
		db.closePools()
		return nil, err
	}
	db.w = newWriter(db.write, db.ws)
	db.Store = sqlstore.New(backend{db: db})
	return db, nil
}

// writeStmts are the statements write transactions run.
var writeStmts = []string{
	sqlSavepoint, sqlRelease, sqlRollbackTo,
}

// pragmas returns the DSN parameters every connection gets.
func pragmas(writer bool) string {
	s := fmt.Sprintf("&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=temp_store(memory)&_pragma=cache_size(-16000)",
		busyTimeout.Milliseconds())
	if writer {
		// FULL: in WAL mode a commit syncs the WAL, so an acknowledged
		// write survives power loss, not just a crash of the process.
		// journal_size_limit truncates the WAL file back to 64 MiB when a
		// checkpoint resets it, after a burst of writes grew it.
		s += "&_pragma=synchronous(FULL)&_pragma=journal_size_limit(67108864)"
	}
	return s
}

func openPool(name, params string, conns int) (*sql.DB, error) {
	p, err := sql.Open("sqlite", name+params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	p.SetConnMaxLifetime(0)
	p.SetConnMaxIdleTime(0)
	return p, nil
}

// escapePath escapes the characters that would end the file name part of a
// SQLite "file:" URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Close waits for the writes under way, then releases the database. It lets
// SQLite refresh its query planner statistics first (PRAGMA optimize), which
// is cheap. Writes after Close fail; a second Close does nothing.
func (db *DB) Close() error { return db.Store.Close() }

// close is the backend's Close.
func (db *DB) close() error {
	db.closeOnce.Do(func() {
		db.w.close()
		db.ws.close()
		db.rs.close()
		db.as.close()
		_, _ = db.write.Exec("PRAGMA optimize")
		db.closeErr = db.closePools()
	})
	return db.closeErr
}

func (db *DB) closePools() error {
	err := db.write.Close()
	for _, p := range []*sql.DB{db.read, db.auth} {
		if p != nil && p != db.write {
			if rerr := p.Close(); err == nil {
				err = rerr
			}
		}
	}
	return err
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate brings the schema of the SQLite database at path up to date and
// returns the names of the migrations it applied (none when it was current).
// [Open] does the same; Migrate is for a "scimd migrate" command that should
// not start serving.
func Migrate(ctx context.Context, path string) ([]string, error) {
	if path == ":memory:" || path == "" {
		return nil, errors.New("sqlite: migrate needs a database file")
	}
	w, err := openPool("file:"+escapePath(path)+"?", "_txlock=immediate&_pragma=journal_mode(WAL)"+pragmas(true), 1)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return migrate(ctx, w)
}

// migrate applies the embedded migrations the database lacks, each in its
// own IMMEDIATE transaction, so that two processes migrating at once do
// not both apply one.
func migrate(ctx context.Context, w *sql.DB) ([]string, error) { return migrateTo(ctx, w, "") }

// migrateTo is migrate that stops after the migration named last ("": the
// newest); tests use it to build a database as an older scimd left it.
func migrateTo(ctx context.Context, w *sql.DB, last string) ([]string, error) {
	return sqlstore.Migrations{
		Name: "sqlite",
		FS:   migrationFS,
		Applied: func(ctx context.Context) ([]string, error) {
			if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				name    TEXT    PRIMARY KEY,
				applied INTEGER NOT NULL
			) STRICT`); err != nil {
				return nil, err
			}
			rows, err := w.QueryContext(ctx, "SELECT name FROM schema_migrations")
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var names []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					return nil, err
				}
				names = append(names, n)
			}
			return names, rows.Err()
		},
		Apply: func(ctx context.Context, name, body string) (bool, error) { return applyMigration(ctx, w, name, body) },
	}.Run(ctx, last)
}

func applyMigration(ctx context.Context, w *sql.DB, name, body string) (bool, error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE name = ?", name).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (name, applied) VALUES (?, ?)", name, time.Now().UnixNano()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// dbErr translates driver errors into the store's: no rows → ErrNotFound,
// a unique or primary key violation → ErrConflict, a foreign key violation
// (the tenant does not exist) → ErrNotFound.
func dbErr(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return store.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return store.ErrNotFound
		}
	}
	return fmt.Errorf("sqlite: %w", err)
}
