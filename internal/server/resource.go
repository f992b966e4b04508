package server

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
)

// decodeBody reads a JSON object from r (see readJSON), numbers kept as
// json.Number.
func decodeBody(r io.Reader) (map[string]any, error) {
	body, err := readJSON(r)
	if err != nil {
		return nil, err
	}
	return decodeObject(body)
}

// readJSON reads a JSON request body, refusing what checkJSON refuses.
func readJSON(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeObject decodes a body readJSON returned.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body has data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body must be a JSON object")
	}
	if err := checkNUL(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkNUL refuses strings (and object keys) containing U+0000: no
// attribute needs one, and PostgreSQL cannot store them, so they are a 400
// on every backend rather than a storage error on one.
func checkNUL(v any) error {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return scim.BadRequest(scim.InvalidValue, "strings must not contain the NUL character (\\u0000)")
		}
	case map[string]any:
		for k, e := range x {
			if err := checkNUL(k); err != nil {
				return err
			}
			if err := checkNUL(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkNUL(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// readResource decodes and normalises the resource in a request body.
func readResource(r *http.Request, rt *schema.ResourceType) (*input, error) {
	body, err := decodeBody(r.Body)
	if err != nil {
		return nil, err
	}
	return normalize(rt, body)
}

// input is a resource as a client sent it, normalised.
type input struct {
	attrs    map[string]any // canonical attributes (see store.User.Attrs)
	password *string        // the write-only password, if sent
}

// normalize turns a client's resource body into canonical attributes:
// attribute names take the schema's spelling (they are case-insensitive on
// input), nulls and empty values are dropped, read-only attributes (id,
// meta, groups) and unknown extension blocks are ignored (CLIENTS.md R10:
// Okta PUTs echo id, meta and groups; Entra POSTs meta and roles: []),
// booleans sent as "True"/"False" become booleans (R7), and extension
// attributes given as "urn:…:attr" keys join their extension's object.
func normalize(rt *schema.ResourceType, body map[string]any) (*input, error) {
	in := &input{attrs: map[string]any{}}
	for key, v := range body {
		if strings.EqualFold(key, "schemas") {
			continue
		}
		if ext := rt.Extension(key); ext != nil {
			obj, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, scim.BadRequest(scim.InvalidValue, "%s must be an object", ext.ID)
			}
			for k, sub := range obj {
				if err := in.set(ext, rt, ext.Attr(k), k, sub); err != nil {
					return nil, err
				}
			}
			continue
		}
		if urn, rest, ok := rt.SplitURN(key); ok {
			s, attr, _ := rt.Lookup(urn, rest, "")
			if err := in.set(s, rt, attr, key, v); err != nil {
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(strings.ToLower(key), "urn:") {
			continue // an extension scimd does not serve (e.g. Entra's ADSCIM Group URN)
		}
		_, attr, _ := rt.Lookup("", key, "") // also finds the common id, externalId, meta
		if err := in.set(rt.Core, rt, attr, key, v); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// set stores one top-level attribute of schema s.
func (in *input) set(s *schema.Schema, rt *schema.ResourceType, attr *schema.Attribute, key string, v any) error {
	if attr == nil {
		return nil // unknown attribute: ignored (R10)
	}
	if attr.Name == "password" {
		if v == nil {
			return nil
		}
		p, ok := v.(string)
		if !ok {
			return scim.BadRequest(scim.InvalidValue, "password must be a string")
		}
		in.password = &p
		return nil
	}
	if attr.Mutability == schema.ReadOnly {
		return nil // id, meta, groups, …: server-owned, ignored on input (R10)
	}
	val, err := normalizeValue(attr, v, attr.Name)
	if err != nil {
		return err
	}
	target := in.attrs
	if s != rt.Core {
		m, _ := in.attrs[s.ID].(map[string]any)
		if m == nil {
			m = map[string]any{}
			in.attrs[s.ID] = m
		}
		target = m
	}
	if val == nil {
		delete(target, attr.Name)
	} else {
		target[attr.Name] = val
	}
	return nil
}

// normalizeValue checks v against attr and returns its canonical form, or
// nil for "no value".
func normalizeValue(attr *schema.Attribute, v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if attr.MultiValued {
		list, ok := v.([]any)
		if !ok {
			list = []any{v} // a single value where a list belongs
		}
		out := make([]any, 0, len(list))
		primarySeen := false
		single := *attr
		single.MultiValued = false
		for _, e := range list {
			if s, ok := e.(string); ok && attr.Type == schema.Complex {
				e = map[string]any{"value": s} // ["a@example.com"] for emails
			}
			nv, err := normalizeValue(&single, e, path)
			if err != nil {
				return nil, err
			}
			if nv == nil {
				continue
			}
			if m, ok := nv.(map[string]any); ok {
				if p, _ := m["primary"].(bool); p {
					if primarySeen {
						// RFC 7643 §2.4: at most one primary value; keep the first.
						m["primary"] = false
					}
					primarySeen = true
				}
			}
			out = append(out, nv)
		}
		if len(out) == 0 {
			return nil, nil
		}
		return collapseDuplicates(attr, out), nil
	}
	switch attr.Type {
	case schema.Complex:
		m, ok := v.(map[string]any)
		if !ok {
			if s, isStr := v.(string); isStr && attr.Sub("value") != nil {
				// Entra ID sends the enterprise manager as a bare id string
				// (testdata/entra/create-user-manager-string.json); store it as {"value": id}.
				if s == "" {
					return nil, nil
				}
				return map[string]any{"value": s}, nil
			}
			return nil, scim.BadRequest(scim.InvalidValue, "%s must be an object", path)
		}
		out := map[string]any{}
		for k, sv := range m {
			sub := attr.Sub(k)
			if sub == nil || sub.Mutability == schema.ReadOnly {
				continue
			}
			nv, err := normalizeValue(sub, sv, path+"."+sub.Name)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out[sub.Name] = nv
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case schema.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// Entra ID's default PATCH mode and OneLogin templates send
			// booleans as "True"/"False" (CLIENTS.md R7).
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, scim.BadRequest(scim.InvalidValue, "%s must be a boolean", path)
	case schema.Integer, schema.Decimal:
		if n, ok := v.(json.Number); ok {
			return n, nil
		}
		return nil, scim.BadRequest(scim.InvalidValue, "%s must be a number", path)
	default: // string, reference, dateTime, binary
		if s, ok := v.(string); ok {
			if s == "" {
				return nil, nil
			}
			return s, nil
		}
		return nil, scim.BadRequest(scim.InvalidValue, "%s must be a string", path)
	}
}

// collapseDuplicates returns the elements of a multi-valued complex
// attribute with each (type, value) pair once (RFC 7643 §2.4: such
// duplicates SHOULD NOT be returned), in the order of their first
// occurrence; a pair one of whose copies was primary stays primary. Values
// compare as the attribute's value compares (emails case-insensitively);
// elements without a value are kept as they are.
func collapseDuplicates(attr *schema.Attribute, list []any) []any {
	valueAttr := attr.Sub("value")
	if attr.Type != schema.Complex || valueAttr == nil || len(list) < 2 {
		return list
	}
	key := func(m map[string]any) (string, bool) {
		v, ok := m["value"].(string)
		if !ok {
			return "", false
		}
		if !valueAttr.CaseExact && valueAttr.Type != schema.Binary { // base64 is case-sensitive whatever caseExact says
			v = scim.Fold(v)
		}
		t, _ := m["type"].(string)
		return scim.Fold(t) + "\x00" + v, true
	}
	first := make(map[string]int, len(list)) // key → index in out
	out := list[:0:0]
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			out = append(out, e)
			continue
		}
		k, ok := key(m)
		if !ok {
			out = append(out, e)
			continue
		}
		if i, dup := first[k]; dup {
			if kept := out[i].(map[string]any); m["primary"] == true && kept["primary"] != true {
				kept = maps.Clone(kept) // the element may be shared with the stored resource
				kept["primary"] = true
				out[i] = kept
			}
			continue
		}
		first[k] = len(out)
		out = append(out, m)
	}
	return out
}

// collapseAllDuplicates applies collapseDuplicates to every multi-valued
// complex attribute of attrs (the result of a PATCH, which may add a pair
// that is already there).
func collapseAllDuplicates(rt *schema.ResourceType, attrs map[string]any) {
	for _, sch := range rt.Schemas() {
		container := attrs
		if sch != rt.Core {
			container, _ = attrs[sch.ID].(map[string]any)
			if container == nil {
				continue
			}
		}
		for _, a := range sch.Attributes {
			if !a.MultiValued || a.Type != schema.Complex {
				continue
			}
			if list, ok := container[a.Name].([]any); ok {
				container[a.Name] = collapseDuplicates(a, list)
			}
		}
	}
}
