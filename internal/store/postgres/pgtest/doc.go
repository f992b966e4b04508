// Package pgtest gives tests a fresh PostgreSQL database of their own, on
// the server named by SCIM_TEST_POSTGRES_DSN. Without that variable the
// tests that ask for one are skipped, with a message that says so.
package pgtest
