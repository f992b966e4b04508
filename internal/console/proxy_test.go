package console

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	c := &Console{proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, tc := range []struct {
		name string
		peer string
		xff  []string // X-Forwarded-For headers
		want string
	}{
		{"no proxy", "198.51.100.7:4000", nil, "198.51.100.7"},
		{"untrusted peer: the header is ignored", "198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"trusted proxy without the header", "127.0.0.1:4000", nil, "127.0.0.1"},
		{"trusted proxy", "127.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's own header is on the left", "127.0.0.1:4000", []string{"192.0.2.1, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted proxies", "127.0.0.1:4000", []string{"203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"several headers", "127.0.0.1:4000", []string{"192.0.2.1", "203.0.113.9"}, "203.0.113.9"},
		{"only proxies", "127.0.0.1:4000", []string{"10.1.2.3"}, "127.0.0.1"},
		{"a hop that is no address", "127.0.0.1:4000", []string{"203.0.113.9, unknown"}, "127.0.0.1"},
		{"IPv6 proxy and client", "[::1]:4000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped client", "[::1]:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped proxy", "[::ffff:127.0.0.1]:4000", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := c.clientIP(r); got != tc.want {
			t.Errorf("%s: clientIP = %q, want %q", tc.name, got, tc.want)
		}
	}
	// Without trusted proxies, the peer, whatever the header says.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := (&Console{}).clientIP(r); got != "127.0.0.1" {
		t.Errorf("no trusted proxies: clientIP = %q", got)
	}
}
