package server

import (
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

// listQuery is a parsed list request (GET with query parameters or POST
// /.search with a SearchRequest body).
type listQuery struct {
	q    store.Query
	proj projection
}

func listQueryFromURL(r *http.Request) (listQuery, error) {
	// url.Values decodes '+' as a space and %2B as a plus (CLIENTS.md R4).
	v := r.URL.Query()
	var startIndex, count *int
	for _, p := range []struct {
		name string
		dst  **int
	}{{"startIndex", &startIndex}, {"count", &count}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return listQuery{}, scim.BadRequest(scim.InvalidValue, "%s must be an integer, got %q", p.name, s)
			}
			*p.dst = &n
		}
	}
	return buildListQuery(v.Get("filter"), v.Get("sortBy"), v.Get("sortOrder"), startIndex, count,
		v.Get("attributes"), v.Get("excludedAttributes"))
}

func listQueryFromBody(r *http.Request) (listQuery, error) {
	raw, err := readAll(r)
	if err != nil {
		return listQuery{}, err
	}
	if _, err := decodeObject(raw); err != nil {
		return listQuery{}, err
	}
	var req struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return listQuery{}, scim.BadRequest(scim.InvalidSyntax, "invalid SearchRequest: %v", err)
	}
	return buildListQuery(req.Filter, req.SortBy, req.SortOrder, req.StartIndex, req.Count,
		strings.Join(req.Attributes, ","), strings.Join(req.ExcludedAttributes, ","))
}

func buildListQuery(filterText, sortBy, sortOrder string, startIndex, count *int, attrs, excluded string) (listQuery, error) {
	lq := listQuery{q: store.Query{StartIndex: 1, Count: defaultCount, SortBy: strings.TrimSpace(sortBy)}}
	if startIndex != nil && *startIndex > 1 {
		lq.q.StartIndex = *startIndex // RFC 7644 §3.4.2.4: values below 1 mean 1
	}
	if count != nil {
		lq.q.Count = min(max(*count, 0), maxCount) // negative means 0; above the maximum means the maximum
	}
	switch strings.ToLower(strings.TrimSpace(sortOrder)) {
	case "", "ascending":
	case "descending":
		lq.q.SortDescending = true
	default:
		return listQuery{}, scim.BadRequest(scim.InvalidValue, "sortOrder must be \"ascending\" or \"descending\", got %q", sortOrder)
	}
	if f := strings.TrimSpace(filterText); f != "" {
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
	lq.proj = parseProjection(schema.UserType, attrs, excluded)
	return lq, nil
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
	writeList(w, r, page.Total, lq.q.StartIndex, items, lq.proj)
	return nil
}

// groupsCollection answers the Groups listing that Okta's and Entra ID's
// connection tests make. Groups are not served yet, so the collection is
// truthfully empty and not advertised in /ResourceTypes; creating one is
// refused.
func (s *Server) groupsCollection(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		lq, err := listQueryFromURL(r)
		if err != nil {
			return err
		}
		writeList(w, r, 0, lq.q.StartIndex, nil, lq.proj)
		return nil
	case http.MethodPost:
		return scim.Errorf(http.StatusNotImplemented, "", "groups are not supported by this server yet")
	}
	return methodNotAllowed(w, "GET, POST")
}
