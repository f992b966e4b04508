// Package auth issues and checks scimd's credentials: API keys ("User ID and
// API key" pairs, stored only as SHA-256 hashes and compared in constant
// time), the Authorization header forms identity providers send, and
// argon2id hashing of pushed passwords with bounded concurrency.
package auth
