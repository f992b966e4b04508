// Package sqlfilter holds the parts of compiling SCIM filters (RFC 7644
// §3.4.2.2) and sortBy paths to SQL that do not depend on the SQL dialect:
// resolving an attribute path through the schema, the limits on what a
// filter may compile to, parsing dateTime literals, evaluating comparisons
// of constant attributes, and the *store.FilterError constructor. The SQL
// itself (placeholders, JSON access, folding, collation, side tables) is
// written by each backend's compiler (internal/store/sqlite,
// internal/store/postgres), which both use this package so that a filter
// means the same on either.
package sqlfilter
