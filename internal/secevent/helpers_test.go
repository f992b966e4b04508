package secevent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// backend is what the tests run on: a real store of either backend.
type backend interface {
	store.Store
	store.SETStore
}

// eachBackend runs fn on a new SQLite store and a new PostgreSQL one (the
// latter skipped without a server, failing under CI=true).
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 14, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// settle waits until every committed event is visible (PostgreSQL holds
// the feed back while other transactions are open).
func settle(t *testing.T, b backend) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, err := b.EventsPending(t.Context()); err != nil || n == 0 {
			return
		}
	}
	t.Fatal("events still pending after 20s")
}

// allEvents returns every visible event of the log, in order.
func allEvents(t *testing.T, b backend) []store.Event {
	t.Helper()
	settle(t, b)
	p, err := b.ReadEvents(t.Context(), store.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Events
}

func mustTenant(t *testing.T, b backend, name string) store.Tenant {
	t.Helper()
	tn, err := b.CreateTenant(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func mustUser(t *testing.T, b backend, tenantID int64, id, userName string, attrs map[string]any) store.User {
	t.Helper()
	if attrs == nil {
		attrs = map[string]any{}
	}
	attrs["userName"] = userName
	now := time.Now().UTC()
	u, err := b.CreateUser(t.Context(), tenantID, store.User{ID: id, Created: now, Modified: now, Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// jwks fetches the key set a Keyring serves, as a receiver does, and
// checks the headers it comes with.
func jwks(t *testing.T, k *Keyring) jose.JSONWebKeySet {
	t.Helper()
	srv := httptest.NewServer(k)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("JWKS: %d, Content-Type %q, Cache-Control %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	var set jose.JSONWebKeySet
	b := readAll(t, resp)
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Fatalf("the JWKS publishes the private member %q: %s", private, b)
			}
		}
		if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" || k["kid"] == "" {
			t.Errorf("JWKS key %v: want an EC P-256 ES256 signing key with a kid", k)
		}
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verify checks a SET as a receiver does — its typ, a kid of the JWKS,
// the ES256 signature — and returns its claims.
func verify(t *testing.T, set jose.JSONWebKeySet, tok string) (Claims, string) {
	t.Helper()
	c, kid, err := verifyErr(set, tok)
	if err != nil {
		t.Fatalf("verifying %s: %v", tok, err)
	}
	return c, kid
}

func verifyErr(set jose.JSONWebKeySet, tok string) (Claims, string, error) {
	obj, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return Claims{}, "", err
	}
	h := obj.Signatures[0].Protected
	if h.ExtraHeaders[jose.HeaderType] != TokenType {
		return Claims{}, "", errString("typ is " + stringOf(h.ExtraHeaders[jose.HeaderType]))
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return Claims{}, "", errString("kid " + h.KeyID + " is not in the JWKS")
	}
	payload, err := obj.Verify(keys[0].Key)
	if err != nil {
		return Claims{}, "", err
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, "", err
	}
	return c, h.KeyID, nil
}

type errString string

func (e errString) Error() string { return string(e) }

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
