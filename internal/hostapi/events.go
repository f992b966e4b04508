package hostapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
)

// eventsPage is the answer of GET /api/v1/events.
type eventsPage struct {
	Events     []events.JSON `json:"events"`
	NextCursor string        `json:"next_cursor"`
}

// expired is the answer to a cursor older than the retention period.
var expired = errorf(http.StatusGone, codeCursorExpired,
	"events after this cursor have passed the retention period and were deleted: resync. For each tenant, page through "+
		"GET /api/v1/tenants/{tenant}/users (following next_cursor), then read GET /api/v1/events?after= the events_cursor of the first page")

// events serves GET /api/v1/events: the events after a cursor, in log
// order, waiting up to wait for one when there is none yet.
func (a *API) events(w http.ResponseWriter, r *http.Request, k store.AppKey) error {
	ctx := r.Context()
	p, err := parseEventsParams(r.URL.Query())
	if err != nil {
		return err
	}
	q := store.EventQuery{After: p.after, Types: p.types, Limit: p.limit}
	switch {
	case p.tenant != "":
		t, err := a.tenant(ctx, k, p.tenant)
		if err != nil {
			return err
		}
		q.TenantIDs = []int64{t.ID}
	case !k.AllTenants:
		q.TenantIDs = k.TenantIDs
	}
	// A reader without a cursor that finds nothing resumes at the head as
	// it was before the read: whatever becomes visible later comes after
	// it.
	var start store.EventPosition
	if q.After == nil {
		if start, err = a.store.EventsHead(ctx); err != nil {
			return err
		}
	}
	if p.wait > 0 {
		if !a.beginWait(k.ID) {
			w.Header().Set("Retry-After", "1")
			return errorf(http.StatusTooManyRequests, codeTooManyWaits,
				"this application key already holds "+strconv.Itoa(a.maxWaits)+" long polls open on this instance: wait for one to return")
		}
		defer a.endWait(k.ID)
		// The server's read and write timeouts must not end the wait.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(p.wait + 30*time.Second))
		_ = rc.SetWriteDeadline(time.Now().Add(p.wait + 30*time.Second))
	}
	page, err := a.readEvents(ctx, q, p.wait)
	if errors.Is(err, store.ErrEventsExpired) {
		return expired
	}
	if err != nil {
		return err
	}
	next := start
	if page.Next != nil {
		next = *page.Next
	}
	out := eventsPage{Events: make([]events.JSON, len(page.Events)), NextCursor: events.Cursor(next)}
	for i, e := range page.Events {
		out.Events[i] = events.Public(e)
	}
	return writeJSON(w, http.StatusOK, out)
}

// readEvents reads q; while nothing is visible, it reads again when this
// process commits events or every poll interval (the commits of other
// instances are not heard), until wait has passed. The page's Next moves
// past the events a filtered read skipped meanwhile.
func (a *API) readEvents(ctx context.Context, q store.EventQuery, wait time.Duration) (store.EventPage, error) {
	deadline := time.Now().Add(wait)
	for {
		// The channel is taken before the read, so that a commit between
		// the read and the wait is not missed.
		notify := a.store.EventsNotify()
		page, err := a.store.ReadEvents(ctx, q)
		if err != nil || len(page.Events) > 0 {
			return page, err
		}
		if page.Next != nil {
			q.After = page.Next
		}
		left := time.Until(deadline)
		if left <= 0 {
			page.Next = q.After
			return page, nil
		}
		t := time.NewTimer(min(a.poll, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return page, ctx.Err()
		case <-notify:
		case <-t.C:
		}
		t.Stop()
	}
}

// beginWait counts a long poll of key id, unless it holds maxWaits.
func (a *API) beginWait(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waits[id] >= a.maxWaits {
		return false
	}
	a.waits[id]++
	return true
}

func (a *API) endWait(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waits[id]--; a.waits[id] <= 0 {
		delete(a.waits, id)
	}
}

// tenant returns the tenant named name if k may read it: a 403 if not
// (whether it exists or not, for a key limited to some tenants), a 404 if
// there is no such tenant.
func (a *API) tenant(ctx context.Context, k store.AppKey, name string) (store.Tenant, error) {
	var t store.Tenant
	found := false
	if store.ValidateTenantName(name) == nil {
		var err error
		switch t, err = a.store.Tenant(ctx, name); {
		case err == nil:
			found = true
		case !errors.Is(err, store.ErrNotFound):
			return store.Tenant{}, err
		}
	}
	switch {
	case found && k.Reads(t.ID):
		return t, nil
	case found || !k.AllTenants:
		return store.Tenant{}, errorf(http.StatusForbidden, codeForbidden, "this application key may not read tenant "+shown(name))
	}
	return store.Tenant{}, errorf(http.StatusNotFound, codeNotFound, "no tenant named "+shown(name))
}
