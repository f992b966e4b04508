package server

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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

// The cost limits of a filter: no identity provider sends more than a few
// comparisons (Okta and Entra ID send one eq), and substring comparisons
// scan the tenant's resources.
const (
	MaxFilterTerms      = 20
	MaxFilterSubstrings = 4
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
	// cursor is the request's cursor, sealed; resolveCursor opens it into
	// q.After.
	cursor string
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
		if terms, subs := filter.Count(expr); terms > MaxFilterTerms {
			return listQuery{}, scim.BadRequest(scim.InvalidFilter, "the filter has %d comparisons; at most %d are accepted", terms, MaxFilterTerms)
		} else if subs > MaxFilterSubstrings {
			return listQuery{}, scim.BadRequest(scim.InvalidFilter,
				"the filter has %d substring comparisons (co, sw, ew), which scan the tenant's resources; at most %d are accepted", subs, MaxFilterSubstrings)
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
		lq.cursor = *p.cursor
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

// encodeCursor seals the position after which the next page starts: a
// cursor is opaque (RFC 9865), and says nothing of the row numbers behind
// it, which all tenants share.
func (s *Server) encodeCursor(ctx context.Context, pos *store.Position, hash uint64) (string, error) {
	if pos == nil {
		return "", nil
	}
	aead, err := s.cursorAEAD(ctx)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(cursorState{Query: hash, Seq: pos.Seq, Key: pos.Key})
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, b, nil)), nil
}

func (s *Server) decodeCursor(ctx context.Context, c string, hash uint64) (*store.Position, error) {
	aead, err := s.cursorAEAD(ctx)
	if err != nil {
		return nil, err
	}
	notOurs := scim.BadRequest(invalidCursor, "the cursor is not one this server issued")
	sealed, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(sealed) < aead.NonceSize() {
		return nil, notOurs
	}
	b, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return nil, notOurs
	}
	var st cursorState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil || st.Seq < 0 {
		return nil, notOurs
	}
	if st.Query != hash {
		return nil, scim.BadRequest(invalidCursor, "the cursor belongs to another query: repeat the filter and sort order of the request that returned it")
	}
	if n, ok := st.Key.(json.Number); ok {
		// Stores key numbers as float64 (times are RFC 3339 strings).
		f, err := n.Float64()
		if err != nil {
			return nil, notOurs
		}
		st.Key = f
	}
	return &store.Position{Seq: st.Seq, Key: st.Key}, nil
}

// cursorAEAD is the AES-256-GCM that seals cursors, with the key every
// instance sharing the database uses (store.Store.Secret), read once.
func (s *Server) cursorAEAD(ctx context.Context) (cipher.AEAD, error) {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	if s.cursorKey != nil {
		return s.cursorKey, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	key, err := s.store.Secret(ctx, "cursor-key", fresh)
	if err != nil {
		return nil, scim.Internal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, scim.Internal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, scim.Internal(err)
	}
	s.cursorKey = aead
	return aead, nil
}

// resolveCursor opens the request's cursor into the query's position.
func (s *Server) resolveCursor(ctx context.Context, lq *listQuery) error {
	if lq.cursor == "" {
		return nil
	}
	pos, err := s.decodeCursor(ctx, lq.cursor, lq.hash)
	if err != nil {
		return err
	}
	lq.q.After = pos
	return nil
}

// pageOf returns the ListResponse page for a store page.
func (s *Server) pageOf(ctx context.Context, lq listQuery, total int, items []*resource, next *store.Position) (listPage, error) {
	p := listPage{total: total, items: items, cursor: lq.q.Cursor}
	if lq.q.Cursor {
		c, err := s.encodeCursor(ctx, next, lq.hash)
		if err != nil {
			return listPage{}, err
		}
		p.nextCursor = c
	} else {
		p.startIndex = lq.q.StartIndex
	}
	return p, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, lq listQuery) error {
	if err := s.resolveCursor(r.Context(), &lq); err != nil {
		return err
	}
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
	p, err := s.pageOf(r.Context(), lq, page.Total, items, page.Next)
	if err != nil {
		return err
	}
	writeList(w, r, p, lq.proj)
	return nil
}
