package server_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A replay fixture is a sequence of requests a real client sends, with what
// scimd must answer. Paths are relative to the tenant's SCIM base. "{{name}}"
// in a path, body or expected response is replaced by a value saved from an
// earlier response ("save": {"name": "json.path"}). In "response", objects
// match when every listed key matches (others may be present), arrays
// element by element with equal length, "<any>" matches any present value
// and "<absent>" requires the key to be missing.
type replay struct {
	Description string `json:"description"`
	Source      string `json:"source"`
	Steps       []struct {
		Name     string            `json:"name"`
		Method   string            `json:"method"`
		Path     string            `json:"path"`
		Headers  map[string]string `json:"headers"`
		Body     json.RawMessage   `json:"body"`
		Status   int               `json:"status"`
		Response json.RawMessage   `json:"response"`
		Save     map[string]string `json:"save"`
	} `json:"steps"`
}

// TestReplays runs every fixture under testdata/{okta,entra,onelogin}
// against a fresh tenant. A fixture that cannot be read or parsed fails.
func TestReplays(t *testing.T) {
	var files []string
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "fuzz" || d.Name() == "golden") {
			return fs.SkipDir // fuzz corpora and discovery golden files are not replays
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d replay fixtures", len(files))
	}
	for _, backend := range backends(t) {
		for _, file := range files {
			t.Run(backend+"/"+strings.TrimSuffix(strings.TrimPrefix(file, "testdata/"), ".json"), func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var rp replay
				dec := json.NewDecoder(strings.NewReader(string(raw)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&rp); err != nil {
					t.Fatalf("parsing %s: %v", file, err)
				}
				if len(rp.Steps) == 0 || rp.Source == "" {
					t.Fatalf("%s: a fixture needs steps and a source", file)
				}
				e := newEnvOn(t, backend)
				vars := map[string]string{}
				subst := func(s string) string {
					return regexp.MustCompile(`\{\{(\w+)\}\}`).ReplaceAllStringFunc(s, func(m string) string {
						v, ok := vars[m[2:len(m)-2]]
						if !ok {
							t.Fatalf("undefined variable %s", m)
						}
						return v
					})
				}
				for i, st := range rp.Steps {
					body := ""
					if len(st.Body) > 0 {
						body = subst(string(st.Body))
					}
					var hdr []string
					for k, v := range st.Headers {
						hdr = append(hdr, k, v)
					}
					r := e.do(st.Method, subst(st.Path), body, hdr...)
					where := fmt.Sprintf("step %d (%s %s %s)", i+1, st.Name, st.Method, st.Path)
					if r.status != st.Status {
						t.Fatalf("%s: status %d, want %d\n%s", where, r.status, st.Status, r.body)
					}
					if ct := r.header.Get("Content-Type"); len(r.body) > 0 && !strings.HasPrefix(ct, "application/scim+json") {
						t.Errorf("%s: Content-Type %q", where, ct)
					}
					if len(st.Response) > 0 {
						var want any
						if err := json.Unmarshal([]byte(subst(string(st.Response))), &want); err != nil {
							t.Fatalf("%s: bad expected response: %v", where, err)
						}
						var got any
						json.Unmarshal(r.body, &got)
						if msg := match(want, got, "$"); msg != "" {
							t.Errorf("%s: %s\nresponse: %s", where, msg, r.body)
						}
					}
					for name, path := range st.Save {
						v := lookup(r.json, path)
						if v == nil {
							t.Fatalf("%s: nothing at %s to save as %s", where, path, name)
						}
						vars[name] = fmt.Sprint(v)
					}
				}
			})
		}
	}
}

// match returns "" when got matches the pattern want, else what differs.
func match(want, got any, at string) string {
	switch w := want.(type) {
	case string:
		if w == "<any>" {
			if got == nil {
				return at + ": missing"
			}
			return ""
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			gv, present := g[k]
			if wv == "<absent>" {
				if present {
					return fmt.Sprintf("%s.%s: present (%v), want absent", at, k, gv)
				}
				continue
			}
			if !present {
				return fmt.Sprintf("%s.%s: missing", at, k)
			}
			if m := match(wv, gv, at+"."+k); m != "" {
				return m
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d elements", at, got, len(w))
		}
		for i := range w {
			if m := match(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); m != "" {
				return m
			}
		}
		return ""
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return fmt.Sprintf("%s: got %#v, want %#v", at, got, want)
	}
	return ""
}

// lookup follows a dotted path with [n] indexes: "Resources[0].id".
func lookup(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		name, idx, _ := strings.Cut(part, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[name]
		}
		if idx != "" {
			var i int
			fmt.Sscanf(idx, "%d]", &i)
			l, ok := v.([]any)
			if !ok || i >= len(l) {
				return nil
			}
			v = l[i]
		}
	}
	return v
}
