package sqlite

import (
	"encoding/json"
	"strings"

	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// dialect is SQLite's SQL.
type dialect struct{}

func (dialect) Name() string                  { return "sqlite" }
func (dialect) Lock(sqlstore.LockMode) string { return "" } // one writer: nothing to lock against
func (dialect) Greatest() string              { return "max" }
func (dialect) JSONIn(p string) string        { return "jsonb(" + p + ")" }
func (dialect) JSONOut(col string) string     { return "json(" + col + ")" }
func (dialect) FoldedDocs() bool              { return false } // scim_fold folds in SQL
func (dialect) CountSlots() int               { return 1 }     // one writer: no lock to share

func (dialect) In(expr, _ string) string { return expr + " IN (SELECT value FROM json_each(?))" }
func (dialect) Rows(alias, _ string) string {
	return "(SELECT value, key AS ord FROM json_each(?)) AS " + alias
}

// List encodes v as a JSON array, for json_each.
func (dialect) List(v any) any {
	b, _ := json.Marshal(v) // strings and integers always encode
	return string(b)
}
func (dialect) FixedJoin() string   { return "CROSS JOIN" }
func (dialect) MemberOrder() string { return "rowid" }

// ByKey: NOT INDEXED still lets SQLite find rows by rowid (seq).
func (dialect) ByKey(table string) string { return table + " NOT INDEXED" }
func (dialect) JSONField(col, key string) string {
	return "json_extract(" + col + ", '$." + key + "')"
}

// ListStamps: migration 0002 keeps list_stamps by triggers.
func (dialect) ListStamps() bool { return true }

// SQLite's answers to sqlstore.FilterDialect: scim_fold folds in SQL, and
// documents are read with SQLite's JSON functions, whose paths are strings
// ($."name"."familyName") and whose values keep their JSON type (a boolean
// is 1 or 0).

// Fold is the function sqlite.go registers.
func (dialect) Fold() string { return "scim_fold" }

func (dialect) Instr() string { return "instr" }

func (dialect) Right(x string) string { return "substr(" + x + ", -?)" }

func (dialect) JSONValue(doc sqlstore.Fragment, keys []string, _ schema.Type) sqlstore.Fragment {
	return jsonCall("json_extract(", doc, keys, ")")
}

func (dialect) JSONHas(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	return jsonCall("json_type(", doc, keys, ") IS NOT NULL")
}

func (dialect) JSONHasMember(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	return jsonCall("EXISTS (SELECT 1 FROM json_each(", doc, keys, ") WHERE value IS NOT NULL AND value <> '')")
}

// JSONElements is json_each's rows: for an array, key is the element's
// index and value the element.
func (dialect) JSONElements(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	return jsonCall("json_each(", doc, keys, ") j")
}

func (dialect) JSONElementAt(doc sqlstore.Fragment, keys []string) sqlstore.Fragment {
	return jsonCall("json_extract(", doc, keys, " || '[' || j.key || ']')")
}

// jsonCall is pre, the document, the path of keys as a placeholder, then
// post.
func jsonCall(pre string, doc sqlstore.Fragment, keys []string, post string) sqlstore.Fragment {
	args := make([]any, 0, len(doc.Args)+1)
	args = append(append(args, doc.Args...), jsonPath(keys))
	return sqlstore.Fragment{SQL: pre + doc.SQL + ", ?" + post, Args: args}
}

// jsonPath is the SQLite JSON path of keys: $."name"."familyName". Schema
// names contain neither '"' nor '\'.
func jsonPath(keys []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, k := range keys {
		b.WriteString(`."` + k + `"`)
	}
	return b.String()
}

func (dialect) WriteCTEs() bool { return false }

func (dialect) NewEventID() string { return "'evt_' || lower(hex(randomblob(16)))" }

// EventVisible: one writer commits at a time, in seq order, and a reader's
// snapshot holds whole commits: every committed event is visible.
func (dialect) EventVisible(string) string { return "TRUE" }
