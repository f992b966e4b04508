package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// TestClassify: every class of address a delivery refuses, and public
// addresses it allows.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		addr, class string
	}{
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private (ULA)"},
		{"fd12:3456::1", "private (ULA)"},
		{"fec0::1", "private (site-local)"},
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"169.254.169.254", "link-local"}, // cloud metadata
		{"169.254.0.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.254", "shared (CGNAT)"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.7", "reserved"},
		{"198.18.0.1", "reserved"},
		{"2001:db8::1", "reserved"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"}, // Teredo
		{"::ffff:10.0.0.1", "private"},                       // IPv4-mapped
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::10.0.0.1", "reserved"},                                 // IPv4-compatible
		{"64:ff9b::a00:1", "private (embedded in 64:ff9b::a00:1)"}, // NAT64 of 10.0.0.1
		{"64:ff9b::a9fe:a9fe", "link-local (embedded in 64:ff9b::a9fe:a9fe)"},
		{"2002:a00:1::1", "private (embedded in 2002:a00:1::1)"}, // 6to4 of 10.0.0.1
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"100.128.0.1", ""},
		{"172.32.0.1", ""},
		{"2606:4700:4700::1111", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},
	} {
		ip := netip.MustParseAddr(tc.addr)
		if got := classify(ip); got != tc.class {
			t.Errorf("classify(%s) = %q, want %q", tc.addr, got, tc.class)
		}
	}
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		addr                        string
		allowLoopback, onlyLoopback bool
		ok                          bool
	}{
		{"8.8.8.8", false, false, true},
		{"127.0.0.1", false, false, false},
		{"127.0.0.1", true, false, true},
		{"::1", true, true, true},
		{"10.0.0.1", true, false, false}, // --webhooks-allow-insecure allows loopback only
		{"169.254.169.254", true, false, false},
		{"8.8.8.8", true, true, false}, // http:// goes only to loopback
		{"::ffff:127.0.0.1", true, false, true},
	} {
		err := allowed(netip.MustParseAddr(tc.addr), tc.allowLoopback, tc.onlyLoopback)
		var be *BlockedError
		if (err == nil) != tc.ok || err != nil && !errors.As(err, &be) {
			t.Errorf("allowed(%s, loopback %v, only %v) = %v, want ok=%v", tc.addr, tc.allowLoopback, tc.onlyLoopback, err, tc.ok)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool
		errHas   string // "" when accepted
	}{
		{"https://hooks.example.com/scim?x=1", false, ""},
		{"https://hooks.example.com:8443/in", false, ""},
		{"https://8.8.8.8/in", false, ""},
		{"https://[2606:4700:4700::1111]/in", false, ""},
		{"http://127.0.0.1:8080/in", true, ""},
		{"http://localhost:8080/in", true, ""},
		{"http://[::1]:8080/in", true, ""},
		{"https://127.0.0.1/in", true, ""},
		{"", false, "empty"},
		{"hooks.example.com/in", false, "must start with https://"},
		{"ftp://hooks.example.com/", false, "must start with https://"},
		{"http://hooks.example.com/in", false, "http:// is allowed only to a loopback host"},
		{"http://hooks.example.com/in", true, "http:// is allowed only to a loopback host"},
		{"http://127.0.0.1:8080/in", false, "need --webhooks-allow-insecure"},
		{"https://127.0.0.1/in", false, "loopback address"},
		{"https://localhost/in", false, "allowed only with --webhooks-allow-insecure"},
		{"https://10.1.2.3/in", false, "private address"},
		{"https://10.1.2.3/in", true, "private address"},
		{"https://169.254.169.254/latest/meta-data", false, "link-local address"},
		{"https://[fe80::1%25eth0]/in", false, "link-local address"},
		{"https://[fd00::1]/in", false, "private (ULA) address"},
		{"https://100.64.1.1/", false, "CGNAT"},
		{"https://0.0.0.0/", false, "unspecified"},
		{"https://224.0.0.1/", false, "multicast"},
		{"https://[::ffff:192.168.0.1]/", false, "private address"},
		{"https://user:pw@hooks.example.com/in", false, "user name or password"},
		{"https://hooks.example.com/in#frag", false, "#fragment"},
		{"https://hooks.example.com:99999/in", false, "not a port number"},
		{"https://hooks.example.com:0/in", false, "not a port number"},
		{"https:///in", false, "names no host"},
		{"https:hooks.example.com", false, "names no host"},
		{"https://hooks.example.com/a b", false, "space or a control character"},
		{"https://hooks.example.com/\x00", false, "space or a control character"},
		{"https://" + strings.Repeat("a", MaxURLBytes) + ".com/", false, "longer than"},
		{"https://%zz/", false, "does not parse"},
	} {
		u, err := CheckURL(tc.url, tc.insecure)
		switch {
		case tc.errHas == "" && err != nil:
			t.Errorf("CheckURL(%q, %v) = %v, want accepted", tc.url, tc.insecure, err)
		case tc.errHas == "" && u == nil:
			t.Errorf("CheckURL(%q) accepted it with no URL", tc.url)
		case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
			t.Errorf("CheckURL(%q, %v) = %v, want an error containing %q", tc.url, tc.insecure, err, tc.errHas)
		}
		var ue *URLError
		if err != nil && !errors.As(err, &ue) {
			t.Errorf("CheckURL(%q) error %T is not a *URLError", tc.url, err)
		}
	}
}

func TestCheckHost(t *testing.T) {
	ctx := t.Context()
	u, _ := url.Parse("https://localhost/in") // CheckURL would refuse it: the resolver check alone
	if _, err := CheckHost(ctx, u, false); err == nil || !strings.Contains(err.Error(), "resolves to") {
		t.Errorf("CheckHost(localhost) = %v, want refused: it resolves to loopback", err)
	}
	if ok, err := CheckHost(ctx, u, true); err != nil || !ok {
		t.Errorf("CheckHost(localhost, insecure) = %v, %v", ok, err)
	}
	u, _ = url.Parse("https://no-such-host.invalid/in")
	if ok, err := CheckHost(ctx, u, false); err != nil || ok {
		t.Errorf("CheckHost(.invalid) = %v, %v; want not resolved, no error", ok, err)
	}
}

// TestDialTimeCheck: the check runs on the address each connection
// really uses, so a name that resolves (or is rebound) to a refused
// address is refused when the connection is made, whatever the URL
// check said.
func TestDialTimeCheck(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, tc := range []struct {
		name     string
		insecure bool
		url      string
		blocked  bool
	}{
		{"name resolving to loopback", false, "http://localhost:" + port + "/", true},
		{"loopback literal", false, "http://127.0.0.1:" + port + "/", true},
		{"IPv4-mapped loopback", false, "http://[::ffff:127.0.0.1]:" + port + "/", true},
		{"loopback allowed", true, "http://127.0.0.1:" + port + "/", false},
		{"private address, even insecure", true, "http://10.255.255.1:" + port + "/", true},
		{"metadata address, even insecure", true, "http://169.254.169.254/", true},
	} {
		c := newClient(Config{AllowInsecure: tc.insecure, Timeout: 2 * time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tc.url, nil)
		resp, err := c.Do(req)
		cancel()
		if resp != nil {
			resp.Body.Close()
		}
		var be *BlockedError
		if got := errors.As(err, &be); got != tc.blocked {
			t.Errorf("%s: %s: err %v, want blocked=%v", tc.name, tc.url, err, tc.blocked)
		}
	}
	if hits != 1 {
		t.Errorf("the receiver got %d requests, want 1 (the allowed one)", hits)
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/in?x=1", "http://127.0.0.1:1/", "https://[::ffff:10.0.0.1]/", "https://u@h/", "https://h:0/"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, insecure bool) {
		u, err := CheckURL(raw, insecure)
		if err != nil {
			return
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !insecure) || u.Hostname() == "" || u.User != nil {
			t.Fatalf("CheckURL(%q, %v) accepted %#v", raw, insecure, u)
		}
		if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && allowed(ip, insecure, false) != nil {
			t.Fatalf("CheckURL(%q) accepted the refused address %s", raw, ip)
		}
		// What is stored (u.String()) is accepted again.
		if _, err := CheckURL(u.String(), insecure); err != nil {
			t.Fatalf("CheckURL(%q) accepted it, but not its own String %q: %v", raw, u.String(), err)
		}
	})
}

func TestParseTypes(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   []string
		errHas string
	}{
		{"", nil, ""},
		{" , ", nil, ""},
		{"user.*,group.*", []string{"user.*", "group.*"}, ""},
		{"user.created, group.member_*", []string{"user.created", "group.member_*"}, ""},
		{"user.*,user.*", []string{"user.*"}, ""},
		{"*", []string{"*"}, ""},
		{"tenant.*", []string{"tenant.*"}, ""},
		{"user.craeted", nil, "matches no event type"},
		{"webhook.*", nil, "matches no event type"},
		{"User.*", nil, "not an event type pattern"},
		{"user.*.x", nil, "not an event type pattern"},
		{"us*er", nil, "not an event type pattern"},
		{"user.created\x00", nil, "not an event type pattern"},
	} {
		got, err := ParseTypes(tc.in)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("ParseTypes(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.errHas)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") || (got == nil) != (tc.want == nil) {
			t.Errorf("ParseTypes(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	// More than MaxTypes distinct patterns.
	var many []string
	for n := 1; n <= len(store.EventTenantDeactivated); n++ {
		many = append(many, store.EventTenantDeactivated[:n]+"*")
	}
	many = append(many, store.EventUserCreated, store.EventGroupCreated)
	if got, err := ParseTypes(strings.Join(many, ",")); err == nil || len(many) <= MaxTypes {
		t.Errorf("ParseTypes(%d patterns) = %d, %v; want refused", len(many), len(got), err)
	}
}

func FuzzParseTypes(f *testing.F) {
	f.Add("user.*,group.member_*")
	f.Add("user.created, tenant.*")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseTypes(s)
		if err != nil {
			return
		}
		if len(ps) > MaxTypes {
			t.Fatalf("%d patterns", len(ps))
		}
		again, err := ParseTypes(strings.Join(ps, ","))
		if err != nil || strings.Join(again, ",") != strings.Join(ps, ",") {
			t.Fatalf("ParseTypes(%q) = %v does not round-trip: %v, %v", s, ps, again, err)
		}
	})
}
