package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Observer is told what the DB does, for metrics.
type Observer struct {
	// Retry, when set, is called each time a transaction is run again,
	// with the SQLSTATE of the failure (40001 or 40P01).
	Retry func(sqlstate string)
}

// SetObserver makes o the DB's observer; it may be called at any time.
func (db *DB) SetObserver(o Observer) { db.obs.Store(&o) }

func (db *DB) retried(err error) {
	if o := db.obs.Load(); o != nil && o.Retry != nil {
		o.Retry(sqlState(err))
	}
}

// PoolStats says how often and how long the pool's acquisitions waited for
// a connection, and how many connections it has.
type PoolStats struct {
	Waits        int64
	WaitDuration time.Duration
	InUse, Idle  int
	MaxConns     int
}

// PoolStats returns the pool's statistics.
func (db *DB) PoolStats() PoolStats { return poolStats(db.pool) }

// AuthPoolStats returns those of authentication's own connections.
func (db *DB) AuthPoolStats() PoolStats { return poolStats(db.auth) }

func poolStats(p *pgxpool.Pool) PoolStats {
	s := p.Stat()
	return PoolStats{Waits: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime(),
		InUse: int(s.AcquiredConns()), Idle: int(s.IdleConns()), MaxConns: int(s.MaxConns())}
}
