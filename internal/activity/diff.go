package activity

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// maxValue bounds the length of a value shown in a change.
const maxValue = 200

// Diff returns the attribute-level changes from before to after: one
// Change per leaf attribute (sub-attributes of complex attributes and of
// extensions are leaves: "name.givenName", "urn:…:User:department"), a
// multi-valued attribute compared as a whole. Attributes whose name
// mentions a password or secret are never included. A nil before is a
// creation, a nil after a deletion (no changes listed).
func Diff(before, after map[string]any) []store.Change {
	if after == nil {
		return nil
	}
	old, cur := map[string]string{}, map[string]string{}
	flatten("", before, old)
	flatten("", after, cur)
	var out []store.Change
	for k, v := range cur {
		if o, ok := old[k]; !ok || o != v {
			out = append(out, store.Change{Attr: k, Old: o, New: v})
		}
	}
	for k, o := range old {
		if _, ok := cur[k]; !ok {
			out = append(out, store.Change{Attr: k, Old: o})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Attr < out[j].Attr })
	return out
}

func secret(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.Contains(n, "token")
}

func flatten(prefix string, m map[string]any, out map[string]string) {
	for k, v := range m {
		if secret(k) {
			continue
		}
		name := k
		switch {
		case prefix == "":
		case strings.HasPrefix(prefix, "urn:"):
			name = prefix + ":" + k
		default:
			name = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && !strings.Contains(prefix, ".") {
			flatten(name, sub, out)
			continue
		}
		out[name] = show(v)
	}
}

// show renders a value as JSON text (strings without their quotes),
// shortened.
func show(v any) string {
	var s string
	if str, ok := v.(string); ok {
		s = str
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			return "?"
		}
		s = string(b)
	}
	if len(s) > maxValue {
		s = scim.Cut(s, maxValue) + "…"
	}
	return s
}
