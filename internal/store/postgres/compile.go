package postgres

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
// PostgreSQL SQL over the users table. It mirrors the SQLite backend's
// compiler (internal/store/sqlite/compile.go) form by form, so that both
// backends give every filter the same meaning; the conformance suite checks
// that they do.
//
// Every literal is a ? placeholder (bind numbers them $1, $2, …). Attribute
// paths are resolved through the schema, and the JSON paths built from them
// use the schema's spelling of the names, never the client's; they are
// parameters too (text[] for #> and #>>).
//
// What does not depend on the dialect (resolving paths, the limits, dateTime
// literals, constant comparisons, parsing sortBy) is in package sqlfilter,
// shared with the other backend.
//
// NULL: an absent attribute is NULL, and SQL's three-valued logic would make
// "not (title eq "x")" false for a user without a title. The compiler pushes
// not down to the comparisons (De Morgan) and gives each negated comparison a
// form that is true on NULL ("x IS DISTINCT FROM ?", "(p) IS NOT TRUE").
// Under and/or alone an unknown behaves like false, which is what SCIM wants,
// so positive comparisons keep their plain, indexable form.
//
// Case: PostgreSQL has no scim.Fold, and the SQL may use no server-side
// functions, so folded text is stored, computed in Go: the user_name_fold
// and display_name_fold columns, the *_fold columns of user_emails, and
// doc_fold, the user's document with every string folded. An attribute whose
// caseExact is false is read from the folded copy and compared with a
// literal folded in Go, so both sides went through the same function.
//
// Order: text is compared and sorted COLLATE "C", by code point, as SQLite's
// BINARY collation does with UTF-8. co is strpos(x, ?) > 0 (LIKE would make %
// and _ wildcards), ew compares right(x, n), and sw is the range
// x >= p AND x < succ(p), which an index on x serves.
//
// Group members (scopeMember) are group_members rows, alias m: value is
// m.member_id (case-exact), type is m.member_type, and display is the
// member's name, looked up in users or groups (memberDisplayFoldSQL).
//
// Only what CockroachDB also accepts is used: jsonb operators (#>, #>>, ->,
// ->>), jsonb_typeof, jsonb_each, jsonb_array_elements WITH ORDINALITY,
// strpos, right, IS DISTINCT FROM, NULLS FIRST/LAST and COLLATE "C".

// resource says how a resource type is stored.
type resource struct {
	rt    *schema.ResourceType
	table string
	// cols are the attributes with a column of their own, by lower-case
	// path ("username", "meta.created"). A column of an attribute whose
	// caseExact is false holds the folded value.
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
	sqlType  string // "text", "boolean" or "bigint"
	kind     operandKind
	notNull  bool
	sortOnly bool // may be sorted by, not filtered
}

// col qualifies a column name with the resource's table.
func (r *resource) col(name string) string { return r.table + "." + name }

var metaCols = map[string]column{
	"id":                {name: "id", sqlType: "text", notNull: true},
	"externalid":        {name: "external_id", sqlType: "text"},
	"meta.created":      {name: "created", sqlType: "bigint", kind: timeColumn, notNull: true},
	"meta.lastmodified": {name: "modified", sqlType: "bigint", kind: timeColumn, notNull: true},
	"meta.version":      {name: "version", sqlType: "bigint", notNull: true, sortOnly: true},
	"meta.location":     {name: "id", sqlType: "text", notNull: true, sortOnly: true},
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
			"username":    {name: "user_name_fold", sqlType: "text", notNull: true},
			"displayname": {name: "display_name_fold", sqlType: "text"},
			"active":      {name: "active", sqlType: "boolean", notNull: true},
		}),
		side: map[string]scopeKind{"emails": scopeEmail},
		// Group memberships are not stored in the user's document.
		refuse: map[string]string{"groups": "filtering users by groups is not supported"},
	}
	groupsRes = &resource{
		rt:    schema.GroupType,
		table: "groups",
		cols: withCols(map[string]column{
			"displayname": {name: "display_name_fold", sqlType: "text"},
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
	panic("postgres: no table for resource type " + rt.Name)
}

// memberDisplaySQL is the display of the member in row m of group_members:
// a user's displayName, else its userName; a group's displayName.
// memberDisplayFoldSQL is the same, folded, for filters.
const (
	memberDisplaySQL = "CASE m.member_type WHEN 'User' THEN " +
		"(SELECT coalesce(nullif(mu.doc ->> 'displayName', ''), mu.user_name) FROM users mu WHERE mu.tenant_id = m.tenant_id AND mu.id = m.member_id) " +
		"ELSE (SELECT mg.display_name FROM groups mg WHERE mg.tenant_id = m.tenant_id AND mg.id = m.member_id) END"
	memberDisplayFoldSQL = "CASE m.member_type WHEN 'User' THEN " +
		"(SELECT coalesce(nullif(mu.display_name_fold, ''), mu.user_name_fold) FROM users mu WHERE mu.tenant_id = m.tenant_id AND mu.id = m.member_id) " +
		"ELSE (SELECT mg.display_name_fold FROM groups mg WHERE mg.tenant_id = m.tenant_id AND mg.id = m.member_id) END"
	// memberTypeFoldSQL is scim.Fold(m.member_type).
	memberTypeFoldSQL = "CASE m.member_type WHEN 'User' THEN 'user' ELSE 'group' END"
)

// cond is a compiled boolean SQL expression with its arguments, in the order
// of their placeholders.
type cond struct {
	sql      string
	args     []any
	nullable bool // may be NULL (unknown) rather than true or false
}

var (
	condTrue  = cond{sql: "TRUE"}
	condFalse = cond{sql: "FALSE"}
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
	case "TRUE":
		return condFalse
	case "FALSE":
		return condTrue
	}
	if c.nullable {
		return cond{sql: "(" + c.sql + ") IS NOT TRUE", args: c.args}
	}
	return cond{sql: "NOT (" + c.sql + ")", args: c.args}
}

func and(a, b cond) cond {
	switch {
	case a.sql == "FALSE" || b.sql == "FALSE":
		return condFalse
	case a.sql == "TRUE":
		return b
	case b.sql == "TRUE":
		return a
	}
	return cond{sql: "(" + a.sql + ") AND (" + b.sql + ")", args: concat(a.args, b.args), nullable: a.nullable || b.nullable}
}

func or(a, b cond) cond {
	switch {
	case a.sql == "TRUE" || b.sql == "TRUE":
		return condTrue
	case a.sql == "FALSE":
		return b
	case b.sql == "FALSE":
		return a
	}
	return cond{sql: "(" + a.sql + ") OR (" + b.sql + ")", args: concat(a.args, b.args), nullable: a.nullable || b.nullable}
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
	scopeJSON                     // an element of the attribute's array in doc_fold, alias j(v, n)
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
		path := jsonPath(c.rt, r.Schema, r.Attr, nil)
		doc := c.res.col("doc")
		return cond{
			sql: "EXISTS (SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(" + doc + " #> ?::text[]) = 'object' THEN " + doc + " #> ?::text[] END) AS o(k, v)" +
				" WHERE o.v <> 'null'::jsonb AND o.v <> '\"\"'::jsonb)",
			args: []any{path, path},
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
	if inner.sql == "FALSE" {
		return constCond(neg), nil
	}
	var ex cond
	switch sc.kind {
	case scopeEmail:
		// Uncorrelated, so that it runs once, through the index on
		// (tenant_id, value_fold) when it compares value.
		ex.sql = c.res.col("seq") + " IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ?"
		ex.args = []any{c.tenantID}
	case scopeMember:
		// Correlated; PostgreSQL turns it into a semi-join, through the
		// index on (tenant_id, member_id) when it compares value.
		ex.sql = "EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = " + c.res.col("seq")
	case scopeJSON:
		path := jsonPath(c.rt, r.Schema, r.Attr, nil)
		ex.sql = "EXISTS (SELECT 1 FROM " + jsonElements(c.res) + " WHERE TRUE"
		ex.args = []any{path, path}
	}
	if inner.sql != "TRUE" {
		ex.sql += " AND (" + inner.sql + ")"
		ex.args = append(ex.args, inner.args...)
	}
	ex.sql += ")"
	if neg {
		return ex.not(), nil
	}
	return ex, nil
}

// jsonElements is a FROM item over the elements of an array in doc_fold, as
// j(v, n): the element and its 1-based position. It has no rows when the
// attribute is absent or not an array. Both its placeholders take the
// attribute's path.
func jsonElements(res *resource) string {
	doc := res.col("doc_fold")
	return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + doc + " #> ?::text[]) = 'array' THEN " + doc + " #> ?::text[] END) WITH ORDINALITY AS j(v, n)"
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
		has = cond{sql: "(" + c.res.col("doc") + " #> ?::text[]) IS NOT NULL", args: []any{jsonPath(c.rt, ext, nil, nil)}}
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
	// expr is the value as SQL: a column, or for a JSON value its text
	// (#>> or ->>, COLLATE "C"); NULL when the attribute is absent.
	expr string
	args []any // arguments of expr's placeholders
	// json is, for a value read from a JSON document, the jsonb value
	// (#> or ->), which booleans and numbers are compared through; "" for
	// columns.
	json     string
	jsonArgs []any
	sqlType  string // the column's SQL type: "text", "boolean" or "bigint"
	attr     *schema.Attribute
	name     string
	kind     operandKind
	notNull  bool
	// resourceType is the value of meta.resourceType (kind resourceType).
	resourceType string
}

type operandKind int

const (
	plain        operandKind = iota
	timeColumn               // a BIGINT column of unix nanoseconds
	resourceType             // meta.resourceType: a constant
)

// folded reports whether the attribute is compared case-insensitively, and
// so read from a folded column or from doc_fold.
func folded(a *schema.Attribute) bool {
	return !a.CaseExact && (a.Type == schema.String || a.Type == schema.Reference)
}

// operand maps a single-valued attribute (or sub-attribute) of the
// resource's row to its column or to a JSON path into the document. With
// sorting, the columns that can only be sorted by are allowed.
func (c *compiler) operand(r sqlfilter.Resolved, sorting bool) (operand, error) {
	leaf := r.Leaf()
	o := operand{attr: leaf, name: r.Name, sqlType: "text"}
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
			o.expr, o.sqlType, o.kind, o.notNull = c.res.col(col.name), col.sqlType, col.kind, col.notNull
			return o, nil
		}
		if isMeta {
			return o, sqlfilter.Errorf("attribute %q cannot be filtered", r.Name)
		}
	}
	doc := c.res.col("doc")
	if folded(leaf) {
		doc = c.res.col("doc_fold")
	}
	path := jsonPath(c.rt, r.Schema, r.Attr, r.Sub)
	o.expr = "((" + doc + " #>> ?::text[]) COLLATE \"C\")"
	o.args = []any{path}
	o.json = doc + " #> ?::text[]"
	o.jsonArgs = []any{path}
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
	o := operand{attr: sub, name: name, sqlType: "text"}
	switch sc.kind {
	case scopeEmail:
		col := ""
		switch sub.Name {
		case "value", "type", "display":
			col = "e." + sub.Name
		case "primary":
			o.expr, o.sqlType = "e.is_primary", "boolean"
			return o, nil
		default:
			return o, sqlfilter.Errorf("attribute %q cannot be filtered", name)
		}
		if folded(sub) {
			col += "_fold"
		}
		o.expr = col
	case scopeMember:
		switch sub.Name {
		case "value":
			o.expr, o.notNull = "m.member_id", true
			if folded(sub) {
				return o, sqlfilter.Errorf("attribute %q cannot be filtered", name)
			}
		case "type":
			o.expr, o.notNull = "m.member_type", true
			if folded(sub) {
				o.expr = "(" + memberTypeFoldSQL + ")"
			}
		case "display":
			o.expr = "(" + memberDisplayFoldSQL + ")"
			if !folded(sub) {
				o.expr = "(" + memberDisplaySQL + ")"
			}
		default:
			return o, sqlfilter.Errorf("attribute %q cannot be filtered", name)
		}
	case scopeJSON:
		// j.v is the element in doc_fold; the element in doc is at the
		// same position.
		elem := "j.v"
		var elemArgs []any
		if !folded(sub) {
			elem = "((" + c.res.col("doc") + " #> ?::text[]) -> (j.n::int - 1))"
			elemArgs = []any{jsonPath(c.rt, sc.schema, sc.attr, nil)}
		}
		o.expr = "((" + elem + " ->> ?::text) COLLATE \"C\")"
		o.args = append(concat(elemArgs, nil), sub.Name)
		o.json = elem + " -> ?::text"
		o.jsonArgs = append(concat(elemArgs, nil), sub.Name)
	case scopeComplex:
		return c.operand(sqlfilter.Resolved{Schema: sc.schema, Attr: sc.attr, Sub: sub, Name: name}, false)
	}
	return o, nil
}

// jsonPath is the path of an attribute in a user's document, for #> and
// #>>: {name, familyName}, or {urn:...:User, department} for an extension
// attribute. attr nil names the extension's object itself.
func jsonPath(rt *schema.ResourceType, s *schema.Schema, attr, sub *schema.Attribute) []string {
	var p []string
	if s != rt.Core {
		p = append(p, s.ID)
	}
	if attr != nil {
		p = append(p, attr.Name)
	}
	if sub != nil {
		p = append(p, sub.Name)
	}
	return p
}

// present is "attribute has a value": not NULL and, for text, not the empty
// string.
func (o operand) present() cond {
	switch {
	case o.kind == resourceType:
		return condTrue
	case o.sqlType != "text":
		return cond{sql: o.expr + " IS NOT NULL", args: concat(o.args, nil)}
	}
	return cond{sql: "(" + o.expr + " IS NOT NULL AND " + o.expr + " <> '')", args: concat(o.args, o.args)}
}

// bin is "col op ?" with lit as the argument; args are col's.
func bin(sqlOp, col string, args []any, lit any, nullable bool) cond {
	return cond{sql: col + " " + sqlOp + " ?", args: append(concat(args, nil), lit), nullable: nullable}
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
	col, args := o.expr, o.args
	var lit any
	switch o.attr.Type {
	case schema.String, schema.Reference, schema.Binary:
		s, ok := v.(string)
		if !ok {
			return cond{}, sqlfilter.Errorf("%s is a string; compare it with a quoted string", o.name)
		}
		if o.sqlType != "text" {
			return cond{}, sqlfilter.Errorf("attribute %q cannot be filtered", o.name)
		}
		if folded(o.attr) {
			s = scim.Fold(s)
		}
		switch op {
		case filter.Co:
			return negIf(cond{sql: "strpos(" + col + ", ?) > 0", args: append(concat(args, nil), s), nullable: true}, neg), nil
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
			return negIf(cond{sql: "right(" + col + ", ?) = ?", args: append(concat(args, nil), n, s), nullable: true}, neg), nil
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
		lit = b
		if o.json != "" {
			// A JSON true or false, not the string "true".
			col, args, lit = "("+o.json+")::text", o.jsonArgs, strconv.FormatBool(b)
		}
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
		if o.json == "" {
			return cond{}, sqlfilter.Errorf("attribute %q cannot be filtered", o.name)
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return cond{}, sqlfilter.Errorf("%s: invalid number %s", o.name, n)
		}
		col = "(CASE WHEN jsonb_typeof(" + o.json + ") = 'number' THEN (" + o.json + ")::text::numeric END)"
		args, lit = concat(o.jsonArgs, o.jsonArgs), numericLit(string(n))
	case schema.Complex:
		return cond{}, sqlfilter.Errorf("attribute %q is complex; name one of its sub-attributes", o.name)
	default:
		return cond{}, sqlfilter.Errorf("attribute %q cannot be filtered", o.name)
	}
	switch op {
	case filter.Eq, filter.Ne:
		if (op == filter.Ne) != neg {
			// True when the attribute is absent, too.
			return bin("IS DISTINCT FROM", col, args, lit, false), nil
		}
		return bin("=", col, args, lit, true), nil
	case filter.Gt:
		return negIf(bin(">", col, args, lit, true), neg), nil
	case filter.Ge:
		return negIf(bin(">=", col, args, lit, true), neg), nil
	case filter.Lt:
		return negIf(bin("<", col, args, lit, true), neg), nil
	case filter.Le:
		return negIf(bin("<=", col, args, lit, true), neg), nil
	}
	return cond{}, sqlfilter.Errorf("%s: unsupported operator %q", o.name, op)
}

// numericLit is a number literal as an argument for a numeric parameter:
// an int64 when it is one, else its text, which PostgreSQL parses exactly.
func numericLit(n string) any {
	if i, err := strconv.ParseInt(n, 10, 64); err == nil {
		return i
	}
	f, _ := strconv.ParseFloat(n, 64)
	return f
}

// successor returns the least string greater than every string that starts
// with s, in code point order: s with its last code point incremented
// (dropping trailing U+10FFFF first, skipping the surrogates). It reports
// false when there is none (s is empty or all U+10FFFF): then every string
// at or after s starts with s.
func successor(s string) (string, bool) {
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

// keyKind says how a sort key is carried in a store.Position, which must
// survive JSON (a string, a float64, a bool or nil).
type keyKind int

const (
	keyText keyKind = iota // text, as a string
	keyBool                // boolean, as a bool
	keyTime                // unix nanoseconds, as an RFC 3339 string
	keyInt                 // bigint, as a float64
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
	var o operand
	var expr string
	var args []any
	nullable := true
	switch {
	case r.Elem != nil:
		sub := r.Elem
		side, isSide := c.res.side[strings.ToLower(r.Attr.Name)]
		switch {
		case r.Schema == rt.Core && isSide && side == scopeEmail:
			o, err = c.elemOperand(filter.Path{Attr: sub.Name}, &scope{schema: r.Schema, attr: r.Attr, kind: scopeEmail})
			if err != nil {
				return order{}, err
			}
			expr = "(SELECT " + o.expr + " FROM user_emails e WHERE e.user_seq = " + seq + " ORDER BY e.is_primary IS TRUE DESC, e.pos LIMIT 1)"
		case r.Schema == rt.Core && isSide:
			return order{}, sqlfilter.Errorf("cannot sort by %q", r.Name)
		default:
			o, err = c.elemOperand(filter.Path{Attr: sub.Name}, &scope{schema: r.Schema, attr: r.Attr, kind: scopeJSON})
			if err != nil {
				return order{}, err
			}
			path := jsonPath(rt, r.Schema, r.Attr, nil)
			expr = "(SELECT " + o.expr + " FROM " + jsonElements(c.res) +
				" ORDER BY ((j.v -> 'primary')::text = 'true') IS TRUE DESC, j.n LIMIT 1)"
			args = append(concat(o.args, nil), path, path)
		}
	default:
		o, err = c.operand(r.Resolved, true)
		if err != nil {
			return order{}, err
		}
		if o.kind == resourceType {
			return seqOrder, nil // the same for every resource
		}
		expr, args = o.expr, o.args
		// NOT NULL columns get a plain order, so an index serves it.
		nullable = !o.notNull
	}
	kind := keyText
	switch {
	case o.sqlType == "boolean":
		kind = keyBool
	case o.kind == timeColumn:
		kind = keyTime
	case o.sqlType == "bigint":
		kind = keyInt
	}
	return order{sql: sqlfilter.OrderBy(expr, seq, desc, nullable), args: args,
		seq: seq, key: expr, keyArgs: args, desc: desc, nullable: nullable, keyKind: kind}, nil
}

// after compiles "the row comes after position p in this order", the
// keyset condition of cursor paging. Its positive comparisons come first,
// so that an index on the sort key serves it as a range.
func (o order) after(p *store.Position) (cond, error) {
	if o.key == "" {
		return cond{sql: o.seq + " > ?", args: []any{p.Seq}}, nil
	}
	k, err := o.bindKey(p.Key)
	if err != nil {
		return cond{}, err
	}
	cmp := ">"
	if o.desc {
		cmp = "<"
	}
	e, ka := o.key, o.keyArgs
	isNull := cond{sql: e + " IS NULL", args: ka}
	seqAfter := cond{sql: o.seq + " " + cmp + " ?", args: []any{p.Seq}}
	if k == nil {
		if !o.desc {
			// Inside the NULLs, which come last.
			return and(isNull, seqAfter), nil
		}
		// Inside the NULLs, which come first; then every value.
		return or(and(isNull, seqAfter), cond{sql: e + " IS NOT NULL", args: ka}), nil
	}
	c := and(
		cond{sql: e + " " + cmp + "= ?", args: append(concat(ka, nil), k), nullable: o.nullable},
		or(cond{sql: e + " " + cmp + " ?", args: append(concat(ka, nil), k), nullable: o.nullable}, seqAfter))
	if o.nullable && !o.desc {
		c = or(c, isNull) // the NULLs, last
	}
	return c, nil
}

// bindKey converts a Position's Key to an SQL argument comparable with
// the sort expression.
func (o order) bindKey(k any) (any, error) {
	bad := func() (any, error) { return nil, sqlfilter.Errorf("invalid cursor") }
	switch k := k.(type) {
	case nil:
		return nil, nil
	case bool:
		if o.keyKind != keyBool {
			return bad()
		}
		return k, nil
	case string:
		switch o.keyKind {
		case keyTime:
			t, err := time.Parse(time.RFC3339Nano, k)
			if err != nil {
				return bad()
			}
			return sqlfilter.ClampNanos(t), nil
		case keyText:
			return k, nil
		}
	case float64:
		if o.keyKind == keyInt && k == math.Trunc(k) && math.Abs(k) < 1<<62 {
			return int64(k), nil
		}
	case int64:
		if o.keyKind == keyInt {
			return k, nil
		}
	case int:
		if o.keyKind == keyInt {
			return int64(k), nil
		}
	}
	return bad()
}

// readKey converts a sort expression's value, as pgx returns it, to a
// Position's Key: nil, a string, a float64 or a bool.
func (o order) readKey(v any) any {
	switch v := v.(type) {
	case int64:
		if o.keyKind == keyTime {
			return fromNanos(v).Format(time.RFC3339Nano)
		}
		return float64(v)
	case int32:
		return float64(v)
	}
	return v // nil, string, bool
}
