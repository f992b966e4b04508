package postgres

import (
	"fmt"

	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// dialect is PostgreSQL's SQL, within what CockroachDB also accepts.
type dialect struct{}

func (dialect) Name() string { return "postgres" }

func (dialect) Lock(m sqlstore.LockMode) string {
	switch m {
	case sqlstore.ForUpdate:
		return " FOR UPDATE"
	case sqlstore.ForNoKeyUpdate:
		return " FOR NO KEY UPDATE"
	case sqlstore.ForKeyShare:
		return " FOR KEY SHARE"
	}
	panic(fmt.Sprintf("postgres: unknown lock mode %d", m))
}

func (dialect) Greatest() string          { return "greatest" }
func (dialect) JSONIn(p string) string    { return "CAST(" + p + " AS jsonb)" }
func (dialect) JSONOut(col string) string { return col }
func (dialect) FoldedDocs() bool          { return true } // no server-side functions: folded in Go
// CountSlots: 16 rows per tenant for its user count (and its group count),
// so that concurrent creates through several instances rarely queue.
func (dialect) CountSlots() int { return 16 }

func (dialect) In(expr, elem string) string { return expr + " = ANY(CAST(? AS " + elem + "[]))" }
func (dialect) Rows(alias, elem string) string {
	return "unnest(CAST(? AS " + elem + "[])) WITH ORDINALITY AS " + alias + "(value, ord)"
}
func (dialect) List(v any) any    { return v } // pgx binds slices as arrays
func (dialect) FixedJoin() string { return "JOIN" }

// ByKey: PostgreSQL's planner has statistics to choose by.
func (dialect) ByKey(table string) string { return table }
func (dialect) MemberOrder() string       { return "ord" }
func (dialect) JSONField(col, key string) string {
	return "(" + col + " ->> '" + key + "')"
}

// ListStamps: no list_stamps; every write would update one row per
// tenant, which concurrent writers through several instances would queue on.
func (dialect) ListStamps() bool { return false }

// PostgreSQL's answers to sqlstore.FilterDialect, within what CockroachDB
// also accepts. There is no scim.Fold in SQL (no server-side functions):
// filters read the folded copies computed in Go (doc_fold, the *_fold
// columns). Documents are jsonb, read with #> and #>> and text[] paths;
// text is compared COLLATE "C", by code point, as SQLite's BINARY collation
// does with UTF-8.

func (dialect) Fold() string { return "" }

func (dialect) Instr() string { return "strpos" }

func (dialect) Right(x string) string { return "right(" + x + ", ?)" }

// JSONValue is text (#>>), except for booleans and numbers, read through
// their jsonb value so that the string "true" is not true: NULL unless the
// value has the type.
func (dialect) JSONValue(doc sqlstore.Fragment, keys []string, t schema.Type) sqlstore.Fragment {
	switch t {
	case schema.Boolean:
		return jsonTyped(doc, keys, "boolean", "boolean")
	case schema.Integer, schema.Decimal:
		return jsonTyped(doc, keys, "number", "numeric")
	}
	return sqlstore.Fragment{SQL: "((" + doc.SQL + " #>> ?::text[]) COLLATE \"C\")", Args: jsonArgs(1, doc, keys)}
}

// jsonTyped is the value at keys in doc as sqlType when its jsonb type is
// typ, else NULL.
func jsonTyped(doc sqlstore.Fragment, keys []string, typ, sqlType string) sqlstore.Fragment {
	v := doc.SQL + " #> ?::text[]"
	return sqlstore.Fragment{
		SQL:  "(CASE WHEN jsonb_typeof(" + v + ") = '" + typ + "' THEN (" + v + ")::text::" + sqlType + " END)",
		Args: jsonArgs(2, doc, keys),
	}
}

func (dialect) JSONHas(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	return sqlstore.Fragment{SQL: "(" + doc.SQL + " #> ?::text[]) IS NOT NULL", Args: jsonArgs(1, doc, keys)}
}

func (dialect) JSONHasMember(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	v := doc.SQL + " #> ?::text[]"
	return sqlstore.Fragment{
		SQL: "EXISTS (SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(" + v + ") = 'object' THEN " + v + " END) AS o(k, v)" +
			" WHERE o.v <> 'null'::jsonb AND o.v <> '\"\"'::jsonb)",
		Args: jsonArgs(2, doc, keys),
	}
}

// JSONElements numbers the elements from 1 (key); it has no rows when the
// value is not an array (jsonb_array_elements would fail).
func (dialect) JSONElements(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	v := doc.SQL + " #> ?::text[]"
	return sqlstore.Fragment{
		SQL:  "jsonb_array_elements(CASE WHEN jsonb_typeof(" + v + ") = 'array' THEN " + v + " END) WITH ORDINALITY AS j(value, key)",
		Args: jsonArgs(2, doc, keys),
	}
}

func (dialect) JSONElementAt(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	return sqlstore.Fragment{SQL: "((" + doc.SQL + " #> ?::text[]) -> (j.key::int - 1))", Args: jsonArgs(1, doc, keys)}
}

// jsonArgs are the arguments of n mentions of doc followed by the path
// placeholder of keys (a text[]).
func jsonArgs(n int, doc sqlstore.Fragment, keys []string) []any {
	args := make([]any, 0, n*(len(doc.Args)+1))
	for range n {
		args = append(append(args, doc.Args...), keys)
	}
	return args
}

func (dialect) WriteCTEs() bool { return true }

func (dialect) NewEventID() string {
	return "'evt_' || replace(CAST(gen_random_uuid() AS text), '-', '')"
}

// EventVisible: the row's transaction is older than every transaction
// still running, so none of those (nor any later one, whose id is larger)
// can commit an event before it (see migration 0006).
func (dialect) EventVisible(alias string) string {
	return alias + ".tx < CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint)"
}
