// Package testenv decides what a test does when something it needs (a
// PostgreSQL server, Chromium) is missing: on a developer's machine it
// skips, saying what to install; under CI=true it fails, because a green
// CI run that skipped the point of a test would be a lie.
package testenv
