package sqlite

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlfilter"
)

// This file compiles SCIM filters (RFC 7644 §3.4.2.2) and sortBy paths to
// SQLite SQL over a resource's table (users or groups). What differs
// between resource types is data, a [resource]: the table, the attributes
// that have a column of their own, and the multi-valued attributes kept in
// a side table (users' emails, groups' members); everything else is read
// from the JSONB document with SQLite's JSON functions.
//
// Every literal becomes a ? parameter. Attribute paths are resolved through
// the schema, and the JSON paths built from them use the schema's spelling of
// the names, never the client's; they are passed as parameters too.
//
// What does not depend on the dialect (resolving paths, the limits, dateTime
// literals, constant comparisons, parsing sortBy) is in package sqlfilter,
// shared with the other backend.
//
// NULL: an attribute that is absent is NULL in SQL, and SQL's three-valued
// logic would make "not (title eq "x")" false for a user without a title.
// The compiler therefore pushes not down to the comparisons (De Morgan) and
// gives each negated comparison a form that is true on NULL ("x IS NOT ?",
// "(p) IS NOT 1"). Under and/or alone an unknown behaves like false, which is
// what SCIM wants, so positive comparisons keep their plain, indexable form.
//
// Case: for attributes whose caseExact is false, both sides go through
// scim.Fold, the literal in Go, the column either already (user_name_fold,
// display_name_fold, user_emails.value_fold) or through the SQL function
// scim_fold. Ordering (gt, lt, sortBy) is by code point (SQLite's BINARY
// collation on UTF-8); another backend must use the same (COLLATE "C").
//
// co, sw and ew do not use LIKE, whose case-insensitivity is ASCII-only and
// which would make % and _ wildcards: co is instr(x, ?) > 0, ew compares
// substr(x, -n), and sw is the range x >= p AND x < p||0xFF, which an index
// on x serves (userName sw "J" is an index range scan).
//
// Group members (scopeMember) are group_members rows, alias m: value is
// m.member_id (case-exact), type is m.member_type, and display is the
// member's name, looked up in users or groups (memberDisplaySQL). A members
// filter that pins value with eq is compiled to an uncorrelated
// "groups.seq IN (SELECT m.group_seq ... WHERE m.tenant_id = ? AND ...)",
// which the index on (tenant_id, member_id) serves; any other to a
// correlated EXISTS over the group's own rows.

// resource says how a resource type is stored.
type resource struct {
	rt    *schema.ResourceType
	table string
	// cols are the attributes with a column of their own, by lower-case
	// path ("username", "meta.created").
	cols map[string]column
	// side are the core multi-valued attributes kept in a side table, by
	// lower-case name.
	side map[string]scopeKind
	// refuse are core attributes that cannot be filtered or sorted by,
	// with the message.
	refuse map[string]string
}

// column is an attribute's column.
type column struct {
	name     string // in the resource's table
	folded   bool   // holds scim.Fold of the value
	kind     operandKind
	notNull  bool
	sortOnly bool // may be sorted by, not filtered
}

// col qualifies a column name with the resource's table.
func (r *resource) col(name string) string { return r.table + "." + name }

var metaCols = map[string]column{
	"id":                {name: "id", notNull: true},
	"externalid":        {name: "external_id"},
	"meta.created":      {name: "created", kind: timeColumn, notNull: true},
	"meta.lastmodified": {name: "modified", kind: timeColumn, notNull: true},
	"meta.version":      {name: "version", notNull: true, sortOnly: true},
	"meta.location":     {name: "id", notNull: true, sortOnly: true},
}

func withCols(extra map[string]column) map[string]column {
	m := make(map[string]column, len(metaCols)+len(extra))
	for k, v := range metaCols {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

var (
	usersRes = &resource{
		rt:    schema.UserType,
		table: "users",
		cols: withCols(map[string]column{
			"username":    {name: "user_name_fold", folded: true, notNull: true},
			"displayname": {name: "display_name_fold", folded: true},
			"active":      {name: "active", notNull: true},
		}),
		side: map[string]scopeKind{"emails": scopeEmail},
		// Group memberships are not stored in the user's document.
		refuse: map[string]string{"groups": "filtering users by groups is not supported"},
	}
	groupsRes = &resource{
		rt:    schema.GroupType,
		table: "groups",
		cols: withCols(map[string]column{
			"displayname": {name: "display_name_fold", folded: true},
		}),
		side: map[string]scopeKind{"members": scopeMember},
	}
)

// resourceOf returns how rt is stored.
func resourceOf(rt *schema.ResourceType) *resource {
	switch rt {
	case schema.UserType:
		return usersRes
	case schema.GroupType:
		return groupsRes
	}
	panic("sqlite: no table for resource type " + rt.Name)
}

// memberDisplaySQL is the display of the member in row m of group_members:
// a user's displayName, else its userName; a group's displayName.
const memberDisplaySQL = "CASE m.member_type WHEN 'User' THEN " +
	"(SELECT coalesce(nullif(json_extract(mu.doc, '$.displayName'), ''), mu.user_name) FROM users mu WHERE mu.tenant_id = m.tenant_id AND mu.id = m.member_id) " +
	"ELSE (SELECT mg.display_name FROM groups mg WHERE mg.tenant_id = m.tenant_id AND mg.id = m.member_id) END"

// cond is a compiled boolean SQL expression with its arguments, in the order
// of their placeholders.
type cond struct {
	sql      string
	args     []any
	nullable bool // may be NULL (unknown) rather than 0 or 1
	// keyed: true only for group_members rows whose member_id equals one
	// of the literals (m.member_id = ?, and-ed or or-ed), so that the index
	// on member_id can find them.
	keyed bool
}

var (
	condTrue  = cond{sql: "1"}
	condFalse = cond{sql: "0"}
)

func constCond(b bool) cond {
	if b {
		return condTrue
	}
	return condFalse
}

// not returns the negation of c, which is never NULL: an unknown c counts as
// false, so its negation is true.
func (c cond) not() cond {
	switch c.sql {
	case "1":
		return condFalse
	case "0":
		return condTrue
	}
	if c.nullable {
		return cond{sql: "(" + c.sql + ") IS NOT 1", args: c.args}
	}
	return cond{sql: "NOT (" + c.sql + ")", args: c.args}
}

func and(a, b cond) cond {
	switch {
	case a.sql == "0" || b.sql == "0":
		return condFalse
	case a.sql == "1":
		return b
	case b.sql == "1":
		return a
	}
	return cond{sql: "(" + a.sql + ") AND (" + b.sql + ")", args: concat(a.args, b.args), nullable: a.nullable || b.nullable,
		keyed: a.keyed || b.keyed}
}

func or(a, b cond) cond {
	switch {
	case a.sql == "1" || b.sql == "1":
		return condTrue
	case a.sql == "0":
		return b
	case b.sql == "0":
		return a
	}
	return cond{sql: "(" + a.sql + ") OR (" + b.sql + ")", args: concat(a.args, b.args), nullable: a.nullable || b.nullable,
		keyed: a.keyed && b.keyed}
}

func concat(a, b []any) []any {
	out := make([]any, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// compileFilter compiles e, a filter over the resource type rt (User or
// Group) of the given tenant, to a condition on its table. Unknown
// attributes, operators the attribute's type does not support and literals
// of the wrong type give a *store.FilterError.
func compileFilter(rt *schema.ResourceType, e filter.Expr, tenantID int64) (cond, error) {
	c := newCompiler(rt, tenantID)
	return c.finish(c.expr(e, false, nil))
}

// compileMemberFilter compiles e, a filter over the sub-attributes of a
// group's members (value, type, display), to a condition on a
// group_members row m.
func compileMemberFilter(e filter.Expr, tenantID int64) (cond, error) {
	c := newCompiler(schema.GroupType, tenantID)
	sc := &scope{schema: schema.Group, attr: schema.Group.Attr("members"), kind: scopeMember}
	return c.finish(c.expr(e, false, sc))
}

func newCompiler(rt *schema.ResourceType, tenantID int64) *compiler {
	return &compiler{rt: rt, res: resourceOf(rt), tenantID: tenantID}
}

func (c *compiler) finish(out cond, err error) (cond, error) {
	if err != nil {
		return cond{}, err
	}
	if len(out.sql) > sqlfilter.MaxSQL || len(out.args) > sqlfilter.MaxArgs {
		return cond{}, sqlfilter.Errorf("filter is too complex")
	}
	return out, nil
}

type compiler struct {
	rt       *schema.ResourceType
	res      *resource
	tenantID int64
	depth    int
}

// scope is where the paths of a value filter (the part in brackets of
// emails[type eq "work"]) are resolved: the sub-attributes of one element of
// a multi-valued attribute, or of a single complex attribute.
type scope struct {
	schema *schema.Schema
	attr   *schema.Attribute
	kind   scopeKind
}

type scopeKind int

const (
	scopeEmail   scopeKind = iota // a user_emails row, alias e
	scopeJSON                     // a json_each row over the attribute's array, alias j
	scopeComplex                  // a single complex attribute of the resource's row
	scopeMember                   // a group_members row, alias m
)

// expr compiles e, negated when neg is set; sc is nil at the top level.
func (c *compiler) expr(e filter.Expr, neg bool, sc *scope) (cond, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > sqlfilter.MaxDepth {
		return cond{}, sqlfilter.Errorf("filter is nested too deeply")
	}
	switch e := e.(type) {
	case *filter.And:
		return c.binary(e.Left, e.Right, neg, sc, !neg)
	case *filter.Or:
		return c.binary(e.Left, e.Right, neg, sc, neg)
	case *filter.Not:
		return c.expr(e.X, !neg, sc)
	case *filter.Compare:
		return c.compare(e.Path, e.Op, e.Value, neg, sc)
	case *filter.Present:
		p, err := c.present(e.Path, sc)
		if err != nil {
			return cond{}, err
		}
		if neg {
			return p.not(), nil
		}
		return p, nil
	case *filter.ValuePath:
		if sc != nil {
			return cond{}, sqlfilter.Errorf("value filters cannot be nested: %s", e)
		}
		if e.Path.Sub != "" || e.Path.Filter != nil {
			return cond{}, sqlfilter.Errorf("invalid value filter: %s", e)
		}
		return c.valuePath(e.Path, e.Filter, neg)
	case nil:
		return cond{}, sqlfilter.Errorf("empty filter")
	default:
		return cond{}, sqlfilter.Errorf("unsupported filter expression %T", e)
	}
}

// binary compiles "l and r" (conj) or "l or r" (!conj), each side negated
// when neg is set: by De Morgan, a negated and is an or of negations.
func (c *compiler) binary(l, r filter.Expr, neg bool, sc *scope, conj bool) (cond, error) {
	a, err := c.expr(l, neg, sc)
	if err != nil {
		return cond{}, err
	}
	b, err := c.expr(r, neg, sc)
	if err != nil {
		return cond{}, err
	}
	if conj {
		return and(a, b), nil
	}
	return or(a, b), nil
}

func (c *compiler) resolve(p filter.Path) (sqlfilter.Resolved, error) {
	return sqlfilter.Resolve(c.rt, c.res.refuse, p)
}

// compare compiles "path op value".
func (c *compiler) compare(p filter.Path, op filter.Op, v any, neg bool, sc *scope) (cond, error) {
	if p.Filter != nil {
		// emails[type eq "work"].value eq "x", if the parser did not
		// already turn it into a value path.
		if sc != nil || p.Sub == "" {
			return cond{}, sqlfilter.Errorf("invalid attribute path %s", p.Attr)
		}
		inner := &filter.And{Left: p.Filter, Right: &filter.Compare{Path: filter.Path{Attr: p.Sub}, Op: op, Value: v}}
		return c.valuePath(filter.Path{URN: p.URN, Attr: p.Attr}, inner, neg)
	}
	if sc != nil {
		o, err := c.elemOperand(p, sc)
		if err != nil {
			return cond{}, err
		}
		return o.compare(op, v, neg)
	}
	if sqlfilter.IsSchemas(c.rt, p) {
		return c.compareSchemas(op, v, neg)
	}
	r, err := c.resolve(p)
	if err != nil {
		return cond{}, err
	}
	if r.Attr.MultiValued {
		// emails.value eq "x" is emails[value eq "x"]; emails eq "x"
		// compares the value sub-attribute.
		sub := p.Sub
		if sub == "" {
			if r.Attr.Type == schema.Complex {
				if r.Attr.Sub("value") == nil {
					return cond{}, sqlfilter.Errorf("attribute %q is complex; name one of its sub-attributes", r.Name)
				}
				sub = "value"
			}
		}
		inner := &filter.Compare{Path: filter.Path{Attr: sub}, Op: op, Value: v}
		return c.valuePath(filter.Path{URN: p.URN, Attr: p.Attr}, inner, neg)
	}
	o, err := c.operand(r, false)
	if err != nil {
		return cond{}, err
	}
	return o.compare(op, v, neg)
}

// present compiles "path pr" (positively).
func (c *compiler) present(p filter.Path, sc *scope) (cond, error) {
	if p.Filter != nil {
		return cond{}, sqlfilter.Errorf("invalid attribute path %s", p.Attr)
	}
	if sc != nil {
		o, err := c.elemOperand(p, sc)
		if err != nil {
			return cond{}, err
		}
		return o.present(), nil
	}
	if sqlfilter.IsSchemas(c.rt, p) {
		return condTrue, nil
	}
	r, err := c.resolve(p)
	if err != nil {
		return cond{}, err
	}
	switch {
	case r.Attr.MultiValued:
		var inner filter.Expr
		if p.Sub != "" {
			inner = &filter.Present{Path: filter.Path{Attr: p.Sub}}
		}
		return c.valuePath(filter.Path{URN: p.URN, Attr: p.Attr}, inner, false)
	case r.Attr.Type == schema.Complex && r.Sub == nil:
		if r.Schema == c.rt.Core && strings.EqualFold(r.Attr.Name, "meta") {
			return condTrue, nil
		}
		// A complex attribute is present when it has a non-empty member.
		return cond{
			sql:  "EXISTS (SELECT 1 FROM json_each(" + c.res.col("doc") + ", ?) WHERE value IS NOT NULL AND value <> '')",
			args: []any{jsonPath(c.rt, r.Schema, r.Attr, nil)},
		}, nil
	}
	o, err := c.operand(r, false)
	if err != nil {
		return cond{}, err
	}
	return o.present(), nil
}

// valuePath compiles "attr[f]": some element of attr satisfies f, all of
// f's comparisons applying to that same element. A nil f only asks for an
// element.
func (c *compiler) valuePath(p filter.Path, f filter.Expr, neg bool) (cond, error) {
	if sqlfilter.IsSchemas(c.rt, p) {
		return cond{}, sqlfilter.Errorf("schemas has no sub-attributes")
	}
	r, err := c.resolve(p)
	if err != nil {
		return cond{}, err
	}
	sc := &scope{schema: r.Schema, attr: r.Attr}
	side, isSide := c.res.side[strings.ToLower(r.Attr.Name)]
	switch {
	case r.Attr.MultiValued && r.Schema == c.rt.Core && isSide:
		sc.kind = side
	case r.Attr.MultiValued:
		sc.kind = scopeJSON
	case r.Attr.Type == schema.Complex:
		// name[givenName eq "x"]: the same user row, so and-ing the
		// comparisons at the top level means the same thing.
		sc.kind = scopeComplex
		if f == nil {
			return cond{}, sqlfilter.Errorf("empty value filter on %q", r.Name)
		}
		return c.expr(f, neg, sc)
	default:
		return cond{}, sqlfilter.Errorf("attribute %q is neither multi-valued nor complex", r.Name)
	}
	inner := condTrue
	if f != nil {
		inner, err = c.expr(f, false, sc)
		if err != nil {
			return cond{}, err
		}
	}
	if inner.sql == "0" {
		return constCond(neg), nil
	}
	var ex cond
	switch sc.kind {
	case scopeEmail:
		// Uncorrelated, so SQLite runs it once, through the index on
		// (tenant_id, value_fold) when it compares value, and looks the
		// users up by seq.
		ex.sql = c.res.col("seq") + " IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ?"
		ex.args = []any{c.tenantID}
	case scopeMember:
		if inner.keyed {
			// Through the index on (tenant_id, member_id), once.
			ex.sql = c.res.col("seq") + " IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ?"
			ex.args = []any{c.tenantID}
		} else {
			ex.sql = "EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = " + c.res.col("seq")
		}
	case scopeJSON:
		ex.sql = "EXISTS (SELECT 1 FROM json_each(" + c.res.col("doc") + ", ?) j WHERE 1"
		ex.args = []any{jsonPath(c.rt, r.Schema, r.Attr, nil)}
	}
	if inner.sql != "1" {
		ex.sql += " AND (" + inner.sql + ")"
		ex.args = append(ex.args, inner.args...)
	}
	ex.sql += ")"
	if neg {
		return ex.not(), nil
	}
	return ex, nil
}

// compareSchemas compiles a comparison with the schemas attribute: a user
// has the core schema and, when its document has the extension's key, the
// extension.
func (c *compiler) compareSchemas(op filter.Op, v any, neg bool) (cond, error) {
	s, ok := v.(string)
	if !ok || (op != filter.Eq && op != filter.Ne) {
		return cond{}, sqlfilter.Errorf("schemas supports only eq and ne with a schema URN")
	}
	var has cond
	switch {
	case strings.EqualFold(s, c.rt.Core.ID):
		has = condTrue
	case c.rt.Extension(s) != nil:
		ext := c.rt.Extension(s)
		has = cond{sql: "json_type(" + c.res.col("doc") + ", ?) IS NOT NULL", args: []any{jsonPath(c.rt, ext, nil, nil)}}
	default:
		has = condFalse
	}
	if (op == filter.Ne) != neg {
		return has.not(), nil
	}
	return has, nil
}

// operand is an SQL expression for the value of an attribute and what is
// needed to compare it.
type operand struct {
	expr   string // SQL expression; NULL when the attribute is absent
	args   []any  // arguments of expr's placeholders
	attr   *schema.Attribute
	name   string
	folded bool // expr is already folded with scim.Fold
	kind   operandKind
	// notNull: expr is never NULL (a NOT NULL column).
	notNull bool
	// memberKey: expr is group_members.member_id (see cond.keyed).
	memberKey bool
	// resourceType is the resource type's name, for meta.resourceType.
	resourceType string
}

type operandKind int

const (
	plain        operandKind = iota
	timeColumn               // an INTEGER column of unix nanoseconds
	resourceType             // meta.resourceType: a constant
)

// operand maps a single-valued attribute (or sub-attribute) of the
// resource's row to its column or to a JSON path into the document. With
// sorting, the columns that can only be sorted by are allowed.
func (c *compiler) operand(r sqlfilter.Resolved, sorting bool) (operand, error) {
	leaf := r.Leaf()
	o := operand{attr: leaf, name: r.Name}
	if r.Schema == c.rt.Core {
		key := strings.ToLower(r.Attr.Name)
		isMeta := key == "meta"
		if isMeta {
			if r.Sub == nil {
				return o, sqlfilter.Errorf("attribute %q is complex; name one of its sub-attributes", r.Name)
			}
			key += "." + strings.ToLower(r.Sub.Name)
			if key == "meta.resourcetype" {
				o.kind, o.resourceType = resourceType, c.rt.Name
				return o, nil
			}
		}
		if col, ok := c.res.cols[key]; ok && (r.Sub == nil || isMeta) {
			if col.sortOnly && !sorting {
				return o, sqlfilter.Errorf("attribute %q cannot be filtered", r.Name)
			}
			o.expr, o.folded, o.kind, o.notNull = c.res.col(col.name), col.folded, col.kind, col.notNull
			return o, nil
		}
		if isMeta {
			return o, sqlfilter.Errorf("attribute %q cannot be filtered", r.Name)
		}
	}
	o.expr = "json_extract(" + c.res.col("doc") + ", ?)"
	o.args = []any{jsonPath(c.rt, r.Schema, r.Attr, r.Sub)}
	return o, nil
}

// elemOperand maps a sub-attribute named in a value filter to an operand in
// the scope's element.
func (c *compiler) elemOperand(p filter.Path, sc *scope) (operand, error) {
	name := sqlfilter.PathName(filter.Path{Attr: sc.attr.Name, Sub: p.Attr})
	if p.URN != "" || p.Sub != "" || p.Filter != nil {
		return operand{}, sqlfilter.Errorf("invalid attribute path %q in the value filter of %s", sqlfilter.PathName(p), sc.attr.Name)
	}
	if sc.attr.Type != schema.Complex {
		return operand{}, sqlfilter.Errorf("attribute %q has no sub-attributes", sc.attr.Name)
	}
	sub := sc.attr.Sub(p.Attr)
	if sub == nil {
		return operand{}, sqlfilter.Errorf("unknown attribute %q", name)
	}
	o := operand{attr: sub, name: name}
	switch sc.kind {
	case scopeEmail:
		switch sub.Name {
		case "value":
			o.expr = "e.value"
			if !sub.CaseExact {
				o.expr, o.folded = "e.value_fold", true
			}
		case "type":
			o.expr = "e.type"
		case "display":
			o.expr = "e.display"
		case "primary":
			o.expr = "e.is_primary"
		default:
			return o, sqlfilter.Errorf("attribute %q cannot be filtered", name)
		}
	case scopeMember:
		switch sub.Name {
		case "value":
			o.expr, o.memberKey, o.notNull = "m.member_id", true, true
		case "type":
			o.expr, o.notNull = "m.member_type", true
		case "display":
			o.expr = "(" + memberDisplaySQL + ")"
		default:
			return o, sqlfilter.Errorf("attribute %q cannot be filtered", name)
		}
	case scopeJSON:
		o.expr = "json_extract(j.value, ?)"
		o.args = []any{"$." + jsonKey(sub.Name)}
	case scopeComplex:
		return c.operand(sqlfilter.Resolved{Schema: sc.schema, Attr: sc.attr, Sub: sub, Name: name}, false)
	}
	return o, nil
}

// jsonPath is the SQLite JSON path of an attribute in a user's document:
// $."name"."familyName", or $."urn:...:User"."department" for an extension
// attribute. attr nil names the extension's object itself.
func jsonPath(rt *schema.ResourceType, s *schema.Schema, attr, sub *schema.Attribute) string {
	var b strings.Builder
	b.WriteString("$")
	if s != rt.Core {
		b.WriteString("." + jsonKey(s.ID))
	}
	if attr != nil {
		b.WriteString("." + jsonKey(attr.Name))
	}
	if sub != nil {
		b.WriteString("." + jsonKey(sub.Name))
	}
	return b.String()
}

// jsonKey quotes an object key for a JSON path. Schema names contain
// neither '"' nor '\'.
func jsonKey(k string) string { return `"` + k + `"` }

// present is "attribute has a value": not NULL and not the empty string.
func (o operand) present() cond {
	if o.kind == resourceType {
		return condTrue
	}
	return cond{sql: "(" + o.expr + " IS NOT NULL AND " + o.expr + " <> '')", args: concat(o.args, o.args)}
}

// bin is "expr op ?" with lit as the argument.
func (o operand) bin(sqlOp string, col string, lit any, nullable bool) cond {
	return cond{sql: col + " " + sqlOp + " ?", args: append(concat(o.args, nil), lit), nullable: nullable}
}

// compare compiles "o op v", negated when neg is set.
func (o operand) compare(op filter.Op, v any, neg bool) (cond, error) {
	if v == nil {
		// eq null is "absent", ne null is "present".
		var p cond
		switch op {
		case filter.Eq:
			p = o.present().not()
		case filter.Ne:
			p = o.present()
		default:
			return cond{}, sqlfilter.Errorf("%s %s null: null can only be compared with eq or ne", o.name, op)
		}
		if neg {
			return p.not(), nil
		}
		return p, nil
	}
	if o.kind == resourceType {
		b, err := sqlfilter.CompareConst(o.attr, o.name, o.resourceType, op, v, neg)
		return constCond(b), err
	}
	col := o.expr
	var lit any
	switch o.attr.Type {
	case schema.String, schema.Reference, schema.Binary:
		s, ok := v.(string)
		if !ok {
			return cond{}, sqlfilter.Errorf("%s is a string; compare it with a quoted string", o.name)
		}
		if !o.attr.CaseExact {
			s = scim.Fold(s)
			if !o.folded {
				col = "scim_fold(" + col + ")"
			}
		}
		switch op {
		case filter.Co:
			return negIf(cond{sql: "instr(" + col + ", ?) > 0", args: append(concat(o.args, nil), s), nullable: true}, neg), nil
		case filter.Sw:
			// A range, so an index on the column serves it: every string
			// that starts with s sorts at or after s and before s+"\xff"
			// (no UTF-8 encoding contains the byte 0xff).
			p := and(o.bin(">=", col, s, true), o.bin("<", col, s+"\xff", true))
			return negIf(p, neg), nil
		case filter.Ew:
			n := utf8.RuneCountInString(s)
			if n == 0 {
				return negIf(cond{sql: col + " IS NOT NULL", args: concat(o.args, nil)}, neg), nil
			}
			return negIf(cond{sql: "substr(" + col + ", ?) = ?", args: append(concat(o.args, nil), -n, s), nullable: true}, neg), nil
		}
		lit = s
	case schema.Boolean:
		b, ok := v.(bool)
		if !ok {
			return cond{}, sqlfilter.Errorf("%s is a boolean; compare it with true or false", o.name)
		}
		if op != filter.Eq && op != filter.Ne {
			return cond{}, sqlfilter.Errorf("%s is a boolean; it supports only eq, ne and pr", o.name)
		}
		lit = boolInt(b)
	case schema.DateTime:
		s, ok := v.(string)
		if !ok {
			return cond{}, sqlfilter.Errorf("%s is a dateTime; compare it with a quoted RFC 3339 time", o.name)
		}
		if o.kind != timeColumn {
			return cond{}, sqlfilter.Errorf("attribute %q cannot be filtered", o.name)
		}
		t, err := sqlfilter.ParseTime(s)
		if err != nil {
			return cond{}, sqlfilter.Errorf("%s: %q is not an RFC 3339 date-time", o.name, s)
		}
		if op == filter.Co || op == filter.Sw || op == filter.Ew {
			return cond{}, sqlfilter.Errorf("%s is a dateTime; it does not support %s", o.name, op)
		}
		lit = sqlfilter.ClampNanos(t)
	case schema.Integer, schema.Decimal:
		n, ok := v.(filter.Number)
		if !ok {
			return cond{}, sqlfilter.Errorf("%s is a number; compare it with a number", o.name)
		}
		if op == filter.Co || op == filter.Sw || op == filter.Ew {
			return cond{}, sqlfilter.Errorf("%s is a number; it does not support %s", o.name, op)
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			lit = i
		} else if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			lit = f
		} else {
			return cond{}, sqlfilter.Errorf("%s: invalid number %s", o.name, n)
		}
	case schema.Complex:
		return cond{}, sqlfilter.Errorf("attribute %q is complex; name one of its sub-attributes", o.name)
	default:
		return cond{}, sqlfilter.Errorf("attribute %q cannot be filtered", o.name)
	}
	switch op {
	case filter.Eq, filter.Ne:
		if (op == filter.Ne) != neg {
			// True when the attribute is absent, too.
			return o.bin("IS NOT", col, lit, false), nil
		}
		eq := o.bin("=", col, lit, true)
		eq.keyed = o.memberKey
		return eq, nil
	case filter.Gt:
		return negIf(o.bin(">", col, lit, true), neg), nil
	case filter.Ge:
		return negIf(o.bin(">=", col, lit, true), neg), nil
	case filter.Lt:
		return negIf(o.bin("<", col, lit, true), neg), nil
	case filter.Le:
		return negIf(o.bin("<=", col, lit, true), neg), nil
	}
	return cond{}, sqlfilter.Errorf("%s: unsupported operator %q", o.name, op)
}

func negIf(c cond, neg bool) cond {
	if neg {
		return c.not()
	}
	return c
}

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

// keyKind says how a sort key is carried in a store.Position.
type keyKind int

const (
	keyPlain keyKind = iota // TEXT as a string, numbers as float64
	keyTime                 // unix nanoseconds, carried as an RFC 3339 string
	keyBool                 // 0 or 1, carried as a bool
)

// compileSort compiles sortBy and the sort order to an ORDER BY clause that
// ends with the table's seq, so that the order is total and stable across
// pages. An empty sortBy keeps creation order (the sort order is then
// ignored). Resources without a value sort last in ascending order and
// first in descending order (RFC 7644 §3.4.2.3). A multi-valued attribute
// sorts by its primary (else first) value; group members cannot be sorted
// by.
func compileSort(rt *schema.ResourceType, sortBy string, desc bool) (order, error) {
	c := newCompiler(rt, 0)
	seq := c.res.col("seq")
	seqOrder := order{sql: seq, seq: seq}
	r, ok, err := sqlfilter.ParseSort(rt, c.res.refuse, sortBy)
	if err != nil || !ok {
		return seqOrder, err
	}
	var expr string
	var args []any
	nullable := true
	kind := keyPlain
	leaf := r.Leaf()
	switch {
	case r.Elem != nil:
		sub := r.Elem
		leaf = sub
		side, isSide := c.res.side[strings.ToLower(r.Attr.Name)]
		switch {
		case r.Schema == rt.Core && isSide && side == scopeEmail:
			o, err := c.elemOperand(filter.Path{Attr: sub.Name}, &scope{schema: r.Schema, attr: r.Attr, kind: scopeEmail})
			if err != nil {
				return order{}, err
			}
			expr = "(SELECT " + sortFold(o) + " FROM user_emails e WHERE e.user_seq = " + seq + " ORDER BY e.is_primary IS 1 DESC, e.pos LIMIT 1)"
		case r.Schema == rt.Core && isSide:
			return order{}, sqlfilter.Errorf("cannot sort by %q", r.Name)
		default:
			o, err := c.elemOperand(filter.Path{Attr: sub.Name}, &scope{schema: r.Schema, attr: r.Attr, kind: scopeJSON})
			if err != nil {
				return order{}, err
			}
			expr = "(SELECT " + sortFold(o) + " FROM json_each(" + c.res.col("doc") + ", ?) j ORDER BY json_extract(j.value, '$.primary') IS 1 DESC, j.key LIMIT 1)"
			args = append(concat(o.args, nil), jsonPath(rt, r.Schema, r.Attr, nil))
		}
	default:
		o, err := c.operand(r.Resolved, true)
		if err != nil {
			return order{}, err
		}
		if o.kind == resourceType {
			return seqOrder, nil // the same for every resource
		}
		expr, args = sortFold(o), o.args
		// NOT NULL columns get a plain order, so an index serves it.
		nullable = !o.notNull
		if o.kind == timeColumn {
			kind = keyTime
		}
	}
	if leaf.Type == schema.Boolean {
		kind = keyBool
	}
	return order{sql: sqlfilter.OrderBy(expr, seq, desc, nullable), args: args,
		seq: seq, key: expr, keyArgs: args, desc: desc, nullable: nullable, keyKind: kind}, nil
}

// after compiles "the row comes after position p in this order", the
// keyset condition of cursor paging. Its positive comparisons come first,
// so that an index on the sort key serves it as a range.
func (o order) after(p *store.Position) (cond, error) {
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
// the sort expression.
func (o order) bindKey(k any) (any, error) {
	bad := func() (any, error) { return nil, sqlfilter.Errorf("invalid cursor") }
	switch k := k.(type) {
	case nil:
		return nil, nil
	case bool:
		return boolInt(k), nil
	case string:
		if o.keyKind == keyTime {
			t, err := time.Parse(time.RFC3339Nano, k)
			if err != nil {
				return bad()
			}
			return sqlfilter.ClampNanos(t), nil
		}
		return k, nil
	case float64:
		if o.keyKind == keyTime || math.IsNaN(k) || math.IsInf(k, 0) {
			return bad()
		}
		if k == math.Trunc(k) && math.Abs(k) < 1<<62 {
			return int64(k), nil
		}
		return k, nil
	case int64:
		if o.keyKind == keyTime {
			return bad()
		}
		return k, nil
	case int:
		if o.keyKind == keyTime {
			return bad()
		}
		return int64(k), nil
	}
	return bad()
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
	case []byte:
		return string(v)
	}
	return v // nil, float64, string
}

// sortFold is the operand's expression, folded when its attribute is
// compared case-insensitively.
func sortFold(o operand) string {
	if o.attr.CaseExact || o.folded || o.attr.Type != schema.String && o.attr.Type != schema.Reference {
		return o.expr
	}
	return "scim_fold(" + o.expr + ")"
}
