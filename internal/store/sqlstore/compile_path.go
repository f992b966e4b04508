package sqlstore

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// The parts of the compiler that write no SQL: resolving attribute paths
// through the schema, the limits, dateTime literals and comparisons of
// constant attributes.

// Limits on what one filter may compile to. The parser already bounds the
// filter's length and depth; these bound the SQL as well.
const (
	maxDepth = 2 * filter.MaxDepth
	maxSQL   = 64 << 10
	maxArgs  = 1000
)

// errorf returns a *store.FilterError with the formatted message.
func errorf(format string, args ...any) error {
	return &store.FilterError{Msg: fmt.Sprintf(format, args...)}
}

// pathName renders p for messages.
func pathName(p filter.Path) string {
	s := p.Attr
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// isSchemas reports whether p names the schemas attribute, which is not in
// the schema definitions.
func isSchemas(rt *schema.ResourceType, p filter.Path) bool {
	return (p.URN == "" || strings.EqualFold(p.URN, rt.Core.ID)) && strings.EqualFold(p.Attr, "schemas") && p.Sub == ""
}

// resolved is a path resolved against the schema.
type resolved struct {
	schema *schema.Schema
	attr   *schema.Attribute
	sub    *schema.Attribute // nil when the path names no sub-attribute
	name   string            // as the client wrote it, for messages
}

// leaf is the attribute the path ends at: sub, else attr.
func (r resolved) leaf() *schema.Attribute {
	if r.sub != nil {
		return r.sub
	}
	return r.attr
}

// resolve looks p up in rt's schemas. refuse holds the core attributes that
// cannot be filtered or sorted by, by lower-case name, with the message.
func resolve(rt *schema.ResourceType, refuse map[string]string, p filter.Path) (resolved, error) {
	r := resolved{name: pathName(p)}
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
		return r, errorf("unknown schema in attribute path %q", r.name)
	case a == nil, p.Sub != "" && sub == nil:
		return r, errorf("unknown attribute %q", r.name)
	case a.Returned == schema.Never:
		return r, errorf("attribute %q cannot be filtered", r.name)
	case s == rt.Core && refuse[strings.ToLower(a.Name)] != "":
		return r, errorf("%s", refuse[strings.ToLower(a.Name)])
	}
	r.schema, r.attr, r.sub = s, a, sub
	return r, nil
}

// foldable reports whether a is compared case-insensitively: both sides
// go through scim.Fold.
func foldable(a *schema.Attribute) bool {
	return !a.CaseExact && (a.Type == schema.String || a.Type == schema.Reference)
}

// compareConst evaluates "val op v" in Go, for an attribute whose value is
// the same for every resource (meta.resourceType); name is the attribute
// path, for messages. The result is negated when neg is set.
func compareConst(attr *schema.Attribute, name, val string, op filter.Op, v any, neg bool) (bool, error) {
	s, ok := v.(string)
	if !ok {
		return false, errorf("%s is a string; compare it with a quoted string", name)
	}
	if !attr.CaseExact {
		val, s = scim.Fold(val), scim.Fold(s)
	}
	var b bool
	switch op {
	case filter.Eq:
		b = val == s
	case filter.Ne:
		b = val != s
	case filter.Co:
		b = strings.Contains(val, s)
	case filter.Sw:
		b = strings.HasPrefix(val, s)
	case filter.Ew:
		b = strings.HasSuffix(val, s)
	case filter.Gt:
		b = val > s
	case filter.Ge:
		b = val >= s
	case filter.Lt:
		b = val < s
	case filter.Le:
		b = val <= s
	default:
		return false, errorf("%s: unsupported operator %q", name, op)
	}
	return b != neg, nil
}

// parseTime parses an xsd:dateTime as SCIM uses it: RFC 3339, with optional
// fractional seconds; a time without a zone is taken as UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	if t, err2 := time.Parse("2006-01-02T15:04:05.999999999", s); err2 == nil {
		return t, nil
	}
	return time.Time{}, err
}

// clampNanos is t in unix nanoseconds, clamped to the int64 range (years
// 1678 to 2262) so that a far-away literal still compares correctly.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
