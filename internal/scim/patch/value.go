package patch

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
)

// simpleValue checks v against the type of the simple attribute attr
// (called name in messages) and returns it in canonical form.
func simpleValue(attr *schema.Attribute, name string, v any) (any, *Error) {
	switch attr.Type {
	case schema.Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			// Entra ID's default mode sends "True"/"False", others
			// "true"/"false" (R7, B.4); test cases "entra/disable default
			// mode" and "entra/disable lowercase string".
			if strings.EqualFold(x, "true") {
				return true, nil
			}
			if strings.EqualFold(x, "false") {
				return false, nil
			}
		}
		return nil, errorf(scim.InvalidValue, "attribute %q must be a boolean, got %s", name, describe(v))
	case schema.Integer:
		if f, ok := toFloat(v); ok && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return v, nil
		}
		return nil, errorf(scim.InvalidValue, "attribute %q must be an integer, got %s", name, describe(v))
	case schema.Decimal:
		if _, ok := toFloat(v); ok {
			return v, nil
		}
		return nil, errorf(scim.InvalidValue, "attribute %q must be a number, got %s", name, describe(v))
	case schema.Complex:
		return nil, errorf(scim.InvalidValue, "attribute %q must be an object, got %s", name, describe(v))
	}
	// string, reference, dateTime, binary
	if s, ok := v.(string); ok {
		return s, nil
	}
	return nil, errorf(scim.InvalidValue, "attribute %q must be a string, got %s", name, describe(v))
}

// complexValue checks v, the value of the singular complex attribute attr,
// and returns it with canonical sub-attribute names. For an ordinary
// complex attribute, null sub-attributes are kept (as nil) since they
// remove when merged. For a reference (isRef) nulls are dropped, and nil
// means the reference is removed.
func complexValue(attr *schema.Attribute, v any) (map[string]any, *Error) {
	if isRef(attr) {
		switch x := v.(type) {
		case string:
			// Entra ID sends the manager as the manager's id (B.2, B.3):
			// stored as {"value": id}; test case "entra/manager string".
			// The empty string removes it; test case "manager/empty
			// string removes".
			if x == "" {
				return nil, nil
			}
			return map[string]any{"value": x}, nil
		case []any:
			// Entra ID documents [{"$ref":...,"value":...}] (B.3); test
			// case "entra/manager documented form".
			switch len(x) {
			case 0:
				return nil, nil
			case 1:
				return complexValue(attr, x[0])
			}
			return nil, errorf(scim.InvalidValue, "attribute %q takes a single value, got %d", attr.Name, len(x))
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(scim.InvalidValue, "attribute %q must be an object, got %s", attr.Name, describe(v))
	}
	if !isRef(attr) {
		return subValues(attr, obj)
	}
	m, err := element(attr, obj)
	if m != nil && m["value"] == "" {
		return nil, nil
	}
	return m, err
}

// subValues checks the sub-attributes of obj, a value of the complex
// attribute attr, and returns them under their canonical names; null
// values are kept as nil.
func subValues(attr *schema.Attribute, obj map[string]any) (map[string]any, *Error) {
	out := make(map[string]any, len(obj))
	for k, x := range obj {
		sub := attr.Sub(k)
		if sub == nil {
			return nil, errorf(scim.InvalidValue, "attribute %q has no sub-attribute %s", attr.Name, quote(k))
		}
		if _, dup := out[sub.Name]; dup {
			return nil, errorf(scim.InvalidValue, "sub-attribute %q of %q is given twice", sub.Name, attr.Name)
		}
		if x == nil {
			out[sub.Name] = nil
			continue
		}
		y, err := simpleValue(sub, attr.Name+"."+sub.Name, x)
		if err != nil {
			return nil, err
		}
		out[sub.Name] = y
	}
	return out, nil
}

// isRef reports whether attr is a reference to a resource (a group member,
// a manager): a complex attribute with "value" and "$ref" sub-attributes.
// Its value identifies it.
func isRef(attr *schema.Attribute) bool {
	return attr.Type == schema.Complex && attr.Sub("value") != nil && attr.Sub("$ref") != nil
}

// equalElem reports whether a and b are the same element of the
// multi-valued attribute attr: equal sub-attribute by sub-attribute, or for
// references, equal values.
func equalElem(attr *schema.Attribute, a, b any) bool {
	if attr.Type != schema.Complex {
		return equalValue(attr, a, b)
	}
	am, ok := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok || !ok2 {
		return false
	}
	if isRef(attr) {
		av, ok := am["value"]
		bv, ok2 := bm["value"]
		return ok && ok2 && equalValue(attr.Sub("value"), av, bv)
	}
	if len(am) != len(bm) {
		return false
	}
	for k, x := range am {
		if y, ok := bm[k]; !ok || !equalValue(attr.Sub(k), x, y) {
			return false
		}
	}
	return true
}

// elemKey is a key of element x of the multi-valued attribute attr: two
// elements are equalElem exactly when their keys are equal. False when x
// can equal no element (a complex attribute's element that is not an
// object, a reference without a value).
func elemKey(attr *schema.Attribute, x any) (string, bool) {
	if attr.Type != schema.Complex {
		return valueKey(attr, x), true
	}
	m, ok := x.(map[string]any)
	if !ok {
		return "", false
	}
	if isRef(attr) {
		v, ok := m["value"]
		if !ok {
			return "", false
		}
		return "ref:" + valueKey(attr.Sub("value"), v), true
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(valueKey(attr.Sub(k), m[k])))
		b.WriteByte(';')
	}
	return b.String(), true
}

// valueKey is a key of the simple value v of attribute attr (nil if
// unknown): equalValue holds exactly when the keys are equal.
func valueKey(attr *schema.Attribute, v any) string {
	switch x := v.(type) {
	case string:
		if attr == nil || !attr.CaseExact {
			return "s" + scim.Fold(x)
		}
		return "s" + x
	case bool:
		if x {
			return "b1"
		}
		return "b0"
	}
	if f, ok := toFloat(v); ok {
		if f == 0 {
			f = 0 // -0 equals 0
		}
		return "n" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	b, _ := json.Marshal(v) // decoded JSON: maps encode with sorted keys
	return "j" + string(b)
}

// equalValue reports whether the simple values a and b of attribute attr
// (nil if unknown) are equal: strings case-insensitively unless attr is
// case-exact, numbers numerically.
func equalValue(attr *schema.Attribute, a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		return (attr == nil || !attr.CaseExact) && scim.Fold(x) == scim.Fold(y)
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	if fx, ok := toFloat(a); ok {
		fy, ok := toFloat(b)
		return ok && fx == fy
	}
	return reflect.DeepEqual(a, b)
}

// toFloat returns the number x as a float64.
func toFloat(x any) (float64, bool) {
	switch x := x.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
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
	}
	return 0, false
}

// copyMap returns a deep copy of m (never nil).
func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

// copyValue returns a deep copy of the JSON-like value v; lists of objects
// built by Go code ([]map[string]any) become []any.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyMap(e)
		}
		return out
	}
	return v
}

// describe names the kind of v, with its value if short, for messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	case string:
		return "the string " + quote(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if _, ok := toFloat(v); ok {
		return "the number " + short(fmt.Sprint(v))
	}
	return fmt.Sprintf("a %T", v)
}

// quote quotes s for a message, shortened.
func quote(s string) string { return strconv.Quote(short(s)) }

// short truncates s to at most 64 bytes, on a rune boundary.
func short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
