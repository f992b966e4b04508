package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Writes go through one goroutine, the writer, which owns the single write
// connection. It runs the write transactions that callers hand it in
// batches: while one batch commits (an fsync with synchronous=FULL), the
// requests that arrive queue up, and the next batch runs them all inside one
// BEGIN IMMEDIATE ... COMMIT, each inside its own SAVEPOINT. So concurrent
// writers share an fsync (group commit), a request that fails is rolled
// back alone, and no request is acknowledged before the COMMIT that makes
// it durable.

// maxBatch bounds how many requests share one commit.
const maxBatch = 64

// maxHold bounds how long one request may hold the writer, which every
// tenant shares: its statements are interrupted past it, it fails, and
// the others of its batch run again in a new transaction (an interrupted
// write rolls the whole transaction back). No request of scimd comes near
// it: they compute what they write before they reach the writer.
const maxHold = 10 * time.Second

// errHeldTooLong is the error of a request stopped by maxHold.
var errHeldTooLong = errors.New("sqlite: the write was stopped: it held the database writer too long")

// errClosed is returned by writes after Close.
var errClosed = errors.New("sqlite: database is closed")

type writeReq struct {
	ctx   context.Context
	fn    func(context.Context, *sql.Tx) error
	err   error
	panic any // a panic of fn, re-raised in the caller's goroutine
	done  chan struct{}
}

// The savepoint statements.
const (
	sqlSavepoint  = "SAVEPOINT request"
	sqlRelease    = "RELEASE request"
	sqlRollbackTo = "ROLLBACK TO request"
)

type writer struct {
	pool *sql.DB
	ws   *stmtCache
	reqs chan *writeReq // unbuffered: a request is either taken by the writer or not sent
	quit chan struct{}
	done chan struct{}

	// Counters: transactions committed and requests run.
	commits, requests atomic.Int64
	// maxHold is maxHold, shorter in tests.
	maxHold time.Duration
	waiting atomic.Int64             // callers of writeTx not yet taken by the writer
	obs     atomic.Pointer[Observer] // see SetObserver
}

func newWriter(pool *sql.DB, ws *stmtCache) *writer {
	w := &writer{pool: pool, ws: ws, reqs: make(chan *writeReq), quit: make(chan struct{}), done: make(chan struct{}), maxHold: maxHold}
	go w.run()
	return w
}

// close stops the writer once the requests it has taken are done.
func (w *writer) close() {
	close(w.quit)
	<-w.done
}

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE: the write lock is
// held from the start, so reads inside fn see the latest data and nothing
// else writes until the commit) and returns once the transaction is durable
// or has failed. fn's error is returned unchanged, and nothing fn did is
// kept. The caller's going away does not interrupt fn (an interrupted
// statement rolls back the whole batch); ctx is checked before fn starts,
// and fn's statements are interrupted after maxHold. fn must not call the
// store: it runs on the writer's goroutine.
func (db *DB) writeTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	db.w.waiting.Add(1)
	select {
	case db.w.reqs <- r: // the writer counted it out
	case <-ctx.Done():
		db.w.waiting.Add(-1)
		return ctx.Err()
	case <-db.w.quit:
		db.w.waiting.Add(-1)
		return errClosed
	}
	<-r.done // even when ctx ends: fn may be running or committing
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-w.reqs:
			w.waiting.Add(-1)
			batch = append(batch[:0], r)
		case <-w.quit:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-w.reqs:
				w.waiting.Add(-1)
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.runBatch(batch)
		clear(batch)
		w.ws.prepareMissed(context.Background())
	}
}

func (r *writeReq) finish(err error) {
	r.err = err
	close(r.done)
}

func (w *writer) runBatch(batch []*writeReq) {
	ctx := context.Background()
	tx, err := w.pool.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.finish(dbErr(err))
		}
		return
	}
	ok := make([]*writeReq, 0, len(batch))
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.finish(err)
			continue
		}
		if _, err := w.ws.exec(ctx, tx, sqlSavepoint); err != nil {
			w.abort(tx, append(ok, batch[i:]...), err)
			return
		}
		err := r.call(tx, w.maxHold)
		if errors.Is(err, errHeldTooLong) {
			// SQLite may have rolled the whole transaction back: the
			// others run again, in a transaction of their own.
			tx.Rollback()
			r.finish(err)
			w.runBatch(append(ok, batch[i+1:]...))
			return
		}
		if err == nil {
			_, err = w.ws.exec(ctx, tx, sqlRelease)
			if err != nil {
				w.abort(tx, append(ok, batch[i:]...), err)
				return
			}
			ok = append(ok, r)
			continue
		}
		// Undo this request alone. If SQLite has already rolled back the
		// whole transaction (I/O error, disk full), the others fail too.
		if _, rerr := w.ws.exec(ctx, tx, sqlRollbackTo); rerr != nil {
			r.finish(err)
			w.abort(tx, append(ok, batch[i+1:]...), rerr)
			return
		}
		if _, rerr := w.ws.exec(ctx, tx, sqlRelease); rerr != nil {
			r.finish(err)
			w.abort(tx, append(ok, batch[i+1:]...), rerr)
			return
		}
		r.finish(err)
	}
	start := time.Now()
	err = dbErr(tx.Commit())
	w.commits.Add(1)
	w.requests.Add(int64(len(ok)))
	if o := w.obs.Load(); o != nil && o.Commit != nil {
		o.Commit(len(ok), time.Since(start))
	}
	for _, r := range ok {
		r.finish(err)
	}
}

// abort rolls the batch back and fails the requests left in it.
func (w *writer) abort(tx *sql.Tx, rs []*writeReq, err error) {
	tx.Rollback()
	err = fmt.Errorf("sqlite: write transaction aborted: %w", dbErr(err))
	for _, r := range rs {
		r.finish(err)
	}
}

// call runs the request's fn, catching a panic so that the writer survives
// it; the caller's goroutine re-raises it. fn's statements are interrupted
// once it has held the writer for hold (errHeldTooLong).
func (r *writeReq) call(tx *sql.Tx, hold time.Duration) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panic = p
			err = fmt.Errorf("sqlite: panic in write transaction: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), hold)
	defer cancel()
	err = r.fn(ctx, tx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (after %v): %w", errHeldTooLong, hold, err)
	}
	return err
}
