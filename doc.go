// Package scimd is the root of scimd, a multi-tenant SCIM 2.0 provisioning
// server; the binary is cmd/scimd and the code lives under internal/. This
// package holds only repository-wide tests.
package scimd
