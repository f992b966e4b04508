package hostapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// openAPI is the embedded document, decoded.
func openAPI(t testing.TB) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	return doc
}

// TestOpenAPIRoutes: the document lists exactly the routes the API
// serves, so that neither can change without the other.
func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPI(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	var documented []string
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	var served []string
	for _, rt := range routes {
		served = append(served, rt.pattern)
		op := doc["paths"].(map[string]any)[strings.Fields(rt.pattern)[1]]
		if op == nil {
			continue
		}
		get := op.(map[string]any)["get"].(map[string]any)
		sec, hasSec := get["security"]
		if rt.public != (hasSec && len(sec.([]any)) == 0) {
			t.Errorf("%s: public %v, but its security is %v", rt.pattern, rt.public, sec)
		}
	}
	sort.Strings(documented)
	sort.Strings(served)
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("routes served (-) and documented (+) differ:\n%s", diff)
	}
	// Every $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				if _, err := resolve(doc, r); err != nil {
					t.Error(err)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
}

// TestOpenAPIEnums: the enums of the document are the code's.
func TestOpenAPIEnums(t *testing.T) {
	doc := openAPI(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	enum := func(path ...string) []string {
		var v any = schemas
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		var out []string
		for _, e := range v.(map[string]any)["enum"].([]any) {
			out = append(out, e.(string))
		}
		return out
	}
	if diff := cmp.Diff(store.EventTypes, enum("Event", "properties", "type")); diff != "" {
		t.Errorf("event types (-store +openapi.json):\n%s", diff)
	}
	codes := []string{codeUnauthorized, codeForbidden, codeNotFound, codeMethodNotAllowed, codeInvalidParameter,
		codeInvalidCursor, codeCursorExpired, codeTooManyWaits, codeInternal}
	if diff := cmp.Diff(codes, enum("Error", "properties", "error", "properties", "code")); diff != "" {
		t.Errorf("error codes (-code +openapi.json):\n%s", diff)
	}
	kinds := []string{store.ActorAPIKey, store.ActorConsole, store.ActorOperator, store.ActorSystem}
	if diff := cmp.Diff(kinds, enum("Event", "properties", "actor", "properties", "kind")); diff != "" {
		t.Errorf("actor kinds (-store +openapi.json):\n%s", diff)
	}
}

// TestResponsesMatchOpenAPI: real answers of every route and status are
// valid against the schemas the document gives them.
func TestResponsesMatchOpenAPI(t *testing.T) { forEachBackend(t, testResponsesMatchOpenAPI) }

func testResponsesMatchOpenAPI(t *testing.T, e *env) {
	doc := openAPI(t)
	ann := e.createUser("acme", "ann", true)
	g := e.createGroup("acme", "Staff", ann)
	e.createGroup("acme", "All", g)
	e.patch(e.inst, "acme", "/Users/"+ann, "replace", "title", "Boss")
	e.scim(e.inst, "acme", "DELETE", "/Users/"+e.createUser("acme", "gone", true), "", http.StatusNoContent)
	before := e.head()
	e.createUser("acme", "late", true)
	if _, err := e.inst.st.PurgeEvents(t.Context(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		template, path, key string
		status              int
	}{
		{"/api/v1/openapi.json", "/api/v1/openapi.json", "", 200},
		{"/api/v1/events", "/api/v1/events?limit=1000", e.all, 200},
		{"/api/v1/events", "/api/v1/events?after=" + before + "&wait=1ms", e.all, 200},
		{"/api/v1/events", "/api/v1/events?limit=0", e.all, 400},
		{"/api/v1/events", "/api/v1/events", "", 401},
		{"/api/v1/events", "/api/v1/events?tenant=bravo", e.limited, 403},
		{"/api/v1/events", "/api/v1/events?tenant=nope", e.all, 404},
		{"/api/v1/tenants/{tenant}/users", "/api/v1/tenants/acme/users?limit=2", e.all, 200},
		{"/api/v1/tenants/{tenant}/users", "/api/v1/tenants/acme/users?userName=ann", e.all, 200},
		{"/api/v1/tenants/{tenant}/users", "/api/v1/tenants/acme/users?userName=nobody", e.all, 200},
		{"/api/v1/tenants/{tenant}/users", "/api/v1/tenants/acme/users?cursor=x", e.all, 400},
		{"/api/v1/tenants/{tenant}/users/{id}", "/api/v1/tenants/acme/users/" + ann, e.all, 200},
		{"/api/v1/tenants/{tenant}/users/{id}", "/api/v1/tenants/acme/users/nobody", e.all, 200},
		{"/api/v1/tenants/{tenant}/users/{id}", "/api/v1/tenants/bravo/users/x", e.limited, 403},
		{"/api/v1/tenants/{tenant}/users/{id}", "/api/v1/tenants/nope/users/x", e.all, 404},
	} {
		r := e.inst.get(t, tc.path, tc.key)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.path, r.status, tc.status, r.body)
			continue
		}
		op := doc["paths"].(map[string]any)[tc.template].(map[string]any)["get"].(map[string]any)
		resp, ok := op["responses"].(map[string]any)[strconv.Itoa(r.status)]
		if !ok {
			t.Errorf("%s: status %d is not documented", tc.template, r.status)
			continue
		}
		resp, _ = deref(t, doc, resp)
		schema := resp.(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		var body any
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if errs := validate(doc, schema, body, "$"); len(errs) > 0 {
			t.Errorf("%s (%d) does not match openapi.json:\n  %s\n%s", tc.path, r.status, strings.Join(errs, "\n  "), r.body)
		}
	}
	// A 410 too.
	e.settle()
	if _, err := e.inst.st.PurgeEvents(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := e.inst.get(t, "/api/v1/events?after="+before, e.all)
	resp, _ := deref(t, doc, doc["paths"].(map[string]any)["/api/v1/events"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["410"])
	var body any
	json.Unmarshal([]byte(r.body), &body)
	if errs := validate(doc, resp.(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"], body, "$"); r.status != 410 || len(errs) > 0 {
		t.Errorf("410: %d %v", r.status, errs)
	}
}

func deref(t testing.TB, doc map[string]any, v any) (any, error) {
	t.Helper()
	for {
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		r, ok := m["$ref"].(string)
		if !ok {
			return v, nil
		}
		var err error
		if v, err = resolve(doc, r); err != nil {
			t.Fatal(err)
		}
	}
}

func resolve(doc map[string]any, ref string) (any, error) {
	var v any = doc
	for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := v.(map[string]any)
		if !ok || m[p] == nil {
			return nil, fmt.Errorf("$ref %s does not resolve", ref)
		}
		v = m[p]
	}
	return v, nil
}

// validate checks v against the part of JSON Schema the document uses
// ($ref, type, required, properties, additionalProperties false, items,
// enum, pattern, oneOf, allOf) and returns what does not hold.
func validate(doc map[string]any, schema, v any, at string) []string {
	s := schema.(map[string]any)
	if r, ok := s["$ref"].(string); ok {
		target, err := resolve(doc, r)
		if err != nil {
			return []string{err.Error()}
		}
		return validate(doc, target, v, at)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if typ, ok := s["type"]; ok {
		var types []string
		switch typ := typ.(type) {
		case string:
			types = []string{typ}
		case []any:
			for _, x := range typ {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			fail("is %s, want %v", jsonType(v), types)
			return errs
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%v is not one of %v", v, enum)
	}
	if p, ok := s["pattern"].(string); ok {
		if str, ok := v.(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, validate(doc, sub, v, at)...)
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(validate(doc, sub, v, at)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of the oneOf schemas, want 1", n)
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := s["properties"].(map[string]any)
		for _, req := range asStrings(s["required"]) {
			if _, ok := obj[req]; !ok {
				fail("lacks %s", req)
			}
		}
		for k, x := range obj {
			if ps, ok := props[k]; ok {
				errs = append(errs, validate(doc, ps, x, at+"."+k)...)
			} else if s["additionalProperties"] == false {
				fail("has %s, which the schema does not allow", k)
			}
		}
	}
	if arr, ok := v.([]any); ok && s["items"] != nil {
		for i, x := range arr {
			errs = append(errs, validate(doc, s["items"], x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return errs
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		out = append(out, x.(string))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}
