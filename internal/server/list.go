package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// Paging limits, advertised in /ServiceProviderConfig.
const (
	defaultCount = 100
	maxCount     = 1000
)

// scimType of RFC 9865 for a cursor scimd did not issue for this query.
const invalidCursor = "invalidCursor"

// listQuery is a parsed list request (GET with query parameters or POST
// /.search with a SearchRequest body).
type listQuery struct {
	q    store.Query
	proj projection
	// hash binds cursors to the tenant, the resource type and the query.
	hash uint64
}

// listParams are a list request's parameters before validation.
type listParams struct {
	filter, sortBy, sortOrder string
	startIndex, count         *int
	cursor                    *string
	attributes, excluded      string
}

func listQueryFromURL(r *http.Request, rt *schema.ResourceType) (listQuery, error) {
	// url.Values decodes '+' as a space and %2B as a plus (CLIENTS.md R4).
	v := r.URL.Query()
	p := listParams{filter: v.Get("filter"), sortBy: v.Get("sortBy"), sortOrder: v.Get("sortOrder"),
		attributes: v.Get("attributes"), excluded: v.Get("excludedAttributes")}
	for _, n := range []struct {
		name string
		dst  **int
	}{{"startIndex", &p.startIndex}, {"count", &p.count}} {
		if s := v.Get(n.name); s != "" {
			i, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return listQuery{}, scim.BadRequest(scim.InvalidValue, "%s must be an integer, got %q", n.name, s)
			}
			*n.dst = &i
		}
	}
	if c, ok := v["cursor"]; ok {
		p.cursor = &c[0]
	}
	return buildListQuery(r, rt, p)
}

func listQueryFromBody(r *http.Request, rt *schema.ResourceType) (listQuery, error) {
	raw, err := readAll(r)
	if err != nil {
		return listQuery{}, err
	}
	if _, err := decodeObject(raw); err != nil {
		return listQuery{}, err
	}
	var req struct {
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
		Cursor             *string  `json:"cursor"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return listQuery{}, scim.BadRequest(scim.InvalidSyntax, "invalid SearchRequest: %v", err)
	}
	return buildListQuery(r, rt, listParams{filter: req.Filter, sortBy: req.SortBy, sortOrder: req.SortOrder,
		startIndex: req.StartIndex, count: req.Count, cursor: req.Cursor,
		attributes: strings.Join(req.Attributes, ","), excluded: strings.Join(req.ExcludedAttributes, ",")})
}

func buildListQuery(r *http.Request, rt *schema.ResourceType, p listParams) (listQuery, error) {
	lq := listQuery{q: store.Query{StartIndex: 1, Count: defaultCount, SortBy: strings.TrimSpace(p.sortBy)}}
	if p.startIndex != nil && *p.startIndex > 1 {
		lq.q.StartIndex = *p.startIndex // RFC 7644 §3.4.2.4: values below 1 mean 1
	}
	if p.count != nil {
		lq.q.Count = min(max(*p.count, 0), maxCount) // negative means 0; above the maximum means the maximum
	}
	switch strings.ToLower(strings.TrimSpace(p.sortOrder)) {
	case "", "ascending":
	case "descending":
		lq.q.SortDescending = true
	default:
		return listQuery{}, scim.BadRequest(scim.InvalidValue, "sortOrder must be \"ascending\" or \"descending\", got %q", p.sortOrder)
	}
	if strings.Contains(p.filter, `\u0000`) || strings.IndexByte(p.filter, 0) >= 0 {
		return listQuery{}, scim.BadRequest(scim.InvalidFilter, "filter values must not contain the NUL character")
	}
	if f := strings.TrimSpace(p.filter); f != "" {
		expr, err := filter.Parse(f)
		if err != nil {
			var fe *filter.Error
			if errors.As(err, &fe) {
				return listQuery{}, scim.BadRequest(scim.InvalidFilter, "invalid filter: %s", fe.Msg)
			}
			return listQuery{}, scim.BadRequest(scim.InvalidFilter, "invalid filter: %v", err)
		}
		lq.q.Filter = expr
	}
	lq.proj = parseProjection(rt, p.attributes, p.excluded)
	lq.hash = queryHash(tenantOf(r).ID, rt, lq.q)
	if p.cursor != nil {
		if p.startIndex != nil {
			return listQuery{}, scim.BadRequest(scim.InvalidValue, "use either cursor or startIndex, not both")
		}
		lq.q.Cursor = true
		if *p.cursor != "" {
			pos, err := decodeCursor(*p.cursor, lq.hash)
			if err != nil {
				return listQuery{}, err
			}
			lq.q.After = pos
		}
	}
	return lq, nil
}

// queryHash identifies what a cursor may continue: the tenant, the
// resource type, the filter and the order.
func queryHash(tenantID int64, rt *schema.ResourceType, q store.Query) uint64 {
	h := sha256.New()
	f := ""
	if q.Filter != nil {
		f = q.Filter.String()
	}
	h.Write([]byte(strconv.FormatInt(tenantID, 10) + "\x00" + rt.Name + "\x00" + f + "\x00" +
		strings.ToLower(q.SortBy) + "\x00" + strconv.FormatBool(q.SortDescending)))
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// cursorState is what an opaque cursor encodes: the position after which
// the next page starts, and the query it belongs to.
type cursorState struct {
	Query uint64 `json:"q,string"`
	Seq   int64  `json:"s"`
	Key   any    `json:"k,omitempty"`
}

func encodeCursor(pos *store.Position, hash uint64) string {
	if pos == nil {
		return ""
	}
	b, _ := json.Marshal(cursorState{Query: hash, Seq: pos.Seq, Key: pos.Key})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, hash uint64) (*store.Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var st cursorState
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		err = dec.Decode(&st)
	}
	if err != nil || st.Seq < 0 {
		return nil, scim.BadRequest(invalidCursor, "the cursor is not one this server issued")
	}
	if st.Query != hash {
		return nil, scim.BadRequest(invalidCursor, "the cursor belongs to another query: repeat the filter and sort order of the request that returned it")
	}
	if n, ok := st.Key.(json.Number); ok {
		// Stores key numbers as float64 (times are RFC 3339 strings).
		f, err := n.Float64()
		if err != nil {
			return nil, scim.BadRequest(invalidCursor, "the cursor is not one this server issued")
		}
		st.Key = f
	}
	return &store.Position{Seq: st.Seq, Key: st.Key}, nil
}

// pageOf returns the ListResponse page for a store page.
func pageOf(lq listQuery, total int, items []*resource, next *store.Position) listPage {
	p := listPage{total: total, items: items, cursor: lq.q.Cursor}
	if lq.q.Cursor {
		p.nextCursor = encodeCursor(next, lq.hash)
	} else {
		p.startIndex = lq.q.StartIndex
	}
	return p
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, lq listQuery) error {
	page, err := s.store.ListUsers(r.Context(), tenantOf(r).ID, lq.q)
	if err != nil {
		return err
	}
	items := make([]*resource, len(page.Users))
	for i, u := range page.Users {
		items[i] = userResourceOf(u)
	}
	if err := s.addUserGroups(r, lq.proj, items); err != nil {
		return err
	}
	writeList(w, r, pageOf(lq, page.Total, items, page.Next), lq.proj)
	return nil
}
