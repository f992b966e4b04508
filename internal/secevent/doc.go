// Package secevent turns the event log into Security Event Tokens: SCIM
// events (RFC 9967) as signed JWTs (RFC 8417), the keys that sign them and
// their JWKS, the body and success rule of a push to a receiver (RFC 8935)
// and the poll endpoint (RFC 8936).
//
// Which store event becomes which SET event URI is decided once, in
// set.go; the event's data is what events.Public gives every consumer.
// Delivery by push (retries, order, leases) is the webhook sender's: this
// package only encodes a SET and says whether a receiver's answer means
// success, a permanent refusal or "try again".
package secevent
