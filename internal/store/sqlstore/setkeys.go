package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimd/scimd/internal/store"
)

var _ store.SETStore = (*Store)(nil)

// The storage of Security Event Tokens (the tables of SQLite's
// 0010_set_keys.sql and PostgreSQL's 0009_set_keys.sql):
//
//   - set_keys holds the signing keys. The one that signs has signing = 1,
//     a unique column, so that two instances creating the first key at
//     once, or two rotations racing, cannot both leave a signing key: the
//     loser gets store.ErrConflict.
//   - set_pollers holds each poller's floor, set_acks its acknowledgements
//     after the floor. A floor only ever moves forward (the UPDATE compares
//     positions), so two instances answering polls of one poller at once
//     need no lock: each moves it to a position below which everything was
//     acknowledged, and the greater wins.

const (
	setKeyCols       = "id, algorithm, public_key, sealed, created, signing, retired, published_until"
	sqlInsertSETKey  = "INSERT INTO set_keys (" + setKeyCols + ") VALUES (?, ?, ?, ?, ?, 1, NULL, NULL)"
	sqlRetireSETKey  = "UPDATE set_keys SET signing = NULL, retired = ?, published_until = ? WHERE signing = 1"
	sqlExpireSETKeys = "DELETE FROM set_keys WHERE signing IS NULL AND published_until <= ?"
	sqlSETKeys       = "SELECT " + setKeyCols + " FROM set_keys ORDER BY created DESC, id DESC"

	sqlSETPoller       = "SELECT tx, seq FROM set_pollers WHERE id = ?"
	sqlSETPollerAcks   = "SELECT tx, seq FROM set_acks WHERE poller = ? AND (tx, seq) > (?, ?) ORDER BY tx, seq LIMIT ?"
	sqlInsertSETPoller = "INSERT INTO set_pollers (id, tx, seq, created) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
	sqlMoveSETPoller   = "UPDATE set_pollers SET tx = ?, seq = ? WHERE id = ? AND (tx, seq) < (?, ?)"
	sqlResetSETPoller  = "UPDATE set_pollers SET tx = ?, seq = ? WHERE id = ?"
	sqlForgetSETAcks   = "DELETE FROM set_acks WHERE poller = ? AND (tx, seq) <= (?, ?)"
	sqlClearSETAcks    = "DELETE FROM set_acks WHERE poller = ?"
	sqlCountSETAcks    = "SELECT count(*) FROM set_acks WHERE poller = ?"
	sqlInsertSETAck    = "INSERT INTO set_acks (poller, tx, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)

// AddSETKey stores k as the signing key (see store.SETStore).
func (s *Store) AddSETKey(ctx context.Context, k store.SETKey, rotate bool, publishUntil time.Time) error {
	if k.ID == "" || !storable(k.ID) || !storable(k.Algorithm) || len(k.Public) == 0 || len(k.Sealed) == 0 {
		return fmt.Errorf("%s: a signing key needs an id, an algorithm, a public and a sealed private key", s.d.Name())
	}
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		if rotate {
			if _, err := q.Exec(ctx, sqlExpireSETKeys, nanos(k.Created)); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, sqlRetireSETKey, nanos(k.Created), nanos(publishUntil)); err != nil {
				return err
			}
		}
		_, err := q.Exec(ctx, sqlInsertSETKey, k.ID, k.Algorithm, k.Public, k.Sealed, nanos(k.Created))
		return err
	})
}

// SETKeys lists the signing keys, newest first.
func (s *Store) SETKeys(ctx context.Context) ([]store.SETKey, error) {
	rows, err := s.q.Query(ctx, sqlSETKeys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ks []store.SETKey
	for rows.Next() {
		var k store.SETKey
		var created int64
		var signing, retired, until sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Public, &k.Sealed, &created, &signing, &retired, &until); err != nil {
			return nil, err
		}
		k.Created, k.Signing = fromNanos(created), signing.Valid
		k.Retired, k.PublishedUntil = fromOptNanos(retired), fromOptNanos(until)
		ks = append(ks, k)
	}
	return ks, rows.Err()
}

// horizon returns the position of the newest event retention deleted (the
// zero position when none was): where a new reader starts.
func horizon(ctx context.Context, r Reader) (store.EventPosition, error) {
	var h store.EventPosition
	err := r.QueryRow(ctx, sqlHorizon).Scan(&h.Tx, &h.Seq)
	if errors.Is(err, store.ErrNotFound) {
		return store.EventPosition{}, nil
	}
	return h, err
}

// SETPoller returns a poller, creating it at the horizon if it is new.
func (s *Store) SETPoller(ctx context.Context, id string) (store.SETPoller, error) {
	if id == "" || !storable(id) {
		return store.SETPoller{}, fmt.Errorf("%s: poller id %q cannot be stored", s.d.Name(), id)
	}
	for range 2 {
		var p store.SETPoller
		err := s.b.Read(ctx, func(r Reader) error {
			p = store.SETPoller{ID: id}
			if err := r.QueryRow(ctx, sqlSETPoller, id).Scan(&p.Floor.Tx, &p.Floor.Seq); err != nil {
				return err
			}
			rows, err := r.Query(ctx, sqlSETPollerAcks, id, p.Floor.Tx, p.Floor.Seq, store.MaxSETAcks)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var a store.EventPosition
				if err := rows.Scan(&a.Tx, &a.Seq); err != nil {
					return err
				}
				p.Acked = append(p.Acked, a)
			}
			return rows.Err()
		})
		if !errors.Is(err, store.ErrNotFound) {
			return p, err
		}
		err = s.write(ctx, func(ctx context.Context, q Querier) error {
			h, err := horizon(ctx, q)
			if err != nil {
				return err
			}
			_, err = q.Exec(ctx, sqlInsertSETPoller, id, h.Tx, h.Seq, nanos(s.Now()))
			return err
		})
		if err != nil {
			return store.SETPoller{}, err
		}
	}
	return store.SETPoller{}, fmt.Errorf("%s: poller %q vanished as it was created", s.d.Name(), id)
}

// AckSETs moves a poller's floor forward and records its acknowledgements
// after it (see store.SETStore).
func (s *Store) AckSETs(ctx context.Context, id string, floor store.EventPosition, acked []store.EventPosition) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, sqlInsertSETPoller, id, floor.Tx, floor.Seq, nanos(s.Now())); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, sqlMoveSETPoller, floor.Tx, floor.Seq, id, floor.Tx, floor.Seq); err != nil {
			return err
		}
		var cur store.EventPosition
		if err := q.QueryRow(ctx, sqlSETPoller, id).Scan(&cur.Tx, &cur.Seq); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, sqlForgetSETAcks, id, cur.Tx, cur.Seq); err != nil {
			return err
		}
		var n int
		if err := q.QueryRow(ctx, sqlCountSETAcks, id).Scan(&n); err != nil {
			return err
		}
		for _, a := range acked {
			if n >= store.MaxSETAcks {
				break
			}
			if !cur.Less(a) {
				continue
			}
			added, err := q.Exec(ctx, sqlInsertSETAck, id, a.Tx, a.Seq)
			if err != nil {
				return err
			}
			n += int(added)
		}
		return nil
	})
}

// ResetSETPoller moves a poller to the horizon and forgets its
// acknowledgements.
func (s *Store) ResetSETPoller(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		h, err := horizon(ctx, q)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, sqlInsertSETPoller, id, h.Tx, h.Seq, nanos(s.Now())); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, sqlResetSETPoller, h.Tx, h.Seq, id); err != nil {
			return err
		}
		_, err = q.Exec(ctx, sqlClearSETAcks, id)
		return err
	})
}
