// Package postgres is scimd's PostgreSQL backend, built on pgx
// (github.com/jackc/pgx/v5) and its connection pool. The statements
// themselves are sqlstore's, written once for both databases; this package
// keeps what is PostgreSQL's own: opening the pool, the migrations
// (migrations/*.sql), the Backend sqlstore runs on (backend.go) and the
// dialect (dialect.go).
//
// Any number of scimd instances may share one database: nothing that
// correctness depends on lives in a process's memory.
//
//   - Uniqueness (tenant names, key ids, folded userNames) is the database's
//     unique indexes; a violation becomes store.ErrConflict.
//   - A read-modify-write locks its row (the dialect's FOR UPDATE and FOR
//     NO KEY UPDATE) inside its transaction, so concurrent updates through
//     different instances queue and none is lost.
//   - A transaction runs on one connection and sends its statements in
//     pipelined batches: BEGIN goes with the first statement, and queued
//     writes go with the next statement or with COMMIT, so a create is one
//     round trip.
//   - Transactions that fail with a serialization failure (40001) or a
//     deadlock (40P01) are run again, a bounded number of times.
//   - Migrations are embedded and numbered; several processes may apply them
//     at once (see migrate).
//
// The SQL stays within what CockroachDB also accepts: no advisory locks, no
// LISTEN/NOTIFY, no server-side functions or triggers. Case-insensitive
// comparison uses folded copies computed in Go with scim.Fold (columns, and
// doc_fold, the document with its strings folded), and text is ordered
// COLLATE "C", so filters, sorting and uniqueness agree exactly with SQLite;
// the conformance suite (internal/store/storetest) checks that they do.
package postgres
