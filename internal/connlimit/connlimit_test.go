package connlimit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func serve(t *testing.T, max, perAddr int) (*Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, max, perAddr)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }), ConnState: l.ConnState}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l, ln.Addr().String()
}

// get sends one keep-alive request on c and reads the answer; false when
// the connection was closed.
func get(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return false
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == 200
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestPerAddress: a client address past its limit has its new connection
// closed at once; closing one makes room again.
func TestPerAddress(t *testing.T) {
	l, addr := serve(t, 100, 3)
	var cs []net.Conn
	for i := range 3 {
		c := dial(t, addr)
		if !get(c) {
			t.Fatalf("connection %d within the limit was refused", i)
		}
		cs = append(cs, c)
	}
	if get(dial(t, addr)) {
		t.Fatal("a fourth connection from one address was served")
	}
	cs[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if open, _, _ := l.Stats(); open == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !get(dial(t, addr)) {
		t.Error("after one closed, a new connection was refused")
	}
	if _, refused, _ := l.Stats(); refused != 1 {
		t.Errorf("refused %d, want 1", refused)
	}
}

// TestIdleEvicted: with the total full of idle keep-alive connections, a
// new connection is served: idle ones are closed to make room.
func TestIdleEvicted(t *testing.T) {
	l, addr := serve(t, 8, -1)
	var idle []net.Conn
	for i := range 8 {
		c := dial(t, addr)
		if !get(c) {
			t.Fatalf("connection %d: refused", i)
		}
		idle = append(idle, c)
	}
	if !get(dial(t, addr)) {
		t.Fatal("a new connection was refused while the others were idle")
	}
	if open, _, evicted := l.Stats(); evicted < 3 || open > 8 {
		t.Errorf("open %d, evicted %d; want idle ones evicted down to three quarters", open, evicted)
	}
	closed := 0
	for _, c := range idle {
		if !get(c) {
			closed++
		}
	}
	if closed < 3 {
		t.Errorf("%d idle connections were closed, want at least 3", closed)
	}
}
