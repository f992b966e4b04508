package sqlite

import (
	"database/sql"
	"time"
)

// Observer is told what the writer does, for metrics.
type Observer struct {
	// Commit, when set, is called after each COMMIT with the number of
	// write transactions the batch committed together and how long the
	// COMMIT took. It runs on the writer's goroutine: it must be quick.
	Commit func(requests int, d time.Duration)
}

// SetObserver makes o the DB's observer; it may be called at any time.
func (db *DB) SetObserver(o Observer) { db.w.obs.Store(&o) }

// WriteQueueDepth is the number of write transactions waiting for the
// writer to take them.
func (db *DB) WriteQueueDepth() int { return int(db.w.waiting.Load()) }

// ReadPoolStats are the statistics of the read connections' pool; its
// WaitCount and WaitDuration say how often and how long reads waited for
// a connection.
func (db *DB) ReadPoolStats() sql.DBStats { return db.read.Stats() }

// AuthPoolStats are those of authentication's own connections.
func (db *DB) AuthPoolStats() sql.DBStats { return db.auth.Stats() }
