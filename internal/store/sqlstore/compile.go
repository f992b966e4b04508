package sqlstore

import (
	"strings"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

// This file and the other compile*.go compile SCIM filters (RFC 7644
// §3.4.2.2) and sortBy paths to SQL over a resource's table (users or
// groups), once for every database: what the databases spell differently is
// asked of a [FilterDialect]. What differs between resource types is data, a
// [resource]: the table, the attributes that have a column of their own, and
// the multi-valued attributes kept in a side table (users' emails, groups'
// members); everything else is read from the JSON document through the
// dialect's JSON hooks.
//
// Every literal is a ? placeholder. Attribute paths are resolved through the
// schema, and the JSON paths built from them use the schema's spelling of the
// names, never the client's; they are parameters too.
//
// NULL: an attribute that is absent is NULL in SQL, and SQL's three-valued
// logic would make "not (title eq "x")" false for a user without a title.
// The compiler therefore pushes not down to the comparisons (De Morgan) and
// gives each negated comparison a form that is true on NULL
// ("x IS DISTINCT FROM ?", "(p) IS NOT TRUE"). Under and/or alone an unknown
// behaves like false, which is what SCIM wants, so positive comparisons keep
// their plain, indexable form (=, <, >=).
//
// Case: for attributes whose caseExact is false, both sides go through
// scim.Fold: the literal in Go, the value either already (user_name_fold,
// display_name_fold, user_emails.value_fold, the member display and type
// forms) or in SQL through the dialect's fold function; a database without
// one (PostgreSQL: no server-side functions) keeps folded copies, doc_fold
// and user_emails' *_fold columns, computed in Go, and the compiler reads
// those. Ordering (gt, lt, sortBy) is by code point: SQLite's BINARY
// collation on UTF-8, PostgreSQL's COLLATE "C".
//
// co, sw and ew do not use LIKE, whose case-insensitivity is ASCII-only and
// which would make % and _ wildcards: co is the position of the literal
// (instr, strpos) > 0, ew compares the value's last characters, and sw is
// the range x >= p AND x < successor(p), which an index on x serves
// (userName sw "J" is an index range scan).
//
// Group members (scopeMember) are group_members rows, alias m: value is
// m.member_id (case-exact), type is m.member_type, and display is the
// member's name, looked up in users or groups (memberDisplayFoldSQL). A
// members filter that pins value with eq is compiled to an uncorrelated
// "groups.seq IN (SELECT m.group_seq ... WHERE m.tenant_id = ? AND ...)",
// which the index on (tenant_id, member_id) serves; any other to a
// correlated EXISTS over the group's own rows. Emails filters are always the
// uncorrelated form, served by the index on (tenant_id, value_fold) when
// they compare value.

// FilterDialect is what the filter and sort compiler asks of a database:
// the constructs of SCIM filters whose SQL really differs. Everything else
// (comparisons, TRUE and FALSE, IS NOT TRUE, IS DISTINCT FROM, the side
// tables, NULLS FIRST/LAST) is written once, in this package.
//
// The JSON hooks read documents. A document is a column ("users.doc"), the
// current element of [FilterDialect.JSONElements] ("j.value"), or what
// [FilterDialect.JSONElementAt] returns. keys are object keys from the
// document's root, in the schema's spelling; a hook passes them as an
// argument, in its own path syntax. The Fragments the hooks return carry
// the arguments of all their placeholders, the document's included, in
// order.
type FilterDialect interface {
	// Fold is the name of the SQL function that folds text with
	// scim.Fold (SQLite's registered scim_fold), or "" when there is none
	// (PostgreSQL); filters then read the folded copies the store keeps
	// (see FoldedDocs): doc_fold, and user_emails' type_fold and
	// display_fold.
	Fold() string
	// Instr is the name of the SQL function that returns the 1-based
	// position of its second argument in its first, 0 when it does not
	// occur (SQLite's instr, PostgreSQL's strpos).
	Instr() string
	// Right is the SQL of the last n characters of the text x, n being the
	// argument of its one placeholder (SQLite's substr(x, -?),
	// PostgreSQL's right(x, ?)).
	Right(x string) string
	// JSONValue is the value at keys in doc, NULL when it is absent or
	// null, as SQL of the type t compares with: a boolean for Boolean, a
	// number for Integer and Decimal, text for every other type (a
	// database with typed JSON values, SQLite, may return the value as it
	// is).
	JSONValue(doc Fragment, keys []string, t schema.Type) Fragment
	// JSONHas is the condition that doc has a value at keys, null
	// included.
	JSONHas(doc Fragment, keys []string) Fragment
	// JSONHasMember is the condition that the value at keys in doc is an
	// object with a member that is neither null nor the empty string.
	JSONHasMember(doc Fragment, keys []string) Fragment
	// JSONElements is a FROM item over the elements of the array at keys
	// in doc, with the alias j: j.value is an element (a document), and
	// j.key orders the elements as the array does. It has no rows when
	// there is no value at keys.
	JSONElements(doc Fragment, keys []string) Fragment
	// JSONElementAt is the element of the array at keys in doc at the
	// position of j, the current element of a JSONElements over the same
	// array in another document (doc_fold's element's unfolded
	// counterpart in doc).
	JSONElementAt(doc Fragment, keys []string) Fragment
}

// Fragment is a piece of SQL and the arguments of its ? placeholders, in
// order.
type Fragment struct {
	SQL  string
	Args []any
}

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
	kind     valueKind
	notNull  bool
	sortOnly bool // may be sorted by, not filtered
}

// col qualifies a column name with the resource's table.
func (r *resource) col(name string) string { return r.table + "." + name }

var metaCols = map[string]column{
	"id":                {name: "id", notNull: true},
	"externalid":        {name: "external_id"},
	"meta.created":      {name: "created", kind: timeValue, notNull: true},
	"meta.lastmodified": {name: "modified", kind: timeValue, notNull: true},
	"meta.version":      {name: "version", kind: intValue, notNull: true, sortOnly: true},
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
			"active":      {name: "active", kind: boolValue, notNull: true},
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
	panic("sqlstore: no table for resource type " + rt.Name)
}

const (
	// memberDisplayFoldSQL is the display of the member in row m of
	// group_members, folded: a user's displayName, else its userName; a
	// group's displayName; read from their folded columns.
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
	// keyed: true only for group_members rows whose member_id equals one
	// of the literals (m.member_id = ?, and-ed or or-ed), so that the index
	// on member_id can find them.
	keyed bool
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

func negIf(c cond, neg bool) cond {
	if neg {
		return c.not()
	}
	return c
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
	return cond{sql: "(" + a.sql + ") AND (" + b.sql + ")", args: concat(a.args, b.args), nullable: a.nullable || b.nullable,
		keyed: a.keyed || b.keyed}
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
func compileFilter(d FilterDialect, rt *schema.ResourceType, e filter.Expr, tenantID int64) (cond, error) {
	c := newCompiler(d, rt, tenantID)
	return c.finish(c.expr(e, false, nil))
}

// compileMemberFilter compiles e, a filter over the sub-attributes of a
// group's members (value, type, display), to a condition on a
// group_members row m.
func compileMemberFilter(d FilterDialect, e filter.Expr, tenantID int64) (cond, error) {
	c := newCompiler(d, schema.GroupType, tenantID)
	sc := &scope{schema: schema.Group, attr: schema.Group.Attr("members"), kind: scopeMember}
	return c.finish(c.expr(e, false, sc))
}

func newCompiler(d FilterDialect, rt *schema.ResourceType, tenantID int64) *compiler {
	return &compiler{d: d, fold: d.Fold(), rt: rt, res: resourceOf(rt), tenantID: tenantID}
}

func (c *compiler) finish(out cond, err error) (cond, error) {
	if err != nil {
		return cond{}, err
	}
	if len(out.sql) > maxSQL || len(out.args) > maxArgs {
		return cond{}, errorf("filter is too complex")
	}
	return out, nil
}

type compiler struct {
	d        FilterDialect
	fold     string // d.Fold()
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
	scopeJSON                     // an element of the attribute's array (elements), alias j
	scopeComplex                  // a single complex attribute of the resource's row
	scopeMember                   // a group_members row, alias m
)

// expr compiles e, negated when neg is set; sc is nil at the top level.
func (c *compiler) expr(e filter.Expr, neg bool, sc *scope) (cond, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return cond{}, errorf("filter is nested too deeply")
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
		return negIf(p, neg), nil
	case *filter.ValuePath:
		if sc != nil {
			return cond{}, errorf("value filters cannot be nested: %s", e)
		}
		if e.Path.Sub != "" || e.Path.Filter != nil {
			return cond{}, errorf("invalid value filter: %s", e)
		}
		return c.valuePath(e.Path, e.Filter, neg)
	case nil:
		return cond{}, errorf("empty filter")
	default:
		return cond{}, errorf("unsupported filter expression %T", e)
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

func (c *compiler) resolve(p filter.Path) (resolved, error) {
	return resolve(c.rt, c.res.refuse, p)
}

// compare compiles "path op value".
func (c *compiler) compare(p filter.Path, op filter.Op, v any, neg bool, sc *scope) (cond, error) {
	if p.Filter != nil {
		// emails[type eq "work"].value eq "x", if the parser did not
		// already turn it into a value path.
		if sc != nil || p.Sub == "" {
			return cond{}, errorf("invalid attribute path %s", p.Attr)
		}
		inner := &filter.And{Left: p.Filter, Right: &filter.Compare{Path: filter.Path{Attr: p.Sub}, Op: op, Value: v}}
		return c.valuePath(filter.Path{URN: p.URN, Attr: p.Attr}, inner, neg)
	}
	if sc != nil {
		o, err := c.elemOperand(p, sc)
		if err != nil {
			return cond{}, err
		}
		return c.compareOperand(o, op, v, neg)
	}
	if isSchemas(c.rt, p) {
		return c.compareSchemas(op, v, neg)
	}
	r, err := c.resolve(p)
	if err != nil {
		return cond{}, err
	}
	if r.attr.MultiValued {
		// emails.value eq "x" is emails[value eq "x"]; emails eq "x"
		// compares the value sub-attribute.
		sub := p.Sub
		if sub == "" {
			if r.attr.Type == schema.Complex {
				if r.attr.Sub("value") == nil {
					return cond{}, errorf("attribute %q is complex; name one of its sub-attributes", r.name)
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
	return c.compareOperand(o, op, v, neg)
}

// present compiles "path pr" (positively).
func (c *compiler) present(p filter.Path, sc *scope) (cond, error) {
	if p.Filter != nil {
		return cond{}, errorf("invalid attribute path %s", p.Attr)
	}
	if sc != nil {
		o, err := c.elemOperand(p, sc)
		if err != nil {
			return cond{}, err
		}
		return o.present(), nil
	}
	if isSchemas(c.rt, p) {
		return condTrue, nil
	}
	r, err := c.resolve(p)
	if err != nil {
		return cond{}, err
	}
	switch {
	case r.attr.MultiValued:
		var inner filter.Expr
		if p.Sub != "" {
			inner = &filter.Present{Path: filter.Path{Attr: p.Sub}}
		}
		return c.valuePath(filter.Path{URN: p.URN, Attr: p.Attr}, inner, false)
	case r.attr.Type == schema.Complex && r.sub == nil:
		if r.schema == c.rt.Core && strings.EqualFold(r.attr.Name, "meta") {
			return condTrue, nil
		}
		// A complex attribute is present when it has a non-empty member.
		f := c.d.JSONHasMember(c.doc(), c.keys(r.schema, r.attr, nil))
		return cond{sql: f.SQL, args: f.Args}, nil
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
	if isSchemas(c.rt, p) {
		return cond{}, errorf("schemas has no sub-attributes")
	}
	r, err := c.resolve(p)
	if err != nil {
		return cond{}, err
	}
	sc := &scope{schema: r.schema, attr: r.attr}
	side, isSide := c.res.side[strings.ToLower(r.attr.Name)]
	switch {
	case r.attr.MultiValued && r.schema == c.rt.Core && isSide:
		sc.kind = side
	case r.attr.MultiValued:
		sc.kind = scopeJSON
	case r.attr.Type == schema.Complex:
		// name[givenName eq "x"]: the same user row, so and-ing the
		// comparisons at the top level means the same thing.
		sc.kind = scopeComplex
		if f == nil {
			return cond{}, errorf("empty value filter on %q", r.name)
		}
		return c.expr(f, neg, sc)
	default:
		return cond{}, errorf("attribute %q is neither multi-valued nor complex", r.name)
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
		from := c.elements(sc)
		ex.sql = "EXISTS (SELECT 1 FROM " + from.SQL + " WHERE TRUE"
		ex.args = from.Args
	}
	if inner.sql != "TRUE" {
		ex.sql += " AND (" + inner.sql + ")"
		ex.args = append(ex.args, inner.args...)
	}
	ex.sql += ")"
	return negIf(ex, neg), nil
}

// compareSchemas compiles a comparison with the schemas attribute: a user
// has the core schema and, when its document has the extension's key, the
// extension.
func (c *compiler) compareSchemas(op filter.Op, v any, neg bool) (cond, error) {
	s, ok := v.(string)
	if !ok || (op != filter.Eq && op != filter.Ne) {
		return cond{}, errorf("schemas supports only eq and ne with a schema URN")
	}
	var has cond
	switch {
	case strings.EqualFold(s, c.rt.Core.ID):
		has = condTrue
	case c.rt.Extension(s) != nil:
		f := c.d.JSONHas(c.doc(), c.keys(c.rt.Extension(s), nil, nil))
		has = cond{sql: f.SQL, args: f.Args}
	default:
		has = condFalse
	}
	return negIf(has, (op == filter.Ne) != neg), nil
}
