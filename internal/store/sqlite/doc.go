// Package sqlite is scimd's SQLite backend, built on the pure-Go driver
// modernc.org/sqlite so that a CGO_ENABLED=0 build works. The statements
// themselves are sqlstore's, written once for both databases; this package
// keeps what is SQLite's own:
//
//   - Opening (sqlite.go): two connection pools on one database file in WAL
//     mode, every connection with foreign_keys=ON; reads use several
//     query-only connections and never wait for writes. The SQL function
//     scim_fold (scim.Fold) is registered for case-insensitive filters.
//   - The single writer (writer.go): writes go through one goroutine that
//     owns the only write connection and runs them in BEGIN IMMEDIATE
//     transactions; the requests that queue up while one commits share the
//     next, each in its own savepoint (group commit), so synchronous=FULL,
//     which makes an acknowledged write survive a crash of the process or
//     the machine, costs one fsync per batch rather than per request.
//   - Prepared statements (stmts.go), cached by text and prepared once no
//     transaction holds the connection.
//   - The Backend and the dialect sqlstore runs on (backend.go,
//     dialect.go): JSONB documents, json_each for lists of ids, no row
//     locks (the single writer serializes), list stamps for the offset
//     memory of lists.
//   - Migrations (migrations/*.sql, applied by Open or Migrate) and the
//     online backup (backup.go).
//
// A new store feature is written in sqlstore; here it needs at most a
// migration and, where SQLite spells the SQL differently, a dialect hook.
package sqlite
