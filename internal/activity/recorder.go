package activity

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
)

var _ server.ActivityRecorder = (*Recorder)(nil)

// Writer is the store the recorder writes to.
type Writer interface {
	AddActivity(ctx context.Context, as []store.Activity) error
	PurgeActivity(ctx context.Context, before time.Time) (int64, error)
}

// Defaults of Config.
const (
	DefaultQueue     = 8192
	DefaultBatch     = 256
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultLinger is how long the recorder waits for more events before
	// writing a batch.
	DefaultLinger = 100 * time.Millisecond
)

// Config configures a Recorder.
type Config struct {
	Store  Writer
	Logger *slog.Logger
	// Queue bounds the events waiting to be written. When it is full, new
	// events are dropped and counted (Dropped), never waited for.
	Queue int
	// Batch bounds how many events one transaction writes.
	Batch int
	// Linger is how long a batch waits for more events once it has one
	// (default DefaultLinger).
	Linger time.Duration
	// Retention is how long records are kept; 0 means DefaultRetention,
	// a negative value keeps them forever.
	Retention time.Duration
	// PurgeEvery is how often old records are purged (default: hourly).
	PurgeEvery time.Duration
	Now        func() time.Time
}

// Recorder is a server.ActivityRecorder that writes in the background.
//
// A request that changed something is never lost: the store wrote its
// record with the change (store.PendingActivity), and the recorder only
// completes it (the changes, the final status). What can be lost is the
// rest: reads and failed requests still queued when the process is killed
// (usually the last few milliseconds of them), those dropped because the
// queue was full (counted by Dropped and logged), and batches the store
// failed to write (counted by Failed and logged); a change whose full
// record is lost so keeps a record that says so. SCIM requests never wait
// for, or fail because of, the activity log.
type Recorder struct {
	cfg     Config
	queue   chan server.ActivityEvent
	quit    chan struct{}
	flushMu sync.Mutex // held while a batch is written
	done    sync.WaitGroup
	once    sync.Once

	written, dropped, failed atomic.Int64
	lastDropLog              atomic.Int64
}

// New starts a Recorder. Close stops it after writing what is queued.
func New(cfg Config) *Recorder {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Linger <= 0 {
		cfg.Linger = DefaultLinger
	}
	if cfg.PurgeEvery <= 0 {
		cfg.PurgeEvery = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Recorder{cfg: cfg, queue: make(chan server.ActivityEvent, cfg.Queue), quit: make(chan struct{})}
	r.done.Add(2)
	go r.drain()
	go r.purgeLoop()
	return r
}

// Record queues e; it never blocks.
func (r *Recorder) Record(_ context.Context, e server.ActivityEvent) {
	if e.Tenant.ID == 0 {
		return // no such tenant: nobody to show it to
	}
	select {
	case r.queue <- e:
	default:
		n := r.dropped.Add(1)
		now := r.cfg.Now().Unix()
		if last := r.lastDropLog.Load(); now > last && r.lastDropLog.CompareAndSwap(last, now) {
			r.cfg.Logger.Warn("activity queue full: dropping activity records", "dropped_total", n)
		}
	}
}

// Written, Dropped and Failed count the events stored, dropped because the
// queue was full, and lost because the store failed.
func (r *Recorder) Written() int64 { return r.written.Load() }
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }
func (r *Recorder) Failed() int64  { return r.failed.Load() }

// Queued is the number of events waiting to be written.
func (r *Recorder) Queued() int { return len(r.queue) }

// Flush waits until the events queued before the call are written (for
// tests and shutdown).
func (r *Recorder) Flush() {
	for len(r.queue) > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	r.flushMu.Lock() // the batch in flight, if any, is done
	r.flushMu.Unlock()
}

// Close writes what is queued and stops the recorder.
func (r *Recorder) Close() {
	r.once.Do(func() {
		close(r.quit)
		r.done.Wait()
	})
}

func (r *Recorder) drain() {
	defer r.done.Done()
	batch := make([]server.ActivityEvent, 0, r.cfg.Batch)
	for {
		select {
		case e := <-r.queue:
			r.flushMu.Lock()
			batch = append(batch[:0], e)
			// Linger so that a burst of SCIM writes becomes one activity
			// insert rather than one commit each: activity then costs the
			// SCIM writer a commit every Linger at most.
			linger := time.NewTimer(r.cfg.Linger)
		fill:
			for len(batch) < r.cfg.Batch {
				select {
				case e := <-r.queue:
					batch = append(batch, e)
				case <-linger.C:
					break fill
				case <-r.quit:
					break fill
				}
			}
			linger.Stop()
			r.write(batch)
			r.flushMu.Unlock()
		case <-r.quit:
			for {
				batch = batch[:0]
				for len(batch) < r.cfg.Batch && len(r.queue) > 0 {
					batch = append(batch, <-r.queue)
				}
				if len(batch) == 0 {
					return
				}
				r.write(batch)
			}
		}
	}
}

func (r *Recorder) write(batch []server.ActivityEvent) {
	recs := make([]store.Activity, len(batch))
	for i, e := range batch {
		recs[i] = toRecord(e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.cfg.Store.AddActivity(ctx, recs); err != nil {
		r.failed.Add(int64(len(recs)))
		r.cfg.Logger.Error("writing activity records failed", "records", len(recs), "err", err)
		return
	}
	r.written.Add(int64(len(recs)))
}

func (r *Recorder) purgeLoop() {
	defer r.done.Done()
	if r.cfg.Retention < 0 {
		return
	}
	t := time.NewTicker(r.cfg.PurgeEvery)
	defer t.Stop()
	for {
		r.Purge()
		select {
		case <-t.C:
		case <-r.quit:
			return
		}
	}
}

// Purge deletes the records older than the retention period now.
func (r *Recorder) Purge() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := r.cfg.Store.PurgeActivity(ctx, r.cfg.Now().Add(-r.cfg.Retention))
	if err != nil {
		r.cfg.Logger.Error("purging old activity failed", "err", err)
		return
	}
	if n > 0 {
		r.cfg.Logger.Info("purged old activity records", "records", n, "retention", r.cfg.Retention.String())
	}
}

func toRecord(e server.ActivityEvent) store.Activity {
	return store.Activity{
		ID:       e.StoredID,
		TenantID: e.Tenant.ID, Time: e.Time, RequestID: e.RequestID, KeyID: e.KeyID,
		Client: scim.ClientOf(e.UserAgent), UserAgent: scim.Cut(e.UserAgent, 256), Method: e.Method, Path: scim.Cut(e.Path, 512),
		ResourceType: e.ResourceType, ResourceID: scim.Cut(e.ResourceID, 128), Status: e.Status,
		ScimType: e.ScimType, Detail: e.Detail, Query: e.Query,
		Changes: append(Diff(e.Before, e.After), notes(e.Notes)...),
	}
}

// notes are an event's notes as entries of its changes, under the name
// "(leniency)", so that the activity log shows them beside the diff.
func notes(ns []string) []store.Change {
	var out []store.Change
	for _, n := range ns {
		out = append(out, store.Change{Attr: "(leniency)", New: n})
	}
	return out
}
