package server

import (
	"strings"
	"testing"
)

func TestRecordedQuery(t *testing.T) {
	long := "filter=" + strings.Repeat("é", 2000)
	for _, tc := range []struct{ raw, want string }{
		{"", ""},
		{"filter=userName+eq+%22ada%22&count=10", "filter=userName+eq+%22ada%22&count=10"},
		{"access_token=abc&count=1", "access_token=REDACTED&count=1"},
		{"count=1&API_KEY=abc&client_secret=x&Password=y", "count=1&API_KEY=REDACTED&client_secret=REDACTED&Password=REDACTED"},
		{"access%5Ftoken=abc", "access_token=REDACTED"},
		{"sig=abc&auth", "sig=REDACTED&auth"}, // a name without a value has nothing to hide
		{long, long[:2047]},                   // cut on a character boundary
	} {
		if got := recordedQuery(tc.raw); got != tc.want {
			t.Errorf("recordedQuery(%.40q) = %.60q, want %.60q", tc.raw, got, tc.want)
		}
	}
}
