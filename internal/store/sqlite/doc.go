// Package sqlite is scimd's SQLite storage backend, built on the pure-Go
// driver modernc.org/sqlite so that a CGO_ENABLED=0 build works.
//
// A [DB] keeps two connection pools on one database file in WAL mode. Reads
// use a pool of several query-only connections and never wait for writes.
// Writes go through one goroutine that owns the single write connection and
// runs them in BEGIN IMMEDIATE transactions, so that a read-modify-write
// never loses an update; the requests that queue up while a transaction
// commits share the next one, each in its own savepoint (group commit), so
// that synchronous=FULL, which makes an acknowledged write survive a crash of
// the process or of the machine, costs one fsync per batch rather than per
// request. Every connection runs with foreign_keys=ON.
//
// Users are stored one row each: the attributes as a JSONB document beside
// indexed columns derived from it (folded userName, externalId, folded
// displayName, active, the meta times), plus one user_emails row per e-mail
// address. SCIM filters are compiled to SQL (compile.go): known attributes go
// to their columns, emails to the side table, everything else to SQLite's
// JSON functions; every literal is a parameter. The schema lives in
// embedded, numbered migrations that [Open] applies (see [Migrate]).
//
// Groups are stored the same way (groups.go), and their members one
// group_members row each, so that a membership change costs what it
// changes whatever the group's size; the same compiler, driven by a
// description of each table (resource in compile.go), serves both. Lists
// page by offset (startIndex) or by keyset (cursor), see list.go.
package sqlite
