// Package postgres is scimd's PostgreSQL storage backend, built on pgx
// (github.com/jackc/pgx/v5) and its connection pool. Any number of scimd
// instances may share one database: nothing that correctness depends on
// lives in a process's memory.
//
//   - Uniqueness (tenant names, key ids, folded userNames) is the database's
//     unique indexes; a violation becomes store.ErrConflict.
//   - A read-modify-write (UpdateUser, UpdateTenant) locks the row with
//     SELECT … FOR UPDATE inside its transaction, so concurrent updates
//     through different instances queue and none is lost; an If-Match check
//     inside the update sees the latest version.
//   - API keys are read on every request, so a revocation is seen at once
//     by every instance.
//   - Transactions that fail with a serialization failure (40001) or a
//     deadlock (40P01) are run again, a bounded number of times.
//   - Migrations are embedded and numbered; several processes may apply them
//     at once (see migrate).
//
// The SQL stays within what CockroachDB also accepts: no advisory locks, no
// LISTEN/NOTIFY, no server-side functions or triggers. Case-insensitive
// comparison uses folded copies computed in Go with scim.Fold (columns, and
// doc_fold, the user's document with its strings folded), and text is
// ordered COLLATE "C", so filters, sorting and uniqueness agree exactly with
// the SQLite backend; the conformance suite (internal/store/storetest) checks
// that they do.
package postgres
