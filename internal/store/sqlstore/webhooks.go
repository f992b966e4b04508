package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
)

var _ store.WebhookStore = (*Store)(nil)

// Webhook endpoints (the tables of SQLite's 0009_webhooks.sql and
// PostgreSQL's 0008_webhooks.sql). An endpoint's row is also its delivery
// state and its lease:
//
//   - LeaseWebhook is one conditional UPDATE: it sets the holder only where
//     there is none, the holder is the same, or the lease has expired. On
//     PostgreSQL a second instance's UPDATE of the row waits for the
//     first's and re-checks the condition on the row the first left, so
//     two instances never both hold the lease.
//   - RecordWebhook writes the delivery's progress only where the holder
//     still holds the lease (another instance that took it over wins) and
//     the position is the one the delivery started from (an operator's
//     replay wins), so that a restart, a takeover or a replay never moves
//     an endpoint backwards or forwards by mistake.
//   - Attempts are kept per endpoint, the newest store.MaxWebhookAttempts:
//     each insert deletes what falls off the end, by the (endpoint_id, seq)
//     index.

const (
	webhookCols = "id, url, tenants, types, state, state_reason, secret, prev_secret, prev_secret_until, pos_tx, pos_seq, " +
		"attempts, next_attempt, failing_since, last_error, last_success, created, lease_holder, lease_expires, format"
	sqlInsertWebhook = "INSERT INTO webhook_endpoints (" + webhookCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)"
	sqlWebhook       = "SELECT " + webhookCols + " FROM webhook_endpoints WHERE id = ?"
	sqlWebhooks      = "SELECT " + webhookCols + " FROM webhook_endpoints ORDER BY created, id"
	sqlUpdateWebhook = "UPDATE webhook_endpoints SET url = ?, tenants = ?, types = ?, state = ?, state_reason = ?, secret = ?, prev_secret = ?, prev_secret_until = ?, " +
		"pos_tx = ?, pos_seq = ?, attempts = ?, next_attempt = ?, failing_since = ?, last_error = ?, last_success = ? WHERE id = ?"
	sqlDeleteWebhook = "DELETE FROM webhook_endpoints WHERE id = ?"
	sqlLeaseWebhook  = "UPDATE webhook_endpoints SET lease_holder = ?, lease_expires = ? " +
		"WHERE id = ? AND (lease_holder IS NULL OR lease_holder = ? OR lease_expires <= ?)"
	sqlReleaseWebhook = "UPDATE webhook_endpoints SET lease_holder = NULL, lease_expires = NULL WHERE id = ? AND lease_holder = ?"
	sqlWebhookHolder  = "SELECT lease_holder, pos_tx, pos_seq FROM webhook_endpoints WHERE id = ?"
	sqlProgress       = "UPDATE webhook_endpoints SET pos_tx = ?, pos_seq = ?, attempts = ?, next_attempt = ?, failing_since = ?, last_error = ?, " +
		"last_success = coalesce(?, last_success), state = coalesce(?, state), state_reason = coalesce(?, state_reason) " +
		"WHERE id = ? AND lease_holder = ? AND pos_tx = ? AND pos_seq = ?"
	sqlInsertAttempt = "INSERT INTO webhook_deliveries (endpoint_id, at, event_id, event_type, attempt, status, latency, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	// sqlTrimAttempts deletes an endpoint's attempts older than its
	// newest MaxWebhookAttempts.
	sqlTrimAttempts = "DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND seq <= " +
		"(SELECT seq FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)"
	sqlAttempts = "SELECT seq, endpoint_id, at, event_id, event_type, attempt, status, latency, error FROM webhook_deliveries " +
		"WHERE endpoint_id = ? ORDER BY seq DESC LIMIT ?"
)

func scanWebhook(row Row) (store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	var tenants, types string
	var prevUntil, next, failing, success, leaseExp sql.NullInt64
	var holder sql.NullString
	var created int64
	var attempts int64
	if err := row.Scan(&e.ID, &e.URL, &tenants, &types, &e.State, &e.StateReason, &e.Secret, &e.PrevSecret, &prevUntil,
		&e.Position.Tx, &e.Position.Seq, &attempts, &next, &failing, &e.LastError, &success, &created, &holder, &leaseExp, &e.Format); err != nil {
		return store.WebhookEndpoint{}, err
	}
	if err := json.Unmarshal([]byte(tenants), &e.TenantIDs); err != nil {
		return store.WebhookEndpoint{}, fmt.Errorf("webhook %s: corrupt tenants: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(types), &e.Types); err != nil {
		return store.WebhookEndpoint{}, fmt.Errorf("webhook %s: corrupt types: %w", e.ID, err)
	}
	if len(e.TenantIDs) == 0 {
		e.TenantIDs = nil
	}
	if len(e.Types) == 0 {
		e.Types = nil
	}
	if len(e.PrevSecret) == 0 {
		e.PrevSecret = nil
	}
	e.Attempts = int(attempts)
	e.PrevSecretUntil = fromOptNanos(prevUntil)
	e.NextAttempt = fromOptNanos(next)
	e.FailingSince = fromOptNanos(failing)
	e.LastSuccess = fromOptNanos(success)
	e.Created = fromNanos(created)
	e.LeaseHolder = holder.String
	e.LeaseExpires = fromOptNanos(leaseExp)
	return e, nil
}

// jsonList is the JSON array of a list as the endpoint's columns keep it:
// [] for nil.
func jsonList[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // ints and strings: always encodes
	return string(b)
}

func optBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkWebhook refuses what the endpoint's columns cannot hold.
func (s *Store) checkWebhook(e store.WebhookEndpoint) error {
	switch e.State {
	case store.WebhookActive, store.WebhookDisabled, store.WebhookFailing:
	default:
		return fmt.Errorf("%s: webhook %s: invalid state %q", s.d.Name(), e.ID, e.State)
	}
	if len(e.Secret) == 0 {
		return fmt.Errorf("%s: webhook %s: no secret", s.d.Name(), e.ID)
	}
	if e.Format != store.WebhookStandard && e.Format != store.WebhookSET {
		return fmt.Errorf("%s: webhook %s: invalid format %q", s.d.Name(), e.ID, e.Format)
	}
	for _, t := range append([]string{e.ID, e.URL, e.StateReason}, e.Types...) {
		if !storable(t) {
			return fmt.Errorf("%s: webhook %s: text must be valid UTF-8 without NUL characters", s.d.Name(), e.ID)
		}
	}
	return nil
}

// CreateWebhook stores a new endpoint. Returns store.ErrConflict if its
// ID exists.
func (s *Store) CreateWebhook(ctx context.Context, e store.WebhookEndpoint) error {
	if err := s.checkWebhook(e); err != nil {
		return err
	}
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		_, err := q.Exec(ctx, sqlInsertWebhook, e.ID, e.URL, jsonList(e.TenantIDs), jsonList(e.Types), e.State, e.StateReason,
			e.Secret, optBytes(e.PrevSecret), optNanos(e.PrevSecretUntil), e.Position.Tx, e.Position.Seq,
			e.Attempts, optNanos(e.NextAttempt), optNanos(e.FailingSince), clean(e.LastError), optNanos(e.LastSuccess), nanos(e.Created), e.Format)
		return err
	})
}

// Webhook returns an endpoint, or store.ErrNotFound.
func (s *Store) Webhook(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	if !storable(id) {
		return store.WebhookEndpoint{}, store.ErrNotFound
	}
	return scanWebhook(s.q.QueryRow(ctx, sqlWebhook, id))
}

// Webhooks lists every endpoint, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]store.WebhookEndpoint, error) {
	rows, err := s.q.Query(ctx, sqlWebhooks)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.WebhookEndpoint
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateWebhook applies fn to the endpoint, its row locked, and stores
// what fn left of everything but its id, creation time and lease.
func (s *Store) UpdateWebhook(ctx context.Context, id string, fn func(*store.WebhookEndpoint) error) (store.WebhookEndpoint, error) {
	if !storable(id) {
		return store.WebhookEndpoint{}, store.ErrNotFound
	}
	var e store.WebhookEndpoint
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, err := scanWebhook(q.QueryRow(ctx, sqlWebhook+s.d.Lock(ForNoKeyUpdate), id))
		if err != nil {
			return err
		}
		e = cur
		if err := fn(&e); err != nil {
			return err
		}
		e.ID, e.Created, e.LeaseHolder, e.LeaseExpires = cur.ID, cur.Created, cur.LeaseHolder, cur.LeaseExpires
		if err := s.checkWebhook(e); err != nil {
			return err
		}
		_, err = q.Exec(ctx, sqlUpdateWebhook, e.URL, jsonList(e.TenantIDs), jsonList(e.Types), e.State, e.StateReason,
			e.Secret, optBytes(e.PrevSecret), optNanos(e.PrevSecretUntil), e.Position.Tx, e.Position.Seq,
			e.Attempts, optNanos(e.NextAttempt), optNanos(e.FailingSince), clean(e.LastError), optNanos(e.LastSuccess), id)
		return err
	})
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	return e, nil
}

// DeleteWebhook removes an endpoint and its attempts.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	if !storable(id) {
		return store.ErrNotFound
	}
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		return affectedOne(q.Exec(ctx, sqlDeleteWebhook, id))
	})
}

// LeaseWebhook takes or renews the endpoint's lease for holder.
func (s *Store) LeaseWebhook(ctx context.Context, id, holder string, now, until time.Time) (store.WebhookEndpoint, error) {
	if !storable(id) {
		return store.WebhookEndpoint{}, store.ErrNotFound
	}
	if holder == "" || !storable(holder) {
		return store.WebhookEndpoint{}, fmt.Errorf("%s: webhook lease: invalid holder %q", s.d.Name(), holder)
	}
	var e store.WebhookEndpoint
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		n, err := q.Exec(ctx, sqlLeaseWebhook, holder, nanos(until), id, holder, nanos(now))
		if err != nil {
			return err
		}
		if e, err = scanWebhook(q.QueryRow(ctx, sqlWebhook, id)); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrWebhookLease
		}
		return nil
	})
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	return e, nil
}

// ReleaseWebhook ends holder's lease of the endpoint, if it holds it.
func (s *Store) ReleaseWebhook(ctx context.Context, id, holder string) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		_, err := q.Exec(ctx, sqlReleaseWebhook, id, holder)
		return err
	})
}

// RecordWebhook stores an attempt and a delivery's progress (see
// store.WebhookStore).
func (s *Store) RecordWebhook(ctx context.Context, id, holder string, from store.EventPosition, a *store.WebhookAttempt, p store.WebhookProgress) error {
	if p.State != "" && p.State != store.WebhookFailing && p.State != store.WebhookDisabled {
		return fmt.Errorf("%s: webhook %s: a delivery cannot set state %q", s.d.Name(), id, p.State)
	}
	moved := false
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		moved = false
		var cur sql.NullString
		var pos store.EventPosition
		if err := q.QueryRow(ctx, sqlWebhookHolder+s.d.Lock(ForNoKeyUpdate), id).Scan(&cur, &pos.Tx, &pos.Seq); err != nil {
			return err
		}
		if cur.String != holder {
			return store.ErrWebhookLease
		}
		if a != nil {
			q.Queue(ctx, sqlInsertAttempt, id, nanos(a.Time), clean(a.EventID), clean(a.EventType), a.Attempt, a.Status,
				int64(a.Latency), clean(a.Error))
			q.Queue(ctx, sqlTrimAttempts, id, id, store.MaxWebhookAttempts)
		}
		if pos != from {
			moved = true
			return nil
		}
		var reason any
		if p.State != "" {
			reason = clean(p.StateReason)
		}
		_, err := q.Exec(ctx, sqlProgress, p.Position.Tx, p.Position.Seq, p.Attempts, optNanos(p.NextAttempt), optNanos(p.FailingSince),
			clean(p.LastError), optNanos(p.LastSuccess), optString(p.State), reason, id, holder, from.Tx, from.Seq)
		return err
	})
	if err == nil && moved {
		return store.ErrWebhookMoved
	}
	return err
}

// WebhookAttempts returns an endpoint's last attempts, newest first.
func (s *Store) WebhookAttempts(ctx context.Context, id string, limit int) ([]store.WebhookAttempt, error) {
	if !storable(id) {
		return nil, nil
	}
	if limit < 1 || limit > store.MaxWebhookAttempts {
		limit = store.MaxWebhookAttempts
	}
	rows, err := s.q.Query(ctx, sqlAttempts, id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.WebhookAttempt
	for rows.Next() {
		var a store.WebhookAttempt
		var at, latency, attempt, status int64
		if err := rows.Scan(&a.ID, &a.EndpointID, &at, &a.EventID, &a.EventType, &attempt, &status, &latency, &a.Error); err != nil {
			return nil, err
		}
		a.Time, a.Latency, a.Attempt, a.Status = fromNanos(at), time.Duration(latency), int(attempt), int(status)
		out = append(out, a)
	}
	return out, rows.Err()
}

// WebhookBacklog counts, up to max, the visible events after the
// endpoint's position that are for it. The count stops at max, so that
// its cost is bounded however far behind the endpoint is.
func (s *Store) WebhookBacklog(ctx context.Context, e store.WebhookEndpoint, max int) (int64, error) {
	where := []string{"(e.tx, e.seq) > (?, ?)", s.d.EventVisible("e")}
	args := []any{e.Position.Tx, e.Position.Seq}
	switch len(e.TenantIDs) {
	case 0:
	case 1:
		where = append(where, "e.tenant_id = ?")
		args = append(args, e.TenantIDs[0])
	default:
		where = append(where, s.d.In("e.tenant_id", "bigint"))
		args = append(args, s.d.List(e.TenantIDs))
	}
	if len(e.Types) > 0 {
		var or []string
		for _, p := range e.Types {
			if pre, ok := strings.CutSuffix(p, "*"); ok {
				or = append(or, `e.type LIKE ? ESCAPE '\'`)
				args = append(args, likeEscape.Replace(pre)+"%")
			} else {
				or = append(or, "e.type = ?")
				args = append(args, p)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	var n int64
	err := s.q.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM events e WHERE "+strings.Join(where, " AND ")+" LIMIT ?) AS x",
		append(args, max)...).Scan(&n)
	return n, err
}

// likeEscape escapes the wildcards of a LIKE pattern (with ESCAPE '\').
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EventPositionBefore returns the position of the last visible event
// older than t, reading the log backwards from its end.
func (s *Store) EventPositionBefore(ctx context.Context, t time.Time) (store.EventPosition, error) {
	var p store.EventPosition
	err := s.q.QueryRow(ctx, "SELECT e.tx, e.seq FROM events e WHERE e.at < ? AND "+s.d.EventVisible("e")+
		" ORDER BY e.tx DESC, e.seq DESC LIMIT 1", nanos(t)).Scan(&p.Tx, &p.Seq)
	if err == store.ErrNotFound {
		return store.EventPosition{}, nil
	}
	return p, err
}
