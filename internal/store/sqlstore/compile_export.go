package sqlstore

import (
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// This file exports the filter and sort compiler, and the statements of a
// list page, to the backends' tests, which check the SQL of their dialect
// and its query plans on a real database. The store itself uses the
// unexported forms.

// Cond is a compiled condition: SQL with ? placeholders, and their
// arguments in order.
type Cond struct {
	SQL  string
	Args []any
}

func exportCond(c cond) Cond { return Cond{SQL: c.sql, Args: c.args} }

func (c Cond) cond() cond { return cond{sql: c.SQL, args: c.Args} }

// And is "a AND b".
func And(a, b Cond) Cond { return exportCond(and(a.cond(), b.cond())) }

// CompileFilter compiles e, a filter over the resource type rt (User or
// Group) of the given tenant, to a condition on its table (users or
// groups) in dialect d. Unknown attributes, operators the attribute's type
// does not support and literals of the wrong type give a
// *store.FilterError.
func CompileFilter(d FilterDialect, rt *schema.ResourceType, e filter.Expr, tenantID int64) (Cond, error) {
	c, err := compileFilter(d, rt, e, tenantID)
	return exportCond(c), err
}

// CompileMemberFilter compiles e, a filter over the sub-attributes of a
// group's members (value, type, display), to a condition on a
// group_members row aliased m, in dialect d.
func CompileMemberFilter(d FilterDialect, e filter.Expr, tenantID int64) (Cond, error) {
	c, err := compileMemberFilter(d, e, tenantID)
	return exportCond(c), err
}

// Order is a compiled list order: an ORDER BY list that ends with the
// table's seq, and what cursor paging needs.
type Order struct {
	SQL  string // the ORDER BY list
	Args []any  // the arguments of SQL's placeholders
	// Key is the sort expression, "" when the order is seq alone; a
	// cursor page selects it first, for the next position.
	Key     string
	KeyArgs []any
	o       order
}

// CompileSort compiles sortBy and the sort order for rt's table in dialect
// d (see compileSort).
func CompileSort(d FilterDialect, rt *schema.ResourceType, sortBy string, desc bool) (Order, error) {
	o, err := compileSort(d, rt, sortBy, desc)
	if err != nil {
		return Order{}, err
	}
	return Order{SQL: o.sql, Args: o.args, Key: o.key, KeyArgs: o.keyArgs, o: o}, nil
}

// After is "the row comes after position p in this order", the keyset
// condition of cursor paging; a Key that does not fit the order is a
// *store.FilterError.
func (o Order) After(p *store.Position) (Cond, error) {
	c, err := o.o.after(p)
	return exportCond(c), err
}

// AfterBound is After with the key as an SQL value, as the sort expression
// returned it.
func (o Order) AfterBound(seq int64, key any) Cond { return exportCond(o.o.afterBound(seq, key)) }

// ReadKey converts the sort expression's value, as the driver returns it,
// to a Position's Key.
func (o Order) ReadKey(v any) any { return o.o.readKey(v) }

// PageQuery is the statement of a page by offset of rt's resources that
// match where, in the order o, as ListUsers and ListGroups run it, with its
// arguments.
func (s *Store) PageQuery(rt *schema.ResourceType, where Cond, o Order, limit, offset int) (string, []any) {
	l := s.listerOf(rt)
	return pageQuery(l, l.res.table, where.cond(), o.o, limit, offset)
}

// CursorQuery is the statement of a page by keyset (where includes the
// keyset condition), as PageQuery.
func (s *Store) CursorQuery(rt *schema.ResourceType, where Cond, o Order, limit int) (string, []any) {
	l := s.listerOf(rt)
	return cursorQuery(l, l.res.table, where.cond(), o.o, limit)
}

// SearchQuery is the statement of a page of users that match where, a
// condition with a search by words (SearchCond), as ListUsers runs it: by
// keyset when cursor is set (where then includes the keyset condition),
// else by offset; and the statement that counts them.
func (s *Store) SearchQuery(where Cond, o Order, limit, offset int, cursor bool) (page string, args []any, count string) {
	from := s.d.ByKey("users")
	count = "SELECT count(*) FROM " + from + " WHERE " + where.SQL
	if cursor {
		page, args = cursorQuery(s.usersList, from, where.cond(), o.o, limit)
		return page, args, count
	}
	page, args = pageQuery(s.usersList, from, where.cond(), o.o, limit, offset)
	return page, args, count
}

func (s *Store) listerOf(rt *schema.ResourceType) *lister {
	if rt == schema.GroupType {
		return s.groupsList
	}
	return s.usersList
}
