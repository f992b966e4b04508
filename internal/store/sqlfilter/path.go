package sqlfilter

import (
	"fmt"
	"strings"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// Limits on what one filter may compile to. The parser already bounds the
// filter's length and depth; these bound the SQL as well.
const (
	MaxDepth = 2 * filter.MaxDepth
	MaxSQL   = 64 << 10
	MaxArgs  = 1000
)

// Errorf returns a *store.FilterError with the formatted message.
func Errorf(format string, args ...any) error {
	return &store.FilterError{Msg: fmt.Sprintf(format, args...)}
}

// PathName renders p for messages.
func PathName(p filter.Path) string {
	s := p.Attr
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// IsSchemas reports whether p names the schemas attribute, which is not in
// the schema definitions.
func IsSchemas(rt *schema.ResourceType, p filter.Path) bool {
	return (p.URN == "" || strings.EqualFold(p.URN, rt.Core.ID)) && strings.EqualFold(p.Attr, "schemas") && p.Sub == ""
}

// Resolved is a path resolved against the schema.
type Resolved struct {
	Schema *schema.Schema
	Attr   *schema.Attribute
	Sub    *schema.Attribute // nil when the path names no sub-attribute
	Name   string            // as the client wrote it, for messages
}

// Leaf is the attribute the path ends at: Sub, else Attr.
func (r Resolved) Leaf() *schema.Attribute {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// Resolve looks p up in rt's schemas. refuse holds the core attributes that
// cannot be filtered or sorted by, by lower-case name, with the message.
func Resolve(rt *schema.ResourceType, refuse map[string]string, p filter.Path) (Resolved, error) {
	r := Resolved{Name: PathName(p)}
	urn, attr := p.URN, p.Attr
	if urn == "" {
		// A parser that leaves "urn:...:User:name" whole in Attr.
		if u, rest, ok := rt.SplitURN(attr); ok {
			urn, attr = u, rest
		}
	}
	s, a, sub := rt.Lookup(urn, attr, p.Sub)
	switch {
	case s == nil:
		return r, Errorf("unknown schema in attribute path %q", r.Name)
	case a == nil, p.Sub != "" && sub == nil:
		return r, Errorf("unknown attribute %q", r.Name)
	case a.Returned == schema.Never:
		return r, Errorf("attribute %q cannot be filtered", r.Name)
	case s == rt.Core && refuse[strings.ToLower(a.Name)] != "":
		return r, Errorf("%s", refuse[strings.ToLower(a.Name)])
	}
	r.Schema, r.Attr, r.Sub = s, a, sub
	return r, nil
}
