// Package scim holds the SCIM protocol vocabulary shared by the HTTP server,
// the PATCH engine and the stores: message URNs, the media type, typed
// protocol errors (RFC 7644 §3.12) and the one case-folding function. It does
// no I/O and imports nothing else from scimd.
package scim
