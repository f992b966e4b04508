// Package events is how the event log looks to the host application: the
// JSON of an event, shared by the events API, webhooks and SETs, the
// opaque cursor that marks a place in the log, and the background job
// that applies the retention period.
package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// DefaultRetention is how long events are kept unless configured.
const DefaultRetention = 30 * 24 * time.Hour

// JSON is an event as the host application receives it.
type JSON struct {
	ID       string              `json:"id"`
	Type     string              `json:"type"`
	Tenant   string              `json:"tenant"`
	Time     string              `json:"time"` // RFC 3339, UTC, with nanoseconds
	Resource store.EventResource `json:"resource"`
	Actor    store.Actor         `json:"actor"`
	// Cursor is the event's place in the log: reading after it resumes
	// right after this event.
	Cursor string          `json:"cursor"`
	Data   json.RawMessage `json:"data"`
}

// Public returns e as the host application receives it.
func Public(e store.Event) JSON {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	return JSON{
		ID: e.ID, Type: e.Type, Tenant: e.Tenant, Time: e.Time.UTC().Format(time.RFC3339Nano),
		Resource: e.Resource, Actor: e.Actor, Cursor: Cursor(e.Position), Data: data,
	}
}

// Cursor encodes a position in the log. Cursors are opaque to clients:
// only this package reads them.
func Cursor(p store.EventPosition) string {
	return base64.RawURLEncoding.EncodeToString([]byte("e1." + strconv.FormatInt(p.Tx, 10) + "." + strconv.FormatInt(p.Seq, 10)))
}

// ErrBadCursor is returned by ParseCursor for a cursor it did not make.
var ErrBadCursor = errors.New("not a cursor of this event log")

// ParseCursor decodes a cursor made by Cursor.
func ParseCursor(s string) (store.EventPosition, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 64 {
		return store.EventPosition{}, ErrBadCursor
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 || parts[0] != "e1" {
		return store.EventPosition{}, ErrBadCursor
	}
	tx, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || tx < 0 || seq < 0 {
		return store.EventPosition{}, ErrBadCursor
	}
	return store.EventPosition{Tx: tx, Seq: seq}, nil
}

// Retain deletes the events older than retention now and then every
// interval until ctx ends; a negative retention keeps them forever.
func Retain(ctx context.Context, st store.EventStore, retention, interval time.Duration, log *slog.Logger) {
	if retention < 0 {
		return
	}
	if retention == 0 {
		retention = DefaultRetention
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := st.PurgeEvents(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("purging old events failed", "err", err)
		case n > 0:
			log.Info("purged old events", "events", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
