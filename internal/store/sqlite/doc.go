// Package sqlite is scimd's SQLite storage backend, built on the pure-Go
// driver modernc.org/sqlite so that a CGO_ENABLED=0 build works.
//
// A [DB] keeps two connection pools on one database file in WAL mode: a write
// pool of exactly one connection whose transactions start with BEGIN
// IMMEDIATE (so a read-modify-write never loses an update and never fails
// with SQLITE_BUSY halfway through), and a read pool of several query-only
// connections, so that reads never wait for the writer. Every connection runs
// with foreign_keys=ON and synchronous=FULL: a write that has been
// acknowledged survives a crash of the process or of the machine.
//
// Users are stored one row each: the attributes as a JSON document beside
// indexed columns derived from it (folded userName, externalId, folded
// displayName, active, the meta times), plus one user_emails row per e-mail
// address. SCIM filters are compiled to SQL by [compileFilter]: known
// attributes go to their columns, emails to the side table, everything else
// to SQLite's JSON functions. The schema lives in embedded, numbered
// migrations that [Open] applies (see [Migrate]).
package sqlite
