package filter

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
)

// Match reports whether the JSON-like value v (map[string]any, []any, string,
// bool, float64, json.Number, nil — as produced by encoding/json, with
// object keys in any case) satisfies e. Attribute names are matched
// case-insensitively against map keys. caseExact reports whether the
// attribute named by p is case-exact; when it is false, string comparisons
// use scim.Fold on both sides. Used by the PATCH engine to evaluate value
// filters like emails[type eq "work"] on one element, and by tests.
//
// Details:
//   - A path with a URN looks in the map under that URN key (the extension
//     object); when v has no such key the attribute is looked up at the top
//     level, where core schema attributes live.
//   - Inside a [ValuePath], caseExact receives the qualified path
//     {URN, Attr: parent, Sub: sub} rather than the relative one. A nil
//     caseExact means no attribute is case-exact.
//   - A comparison on a multi-valued attribute is true if any element
//     matches; complex elements compare by their "value" sub-attribute.
//   - ne is the negation of eq, so it is true for a missing attribute.
//     eq null is the negation of pr (true for a missing attribute, null,
//     "", [] or {}); other operators never match null.
//   - eq, gt, ge, lt and le compare RFC 3339 date-times chronologically when
//     both sides parse as one, other strings lexicographically; numbers
//     compare numerically; booleans support eq and ne only; co, sw and ew
//     apply to strings only.
//   - pr is true when the attribute is present and not null, "", [] or {}.
func Match(e Expr, v map[string]any, caseExact func(p Path) bool) bool {
	m := matcher{caseExact: caseExact}
	return m.match(e, v, nil)
}

type matcher struct {
	caseExact func(Path) bool
}

// match evaluates e on v; parent is the multi-valued attribute whose
// element v is when evaluating a value filter, or nil.
func (m *matcher) match(e Expr, v map[string]any, parent *Path) bool {
	switch x := e.(type) {
	case *And:
		return m.match(x.Left, v, parent) && m.match(x.Right, v, parent)
	case *Or:
		return m.match(x.Left, v, parent) || m.match(x.Right, v, parent)
	case *Not:
		return !m.match(x.X, v, parent)
	case *Present:
		return m.present(x.Path, v)
	case *Compare:
		return m.compare(x, v, parent)
	case *ValuePath:
		val, ok := lookupPath(v, x.Path)
		if !ok {
			return false
		}
		if x.Path.Filter != nil {
			val = m.filterElems(val, x.Path)
		}
		q := &Path{URN: x.Path.URN, Attr: x.Path.Attr}
		switch val := val.(type) {
		case []any:
			for _, el := range val {
				if obj, ok := el.(map[string]any); ok && m.match(x.Filter, obj, q) {
					return true
				}
			}
		case map[string]any:
			return m.match(x.Filter, val, q)
		}
	}
	return false
}

func (m *matcher) exact(p Path, parent *Path) bool {
	if m.caseExact == nil {
		return false
	}
	if parent != nil {
		return m.caseExact(Path{URN: parent.URN, Attr: parent.Attr, Sub: p.Attr})
	}
	return m.caseExact(Path{URN: p.URN, Attr: p.Attr, Sub: p.Sub})
}

// lookup finds key in obj, preferring an exact match over a
// case-insensitive one.
func lookup(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// lookupPath finds the attribute p.URN:p.Attr in v.
func lookupPath(v map[string]any, p Path) (any, bool) {
	if p.URN != "" {
		if ext, ok := lookup(v, p.URN); ok {
			if obj, ok := ext.(map[string]any); ok {
				v = obj
			}
		}
	}
	return lookup(v, p.Attr)
}

// filterElems keeps the elements of the multi-valued val matching p.Filter.
func (m *matcher) filterElems(val any, p Path) any {
	q := &Path{URN: p.URN, Attr: p.Attr}
	var out []any
	switch val := val.(type) {
	case []any:
		for _, el := range val {
			if obj, ok := el.(map[string]any); ok && m.match(p.Filter, obj, q) {
				out = append(out, el)
			}
		}
	case map[string]any:
		if m.match(p.Filter, val, q) {
			out = append(out, val)
		}
	}
	return out
}

// resolve returns the values p names in v: the attribute itself, or its
// sub-attribute in each element when p has Sub.
func (m *matcher) resolve(p Path, v map[string]any) []any {
	val, ok := lookupPath(v, p)
	if !ok {
		return nil
	}
	if p.Filter != nil {
		val = m.filterElems(val, p)
	}
	if p.Sub == "" {
		return []any{val}
	}
	var out []any
	switch val := val.(type) {
	case map[string]any:
		if s, ok := lookup(val, p.Sub); ok {
			out = append(out, s)
		}
	case []any:
		for _, el := range val {
			if obj, ok := el.(map[string]any); ok {
				if s, ok := lookup(obj, p.Sub); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// leaves flattens resolved values to the scalars a comparison looks at:
// elements of arrays, and the "value" sub-attribute of complex values.
func leaves(vals []any) []any {
	var out []any
	var add func(x any, nested bool)
	add = func(x any, nested bool) {
		switch x := x.(type) {
		case []any:
			if nested {
				return
			}
			for _, el := range x {
				add(el, true)
			}
		case map[string]any:
			if s, ok := lookup(x, "value"); ok {
				if _, isObj := s.(map[string]any); !isObj {
					if _, isArr := s.([]any); !isArr {
						out = append(out, s)
					}
				}
			}
		default:
			out = append(out, x)
		}
	}
	for _, v := range vals {
		add(v, false)
	}
	return out
}

// present reports whether p names a value in v that is not null, "", [] or
// {}.
func (m *matcher) present(p Path, v map[string]any) bool {
	for _, val := range m.resolve(p, v) {
		if nonEmpty(val) {
			return true
		}
	}
	return false
}

func nonEmpty(x any) bool {
	switch x := x.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		for _, el := range x {
			if nonEmpty(el) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, el := range x {
			if nonEmpty(el) {
				return true
			}
		}
		return false
	}
	return true
}

func (m *matcher) compare(c *Compare, v map[string]any, parent *Path) bool {
	op := c.Op
	negate := false
	if op == Ne {
		op, negate = Eq, true
	}
	var result bool
	if c.Value == nil {
		// eq null means "not present", as in the SQL backends.
		result = op == Eq && !m.present(c.Path, v)
	} else {
		vals := leaves(m.resolve(c.Path, v))
		exact := false
		if _, ok := c.Value.(string); ok && len(vals) > 0 {
			exact = m.exact(c.Path, parent)
		}
		for _, x := range vals {
			if compareOne(op, x, c.Value, exact) {
				result = true
				break
			}
		}
	}
	return result != negate
}

// compareOne reports whether "x op lit" holds; op is not Ne.
func compareOne(op Op, x, lit any, exact bool) bool {
	switch lit := lit.(type) {
	case string:
		s, ok := x.(string)
		return ok && compareString(op, s, lit, exact)
	case bool:
		b, ok := x.(bool)
		return ok && op == Eq && b == lit
	}
	l, ok := toFloat(lit)
	if !ok {
		return false
	}
	f, ok := toFloat(x)
	if !ok {
		return false
	}
	switch op {
	case Eq:
		return f == l
	case Gt:
		return f > l
	case Ge:
		return f >= l
	case Lt:
		return f < l
	case Le:
		return f <= l
	}
	return false
}

func compareString(op Op, s, lit string, exact bool) bool {
	switch op {
	case Eq, Gt, Ge, Lt, Le:
		if ts, ok := parseTime(s); ok {
			if tl, ok := parseTime(lit); ok {
				return compareInts(op, ts.Compare(tl))
			}
		}
	}
	if !exact {
		s, lit = scim.Fold(s), scim.Fold(lit)
	}
	switch op {
	case Eq:
		return s == lit
	case Co:
		return strings.Contains(s, lit)
	case Sw:
		return strings.HasPrefix(s, lit)
	case Ew:
		return strings.HasSuffix(s, lit)
	}
	return compareInts(op, strings.Compare(s, lit))
}

func compareInts(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

// parseTime parses an RFC 3339 date-time, cheaply rejecting other strings.
func parseTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

func toFloat(x any) (float64, bool) {
	var s string
	switch x := x.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case Number:
		s = string(x)
	case json.Number:
		s = string(x)
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}
