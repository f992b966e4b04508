// Package sqlstore is scimd's storage written once in SQL: tenants, API
// keys, users, groups and their memberships, lists with their filters,
// sorting, paging and cursors, and the console's records. It implements
// store.Store over a [Backend], which supplies how statements and
// transactions run on one database and a [Dialect] for the few constructs
// that are spelled differently (placeholders, JSON access, folding, row
// locks). The backends, internal/store/sqlite and internal/store/postgres,
// keep only what is truly theirs: opening and configuring connections,
// migrations, backup, and their dialect.
//
// A new store feature goes here, once, as plain statements with ?
// placeholders; it needs a new Dialect hook only where the SQL really
// differs between the databases, and a migration in each backend. The
// conformance suite (internal/store/storetest) judges both backends.
package sqlstore
