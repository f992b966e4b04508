package postgres

import (
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// The compiler in this backend's dialect, for the tests of its SQL.

func compileFilter(rt *schema.ResourceType, e filter.Expr, tenantID int64) (sqlstore.Cond, error) {
	return sqlstore.CompileFilter(dialect{}, rt, e, tenantID)
}

func compileSort(rt *schema.ResourceType, sortBy string, desc bool) (sqlstore.Order, error) {
	return sqlstore.CompileSort(dialect{}, rt, sortBy, desc)
}
