// Package filter parses SCIM filters and attribute paths (RFC 7644
// §3.4.2.2 and §3.5.2) into an abstract syntax tree that knows nothing of
// SQL. Storage backends compile the tree into their own query dialect; the
// PATCH engine evaluates value filters in memory with [Match].
package filter
