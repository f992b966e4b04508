package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Outbound safety (SSRF). A webhook URL is the operator's, but the
// addresses its host resolves to are not under scimd's control (DNS can
// change between the check and the connection: rebinding), so the check
// that matters is made on the address each connection is about to use
// (net.Dialer.Control). URLs are checked too when they are added, to give
// a clear error early.

// MaxURLBytes bounds a webhook URL.
const MaxURLBytes = 2048

// blocked are the address ranges no delivery connects to, with the name
// of their class. Loopback is allowed with AllowInsecure (development);
// nothing else is.
var blocked = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"}, // 169.254.169.254: cloud metadata
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("198.51.100.0/24"), "reserved"},
	{netip.MustParsePrefix("203.0.113.0/24"), "reserved"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // and 255.255.255.255, broadcast
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "reserved"}, // IPv4-compatible, deprecated
	{netip.MustParsePrefix("100::/64"), "reserved"},
	{netip.MustParsePrefix("2001::/32"), "reserved"}, // Teredo: a tunnel to an address we cannot see
	{netip.MustParsePrefix("2001:db8::/32"), "reserved"},
	{netip.MustParsePrefix("fc00::/7"), "private (ULA)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private (site-local)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Prefixes of IPv6 addresses that embed an IPv4 address: it is checked
// as well (64:ff9b::10.0.0.1 reaches 10.0.0.1 through NAT64).
var (
	nat64     = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// classify returns the class of a blocked address, or "" for a public one.
func classify(ip netip.Addr) string {
	ip = ip.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.WithZone("")
	for _, b := range blocked {
		if b.prefix.Contains(ip) {
			return b.class
		}
	}
	if ip.Is6() {
		b := ip.As16()
		var v4 netip.Addr
		switch {
		case nat64[0].Contains(ip):
			v4 = netip.AddrFrom4([4]byte(b[12:16]))
		case nat64[1].Contains(ip):
			v4 = netip.AddrFrom4([4]byte(b[12:16]))
		case sixToFour.Contains(ip):
			v4 = netip.AddrFrom4([4]byte(b[2:6]))
		}
		if v4.IsValid() {
			if c := classify(v4); c != "" {
				return c + " (embedded in " + ip.String() + ")"
			}
		}
	}
	return ""
}

// BlockedError is the error of a connection refused by the SSRF check.
type BlockedError struct {
	Addr  netip.Addr
	Class string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: a %s address (webhooks only go to public addresses)", e.Addr, e.Class)
}

// allowed checks an address a delivery is about to connect to: loopback
// only with allowLoopback, and only loopback when onlyLoopback (an
// http:// URL).
func allowed(ip netip.Addr, allowLoopback, onlyLoopback bool) error {
	c := classify(ip)
	switch {
	case c == "loopback" && allowLoopback:
		return nil
	case c != "":
		return &BlockedError{Addr: ip.Unmap(), Class: c}
	case onlyLoopback:
		return &BlockedError{Addr: ip.Unmap(), Class: "non-loopback (http:// URLs may only name loopback)"}
	}
	return nil
}

// URLError is a webhook URL that cannot be used; its message says why.
type URLError struct{ Msg string }

func (e *URLError) Error() string { return e.Msg }

func urlErrorf(format string, args ...any) error { return &URLError{fmt.Sprintf(format, args...)} }

// CheckURL parses a webhook URL and refuses what deliveries may not use:
// anything but https:// (http:// to a loopback host when allowInsecure),
// user information, fragments, and hosts that are blocked addresses. It
// does not resolve names (see CheckHost).
func CheckURL(raw string, allowInsecure bool) (*url.URL, error) {
	if raw == "" {
		return nil, urlErrorf("the webhook URL is empty")
	}
	if len(raw) > MaxURLBytes {
		return nil, urlErrorf("the webhook URL is longer than %d bytes", MaxURLBytes)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return nil, urlErrorf("the webhook URL contains a space or a control character")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, urlErrorf("the webhook URL does not parse: %v", errors.Unwrap(err))
	}
	host := u.Hostname()
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, urlErrorf("the webhook URL must start with https:// (not %q)", u.Scheme)
	case u.Opaque != "" || host == "":
		return nil, urlErrorf("the webhook URL names no host")
	case u.User != nil:
		return nil, urlErrorf("the webhook URL may not carry a user name or password: the signature authenticates deliveries")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, urlErrorf("the webhook URL may not have a #fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return nil, urlErrorf("the webhook URL's port %q is not a port number", p)
		}
	}
	loopback := isLoopbackHost(host)
	if u.Scheme == "http" {
		if !loopback {
			return nil, urlErrorf("the webhook URL must start with https:// (http:// is allowed only to a loopback host, with --webhooks-allow-insecure)")
		}
		if !allowInsecure {
			return nil, urlErrorf("http:// webhook URLs need --webhooks-allow-insecure (for development and tests, loopback hosts only)")
		}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if err := allowed(ip, allowInsecure, false); err != nil {
			return nil, urlErrorf("the webhook URL's host %s is a %s address: webhooks only go to public addresses", ip, classify(ip))
		}
	} else if loopback && !allowInsecure {
		return nil, urlErrorf("the webhook URL's host %s is loopback: allowed only with --webhooks-allow-insecure", host)
	}
	return u, nil
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' || n > 65535 {
			return 0, errors.New("not a port")
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, errors.New("not a port")
	}
	return n, nil
}

// isLoopbackHost reports whether a URL's host is a loopback address or
// localhost (RFC 6761: *.localhost too).
func isLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// CheckHost resolves the URL's host and refuses it when an address it
// resolves to is blocked: the check CheckURL cannot make, for an early,
// clear error (deliveries check again each connection). A host that does
// not resolve is not an error here (it may not be deployed yet); resolved
// reports whether it did.
func CheckHost(ctx context.Context, u *url.URL, allowInsecure bool) (resolved bool, err error) {
	host := u.Hostname()
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true, nil // CheckURL checked it
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false, nil
	}
	for _, a := range addrs {
		if err := allowed(a, allowInsecure, u.Scheme == "http"); err != nil {
			return true, urlErrorf("the webhook URL's host %s resolves to %s, a %s address: webhooks only go to public addresses", host, a.Unmap(), classify(a))
		}
	}
	return true, nil
}

// dialControl is the net.Dialer.Control of deliveries: the SSRF check on
// the address the connection is about to use.
func dialControl(allowLoopback, onlyLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &BlockedError{Class: "unparsable (" + address + ")"}
		}
		return allowed(ap.Addr(), allowLoopback, onlyLoopback)
	}
}
