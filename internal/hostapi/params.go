package hostapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
)

// Limits of the parameters.
const (
	defaultLimit    = 100
	maxLimit        = 1000
	maxWait         = 60 * time.Second
	maxTypePatterns = 32
)

func badParam(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, codeInvalidParameter, fmt.Sprintf(format, args...))
}

// shown is untrusted text as an error message quotes it: at most 64
// bytes.
func shown(s string) string {
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "…"
	}
	return strconv.Quote(s)
}

// checkParams refuses parameters other than allowed, and parameters
// given more than once: a misspelt name is an error, not ignored.
func checkParams(v url.Values, allowed ...string) error {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			takes := "no parameters"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			return badParam("unknown parameter %s: this endpoint takes %s", shown(name), takes)
		}
		if n := len(v[name]); n > 1 {
			return badParam("parameter %s is given %d times; give it once", name, n)
		}
	}
	return nil
}

// parseLimit reads limit: 1 to maxLimit, defaultLimit when absent.
func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badParam("limit must be an integer from 1 to %d, not %s", maxLimit, shown(s))
	}
	return n, nil
}

// eventsParams is the query of GET /api/v1/events.
type eventsParams struct {
	after  *store.EventPosition // nil: from the oldest retained event
	limit  int
	tenant string
	types  []string
	wait   time.Duration
}

// parseEventsParams reads the query of GET /api/v1/events. An empty
// value is the same as an absent one.
func parseEventsParams(v url.Values) (eventsParams, error) {
	var p eventsParams
	if err := checkParams(v, "after", "limit", "tenant", "types", "wait"); err != nil {
		return p, err
	}
	if s := v.Get("after"); s != "" {
		pos, err := events.ParseCursor(s)
		if err != nil {
			return p, errorf(http.StatusBadRequest, codeInvalidCursor,
				"after is not a cursor of this event log: pass the next_cursor of the previous answer, an event's cursor, or a resync's events_cursor")
		}
		p.after = &pos
	}
	var err error
	if p.limit, err = parseLimit(v.Get("limit")); err != nil {
		return p, err
	}
	p.tenant = v.Get("tenant")
	if p.types, err = parseTypes(v.Get("types")); err != nil {
		return p, err
	}
	if p.wait, err = parseWait(v.Get("wait")); err != nil {
		return p, err
	}
	return p, nil
}

// parseTypes reads types: a comma-separated list of event types and
// prefixes ending in '*' ("user.*", "group.member_*", "*"), each of which
// must match some event type.
func parseTypes(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxTypePatterns {
		return nil, badParam("types lists %d patterns; at most %d", len(parts), maxTypePatterns)
	}
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, badParam("types has an empty entry: give event types or prefixes ending in *, separated by commas")
		}
		prefix, wild := strings.CutSuffix(p, "*")
		if strings.Contains(prefix, "*") {
			return nil, badParam("types entry %s: * may only end a prefix, as in user.*", shown(p))
		}
		matches := slices.ContainsFunc(store.EventTypes, func(t string) bool {
			return wild && strings.HasPrefix(t, prefix) || t == p
		})
		if !matches {
			return nil, badParam("types entry %s matches no event type (they are %s)", shown(p), strings.Join(store.EventTypes, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// parseWait reads wait: a duration ("30s", "1m") or a number of seconds,
// from 0 to maxWait.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.Atoi(s); nerr == nil && n >= 0 && n <= int(maxWait/time.Second) {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 || d > maxWait {
		return 0, badParam("wait must be a duration from 0s to %s (such as 30s), not %s", maxWait, shown(s))
	}
	return d, nil
}

// usersCursor is where a resync's next page starts: after the user with
// creation sequence Seq, in tenant Tenant. Cursors are opaque to clients
// (base64url of this JSON) and bound to their tenant.
type usersCursor struct {
	V      int   `json:"v"`
	Tenant int64 `json:"t"`
	Seq    int64 `json:"s"`
}

// encodeUsersCursor returns the cursor after position seq of a tenant.
func encodeUsersCursor(tenantID, seq int64) string {
	b, _ := json.Marshal(usersCursor{V: 1, Tenant: tenantID, Seq: seq})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeUsersCursor reads a cursor of encodeUsersCursor for a tenant.
func decodeUsersCursor(s string, tenantID int64) (int64, error) {
	bad := errorf(http.StatusBadRequest, codeInvalidCursor, "cursor is not a cursor of this resync: pass the next_cursor of the previous page, or none to start")
	if len(s) > 128 {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, bad
	}
	var c usersCursor
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() || c.V != 1 || c.Seq < 0 {
		return 0, bad
	}
	if c.Tenant != tenantID {
		return 0, errorf(http.StatusBadRequest, codeInvalidCursor, "cursor belongs to another tenant's resync")
	}
	return c.Seq, nil
}

// usersParams is the query of GET /api/v1/tenants/{tenant}/users: a
// lookup by userName, or a page of the resync.
type usersParams struct {
	userName string // set: a lookup
	after    *int64 // the resync's position; nil: the first page
	limit    int
}

// parseUsersParams reads the query of GET /api/v1/tenants/{tenant}/users.
func parseUsersParams(v url.Values, tenantID int64) (usersParams, error) {
	var p usersParams
	if err := checkParams(v, "userName", "cursor", "limit"); err != nil {
		return p, err
	}
	if _, ok := v["userName"]; ok {
		if len(v) > 1 {
			return p, badParam("userName looks one user up: it takes no cursor or limit")
		}
		if p.userName = v.Get("userName"); p.userName == "" {
			return p, badParam("userName is empty")
		}
		return p, nil
	}
	if s := v.Get("cursor"); s != "" {
		seq, err := decodeUsersCursor(s, tenantID)
		if err != nil {
			return p, err
		}
		p.after = &seq
	}
	var err error
	p.limit, err = parseLimit(v.Get("limit"))
	return p, err
}
