// Package schema defines the SCIM schemas scimd serves (core User, the
// enterprise User extension, core Group and the common attributes) as Go
// values: names, types, case-exactness, mutability and returned rules. The
// filter compilers, the PATCH engine, input normalisation and the discovery
// endpoints all read these definitions, so they agree.
package schema
