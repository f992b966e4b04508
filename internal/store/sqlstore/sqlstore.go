package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// Reader runs statements that read: in a transaction, or on the database
// outside one. Statements use ? placeholders; a backend whose database
// numbers them ($1, $2, …) rewrites them (see Bind). Errors come back
// already translated: a unique violation is store.ErrConflict, a foreign
// key violation store.ErrNotFound, and a Row with no row store.ErrNotFound.
type Reader interface {
	// Query runs a statement that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row; its Scan
	// returns store.ErrNotFound when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Querier runs the statements of a write transaction.
type Querier interface {
	Reader
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Queue runs a statement whose outcome the caller needs only by the
	// end of the transaction: a backend may send it together with the next
	// statement or with the commit (one round trip for several writes).
	// Its error, if any, is returned by that later call. Outside a
	Queue(ctx context.Context, query string, args ...any)
}

// Row is one row of a query.
type Row interface {
	Scan(dest ...any) error
}

// Rows is the result of a query. Close may be called more than once.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Backend is what a database gives the store: a Dialect, and how
// statements and transactions run on it.
type Backend interface {
	Dialect
	// DB runs reads outside any transaction, each on its own.
	DB() Reader
	// AuthDB runs the reads that authenticate requests (a tenant by name,
	// a key by id) on connections of their own, which no tenant's queries
	// can take: a tenant's slow searches never keep another's requests
	// from being authenticated.
	AuthDB() Reader
	// Read runs fn in a read-only transaction that sees one snapshot of
	// the database, so that a page and its count agree. fn may run more
	// than once.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in a write transaction and commits it. fn's error
	// aborts the transaction and is returned unchanged; nothing fn did is
	// kept. fn may run more than once (a backend may retry a transaction
	// that lost a race), so it must depend only on what it reads through
	// q. ctx is fn's; it may not be cancelled while fn runs.
	Write(ctx context.Context, opts TxOptions, fn func(ctx context.Context, q Querier) error) error
	// Close releases the backend's resources, after the writes under way.
	Close() error
}

// TxOptions are the options of a write transaction.
type TxOptions struct {
	// Serializable asks for SERIALIZABLE isolation where the backend's
	// default is weaker (PostgreSQL); a serialization failure is retried.
	Serializable bool
}

// Store is a [store.Store] over a Backend: every statement of scimd's
// storage, written once.
type Store struct {
	b    Backend
	d    Dialect
	q    Reader // b.DB()
	auth Reader // b.AuthDB()
	// Now is the clock for the times the store sets itself (tenant
	// creation, archiving). Tests may replace it before first use.
	Now func() time.Time

	users  userSQL
	groups groupSQL
	ev     eventSQL
	// notify wakes the event log's long polls after commits that wrote
	// events.
	notify notifier
	// usersList and groupsList are how lists read users and groups.
	usersList, groupsList *lister

	// offsets remembers where pages by offset ended (see offsetCache).
	offsets offsetCache
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.EventStore = (*Store)(nil)
)

// New returns a Store over b.
func New(b Backend) *Store {
	s := &Store{b: b, d: b, q: b.DB(), auth: b.AuthDB(), Now: time.Now, users: newUserSQL(b), groups: newGroupSQL(b), ev: newEventSQL(b)}
	s.usersList = &lister{res: usersRes, cols: s.users.cols, countSQL: sqlTenantUserCnt}
	s.groupsList = &lister{res: groupsRes, cols: s.groups.cols, countSQL: sqlTenantGroupCnt}
	return s
}

// Backend returns the store's backend.
func (s *Store) Backend() Backend { return s.b }

// Close releases the backend.
func (s *Store) Close() error { return s.b.Close() }

// write runs fn in a write transaction with default options. When fn
// wrote events, it also writes the request's pending activity record (see
// store.PendingActivity) in the same transaction, and wakes the event
// log's long polls after the commit.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, q Querier) error) error {
	var run writeRun
	var pendingID int64
	p := store.PendingActivityFrom(ctx)
	err := s.b.Write(context.WithValue(ctx, runKey{}, &run), TxOptions{}, func(ctx context.Context, q Querier) error {
		run, pendingID = writeRun{}, 0 // fn may run more than once
		if err := fn(ctx, q); err != nil {
			return err
		}
		if p != nil && p.ID == 0 && run.emitted {
			var err error
			pendingID, err = s.insertPending(ctx, q, p.Record, run)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if pendingID != 0 {
		p.ID = pendingID
	}
	if run.emitted {
		s.notify.wake()
	}
	return nil
}

// affectedOne turns "no row affected" into store.ErrNotFound.
func affectedOne(n int64, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Times are stored as unix nanoseconds. A zero time.Time (an optional time
// that is unset) is stored as NULL.

func nanos(t time.Time) int64 { return t.UnixNano() }

func optNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromOptNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}
