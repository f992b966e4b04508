// Package connlimit bounds the connections an HTTP server holds, in all
// and per client address, so that idle keep-alive connections (or one
// client opening thousands) cannot exhaust file descriptors and starve
// everyone. Past three quarters of the total, idle connections are closed
// to make room: their clients reconnect when they next send.
package connlimit

import (
	"net"
	"net/http"
	"sync"
)

// Defaults of New.
const (
	DefaultMax     = 4096
	DefaultPerAddr = 512
)

// Listener is a net.Listener that keeps to the limits. Give its ConnState
// to the http.Server, so that it knows which connections are idle.
type Listener struct {
	net.Listener
	max, perAddr int

	mu     sync.Mutex
	total  int
	byAddr map[string]int
	idle   map[net.Conn]struct{}
	// Refused counts connections closed at once because of a limit, and
	// Evicted idle connections closed to make room.
	refused, evicted int64
}

// New wraps ln. max bounds all connections, perAddr those of one client
// address (the peer's IP; behind a proxy, the proxy's); 0 takes the
// default, a negative value means no limit.
func New(ln net.Listener, max, perAddr int) *Listener {
	if max == 0 {
		max = DefaultMax
	}
	if perAddr == 0 {
		perAddr = DefaultPerAddr
	}
	return &Listener{Listener: ln, max: max, perAddr: perAddr, byAddr: map[string]int{}, idle: map[net.Conn]struct{}{}}
}

// Accept returns the next connection within the limits; connections past
// them are closed at once.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		l.mu.Lock()
		if l.max > 0 && l.total >= l.max*3/4 {
			l.evictLocked(l.total - l.max*3/4 + 1)
		}
		switch {
		case l.max > 0 && l.total >= l.max, l.perAddr > 0 && l.byAddr[addr] >= l.perAddr:
			l.refused++
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.total++
		l.byAddr[addr]++
		l.mu.Unlock()
		return &conn{Conn: c, l: l, addr: addr}, nil
	}
}

// evictLocked closes up to n idle connections.
func (l *Listener) evictLocked(n int) {
	for c := range l.idle {
		if n <= 0 {
			return
		}
		delete(l.idle, c)
		l.evicted++
		n--
		if cc, ok := c.(*conn); ok {
			cc.releaseLocked() // counted out now, closed meanwhile
			go cc.Conn.Close()
		}
	}
}

// ConnState is the http.Server's ConnState hook.
func (l *Listener) ConnState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = struct{}{}
	} else {
		delete(l.idle, c)
	}
}

// Stats reports the connections held, those refused and those evicted.
func (l *Listener) Stats() (open int, refused, evicted int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.refused, l.evicted
}

type conn struct {
	net.Conn
	l    *Listener
	addr string
	once sync.Once
}

func (c *conn) Close() error {
	c.l.mu.Lock()
	c.releaseLocked()
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// releaseLocked counts the connection out, once.
func (c *conn) releaseLocked() {
	c.once.Do(func() {
		l := c.l
		l.total--
		if l.byAddr[c.addr]--; l.byAddr[c.addr] <= 0 {
			delete(l.byAddr, c.addr)
		}
		delete(l.idle, c)
	})
}

func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}
