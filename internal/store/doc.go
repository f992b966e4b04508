// Package store defines scimd's storage interface, its records and its
// errors. The implementation is one: package sqlstore holds every
// statement, written once, over a backend for each database (sqlite,
// postgres) that supplies connections, transactions, migrations and a
// small dialect. The conformance suite in storetest judges every backend.
package store
