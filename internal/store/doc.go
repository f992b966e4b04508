// Package store defines scimd's storage interface, its records and its
// errors. Backends live in subpackages (sqlite, postgres) and all pass the
// conformance suite in storetest.
package store
