package sqlstore

import (
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// TEMPORARY: this file exports the filter and sort compiler to the
// backends' list.go and groups.go (ListUsers, ListGroups and
// RemoveMembersWhere), which have not moved into this package yet. When
// they do, they use cond and order directly and this file goes.

// Cond is a compiled condition: SQL with ? placeholders, and their
// arguments in order. Temporary (see compile_export.go).
type Cond struct {
	SQL  string
	Args []any
}

func exportCond(c cond) Cond { return Cond{SQL: c.sql, Args: c.args} }

func (c Cond) cond() cond { return cond{sql: c.SQL, args: c.Args} }

// And is "a AND b". Temporary (see compile_export.go).
func And(a, b Cond) Cond { return exportCond(and(a.cond(), b.cond())) }

// CompileFilter compiles e, a filter over the resource type rt (User or
// Group) of the given tenant, to a condition on its table (users or
// groups) in dialect d. Unknown attributes, operators the attribute's type
// does not support and literals of the wrong type give a
// *store.FilterError. Temporary (see compile_export.go).
func CompileFilter(d FilterDialect, rt *schema.ResourceType, e filter.Expr, tenantID int64) (Cond, error) {
	c, err := compileFilter(d, rt, e, tenantID)
	return exportCond(c), err
}

// CompileMemberFilter compiles e, a filter over the sub-attributes of a
// group's members (value, type, display), to a condition on a
// group_members row aliased m, in dialect d. Temporary (see
// compile_export.go).
func CompileMemberFilter(d FilterDialect, e filter.Expr, tenantID int64) (Cond, error) {
	c, err := compileMemberFilter(d, e, tenantID)
	return exportCond(c), err
}

// Order is a compiled list order: an ORDER BY list that ends with the
// table's seq, and what cursor paging needs. Temporary (see
// compile_export.go).
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
// d (see compileSort). Temporary (see compile_export.go).
func CompileSort(d FilterDialect, rt *schema.ResourceType, sortBy string, desc bool) (Order, error) {
	o, err := compileSort(d, rt, sortBy, desc)
	if err != nil {
		return Order{}, err
	}
	return Order{SQL: o.sql, Args: o.args, Key: o.key, KeyArgs: o.keyArgs, o: o}, nil
}

// After is "the row comes after position p in this order", the keyset
// condition of cursor paging; a Key that does not fit the order is a
// *store.FilterError. Temporary (see compile_export.go).
func (o Order) After(p *store.Position) (Cond, error) {
	c, err := o.o.after(p)
	return exportCond(c), err
}

// AfterBound is After with the key as an SQL value, as the sort expression
// returned it. Temporary (see compile_export.go).
func (o Order) AfterBound(seq int64, key any) Cond { return exportCond(o.o.afterBound(seq, key)) }

// ReadKey converts the sort expression's value, as the driver returns it,
// to a Position's Key. Temporary (see compile_export.go).
func (o Order) ReadKey(v any) any { return o.o.readKey(v) }
