package sqlstore

// Dialect is what really differs between the SQL of two databases. The
// statements of this package are written once with ? placeholders; where a
// construct is spelled differently, they ask the dialect.
type Dialect interface {
	FilterDialect // what SCIM filters and sorts need (compile.go)
	// Name is the database's name ("sqlite", "postgres"), which prefixes
	// the store's own errors.
	Name() string
	// Lock is the clause a SELECT ends with to lock the rows it reads
	// until the transaction ends (" FOR UPDATE", with its leading space),
	// or "" where write
	// transactions never run concurrently (SQLite's single writer).
	Lock(m LockMode) string
	// Greatest is the name of the SQL function that returns the greater
	// of its arguments (SQLite's two-argument max, PostgreSQL's greatest).
	Greatest() string
	// JSONIn is the SQL expression that stores the JSON text of
	// placeholder p in a document column ("jsonb(?)" for SQLite's binary
	// JSON); JSONOut reads a document column back as JSON text.
	JSONIn(p string) string
	JSONOut(col string) string
	// FoldedDocs reports whether users and groups keep doc_fold, a copy of
	// the document with every string folded with scim.Fold, because the
	// database cannot fold in SQL (no server-side functions).
	FoldedDocs() bool
	// CountSlots is how many rows hold a tenant's number of users (and of
	// groups); writers pick one at random so that concurrent creates in
	// one tenant do not queue for one row lock.
	CountSlots() int

	// In is the condition "expr is one of the values of a list bound to
	// one placeholder", whose argument List makes; elem is the values'
	// SQL type, "text" or "bigint".
	In(expr, elem string) string
	// Rows is a FROM item over a list bound to one placeholder (made by
	// List), as alias(value, ord): each value with its position, in order.
	Rows(alias, elem string) string
	// List is the argument of the placeholder of In or Rows: v is a
	// []string or an []int64.
	List(v any) any
	// FixedJoin is the inner join that the planner may not reorder
	// ("CROSS JOIN" on SQLite, whose planner has no statistics to choose
	// well), or a plain "JOIN".
	FixedJoin() string
	// ByKey is the FROM item of table for a statement whose rows must be
	// found by their primary key, the seq a condition lists, and not by
	// walking another index in the order asked for (SQLite's "NOT
	// INDEXED", which its planner, without statistics, needs for the
	// search by words; a plain table where the planner weighs the choice
	// itself).
	ByKey(table string) string
	// MemberOrder is the column of group_members that orders a group's
	// members as they were added.
	MemberOrder() string
	// JSONField is the text of the top-level member key of the document
	// in column col (key is a constant, not user input).
	JSONField(col, key string) string
	// WriteCTEs reports whether INSERT, UPDATE and DELETE may stand in a
	// WITH clause (PostgreSQL), so that several writes are one statement.
	WriteCTEs() bool
	// ListStamps reports whether the database keeps list_stamps, a count
	// of each tenant's changes to users and to groups (SQLite, by
	// triggers), which lets a page by offset start where the previous one
	// ended (see offsetCache).
	ListStamps() bool
	// NewEventID is the SQL expression of a new event id: "evt_" and 32
	// random hex digits.
	NewEventID() string
	// EventVisible is the condition on the events row alias that holds
	// once no event before it in (tx, seq) order can still commit.
	EventVisible(alias string) string
}

// LockMode says how a SELECT of a write transaction locks its rows.
type LockMode int

// The lock modes, as in PostgreSQL.
const (
	// ForUpdate: the row will be updated or deleted.
	ForUpdate LockMode = iota + 1
	// ForNoKeyUpdate: the row will be updated, its key kept (others may
	// still reference it).
	ForNoKeyUpdate
	// ForKeyShare: the row must not be deleted (or its key changed) before
	// the transaction ends.
	ForKeyShare
)
