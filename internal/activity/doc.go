// Package activity records the provisioning activity of every tenant: each
// SCIM request, who made it (key and client) and what it changed, down to
// the attribute. It implements server.ActivityRecorder with a bounded
// in-memory queue that a background goroutine drains into the store in
// batches, so recording never waits for the database on a SCIM request's
// path; it also purges records past the retention period.
package activity
