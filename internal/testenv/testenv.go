package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run in continuous integration (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// Missing skips tb, or fails it under CI=true, with msg: what is missing
// and how to get it.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if CI() {
		tb.Fatal("CI=true, so this test may not skip: " + msg)
	}
	tb.Skip(msg)
}
