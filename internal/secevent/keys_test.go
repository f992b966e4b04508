package secevent

import (
	"bytes"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// TestKeyRotation: after a rotation the new key signs, and a SET the old
// key signed stays verifiable against the served JWKS for the grace
// period, not after it.
func TestKeyRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		clk := newClock()
		keys := &Keyring{Store: b, Now: clk.Now}
		if _, err := keys.sign(ctx, []byte(`{}`)); err != ErrNoKey {
			t.Fatalf("sign without a key = %v, want ErrNoKey", err)
		}
		if _, err := keys.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		ev := store.Event{ID: "evt_1", Type: store.EventUserDeleted, Tenant: "acme", Resource: store.EventResource{Type: "User", ID: "u-1"}, Data: []byte(`{}`)}
		f := &Format{Issuer: "https://scimd.example", Keys: keys, Now: clk.Now}
		old, _, err := f.Encode(ctx, ev, "")
		if err != nil {
			t.Fatal(err)
		}
		_, oldKid := verify(t, jwks(t, keys), string(old))

		if _, err := keys.Rotate(ctx, 30*time.Second); err == nil || !strings.Contains(err.Error(), "at least 1m0s") {
			t.Errorf("Rotate with a grace under MinGrace: %v", err)
		}
		clk.Add(10 * time.Minute)
		nk, err := keys.Rotate(ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if nk.ID == oldKid || !nk.Signing {
			t.Fatalf("Rotate returned %+v; old kid %s", nk, oldKid)
		}
		fresh, _, err := f.Encode(ctx, ev, "")
		if err != nil {
			t.Fatal(err)
		}
		set := jwks(t, keys)
		if len(set.Keys) != 2 {
			t.Fatalf("JWKS during the grace has %d keys, want 2", len(set.Keys))
		}
		if _, kid := verify(t, set, string(fresh)); kid != nk.ID {
			t.Errorf("a SET signed after the rotation has kid %s, want the new %s", kid, nk.ID)
		}
		verify(t, set, string(old)) // still verifiable

		clk.Add(59 * time.Minute)
		keys.invalidate()
		verify(t, jwks(t, keys), string(old)) // a minute before the grace ends
		clk.Add(time.Minute)
		keys.invalidate()
		set = jwks(t, keys)
		if len(set.Keys) != 1 || set.Keys[0].KeyID != nk.ID {
			t.Fatalf("JWKS after the grace: %+v, want only %s", set.Keys, nk.ID)
		}
		if _, _, err := verifyErr(set, string(old)); err == nil {
			t.Error("a SET of the rotated-out key verified after its grace")
		}
		// The next rotation deletes the expired key from the database.
		if _, err := keys.Rotate(ctx, DefaultGrace); err != nil {
			t.Fatal(err)
		}
		ks, err := keys.Keys(ctx)
		if err != nil || len(ks) != 2 || ks[1].ID != nk.ID || ks[0].ID == nk.ID {
			t.Errorf("keys after a second rotation: %+v, %v", ks, err)
		}
	})
}

// TestKeyringAcrossInstances: an instance that did not rotate signs with
// the old key until its cache expires, then with the new one; the old key
// being still published meanwhile, nothing it signed fails to verify.
func TestKeyringAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		clk := newClock()
		a := &Keyring{Store: b, Now: clk.Now}
		other := &Keyring{Store: b, Now: clk.Now, TTL: time.Minute}
		if _, err := a.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		ev := store.Event{ID: "evt_1", Type: store.EventGroupDeleted, Resource: store.EventResource{Type: "Group", ID: "g"}}
		encode := func(k *Keyring) string {
			tok, _, err := (&Format{Issuer: "x", Keys: k, Now: clk.Now}).Encode(ctx, ev, "")
			if err != nil {
				t.Fatal(err)
			}
			return string(tok)
		}
		_, before := verify(t, jwks(t, a), encode(other))
		nk, err := a.Rotate(ctx, MinGrace+time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(30 * time.Second)
		if _, kid := verify(t, jwks(t, a), encode(other)); kid != before {
			t.Errorf("within its cache the other instance signed with %s, want the old %s", kid, before)
		}
		clk.Add(31 * time.Second)
		if _, kid := verify(t, jwks(t, a), encode(other)); kid != nk.ID {
			t.Errorf("after its cache expired the other instance signed with %s, want the new %s", kid, nk.ID)
		}
	})
}

// TestKeysSealed: the database holds the private key only sealed, bound
// to its id; the JWKS holds the public key.
func TestKeysSealed(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		keys := &Keyring{Store: b}
		if _, err := keys.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		ks, err := b.SETKeys(ctx)
		if err != nil || len(ks) != 1 {
			t.Fatalf("SETKeys = %+v, %v", ks, err)
		}
		k := ks[0]
		priv, err := keys.unseal(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		raw := priv.D.Bytes()
		if bytes.Contains(k.Sealed, der) || bytes.Contains(k.Sealed, raw) || bytes.Contains(k.Public, raw) {
			t.Error("the stored key holds the private key in the clear")
		}
		pub, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if !bytes.Equal(pub, k.Public) || k.Algorithm != "ES256" {
			t.Errorf("stored public key or algorithm does not match the private key")
		}
		moved := k
		moved.ID = "another"
		if _, err := keys.unseal(ctx, moved); err == nil {
			t.Error("a sealed key opened under another id")
		}
		cut := k
		cut.Sealed = k.Sealed[:5]
		if _, err := keys.unseal(ctx, cut); err == nil {
			t.Error("a truncated sealed key opened")
		}
		// A second keyring (another instance) opens it: the seal secret is
		// the database's.
		if _, err := (&Keyring{Store: b}).unseal(ctx, k); err != nil {
			t.Errorf("another instance cannot open the key: %v", err)
		}
	})
}

func TestJWKSMethods(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		keys := &Keyring{Store: b}
		if _, err := keys.Ensure(t.Context()); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(keys)
		defer srv.Close()
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" || string(body) != `{"err":"invalid_request","description":"the JWKS is read with GET"}`+"\n" {
			t.Errorf("POST: %d Allow %q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
		}
		resp, err = http.Head(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=300" {
			t.Errorf("HEAD: %d %v", resp.StatusCode, resp.Header)
		}
	})
}
