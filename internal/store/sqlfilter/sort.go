package sqlfilter

import (
	"strings"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

// SortPath is a sortBy path resolved against the schema.
type SortPath struct {
	Resolved
	// Elem is, for a multi-valued attribute, the sub-attribute of its
	// primary (else first) element that is sorted by: the one named, else
	// value. It is nil for a single-valued attribute, whose Leaf is neither
	// multi-valued nor complex.
	Elem *schema.Attribute
}

// ParseSort parses and resolves sortBy (refuse as for [Resolve]). It
// reports false, with no error, when sortBy is empty: the order is then
// creation order. The schemas attribute, complex attributes and
// multi-valued attributes with neither a named sub-attribute nor a value
// cannot be sorted by.
func ParseSort(rt *schema.ResourceType, refuse map[string]string, sortBy string) (SortPath, bool, error) {
	sortBy = strings.TrimSpace(sortBy)
	if sortBy == "" {
		return SortPath{}, false, nil
	}
	p, err := filter.ParsePath(sortBy)
	if err != nil || p.Filter != nil {
		return SortPath{}, false, Errorf("invalid sortBy %q", sortBy)
	}
	if IsSchemas(rt, p) {
		return SortPath{}, false, Errorf("cannot sort by schemas")
	}
	r, err := Resolve(rt, refuse, p)
	if err != nil {
		return SortPath{}, false, err
	}
	sp := SortPath{Resolved: r}
	switch {
	case r.Attr.MultiValued:
		sp.Elem = r.Sub
		if sp.Elem == nil && r.Attr.Type == schema.Complex {
			sp.Elem = r.Attr.Sub("value")
		}
		if sp.Elem == nil {
			return SortPath{}, false, Errorf("cannot sort by %q", r.Name)
		}
	case r.Leaf().Type == schema.Complex:
		return SortPath{}, false, Errorf("cannot sort by %q: it is complex; name one of its sub-attributes", r.Name)
	}
	return sp, true, nil
}

// OrderBy is the ORDER BY list for key, then seq, both in the given
// direction. A nullable key puts its NULLs last ascending and first
// descending (RFC 7644 §3.4.2.3), as both backends page through them.
func OrderBy(key, seq string, desc, nullable bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	nulls := ""
	if nullable {
		nulls = " NULLS LAST"
		if desc {
			nulls = " NULLS FIRST"
		}
	}
	return key + dir + nulls + ", " + seq + dir
}
