// Package metrics defines every Prometheus metric scimd exports and the
// few methods the rest of scimd calls to update them. The metrics live in a
// prometheus.Registry that the caller creates and passes in (never the
// library's global default), so each server, and each test, has its own.
//
// No metric has a tenant label: a deployment has thousands of tenants, and
// one series per tenant per label combination would multiply the series an
// operator's Prometheus stores by that much. Every label has a small, fixed
// set of values (methods, resource types, status classes, known clients,
// reasons), whatever requests are sent. Per-tenant activity is in each
// tenant's activity log instead.
//
// A nil *Metrics is valid and records nothing, so code and tests that do not
// care about metrics pass none.
package metrics
