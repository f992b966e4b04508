// Package webhook delivers the event log to the operator's webhook
// endpoints, by the Standard Webhooks 1.0 specification
// (https://www.standardwebhooks.com): each event is one POST of its JSON
// (events.Public), signed with the endpoint's whsec_ secret, delivered at
// least once and in log order per endpoint, retried with exponential
// backoff and full jitter for a day, by one instance at a time (the
// holder of the endpoint's lease in the database). Outbound requests go
// only to public addresses, checked when the connection is made (SSRF).
package webhook
