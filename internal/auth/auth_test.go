package auth

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestNewKey(t *testing.T) {
	id, secret := NewKey()
	if len(id) != idLen || strings.ContainsAny(id, "_:") {
		t.Fatalf("id %q", id)
	}
	if got, ok := keyIDOf(secret); !ok || got != id {
		t.Fatalf("secret %q does not embed id %q", secret, id)
	}
	id2, secret2 := NewKey()
	if id == id2 || secret == secret2 {
		t.Fatal("two keys are equal")
	}
	if !SecretMatches(secret, HashSecret(secret)) || SecretMatches(secret2, HashSecret(secret)) {
		t.Fatal("SecretMatches")
	}
}

func TestParseAuthorization(t *testing.T) {
	id, secret := NewKey()
	otherID, _ := NewKey()
	b64 := Basic(id, secret)
	raw := base64.RawStdEncoding.EncodeToString([]byte(id + ":" + secret))
	url := base64.URLEncoding.EncodeToString([]byte(id + ":" + secret))
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"basic", "Basic " + b64, true},
		{"basic, odd case and spaces", "  bAsIc   " + b64 + " ", true},
		{"bearer base64", "Bearer " + b64, true},
		{"bearer unpadded base64", "Bearer " + raw, true},
		{"bearer url base64", "Bearer " + url, true},
		{"bearer raw secret", "Bearer " + secret, true},
		{"bare base64", b64, true},
		{"bare secret", secret, true},
		{"empty", "", false},
		{"unknown scheme", "Token " + secret, false},
		{"basic with raw secret", "Basic " + secret, false},
		{"base64 without colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(secret)), false},
		{"id does not match secret", "Basic " + Basic(otherID, secret), false},
		{"truncated secret", "Bearer " + secret[:len(secret)-1], false},
		{"not base64", "Basic !!!", false},
		{"okta's non-token", "non-token", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotID, gotSecret, err := ParseAuthorization(tc.header)
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted: %q %q", gotID, gotSecret)
				}
				return
			}
			if err != nil || gotID != id || gotSecret != secret {
				t.Fatalf("got %q %q %v", gotID, gotSecret, err)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	ctx := context.Background()
	h, err := HashPassword(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if h2, _ := HashPassword(ctx, "correct horse"); h2 == h {
		t.Fatal("no salt: two hashes of one password are equal")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct hors": false, "": false} {
		if ok, err := CheckPassword(ctx, h, pw); err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=19456,t=2,p=1$!!$AA"} {
		if _, err := CheckPassword(ctx, bad, "x"); err == nil {
			t.Errorf("CheckPassword accepted hash %q", bad)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	if _, err := HashPassword(cctx, "x"); err == nil {
		t.Error("HashPassword ignored a canceled context while all slots were busy")
	}
	for range cap(hashSlots) {
		<-hashSlots
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		HashPassword(context.Background(), "1mz050nq")
	}
}

// TestSignInChecksDoNotTakeHashSlots: sign-in checks, which anyone can
// send, wait for slots of their own; with all of them busy, a SCIM create's
// hash still runs.
func TestSignInChecksDoNotTakeHashSlots(t *testing.T) {
	for range cap(checkSlots) {
		checkSlots <- struct{}{}
	}
	defer func() {
		for range cap(checkSlots) {
			<-checkSlots
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	hash, err := HashPassword(ctx, "a new user's password")
	if err != nil {
		t.Fatalf("HashPassword with every sign-in slot busy: %v", err)
	}
	short, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()
	if _, err := CheckPassword(short, hash, "a new user's password"); err == nil {
		t.Error("CheckPassword ran with every sign-in slot busy")
	}
}
