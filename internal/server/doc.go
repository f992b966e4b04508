// Package server is scimd's HTTP side: tenant routing (by path and by host),
// authentication, the SCIM endpoints (Users, discovery), and the one place
// that turns handler errors into SCIM error bodies.
package server
