package hostapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
)

// wantBadRequest checks that err is a 400 the API can answer as it is.
func wantBadRequest(t *testing.T, err error, query string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Err != nil ||
		(e.Code != codeInvalidParameter && e.Code != codeInvalidCursor) || e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("query %q: error %#v, want a 400 invalid_parameter or invalid_cursor with a message", query, err)
	}
}

// FuzzEventsParams: whatever the query of GET /api/v1/events, its parser
// answers a 400 or parameters within their limits.
func FuzzEventsParams(f *testing.F) {
	for _, s := range []string{
		"", "after=" + events.Cursor(store.EventPosition{Tx: 3, Seq: 9}), "limit=1000", "limit=0", "limit=1&limit=2",
		"types=user.*,group.member_*", "types=*", "types=user.created,,", "types=us*er", "wait=30s", "wait=60", "wait=1h",
		"tenant=acme", "after=%00", "x=1", "wait=-0", "types=" + strings.Repeat("user.*,", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p, err := parseEventsParams(v)
		if err != nil {
			wantBadRequest(t, err, query)
			return
		}
		if p.limit < 1 || p.limit > maxLimit || p.wait < 0 || p.wait > maxWait || len(p.types) > maxTypePatterns {
			t.Fatalf("query %q: %+v out of bounds", query, p)
		}
		for _, pat := range p.types {
			prefix, wild := strings.CutSuffix(pat, "*")
			if !slices.ContainsFunc(store.EventTypes, func(typ string) bool { return typ == pat || wild && strings.HasPrefix(typ, prefix) }) {
				t.Fatalf("query %q: type pattern %q matches nothing", query, pat)
			}
		}
		if p.after != nil {
			if back, err := events.ParseCursor(events.Cursor(*p.after)); err != nil || back != *p.after {
				t.Fatalf("query %q: after %+v does not round-trip: %+v, %v", query, *p.after, back, err)
			}
		}
	})
}

// FuzzUsersParams: whatever the query of GET
// /api/v1/tenants/{tenant}/users, its parser answers a 400, a lookup or
// a page; and every cursor it makes, it reads back, for its tenant only.
func FuzzUsersParams(f *testing.F) {
	for _, s := range []string{
		"", "userName=ann", "userName=ann&limit=2", "userName=", "limit=5", "cursor=" + encodeUsersCursor(1, 42),
		"cursor=" + encodeUsersCursor(2, 42), "cursor=eyJ2IjoxLCJ0IjoxLCJzIjotMX0", "cursor=e30", "cursor=bnVsbA",
	} {
		f.Add(s, int64(1), int64(7))
	}
	f.Fuzz(func(t *testing.T, query string, tenant, seq int64) {
		if seq >= 0 {
			c := encodeUsersCursor(tenant, seq)
			if got, err := decodeUsersCursor(c, tenant); err != nil || got != seq {
				t.Fatalf("cursor of (%d, %d) reads back as %d, %v", tenant, seq, got, err)
			}
			if _, err := decodeUsersCursor(c, tenant+1); err == nil {
				t.Fatalf("cursor of tenant %d accepted for tenant %d", tenant, tenant+1)
			}
		}
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p, err := parseUsersParams(v, tenant)
		if err != nil {
			wantBadRequest(t, err, query)
			return
		}
		switch {
		case p.userName != "":
			if p.after != nil || p.limit != 0 {
				t.Fatalf("query %q: a lookup with paging %+v", query, p)
			}
		case p.limit < 1 || p.limit > maxLimit || p.after != nil && *p.after < 0:
			t.Fatalf("query %q: %+v out of bounds", query, p)
		}
	})
}
