package sqlfilter

import (
	"math"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

// CompareConst evaluates "val op v" in Go, for an attribute whose value is
// the same for every resource (meta.resourceType); name is the attribute
// path, for messages. The result is negated when neg is set.
func CompareConst(attr *schema.Attribute, name, val string, op filter.Op, v any, neg bool) (bool, error) {
	s, ok := v.(string)
	if !ok {
		return false, Errorf("%s is a string; compare it with a quoted string", name)
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
		return false, Errorf("%s: unsupported operator %q", name, op)
	}
	return b != neg, nil
}

// ParseTime parses an xsd:dateTime as SCIM uses it: RFC 3339, with optional
// fractional seconds; a time without a zone is taken as UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	if t, err2 := time.Parse("2006-01-02T15:04:05.999999999", s); err2 == nil {
		return t, nil
	}
	return time.Time{}, err
}

// ClampNanos is t in unix nanoseconds, clamped to the int64 range (years
// 1678 to 2262) so that a far-away literal still compares correctly.
func ClampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
