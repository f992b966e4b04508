package webhook

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The specification's own example (its reference libraries test it).
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecExample(t *testing.T) {
	got, err := Sign([]string{specSecret}, specID, time.Unix(specTimestamp, 0), []byte(specBody))
	if err != nil || got != specSignature {
		t.Errorf("Sign = %q, %v; want %q", got, err, specSignature)
	}
}

// TestSignVerifiedByReference: what Sign makes, the specification's
// reference library accepts, for each of the secrets a rotation sends,
// and refuses for another secret or a changed body.
func TestSignVerifiedByReference(t *testing.T) {
	old, cur := NewSecret(), NewSecret()
	now := time.Now()
	body := []byte(`{"id":"evt_1","type":"user.created","data":{"resource":{"userName":"ada@example.com"}}}`)
	sig, err := Sign([]string{cur, old}, "evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(sig, " ")); n != 2 {
		t.Fatalf("webhook-signature %q has %d signatures, want 2 (space-separated)", sig, n)
	}
	h := http.Header{}
	h.Set(HeaderID, "evt_1")
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, sig)
	for _, tc := range []struct {
		name   string
		secret string
		body   []byte
		ok     bool
	}{
		{"new secret", cur, body, true},
		{"old secret", old, body, true},
		{"another secret", NewSecret(), body, false},
		{"changed body", cur, append(body[:len(body):len(body)], ' '), false},
	} {
		wh, err := standardwebhooks.NewWebhook(tc.secret)
		if err != nil {
			t.Fatalf("%s: the reference library refuses the secret: %v", tc.name, err)
		}
		if err := wh.Verify(tc.body, h); (err == nil) != tc.ok {
			t.Errorf("%s: reference Verify = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestNewSecret(t *testing.T) {
	s := NewSecret()
	rest, ok := strings.CutPrefix(s, "whsec_")
	key, err := base64.StdEncoding.DecodeString(rest)
	if !ok || err != nil || len(key) != 32 {
		t.Fatalf("NewSecret = %q: want whsec_ and the base64 of 32 bytes", s)
	}
	if NewSecret() == s {
		t.Error("two secrets are equal")
	}
	// The reference library signs with it as Sign does.
	wh, err := standardwebhooks.NewWebhook(s)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	want, _ := wh.Sign("id", ts, []byte("{}"))
	if got, err := Sign([]string{s}, "id", ts, []byte("{}")); err != nil || got != want {
		t.Errorf("Sign = %q, %v; the reference library signs %q", got, err, want)
	}
}

func TestSignRefusesBadSecrets(t *testing.T) {
	for _, s := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 8))} {
		if _, err := Sign([]string{s}, "id", time.Now(), nil); err == nil {
			t.Errorf("Sign accepted secret %q", s)
		}
	}
}

func FuzzSecretKey(f *testing.F) {
	f.Add(specSecret)
	f.Add(NewSecret())
	f.Add("whsec_====")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := secretKey(s)
		if err != nil {
			return
		}
		if len(key) < 24 || len(key) > 64 || !strings.HasPrefix(s, SecretPrefix) {
			t.Fatalf("secretKey(%q) accepted a %d-byte key", s, len(key))
		}
		if _, err := standardwebhooks.NewWebhook(s); err != nil {
			t.Fatalf("secretKey accepted %q, which the reference library refuses: %v", s, err)
		}
	})
}
