// Package console serves scimd's admin web console: tenant users sign in
// with their password at /t/{tenant}/console/ (and /console/ on the
// tenant's own host) to manage API keys, General Settings, roles, and to
// look at users, groups and provisioning activity; operators sign in at
// /operator/ to manage tenants. Pages are rendered on the server with
// html/template from embedded assets. Sessions live in the store (hashed),
// so they hold across instances and end at once when the user is
// deactivated; every form carries a CSRF token; sign-in is throttled.
package console
