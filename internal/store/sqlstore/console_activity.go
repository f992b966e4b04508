package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// The console's records of what happened: provisioning activity and failed
// sign-ins (see console.go).

const (
	activityCols = "id, tenant_id, at, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, scim_type, detail, query, changes"
	// sqlAddActivity is the start of a multi-row INSERT; each row is
	// activityRow.
	sqlAddActivity = "INSERT INTO activity (tenant_id, at, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, scim_type, detail, query, changes) VALUES "
	activityRow    = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	activityArgs   = 15 // placeholders of activityRow
	// sqlFinishActivity replaces a pending record by the full one.
	sqlFinishActivity = "UPDATE activity SET status = ?, scim_type = ?, detail = ?, changes = ?, resource_id = ? WHERE tenant_id = ? AND id = ?"
	// sqlCountActivity adds requests and failures to an hour's count of a
	// key and client (see ActivitySummary).
	sqlCountActivity = "INSERT INTO activity_counts (tenant_id, hour, key_id, client, requests, failures) VALUES (?, ?, ?, ?, ?, ?) " +
		"ON CONFLICT (tenant_id, hour, key_id, client) DO UPDATE SET " +
		"requests = activity_counts.requests + excluded.requests, failures = activity_counts.failures + excluded.failures"
	// sqlCountFinishFailure counts the failure of a pending record (which
	// was counted as a request when it was written) whose full record
	// fails, in the hour, key and client of the pending record. It runs
	// before sqlFinishActivity and only while the stored status is not a
	// failure, so that a full record applied twice counts once.
	sqlCountFinishFailure = "INSERT INTO activity_counts (tenant_id, hour, key_id, client, requests, failures) " +
		"SELECT tenant_id, at / " + hourNanos + ", key_id, client, 0, 1 FROM activity WHERE tenant_id = ? AND id = ? AND status < 400 " +
		"ON CONFLICT (tenant_id, hour, key_id, client) DO UPDATE SET failures = activity_counts.failures + 1"
	hourNanos = "3600000000000" // nanoseconds in an hour, as SQL
	// pendingChanges are the changes of a pending record that nothing
	// replaced: the process stopped between the commit and the full
	// record.
	pendingChanges = `[{"attr":"(note)","new":"the change was committed; its details were not recorded (scimd stopped before writing them)"}]`
	// activityChunk is the most records one INSERT writes. A batch is
	// written in chunks of activityChunk records and then of halving sizes
	// (32, 16, …, 1) for the rest, so that there are few distinct
	// statements to prepare, whatever the batch sizes.
	activityChunk = 64
	// purgeChunk is how many records one DELETE of PurgeActivity removes.
	purgeChunk       = 1000
	sqlPurgeChunk    = "DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE at < ? ORDER BY at LIMIT ?)"
	sqlPurgeCounts   = "DELETE FROM activity_counts WHERE hour < ?"
	activityLimit    = 50   // ActivityLog's limit when the query has none
	activityMaxPage  = 1000 // and the most it returns
	sqlLastActivity  = "SELECT " + activityCols + " FROM activity WHERE tenant_id = ? ORDER BY id DESC LIMIT 1"
	sqlLastFailure   = "SELECT " + activityCols + " FROM activity WHERE tenant_id = ? AND " + failedCond + " ORDER BY id DESC LIMIT 1"
	sqlLastChange    = "SELECT " + activityCols + " FROM activity WHERE tenant_id = ? AND " + changeCond + " ORDER BY id DESC LIMIT 1"
	sqlActivityCount = "SELECT key_id, client, sum(requests), sum(failures) FROM activity_counts WHERE tenant_id = ? AND hour >= ? " +
		"GROUP BY key_id, client ORDER BY sum(requests) DESC, key_id, client"
	// failedCond and changeCond are the conditions of the partial indexes
	// activity_failures and activity_changes, spelled as the migrations
	// spell them so that the planners see that the indexes apply.
	failedCond = "status >= 400"
	changeCond = "method IN ('POST', 'PUT', 'PATCH', 'DELETE') AND status < 400 AND path NOT LIKE '%/.search'"
)

// hourOf is the hour of the activity_counts row that counts a record of t.
func hourOf(t time.Time) int64 { return nanos(t) / int64(time.Hour) }

// countKey is a row of activity_counts.
type countKey struct {
	tenantID, hour int64
	keyID, client  string
}

// AddActivity stores activity records atomically, in one write transaction
// (on PostgreSQL its INSERTs are queued and sent with the commit), and
// adds them to the hourly counts of ActivitySummary: one upsert for each
// hour, key and client of the batch. Text that PostgreSQL cannot store
// (invalid UTF-8, NUL characters: a client's User-Agent or a request's
// path may have them) is stored with U+FFFD in their place, rather than
// failing the whole batch.
func (s *Store) AddActivity(ctx context.Context, as []store.Activity) error {
	if len(as) == 0 {
		return nil
	}
	type chunk struct {
		sql  string
		args []any
	}
	var chunks []chunk
	counts := map[countKey][2]int64{} // requests, failures
	// Records that replace a pending one are updates; the pending record
	// was counted when it was written, but not its failure.
	inserts := make([]store.Activity, 0, len(as))
	for _, a := range as {
		if a.ID == 0 {
			inserts = append(inserts, a)
			k := countKey{a.TenantID, hourOf(a.Time), clean(a.KeyID), clean(a.Client)}
			c := counts[k]
			c[0]++
			if a.Status >= 400 {
				c[1]++
			}
			counts[k] = c
			continue
		}
		changes, err := changesJSON(a.Changes)
		if err != nil {
			return err
		}
		if a.Status >= 400 {
			chunks = append(chunks, chunk{sql: sqlCountFinishFailure, args: []any{a.TenantID, a.ID}})
		}
		chunks = append(chunks, chunk{sql: sqlFinishActivity, args: []any{a.Status, clean(a.ScimType), clean(a.Detail), changes,
			clean(a.ResourceID), a.TenantID, a.ID}})
	}
	as = inserts
	for size := activityChunk; len(as) > 0; {
		for size > len(as) {
			size /= 2
		}
		c := chunk{sql: sqlAddActivity + placeholders(size, activityRow), args: make([]any, 0, activityArgs*size)}
		for _, a := range as[:size] {
			changes, err := changesJSON(a.Changes)
			if err != nil {
				return err
			}
			c.args = append(c.args, a.TenantID, nanos(a.Time), clean(a.RequestID), clean(a.KeyID), clean(a.Client), clean(a.UserAgent),
				clean(a.Method), clean(a.Path), clean(a.ResourceType), clean(a.ResourceID), a.Status, clean(a.ScimType), clean(a.Detail),
				clean(a.Query), changes)
		}
		chunks = append(chunks, c)
		as = as[size:]
	}
	// In one order, so that concurrent batches (of several instances)
	// lock the rows they share in the same order and cannot deadlock.
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.tenantID, b.tenantID), cmp.Compare(a.hour, b.hour),
			strings.Compare(a.keyID, b.keyID), strings.Compare(a.client, b.client))
	})
	for _, k := range keys {
		c := counts[k]
		chunks = append(chunks, chunk{sql: sqlCountActivity, args: []any{k.tenantID, k.hour, k.keyID, k.client, c[0], c[1]}})
	}
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		for _, c := range chunks {
			q.Queue(ctx, c.sql, c.args...)
		}
		return nil
	})
}

// changesJSON is the changes column of a record.
func changesJSON(cs []store.Change) (string, error) {
	if cs == nil {
		return "[]", nil
	}
	// json.Marshal writes valid UTF-8, and NUL as \u0000.
	b, err := json.Marshal(cs)
	return string(b), err
}

// insertPending writes a request's pending activity record in the
// transaction of its change, about the resource the change's first event
// named, counts it (see ActivitySummary), and returns its id. Until the
// full record replaces it, it says that the details were not recorded.
func (s *Store) insertPending(ctx context.Context, q Querier, a store.Activity, run writeRun) (int64, error) {
	if a.ResourceID == "" {
		a.ResourceID = run.resID
	}
	if a.ResourceType == "" && (run.resType == store.MemberUser || run.resType == store.MemberGroup) {
		a.ResourceType = run.resType
	}
	var id int64
	err := q.QueryRow(ctx, sqlAddActivity+activityRow+" RETURNING id", a.TenantID, nanos(a.Time), clean(a.RequestID), clean(a.KeyID),
		clean(a.Client), clean(a.UserAgent), clean(a.Method), clean(a.Path), clean(a.ResourceType), clean(a.ResourceID), a.Status,
		clean(a.ScimType), clean(a.Detail), clean(a.Query), pendingChanges).Scan(&id)
	if err != nil {
		return 0, err
	}
	failures := 0
	if a.Status >= 400 {
		failures = 1
	}
	// Last in the change's transaction: the row lock of the count (which
	// the tenant's other writes of the hour share) is held only for the
	// commit.
	q.Queue(ctx, sqlCountActivity, a.TenantID, hourOf(a.Time), clean(a.KeyID), clean(a.Client), 1, failures)
	return id, nil
}

// ActivityLog returns the tenant's activity matching q, newest first, and
// whether older records follow.
func (s *Store) ActivityLog(ctx context.Context, tenantID int64, q store.ActivityQuery) ([]store.Activity, bool, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	// Filter values are cleaned as the records were (see AddActivity).
	if q.ResourceType != "" {
		add("resource_type = ?", clean(q.ResourceType))
	}
	if q.ResourceID != "" {
		add("resource_id = ?", clean(q.ResourceID))
	}
	if q.KeyID != "" {
		add("key_id = ?", clean(q.KeyID))
	}
	if q.Client != "" {
		add("client = ?", clean(q.Client))
	}
	if q.Method != "" {
		add("method = ?", clean(q.Method))
	}
	if q.RequestID != "" {
		add("request_id = ?", clean(q.RequestID))
	}
	// Failures are selected with the condition of the partial index
	// activity_failures, as a constant, so that it can serve them.
	if q.Failed || q.Status >= 4 {
		where = append(where, failedCond)
	}
	if q.Status >= 1 && q.Status <= 5 {
		where = append(where, fmt.Sprintf("status >= %d AND status < %d", q.Status*100, q.Status*100+100))
	}
	if q.Text != "" {
		add(s.d.Instr()+"(path, ?) > 0", clean(q.Text)) // not LIKE: % and _ are no wildcards here
	}
	if q.Before > 0 {
		add("id < ?", q.Before)
	}
	limit := q.Limit
	if limit <= 0 || limit > activityMaxPage {
		limit = activityLimit
	}
	args = append(args, limit+1)
	rows, err := s.q.Query(ctx, "SELECT "+activityCols+" FROM activity WHERE "+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []store.Activity
	for rows.Next() {
		a, err := s.scanActivity(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// scanActivity reads a record of activityCols.
func (s *Store) scanActivity(row Row) (store.Activity, error) {
	var a store.Activity
	var at int64
	var changes string
	if err := row.Scan(&a.ID, &a.TenantID, &at, &a.RequestID, &a.KeyID, &a.Client, &a.UserAgent, &a.Method, &a.Path,
		&a.ResourceType, &a.ResourceID, &a.Status, &a.ScimType, &a.Detail, &a.Query, &changes); err != nil {
		return store.Activity{}, err
	}
	a.Time = fromNanos(at)
	if err := json.Unmarshal([]byte(changes), &a.Changes); err != nil {
		return store.Activity{}, fmt.Errorf("%s: activity %d: corrupt changes: %w", s.d.Name(), a.ID, err)
	}
	return a, nil
}

// ActivitySummary returns the tenant's last request, change and failure,
// each the first entry of an index (activity_tenant, activity_changes,
// activity_failures), and its requests since the hour of since, summed
// from activity_counts: a row per hour, key and client, however many
// requests they count.
func (s *Store) ActivitySummary(ctx context.Context, tenantID int64, since time.Time) (store.ActivitySummary, error) {
	var sum store.ActivitySummary
	err := s.b.Read(ctx, func(r Reader) error {
		sum = store.ActivitySummary{}
		for _, l := range []struct {
			sql string
			to  **store.Activity
		}{{sqlLastActivity, &sum.LastRequest}, {sqlLastChange, &sum.LastChange}, {sqlLastFailure, &sum.LastFailure}} {
			a, err := s.scanActivity(r.QueryRow(ctx, l.sql, tenantID))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			*l.to = &a
		}
		rows, err := r.Query(ctx, sqlActivityCount, tenantID, hourOf(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.ActivityCount
			if err := rows.Scan(&c.KeyID, &c.Client, &c.Requests, &c.Failures); err != nil {
				return err
			}
			sum.Counts = append(sum.Counts, c)
		}
		return rows.Err()
	})
	return sum, err
}

// PurgeActivity deletes the records of every tenant older than before, in
// chunks of purgeChunk, each its own transaction, so that none holds the
// writer (SQLite) or many locks (PostgreSQL) for long, and then the counts
// of the hours that ended before it. Several instances may purge at once:
// each deletes what the others have not.
func (s *Store) PurgeActivity(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(ctx context.Context, q Querier) error {
			var err error
			n, err = q.Exec(ctx, sqlPurgeChunk, nanos(before), purgeChunk)
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		if n < purgeChunk {
			break
		}
	}
	// The counts of a few hours (purged every hour or so): few rows.
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		_, err := q.Exec(ctx, sqlPurgeCounts, hourOf(before))
		return err
	})
	return total, err
}

// Throttle keys are stored as bytes (BLOB, BYTEA): any string is a key,
// and keys are compared byte for byte.
const (
	sqlThrottle = "SELECT failures, last_failure, locked_until FROM signin_throttle WHERE key = ?"
	// sqlLockThrottle returns key's record with its row locked, creating an
	// empty one first if there is none: concurrent updates of a key that
	// had no record queue like the others.
	sqlLockThrottle = "INSERT INTO signin_throttle (key, failures) VALUES (?, 0) " +
		"ON CONFLICT (key) DO UPDATE SET failures = signin_throttle.failures " +
		"RETURNING failures, last_failure, locked_until"
	sqlUpdateThrottle = "UPDATE signin_throttle SET failures = ?, last_failure = ?, locked_until = ? WHERE key = ?"
	sqlClearThrottle  = "DELETE FROM signin_throttle WHERE key = ?"
)

func scanThrottle(row Row, key string) (store.Throttle, error) {
	t := store.Throttle{Key: key}
	var last, locked sql.NullInt64
	if err := row.Scan(&t.Failures, &last, &locked); err != nil {
		return store.Throttle{Key: key}, err
	}
	t.Last, t.LockedUntil = fromOptNanos(last), fromOptNanos(locked)
	return t, nil
}

// Throttle returns key's sign-in failures (zero if none).
func (s *Store) Throttle(ctx context.Context, key string) (store.Throttle, error) {
	t, err := scanThrottle(s.q.QueryRow(ctx, sqlThrottle, []byte(key)), key)
	if errors.Is(err, store.ErrNotFound) {
		return store.Throttle{Key: key}, nil
	}
	return t, err
}

// UpdateThrottle applies fn to key's record, with its row locked inside a
// transaction, and stores it: concurrent failures of one key through any
// instances are all counted. fn may be called more than once.
func (s *Store) UpdateThrottle(ctx context.Context, key string, fn func(*store.Throttle)) (store.Throttle, error) {
	var t store.Throttle
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, err := scanThrottle(q.QueryRow(ctx, sqlLockThrottle, []byte(key)), key)
		if err != nil {
			return err
		}
		t = cur
		fn(&t)
		t.Key = key
		t.Last, t.LockedUntil = storedTime(t.Last), storedTime(t.LockedUntil)
		q.Queue(ctx, sqlUpdateThrottle, t.Failures, optNanos(t.Last), optNanos(t.LockedUntil), []byte(key))
		return nil
	})
	if err != nil {
		return store.Throttle{Key: key}, err
	}
	return t, nil
}

// ClearThrottles forgets the failures of the keys that start with prefix.
// The table holds only recent failures: the scan is small.
func (s *Store) ClearThrottles(ctx context.Context, prefix string) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		n, err = q.Exec(ctx, "DELETE FROM signin_throttle WHERE substr(key, 1, ?) = ?", len(prefix), []byte(prefix))
		return err
	})
	return n, err
}

// ClearThrottle forgets key's failures.
func (s *Store) ClearThrottle(ctx context.Context, key string) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, sqlClearThrottle, []byte(key))
		return nil
	})
}
