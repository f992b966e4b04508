package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
)

// resource is a stored resource about to be rendered.
type resource struct {
	rt       *schema.ResourceType
	id       string
	version  int64
	created  time.Time
	modified time.Time
	attrs    map[string]any
}

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func (res *resource) location(base string) string {
	return base + res.rt.Endpoint + "/" + res.id
}

// full returns the resource as a client sees it: schemas, id, the
// attributes and meta.
func (res *resource) full(base string) map[string]any {
	m := make(map[string]any, len(res.attrs)+3)
	schemas := []any{res.rt.Core.ID}
	for k, v := range res.attrs {
		m[k] = v
	}
	for _, ext := range res.rt.Extensions {
		if _, ok := res.attrs[ext.ID]; ok {
			schemas = append(schemas, ext.ID)
		}
	}
	m["schemas"] = schemas
	m["id"] = res.id
	m["meta"] = map[string]any{
		"resourceType": res.rt.Name,
		"created":      res.created.UTC().Format(timeFormat),
		"lastModified": res.modified.UTC().Format(timeFormat),
		"location":     res.location(base),
		"version":      etag(res.version),
	}
	return m
}

// projection is a request's attributes / excludedAttributes (RFC 7644 §3.9).
type projection struct {
	include [][]string // canonical key paths; nil means the default set
	exclude [][]string
}

func parseProjection(rt *schema.ResourceType, attributes, excluded string) projection {
	return projection{include: parseAttrList(rt, attributes), exclude: parseAttrList(rt, excluded)}
}

func parseAttrList(rt *schema.ResourceType, list string) [][]string {
	var out [][]string
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			if p := canonicalPath(rt, item); p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// canonicalPath turns an attribute reference into the keys that lead to it
// in a rendered resource, in their canonical spelling, or nil if unknown.
func canonicalPath(rt *schema.ResourceType, ref string) []string {
	var s *schema.Schema = rt.Core
	rest := ref
	if ext := rt.Extension(ref); ext != nil {
		return []string{ext.ID}
	}
	if urn, r, ok := rt.SplitURN(ref); ok {
		rest = r
		if !strings.EqualFold(urn, rt.Core.ID) {
			s = rt.Extension(urn)
		}
	}
	name, sub, _ := strings.Cut(rest, ".")
	_, attr, subAttr := rt.Lookup(s.ID, name, sub)
	if attr == nil || (sub != "" && subAttr == nil) {
		if strings.EqualFold(name, "schemas") && sub == "" {
			return []string{"schemas"}
		}
		return nil
	}
	var p []string
	if s != rt.Core {
		p = append(p, s.ID)
	}
	p = append(p, attr.Name)
	if subAttr != nil {
		p = append(p, subAttr.Name)
	}
	return p
}

// wants reports whether the top-level attribute name is part of the
// projected representation (for attributes whose returned is "default").
func (p projection) wants(name string) bool {
	for _, path := range p.exclude {
		if len(path) == 1 && path[0] == name {
			return false
		}
	}
	if p.include == nil {
		return true
	}
	for _, path := range p.include {
		if path[0] == name {
			return true
		}
	}
	return false
}

// apply returns the projected copy of a full resource.
func (p projection) apply(rt *schema.ResourceType, full map[string]any) map[string]any {
	out := full
	if p.include != nil {
		out = map[string]any{}
		for _, path := range p.include {
			copyPath(out, full, path)
		}
		// Attributes returned "always" survive any projection.
		out["schemas"], out["id"] = full["schemas"], full["id"]
		for _, a := range rt.Core.Attributes {
			if a.Returned == schema.Always {
				if v, ok := full[a.Name]; ok {
					out[a.Name] = v
				}
			}
		}
	} else if len(p.exclude) > 0 {
		out = deepCopy(full).(map[string]any)
	}
	for _, path := range p.exclude {
		if len(path) == 1 && (path[0] == "id" || path[0] == "schemas") {
			continue
		}
		if _, attr, _ := rt.Lookup("", path[0], ""); len(path) == 1 && attr != nil && attr.Returned == schema.Always {
			continue
		}
		deletePath(out, path)
	}
	return out
}

func copyPath(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	switch v := v.(type) {
	case map[string]any:
		d, _ := dst[path[0]].(map[string]any)
		if d == nil {
			d = map[string]any{}
			dst[path[0]] = d
		}
		copyPath(d, v, path[1:])
	case []any:
		d, _ := dst[path[0]].([]any)
		if d == nil {
			d = make([]any, len(v))
			for i := range d {
				d[i] = map[string]any{}
			}
			dst[path[0]] = d
		}
		for i, e := range v {
			if em, ok := e.(map[string]any); ok {
				if dm, ok := d[i].(map[string]any); ok {
					copyPath(dm, em, path[1:])
				}
			}
		}
	}
}

func deletePath(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	switch v := m[path[0]].(type) {
	case map[string]any:
		deletePath(v, path[1:])
	case []any:
		for _, e := range v {
			if em, ok := e.(map[string]any); ok {
				deletePath(em, path[1:])
			}
		}
	}
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// encodeResource renders m with a stable, readable key order: schemas, id,
// externalId, core attributes in schema order, extensions, meta.
func encodeResource(buf *bytes.Buffer, rt *schema.ResourceType, m map[string]any) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	first := true
	put := func(k string) {
		v, ok := m[k]
		if !ok {
			return
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		encodeValue(buf, enc, k)
		buf.WriteByte(':')
		encodeValue(buf, enc, v)
	}
	put("schemas")
	put("id")
	put("externalId")
	for _, a := range rt.Core.Attributes {
		put(a.Name)
	}
	for _, e := range rt.Extensions {
		put(e.ID)
	}
	put("meta")
	buf.WriteByte('}')
}

// encodeValue appends v's JSON to buf through enc, which writes to buf.
func encodeValue(buf *bytes.Buffer, enc *json.Encoder, v any) {
	enc.Encode(v)               // values come from our own decoder: always encodable
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

func writeValue(buf *bytes.Buffer, v any) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	encodeValue(buf, enc, v)
}

// writeResource writes one resource with its ETag (and Location for 201).
func writeResource(w http.ResponseWriter, r *http.Request, status int, res *resource, proj projection) {
	base := infoFrom(r.Context()).base
	var buf bytes.Buffer
	encodeResource(&buf, res.rt, proj.apply(res.rt, res.full(base)))
	buf.WriteByte('\n')
	w.Header().Set("ETag", etag(res.version))
	if status == http.StatusCreated {
		w.Header().Set("Location", res.location(base))
	}
	writeRaw(w, status, buf.Bytes())
}

// listPage is a page of resources to render as a ListResponse.
type listPage struct {
	total      int
	startIndex int // index paging; 0 in cursor mode
	items      []*resource
	cursor     bool   // the request used cursor paging (RFC 9865)
	nextCursor string // the cursor of the next page; "" on the last page
}

// writeList writes a ListResponse (RFC 7644 §3.4.2); the numbers are JSON
// integers (CLIENTS.md R2) and Resources is always an array (R1). In
// cursor mode it carries nextCursor instead of startIndex (RFC 9865).
func writeList(w http.ResponseWriter, r *http.Request, page listPage, proj projection) {
	base := infoFrom(r.Context()).base
	var buf bytes.Buffer
	buf.WriteString(`{"schemas":["` + scim.ListResponseURN + `"],"totalResults":`)
	buf.WriteString(strconv.Itoa(page.total))
	buf.WriteString(`,"itemsPerPage":`)
	buf.WriteString(strconv.Itoa(len(page.items)))
	if !page.cursor {
		buf.WriteString(`,"startIndex":`)
		buf.WriteString(strconv.Itoa(page.startIndex))
	} else if page.nextCursor != "" {
		buf.WriteString(`,"nextCursor":`)
		writeValue(&buf, page.nextCursor)
	}
	buf.WriteString(`,"Resources":[`)
	for i, res := range page.items {
		if i > 0 {
			buf.WriteByte(',')
		}
		encodeResource(&buf, res.rt, proj.apply(res.rt, res.full(base)))
	}
	buf.WriteString("]}\n")
	writeRaw(w, http.StatusOK, buf.Bytes())
}
