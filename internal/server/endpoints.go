package server

import (
	"net/http"

	"github.com/scimd/scimd/internal/scim/schema"
)

// endpoints are the handlers of one resource type; collection, search and
// resource dispatch its three routes by method, the same for every type.
type endpoints struct {
	rt                                  *schema.ResourceType
	list                                func(http.ResponseWriter, *http.Request, listQuery) error
	create, get, replace, patch, delete handlerFunc
}

// collection serves GET (list) and POST (create) on /Users or /Groups.
func (e endpoints) collection(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q, err := listQueryFromURL(r, e.rt)
		if err != nil {
			return err
		}
		return e.list(w, r, q)
	case http.MethodPost:
		return e.create(w, r)
	}
	return methodNotAllowed(w, "GET, POST")
}

// search serves POST /.search with a SearchRequest body.
func (e endpoints) search(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return methodNotAllowed(w, "POST")
	}
	q, err := listQueryFromBody(r, e.rt)
	if err != nil {
		return err
	}
	return e.list(w, r, q)
}

// resource serves one resource: GET, PUT, PATCH and DELETE.
func (e endpoints) resource(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return e.get(w, r)
	case http.MethodPut:
		return e.replace(w, r)
	case http.MethodPatch:
		return e.patch(w, r)
	case http.MethodDelete:
		return e.delete(w, r)
	}
	return methodNotAllowed(w, "GET, PUT, PATCH, DELETE")
}
