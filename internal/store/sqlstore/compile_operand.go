package sqlstore

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

// operand is an SQL expression for the value of an attribute and what is
// needed to compare it.
type operand struct {
	// expr is the value as SQL: a column, or for a value read from a
	// document its text (JSONValue as a String); NULL when the attribute
	// is absent.
	expr string
	args []any // arguments of expr's placeholders
	// doc and keys locate a value read from a document (doc.SQL is ""
	// for a column), which booleans and numbers are compared through.
	doc    Fragment
	keys   []string
	attr   *schema.Attribute
	name   string
	folded bool // expr is already folded with scim.Fold
	kind   valueKind
	// notNull: expr is never NULL (a NOT NULL column).
	notNull bool
	// memberKey: expr is group_members.member_id (see cond.keyed).
	memberKey bool
	// resourceType is the value of meta.resourceType (kind constValue).
	resourceType string
}

// valueKind says what SQL values an operand takes.
type valueKind int

const (
	textValue  valueKind = iota // text: a text column, or a value read from a document
	timeValue                   // an integer column of unix nanoseconds
	intValue                    // an integer column
	boolValue                   // a boolean column (SQLite: 0 or 1)
	constValue                  // meta.resourceType: the same for every resource
)

// inDoc reports whether o is read from a document rather than a column.
func (o operand) inDoc() bool { return o.doc.SQL != "" }

// operand maps a single-valued attribute (or sub-attribute) of the
// resource's row to its column or to its value in the document. With
// sorting, the columns that can only be sorted by are allowed.
func (c *compiler) operand(r resolved, sorting bool) (operand, error) {
	leaf := r.leaf()
	o := operand{attr: leaf, name: r.name}
	if r.schema == c.rt.Core {
		key := strings.ToLower(r.attr.Name)
		isMeta := key == "meta"
		if isMeta {
			if r.sub == nil {
				return o, errorf("attribute %q is complex; name one of its sub-attributes", r.name)
			}
			key += "." + strings.ToLower(r.sub.Name)
			if key == "meta.resourcetype" {
				o.kind, o.resourceType = constValue, c.rt.Name
				return o, nil
			}
		}
		if col, ok := c.res.cols[key]; ok && (r.sub == nil || isMeta) {
			if col.sortOnly && !sorting {
				return o, errorf("attribute %q cannot be filtered", r.name)
			}
			o.expr, o.folded, o.kind, o.notNull = c.res.col(col.name), col.folded, col.kind, col.notNull
			return o, nil
		}
		if isMeta {
			return o, errorf("attribute %q cannot be filtered", r.name)
		}
	}
	doc, folded := c.doc(), false
	if foldable(leaf) {
		doc, folded = c.foldedDoc()
	}
	c.fromDoc(&o, doc, c.keys(r.schema, r.attr, r.sub))
	o.folded = folded
	return o, nil
}

// fromDoc makes o the value at keys in doc.
func (c *compiler) fromDoc(o *operand, doc Fragment, keys []string) {
	v := c.d.JSONValue(doc, keys, schema.String)
	o.expr, o.args, o.doc, o.keys = v.SQL, v.Args, doc, keys
}

// doc is the resource's document.
func (c *compiler) doc() Fragment { return Fragment{SQL: c.res.col("doc")} }

// foldedDoc is the document that case-insensitive values are read from:
// doc_fold where the database cannot fold in SQL, else the document itself
// (and the values are folded in SQL). It reports whether the values are
// already folded.
func (c *compiler) foldedDoc() (Fragment, bool) {
	if c.fold == "" {
		return Fragment{SQL: c.res.col("doc_fold")}, true
	}
	return c.doc(), false
}

// elements is the FROM item, alias j, over the elements of sc's array in
// the document case-insensitive values are read from (foldedDoc), so that
// where that is doc_fold its folded strings are at hand.
func (c *compiler) elements(sc *scope) Fragment {
	doc, _ := c.foldedDoc()
	return c.d.JSONElements(doc, c.keys(sc.schema, sc.attr, nil))
}

// keys are the object keys of an attribute in a resource's document:
// name, familyName; or urn:...:User, department for an extension
// attribute. attr nil names the extension's object itself.
func (c *compiler) keys(s *schema.Schema, attr, sub *schema.Attribute) []string {
	var k []string
	if s != c.rt.Core {
		k = append(k, s.ID)
	}
	if attr != nil {
		k = append(k, attr.Name)
	}
	if sub != nil {
		k = append(k, sub.Name)
	}
	return k
}

// elemOperand maps a sub-attribute named in a value filter to an operand in
// the scope's element.
func (c *compiler) elemOperand(p filter.Path, sc *scope) (operand, error) {
	name := pathName(filter.Path{Attr: sc.attr.Name, Sub: p.Attr})
	if p.URN != "" || p.Sub != "" || p.Filter != nil {
		return operand{}, errorf("invalid attribute path %q in the value filter of %s", pathName(p), sc.attr.Name)
	}
	if sc.attr.Type != schema.Complex {
		return operand{}, errorf("attribute %q has no sub-attributes", sc.attr.Name)
	}
	sub := sc.attr.Sub(p.Attr)
	if sub == nil {
		return operand{}, errorf("unknown attribute %q", name)
	}
	o := operand{attr: sub, name: name}
	switch sc.kind {
	case scopeEmail:
		switch sub.Name {
		case "value":
			o.expr = "e.value"
			if foldable(sub) {
				o.expr, o.folded = "e.value_fold", true
			}
		case "type", "display":
			o.expr = "e." + sub.Name
			if foldable(sub) && c.fold == "" {
				o.expr, o.folded = o.expr+"_fold", true // type_fold, display_fold
			}
		case "primary":
			o.expr, o.kind = "e.is_primary", boolValue
		default:
			return o, errorf("attribute %q cannot be filtered", name)
		}
	case scopeMember:
		switch sub.Name {
		case "value":
			o.expr, o.memberKey, o.notNull = "m.member_id", true, true
		case "type":
			o.expr, o.notNull = "m.member_type", true
			if foldable(sub) {
				o.expr, o.folded = "("+memberTypeFoldSQL+")", true
			}
		case "display":
			// caseExact is false: the display is only ever compared
			// folded.
			if !foldable(sub) {
				return o, errorf("attribute %q cannot be filtered", name)
			}
			o.expr, o.folded = "("+memberDisplayFoldSQL+")", true
		default:
			return o, errorf("attribute %q cannot be filtered", name)
		}
	case scopeJSON:
		// j is an element of the array in the document c.elements
		// iterates: doc_fold where the database cannot fold in SQL, whose
		// folded strings are what case-insensitive sub-attributes
		// compare; the others are read from the same element in doc.
		elem, folded := Fragment{SQL: "j.value"}, false
		if c.fold == "" {
			if foldable(sub) {
				folded = true
			} else {
				elem = c.d.JSONElementAt(c.doc(), c.keys(sc.schema, sc.attr, nil))
			}
		}
		c.fromDoc(&o, elem, []string{sub.Name})
		o.folded = folded
	case scopeComplex:
		return c.operand(resolved{schema: sc.schema, attr: sc.attr, sub: sub, name: name}, false)
	}
	return o, nil
}

// present is "attribute has a value": not NULL and, for text, not the empty
// string.
func (o operand) present() cond {
	switch o.kind {
	case constValue:
		return condTrue
	case textValue:
		return cond{sql: "(" + o.expr + " IS NOT NULL AND " + o.expr + " <> '')", args: concat(o.args, o.args)}
	}
	return cond{sql: o.expr + " IS NOT NULL", args: concat(o.args, nil)}
}

// folded is o's value folded with scim.Fold: o.expr when it already is,
// else through the dialect's fold function.
func (c *compiler) folded(o operand) (string, error) {
	switch {
	case o.folded:
		return o.expr, nil
	case c.fold == "":
		// No folded copy and no way to fold in SQL.
		return "", errorf("attribute %q cannot be filtered", o.name)
	}
	return c.fold + "(" + o.expr + ")", nil
}

// bin is "col op ?" with lit as the argument; args are col's.
func bin(sqlOp, col string, args []any, lit any, nullable bool) cond {
	return cond{sql: col + " " + sqlOp + " ?", args: append(concat(args, nil), lit), nullable: nullable}
}

// compareOperand compiles "o op v", negated when neg is set.
func (c *compiler) compareOperand(o operand, op filter.Op, v any, neg bool) (cond, error) {
	if v == nil {
		// eq null is "absent", ne null is "present".
		var p cond
		switch op {
		case filter.Eq:
			p = o.present().not()
		case filter.Ne:
			p = o.present()
		default:
			return cond{}, errorf("%s %s null: null can only be compared with eq or ne", o.name, op)
		}
		return negIf(p, neg), nil
	}
	if o.kind == constValue {
		b, err := compareConst(o.attr, o.name, o.resourceType, op, v, neg)
		return constCond(b), err
	}
	col, args := o.expr, o.args
	var lit any
	switch o.attr.Type {
	case schema.String, schema.Reference, schema.Binary:
		s, ok := v.(string)
		if !ok {
			return cond{}, errorf("%s is a string; compare it with a quoted string", o.name)
		}
		if o.kind != textValue {
			return cond{}, errorf("attribute %q cannot be filtered", o.name)
		}
		if foldable(o.attr) {
			s = scim.Fold(s)
			var err error
			if col, err = c.folded(o); err != nil {
				return cond{}, err
			}
		}
		switch op {
		case filter.Co:
			return negIf(cond{sql: c.d.Instr() + "(" + col + ", ?) > 0", args: append(concat(args, nil), s), nullable: true}, neg), nil
		case filter.Sw:
			// A range, so that an index on the column serves it.
			p := bin(">=", col, args, s, true)
			if hi, ok := successor(s); ok {
				p = and(p, bin("<", col, args, hi, true))
			}
			return negIf(p, neg), nil
		case filter.Ew:
			n := utf8.RuneCountInString(s)
			if n == 0 {
				return negIf(cond{sql: col + " IS NOT NULL", args: concat(args, nil)}, neg), nil
			}
			return negIf(cond{sql: c.d.Right(col) + " = ?", args: append(concat(args, nil), n, s), nullable: true}, neg), nil
		}
		lit = s
	case schema.Boolean:
		b, ok := v.(bool)
		if !ok {
			return cond{}, errorf("%s is a boolean; compare it with true or false", o.name)
		}
		if op != filter.Eq && op != filter.Ne {
			return cond{}, errorf("%s is a boolean; it supports only eq, ne and pr", o.name)
		}
		lit = b
		if o.inDoc() {
			// A JSON true or false, not the string "true".
			t := c.d.JSONValue(o.doc, o.keys, schema.Boolean)
			col, args = t.SQL, t.Args
		}
	case schema.DateTime:
		s, ok := v.(string)
		if !ok {
			return cond{}, errorf("%s is a dateTime; compare it with a quoted RFC 3339 time", o.name)
		}
		if o.kind != timeValue {
			return cond{}, errorf("attribute %q cannot be filtered", o.name)
		}
		t, err := parseTime(s)
		if err != nil {
			return cond{}, errorf("%s: %q is not an RFC 3339 date-time", o.name, s)
		}
		if op == filter.Co || op == filter.Sw || op == filter.Ew {
			return cond{}, errorf("%s is a dateTime; it does not support %s", o.name, op)
		}
		lit = clampNanos(t)
	case schema.Integer, schema.Decimal:
		n, ok := v.(filter.Number)
		if !ok {
			return cond{}, errorf("%s is a number; compare it with a number", o.name)
		}
		if op == filter.Co || op == filter.Sw || op == filter.Ew {
			return cond{}, errorf("%s is a number; it does not support %s", o.name, op)
		}
		if !o.inDoc() {
			return cond{}, errorf("attribute %q cannot be filtered", o.name)
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			lit = i
		} else if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			lit = f
		} else {
			return cond{}, errorf("%s: invalid number %s", o.name, n)
		}
		t := c.d.JSONValue(o.doc, o.keys, o.attr.Type)
		col, args = t.SQL, t.Args
	case schema.Complex:
		return cond{}, errorf("attribute %q is complex; name one of its sub-attributes", o.name)
	default:
		return cond{}, errorf("attribute %q cannot be filtered", o.name)
	}
	switch op {
	case filter.Eq, filter.Ne:
		if (op == filter.Ne) != neg {
			// True when the attribute is absent, too.
			return bin("IS DISTINCT FROM", col, args, lit, false), nil
		}
		eq := bin("=", col, args, lit, true)
		eq.keyed = o.memberKey
		return eq, nil
	case filter.Gt:
		return negIf(bin(">", col, args, lit, true), neg), nil
	case filter.Ge:
		return negIf(bin(">=", col, args, lit, true), neg), nil
	case filter.Lt:
		return negIf(bin("<", col, args, lit, true), neg), nil
	case filter.Le:
		return negIf(bin("<=", col, args, lit, true), neg), nil
	}
	return cond{}, errorf("%s: unsupported operator %q", o.name, op)
}

// successor returns the least string greater than every string that starts
// with s, in code point order (which is UTF-8's byte order): s with its last
// code point incremented (dropping trailing U+10FFFF first, skipping the
// surrogates). It reports false when there is none (s is empty or all
// U+10FFFF): then every string at or after s starts with s. For s that is
// not UTF-8, which no stored string starts with, it is s and the byte 0xff,
// which bounds the strings that start with s bytewise.
func successor(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return s + "\xff", true
	}
	rs := []rune(s)
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		if last < utf8.MaxRune {
			next := last + 1
			if next == 0xD800 {
				next = 0xE000
			}
			rs[len(rs)-1] = next
			return string(rs), true
		}
		rs = rs[:len(rs)-1]
	}
	return "", false
}
