package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// The event log. Every change writes its events with Queue in its own
// transaction, so an event costs one more row in the commit that makes
// the change, and exists exactly when the change does. Event ids are made
// by the database (Dialect.NewEventID), so that a statement can write the
// events of many members at once.
//
// Order: events are read by (tx, seq), and only where
// Dialect.EventVisible holds: where writers commit one at a time (SQLite)
// tx is 0 and seq is the commit order; where they commit concurrently
// (PostgreSQL), tx is the writer's transaction id and an event is visible
// once every transaction that could still write before it has ended (see
// the migration that creates the table).

const (
	eventCols = "e.seq, e.tx, e.id, e.at, e.tenant_id, t.name, e.type, e.resource_type, e.resource_id, e.actor, e.data"
	// sqlScrub leaves only the ids and types of a purged user's events.
	sqlScrubEvents = "UPDATE events SET data = '{\"scrubbed\":true}' WHERE tenant_id = ? AND resource_type = 'User' AND resource_id = ?"
	// sqlScrubActivity empties what a purged user's activity records say
	// of them: the changes, and the detail and query string, which may
	// quote the userName.
	sqlScrubActivity = "UPDATE activity SET changes = '[]', detail = '', query = '' WHERE tenant_id = ? AND resource_id = ?"
	sqlHorizon       = "SELECT tx, seq FROM event_horizon WHERE one = 1"
	sqlSetHorizon    = "INSERT INTO event_horizon (one, tx, seq) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET tx = excluded.tx, seq = excluded.seq"
	// scrubbed is the data of an event whose user was purged.
	scrubbed = `{"scrubbed":true}`
	// maxEventScan is how many events one read looks at when it filters by
	// type: a filter that matches rarely costs a bounded read, and the
	// reader's next cursor moves past what it skipped.
	maxEventScan = 1000
)

// eventSQL are the statements that write events, built once for the
// dialect.
type eventSQL struct {
	insert, insertMembers, memberOfs string
}

func newEventSQL(d Dialect) eventSQL {
	const into = "INSERT INTO events (id, at, tenant_id, type, resource_type, resource_id, actor, data) "
	return eventSQL{
		insert: into + "VALUES (" + d.NewEventID() + ", ?, ?, ?, ?, ?, ?, ?)",
		// insertMembers writes one event per value of a list (each its
		// data), about one group. Arguments: time, tenant, type, group id,
		// actor, the list.
		insertMembers: into + "SELECT " + d.NewEventID() + ", CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), 'Group', CAST(? AS TEXT), CAST(? AS TEXT), x.value FROM " +
			d.Rows("x", "text") + " ORDER BY x.ord",
		// memberOfs writes a group.member_removed event for each group a
		// user or group is a member of. Arguments: time, actor, data, the
		// tenant, the member's id and type.
		memberOfs: into + "SELECT " + d.NewEventID() + ", CAST(? AS BIGINT), m.tenant_id, '" + store.EventGroupMemberRemoved + "', 'Group', g.id, CAST(? AS TEXT), CAST(? AS TEXT) " +
			"FROM group_members m " + d.FixedJoin() + " groups g ON g.seq = m.group_seq WHERE m.tenant_id = ? AND m.member_id = ? AND m.member_type = ? ORDER BY g.seq",
	}
}

// actorJSON is the actor of ctx as the events column keeps it.
func actorJSON(ctx context.Context) string {
	b, _ := json.Marshal(store.ActorFrom(ctx)) // strings only: always encodes
	return string(b)
}

// emit queues one event of the transaction q.
func (s *Store) emit(ctx context.Context, q Querier, tenantID int64, typ, resType, resID string, data []byte) {
	q.Queue(ctx, s.ev.insert, nanos(s.Now()), tenantID, typ, resType, resID, actorJSON(ctx), string(data))
	s.mark(ctx, resType, resID)
}

// memberEvent is one membership change, as emitMembers writes it.
type memberEvent struct {
	id, typ string // the member's id and type
}

// emitMembers queues one event of type typ per member of a group, in one
// statement whatever their number: a 10,000-member replace is 10,000
// rows of one INSERT.
func (s *Store) emitMembers(ctx context.Context, q Querier, tenantID int64, typ, groupID string, ms []memberEvent) {
	if len(ms) == 0 {
		return
	}
	data := make([]string, len(ms))
	for i, m := range ms {
		data[i] = memberData(m.id, m.typ)
	}
	q.Queue(ctx, s.ev.insertMembers, nanos(s.Now()), tenantID, typ, groupID, actorJSON(ctx), s.d.List(data))
	s.mark(ctx, "Group", groupID)
}

// memberData is the data of a membership event (whose resource is the
// group).
func memberData(memberID, memberType string) string {
	b, _ := json.Marshal(map[string]any{"member": map[string]string{"value": memberID, "type": memberType}})
	return string(b)
}

// resourceData is the data of an event about a user or a group: the SCIM
// resource as it is after the change (without members, meta.location or
// the password), and the attribute paths that changed when changed is not
// nil.
func resourceData(rt, core, id string, version int64, created, modified time.Time, attrs map[string]any, doc string, changed []string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resource":{"schemas":["` + core + `"`)
	var exts []string
	for k := range attrs {
		if strings.HasPrefix(k, "urn:") {
			exts = append(exts, k)
		}
	}
	sort.Strings(exts)
	for _, e := range exts {
		b.WriteString(",")
		writeJSONString(&b, e)
	}
	b.WriteString(`],"id":`)
	writeJSONString(&b, id)
	b.WriteString(`,"meta":{"resourceType":"` + rt + `","created":"` + created.UTC().Format(time.RFC3339Nano) +
		`","lastModified":"` + modified.UTC().Format(time.RFC3339Nano) + `","version":"W/\"` + strconv.FormatInt(version, 10) + `\""}`)
	if rest := strings.TrimPrefix(doc, "{"); rest != "}" && rest != doc {
		b.WriteString(",")
		b.WriteString(rest)
	} else {
		b.WriteString("}")
	}
	if changed != nil {
		b.WriteString(`,"changed":`)
		c, _ := json.Marshal(changed)
		b.Write(c)
	}
	b.WriteString("}")
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	c, _ := json.Marshal(s)
	b.Write(c)
}

// changedPaths lists the attribute paths whose values differ between two
// documents (JSON objects as docOf encodes them, keys sorted): top-level
// attributes by name, extension attributes as URN:name.
func changedPaths(oldDoc, newDoc string) []string {
	var o, n map[string]json.RawMessage
	_ = json.Unmarshal([]byte(oldDoc), &o)
	_ = json.Unmarshal([]byte(newDoc), &n)
	out := []string{}
	diff := func(prefix string, o, n map[string]json.RawMessage, deeper bool) {
		keys := make([]string, 0, len(o)+len(n))
		for k := range o {
			keys = append(keys, k)
		}
		for k := range n {
			if _, ok := o[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if bytes.Equal(o[k], n[k]) {
				continue
			}
			if deeper && strings.HasPrefix(k, "urn:") {
				var os, ns map[string]json.RawMessage
				_ = json.Unmarshal(o[k], &os)
				_ = json.Unmarshal(n[k], &ns)
				for _, p := range changedIn(os, ns) {
					out = append(out, k+":"+p)
				}
				continue
			}
			out = append(out, prefix+k)
		}
	}
	diff("", o, n, true)
	return out
}

// changedIn lists the keys whose values differ between two objects.
func changedIn(o, n map[string]json.RawMessage) []string {
	var out []string
	for k, v := range o {
		if !bytes.Equal(v, n[k]) {
			out = append(out, k)
		}
	}
	for k := range n {
		if _, ok := o[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// notifier wakes the long polls of this process after a commit that wrote
// events: each waiter holds the channel of the moment, which the next
// such commit closes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) wake() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// writeRun is what a write learns from its fn: whether it wrote events,
// and the resource of the first (for the pending activity record).
type writeRun struct {
	emitted        bool
	resType, resID string
}

type runKey struct{}

// mark records in the write's run that fn wrote an event about a resource
// ("" when it is not known here).
func (s *Store) mark(ctx context.Context, resType, resID string) {
	if r, ok := ctx.Value(runKey{}).(*writeRun); ok {
		if !r.emitted {
			r.resType, r.resID = resType, resID
		}
		r.emitted = true
	}
}

// EventsNotify returns a channel closed after the next commit of this
// process that writes events.
func (s *Store) EventsNotify() <-chan struct{} { return s.notify.wait() }

// ReadEvents returns the visible events after q.After, in order (see
// store.EventStore).
func (s *Store) ReadEvents(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	limit := q.Limit
	if limit < 1 || limit > 1000 {
		return store.EventPage{}, fmt.Errorf("%s: event limit %d is not between 1 and 1000", s.d.Name(), limit)
	}
	var page store.EventPage
	err := s.b.Read(ctx, func(r Reader) error {
		page = store.EventPage{}
		after := store.EventPosition{}
		if q.After != nil {
			after = *q.After
			var h store.EventPosition
			err := r.QueryRow(ctx, sqlHorizon).Scan(&h.Tx, &h.Seq)
			if err == nil && after.Less(h) {
				return store.ErrEventsExpired
			}
			if err != nil && err != store.ErrNotFound {
				return err
			}
		}
		scan := limit
		if len(q.Types) > 0 {
			scan = maxEventScan
		}
		query := "SELECT " + eventCols + " FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE (e.tx, e.seq) > (?, ?) AND " + s.d.EventVisible("e")
		args := []any{after.Tx, after.Seq}
		switch len(q.TenantIDs) {
		case 0:
		case 1:
			query += " AND e.tenant_id = ?"
			args = append(args, q.TenantIDs[0])
		default:
			query += " AND " + s.d.In("e.tenant_id", "bigint")
			args = append(args, s.d.List(q.TenantIDs))
		}
		query += " ORDER BY e.tx, e.seq LIMIT ?"
		rows, err := r.Query(ctx, query, append(args, scan)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last *store.EventPosition
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			p := e.Position
			last = &p
			if !typeMatches(q.Types, e.Type) {
				continue
			}
			page.Events = append(page.Events, e)
			if len(page.Events) == limit {
				break
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		switch {
		case last != nil:
			page.Next = last
		case q.After != nil:
			a := *q.After
			page.Next = &a
		}
		return nil
	})
	return page, err
}

// typeMatches reports whether typ matches one of the patterns (an exact
// type, or a prefix and '*'); no patterns match everything.
func typeMatches(patterns []string, typ string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(typ, pre) || p == typ {
			return true
		}
	}
	return false
}

func scanEvent(rows Rows) (store.Event, error) {
	var e store.Event
	var at int64
	var actor, data string
	if err := rows.Scan(&e.Position.Seq, &e.Position.Tx, &e.ID, &at, &e.TenantID, &e.Tenant, &e.Type,
		&e.Resource.Type, &e.Resource.ID, &actor, &data); err != nil {
		return e, err
	}
	e.Time = fromNanos(at)
	if err := json.Unmarshal([]byte(actor), &e.Actor); err != nil {
		return e, fmt.Errorf("event %s: corrupt actor: %w", e.ID, err)
	}
	e.Data = json.RawMessage(data)
	return e, nil
}

// EventsHead returns the position of the newest visible event. When none
// is visible because retention deleted them all, it is the horizon: a
// reader that resumes there has missed nothing, and one that resumed
// before it would be told its cursor expired.
func (s *Store) EventsHead(ctx context.Context) (store.EventPosition, error) {
	var p store.EventPosition
	err := s.q.QueryRow(ctx, "SELECT e.tx, e.seq FROM events e WHERE "+s.d.EventVisible("e")+" ORDER BY e.tx DESC, e.seq DESC LIMIT 1").Scan(&p.Tx, &p.Seq)
	if err == store.ErrNotFound {
		err = s.q.QueryRow(ctx, sqlHorizon).Scan(&p.Tx, &p.Seq)
	}
	if err == store.ErrNotFound {
		return store.EventPosition{}, nil
	}
	return p, err
}

// EventsPending counts the committed events that are not visible yet.
func (s *Store) EventsPending(ctx context.Context) (int64, error) {
	var n int64
	err := s.q.QueryRow(ctx, "SELECT count(*) FROM events e WHERE NOT ("+s.d.EventVisible("e")+")").Scan(&n)
	return n, err
}

// PurgeEvents deletes the visible events older than before, from the
// oldest, a thousand to a transaction, and moves the horizon past them.
func (s *Store) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(ctx context.Context, q Querier) error {
			n = 0
			rows, err := q.Query(ctx, "SELECT e.tx, e.seq, e.at FROM events e WHERE "+s.d.EventVisible("e")+" ORDER BY e.tx, e.seq LIMIT 1000")
			if err != nil {
				return err
			}
			var last store.EventPosition
			for rows.Next() {
				var p store.EventPosition
				var at int64
				if err := rows.Scan(&p.Tx, &p.Seq, &at); err != nil {
					rows.Close()
					return err
				}
				if at >= nanos(before) {
					break
				}
				last, n = p, n+1
			}
			rows.Close()
			if err := rows.Err(); err != nil || n == 0 {
				return err
			}
			if _, err := q.Exec(ctx, "DELETE FROM events WHERE (tx, seq) <= (?, ?)", last.Tx, last.Seq); err != nil {
				return err
			}
			_, err = q.Exec(ctx, sqlSetHorizon, last.Tx, last.Seq)
			return err
		})
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// netMembers works out, from the membership rows an update's statements
// inserted and deleted, which members the update added and removed in
// all: a member removed and added back (a PUT that replaces the members
// with the same ones) is neither.
type netMembers struct {
	order []string
	state map[string]*memberState
}

type memberState struct {
	typ            string
	before, after  bool // a member before the update, and after it
	beforeRecorded bool
}

func (n *netMembers) get(id string) *memberState {
	if n.state == nil {
		n.state = map[string]*memberState{}
	}
	st, ok := n.state[id]
	if !ok {
		st = &memberState{}
		n.state[id] = st
		n.order = append(n.order, id)
	}
	return st
}

// added records an insert of ids, of which those in inserted (id → type)
// were not members yet.
func (n *netMembers) added(ids []string, inserted map[string]string) {
	for _, id := range ids {
		st := n.get(id)
		typ, ok := inserted[id]
		if !st.beforeRecorded {
			st.before, st.beforeRecorded = !ok, true
		}
		if ok {
			st.typ = typ
		}
		st.after = true
	}
}

// removed records the deletion of the members in deleted (id → type).
func (n *netMembers) removed(deleted map[string]string, order []string) {
	for _, id := range order {
		st := n.get(id)
		if !st.beforeRecorded {
			st.before, st.beforeRecorded = true, true
		}
		st.typ = deleted[id]
		st.after = false
	}
}

// events returns the members added and removed in all, in the order the
// update first touched them.
func (n *netMembers) events() (added, removed []memberEvent) {
	for _, id := range n.order {
		st := n.state[id]
		switch {
		case st.after && !st.before:
			added = append(added, memberEvent{id, st.typ})
		case st.before && !st.after:
			removed = append(removed, memberEvent{id, st.typ})
		}
	}
	return added, removed
}

// memberRows reads the (member_id, member_type) rows of an INSERT or
// DELETE ... RETURNING, and their ids sorted (RETURNING has no order of
// its own).
func memberRows(rows Rows, err error) (map[string]string, []string, error) {
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	got := map[string]string{}
	var order []string
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			return nil, nil, err
		}
		got[id] = typ
		order = append(order, id)
	}
	slices.Sort(order)
	return got, order, rows.Err()
}
