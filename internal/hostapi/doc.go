// Package hostapi is the API of the host application (the vendor's own
// product, which serves every tenant) under /api/v1: the events feed with
// long polling, the sign-in status of a user, and the resync of a
// tenant's users. Callers authenticate with an application key (Bearer);
// the API is read-only. Its contract is the OpenAPI 3.1 document
// openapi.json, served at /api/v1/openapi.json, which a test holds to the
// routes.
package hostapi
