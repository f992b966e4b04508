package sqlstore

import (
	"math"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// order is a compiled ORDER BY clause: the sort expression, if any, then
// the table's seq, so that the order is total.
type order struct {
	sql  string
	args []any

	// What keyset (cursor) paging needs.
	seq      string // the seq column
	key      string // the sort expression; "" when the order is seq alone
	keyArgs  []any
	desc     bool
	nullable bool // key may be NULL: NULLs sort last ascending, first descending
	keyKind  keyKind
}

// keyKind says what SQL values a sort key takes, and so how it is carried
// in a store.Position, which must survive JSON (a string, a float64, a bool
// or nil).
type keyKind int

const (
	keyText   keyKind = iota // text, as a string
	keyBool                  // a boolean (SQLite: 0 or 1), as a bool
	keyTime                  // unix nanoseconds, as an RFC 3339 string
	keyInt                   // an integer column, as a float64
	keyNumber                // a number in a document, as a float64, or as a string where the database sorts it as text
)

// compileSort compiles sortBy and the sort order to an ORDER BY clause that
// ends with the table's seq, so that the order is total and stable across
// pages. An empty sortBy keeps creation order (the sort order is then
// ignored). Resources without a value sort last in ascending order and
// first in descending order (RFC 7644 §3.4.2.3). A multi-valued attribute
// sorts by its primary (else first) value; group members cannot be sorted
// by.
func compileSort(d FilterDialect, rt *schema.ResourceType, sortBy string, desc bool) (order, error) {
	c := newCompiler(d, rt, 0)
	seq := c.res.col("seq")
	seqOrder := order{sql: seq, seq: seq}
	r, ok, err := parseSort(rt, c.res.refuse, sortBy)
	if err != nil || !ok {
		return seqOrder, err
	}
	var o operand
	var key Fragment
	nullable := true
	switch {
	case r.elem != nil:
		side, isSide := c.res.side[strings.ToLower(r.attr.Name)]
		sc := &scope{schema: r.schema, attr: r.attr, kind: scopeJSON}
		switch {
		case r.schema == rt.Core && isSide && side == scopeEmail:
			sc.kind = scopeEmail
		case r.schema == rt.Core && isSide:
			return order{}, errorf("cannot sort by %q", r.name)
		}
		o, err = c.elemOperand(filter.Path{Attr: r.elem.Name}, sc)
		if err != nil {
			return order{}, err
		}
		v, err := c.sortValue(o)
		if err != nil {
			return order{}, err
		}
		if sc.kind == scopeEmail {
			key.SQL = "(SELECT " + v.SQL + " FROM user_emails e WHERE e.user_seq = " + seq + " ORDER BY e.is_primary IS TRUE DESC, e.pos LIMIT 1)"
			key.Args = v.Args
			break
		}
		from := c.elements(sc)
		primary := c.d.JSONValue(Fragment{SQL: "j.value"}, []string{"primary"}, schema.Boolean)
		key.SQL = "(SELECT " + v.SQL + " FROM " + from.SQL + " ORDER BY " + primary.SQL + " IS TRUE DESC, j.key LIMIT 1)"
		key.Args = concat(concat(v.Args, from.Args), primary.Args)
	default:
		o, err = c.operand(r.resolved, true)
		if err != nil {
			return order{}, err
		}
		if o.kind == constValue {
			return seqOrder, nil // the same for every resource
		}
		if key, err = c.sortValue(o); err != nil {
			return order{}, err
		}
		// NOT NULL columns get a plain order, so an index serves it.
		nullable = !o.notNull
	}
	return order{sql: orderBy(key.SQL, seq, desc, nullable), args: key.Args,
		seq: seq, key: key.SQL, keyArgs: key.Args, desc: desc, nullable: nullable, keyKind: o.keyKind()}, nil
}

// sortValue is what o sorts by: its value, folded when it is compared
// case-insensitively. A boolean read from a document sorts as a boolean;
// any other value read from a document as JSONValue returns text.
func (c *compiler) sortValue(o operand) (Fragment, error) {
	switch {
	case o.inDoc() && o.attr.Type == schema.Boolean:
		return c.d.JSONValue(o.doc, o.keys, schema.Boolean), nil
	case foldable(o.attr):
		f, err := c.folded(o)
		return Fragment{SQL: f, Args: o.args}, err
	}
	return Fragment{SQL: o.expr, Args: o.args}, nil
}

// keyKind is the kind of the sort key sortValue makes of o.
func (o operand) keyKind() keyKind {
	if o.inDoc() {
		switch o.attr.Type {
		case schema.Boolean:
			return keyBool
		case schema.Integer, schema.Decimal:
			return keyNumber
		}
		return keyText
	}
	switch o.kind {
	case timeValue:
		return keyTime
	case boolValue:
		return keyBool
	case intValue:
		return keyInt
	}
	return keyText
}

// after compiles "the row comes after position p in this order", the
// keyset condition of cursor paging. Its positive comparisons come first,
// so that an index on the sort key serves it as a range.
func (o order) after(p *store.Position) (cond, error) {
	if o.key == "" {
		return o.afterBound(p.Seq, nil), nil
	}
	k, err := o.bindKey(p.Key)
	if err != nil {
		return cond{}, err
	}
	return o.afterBound(p.Seq, k), nil
}

// afterBound is after with the key as an SQL value: bound by bindKey, or
// as the sort expression returned it.
func (o order) afterBound(seq int64, k any) cond {
	if o.key == "" {
		return cond{sql: o.seq + " > ?", args: []any{seq}}
	}
	cmp := ">"
	if o.desc {
		cmp = "<"
	}
	e, ka := o.key, o.keyArgs
	isNull := cond{sql: e + " IS NULL", args: ka}
	seqAfter := cond{sql: o.seq + " " + cmp + " ?", args: []any{seq}}
	if k == nil {
		if !o.desc {
			// Inside the NULLs, which come last.
			return and(isNull, seqAfter)
		}
		// Inside the NULLs, which come first; then every value.
		return or(and(isNull, seqAfter), cond{sql: e + " IS NOT NULL", args: ka})
	}
	c := and(
		cond{sql: e + " " + cmp + "= ?", args: append(concat(ka, nil), k), nullable: o.nullable},
		or(cond{sql: e + " " + cmp + " ?", args: append(concat(ka, nil), k), nullable: o.nullable}, seqAfter))
	if o.nullable && !o.desc {
		c = or(c, isNull) // the NULLs, last
	}
	return c
}

// bindKey converts a Position's Key to an SQL argument comparable with
// the sort expression. A key of the wrong kind is an invalid cursor.
func (o order) bindKey(k any) (any, error) {
	switch k := k.(type) {
	case nil:
		return nil, nil
	case bool:
		if o.keyKind == keyBool {
			return k, nil
		}
	case string:
		switch o.keyKind {
		case keyTime:
			if t, err := time.Parse(time.RFC3339Nano, k); err == nil {
				return clampNanos(t), nil
			}
		case keyText, keyNumber:
			return k, nil
		}
	case float64:
		if o.keyKind != keyInt && o.keyKind != keyNumber || math.IsNaN(k) || math.IsInf(k, 0) {
			break
		}
		if k == math.Trunc(k) && math.Abs(k) < 1<<62 {
			return int64(k), nil
		}
		if o.keyKind == keyNumber {
			return k, nil
		}
	case int64:
		if o.keyKind == keyInt || o.keyKind == keyNumber {
			return k, nil
		}
	case int:
		if o.keyKind == keyInt || o.keyKind == keyNumber {
			return int64(k), nil
		}
	}
	return nil, errorf("invalid cursor")
}

// readKey converts a sort expression's value, as the driver returns it, to
// a Position's Key: nil, a string, a float64 or a bool.
func (o order) readKey(v any) any {
	switch v := v.(type) {
	case int64:
		switch o.keyKind {
		case keyBool:
			return v != 0
		case keyTime:
			return fromNanos(v).Format(time.RFC3339Nano)
		}
		return float64(v)
	case int32:
		return float64(v)
	case []byte:
		return string(v)
	}
	return v // nil, float64, string, bool
}

// sortPath is a sortBy path resolved against the schema.
type sortPath struct {
	resolved
	// elem is, for a multi-valued attribute, the sub-attribute of its
	// primary (else first) element that is sorted by: the one named, else
	// value. It is nil for a single-valued attribute, whose leaf is neither
	// multi-valued nor complex.
	elem *schema.Attribute
}

// parseSort parses and resolves sortBy (refuse as for [resolve]). It
// reports false, with no error, when sortBy is empty: the order is then
// creation order. The schemas attribute, complex attributes and
// multi-valued attributes with neither a named sub-attribute nor a value
// cannot be sorted by.
func parseSort(rt *schema.ResourceType, refuse map[string]string, sortBy string) (sortPath, bool, error) {
	sortBy = strings.TrimSpace(sortBy)
	if sortBy == "" {
		return sortPath{}, false, nil
	}
	p, err := filter.ParsePath(sortBy)
	if err != nil || p.Filter != nil {
		return sortPath{}, false, errorf("invalid sortBy %q", sortBy)
	}
	if isSchemas(rt, p) {
		return sortPath{}, false, errorf("cannot sort by schemas")
	}
	r, err := resolve(rt, refuse, p)
	if err != nil {
		return sortPath{}, false, err
	}
	sp := sortPath{resolved: r}
	switch {
	case r.attr.MultiValued:
		sp.elem = r.sub
		if sp.elem == nil && r.attr.Type == schema.Complex {
			sp.elem = r.attr.Sub("value")
		}
		if sp.elem == nil {
			return sortPath{}, false, errorf("cannot sort by %q", r.name)
		}
	case r.leaf().Type == schema.Complex:
		return sortPath{}, false, errorf("cannot sort by %q: it is complex; name one of its sub-attributes", r.name)
	}
	return sp, true, nil
}

// orderBy is the ORDER BY list for key, then seq, both in the given
// direction. A nullable key puts its NULLs last ascending and first
// descending (RFC 7644 §3.4.2.3), as cursor paging walks them.
func orderBy(key, seq string, desc, nullable bool) string {
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
