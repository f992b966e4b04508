package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// The secret of a key just generated or rotated is shown once, by the GET
// that its POST redirects to (post/redirect/get: reloading that page, or
// going back to it, creates nothing).
//
// Between the two requests the secret waits in the database
// (api_key_reveals), not in this process's memory, because several scimd
// instances may serve one deployment behind a load balancer and the GET
// may reach another one. It is bound to the session and sealed with
// AES-256-GCM under a key derived from the session's cookie, which the
// database never holds (it keeps only the cookie's SHA-256): a database
// dump or backup cannot open it, nor can any other session. The GET takes
// it with DELETE ... RETURNING, so it is shown once whatever instance asks
// and however often; a reload then says it was shown once. If it is never
// shown it expires after revealFor, and goes when the session ends.
//
// A sealed cookie would need no table, but it could be replayed (a copy of
// it shows the secret again until it expires) and would need a key shared
// by every instance. The redirect's URL carries only the key's public User
// ID, so neither the access log nor the browser's history sees the secret.
const revealFor = 10 * time.Minute

// revealed is what a reveal holds.
type revealed struct {
	Secret  string `json:"secret"`
	Rotated bool   `json:"rotated,omitempty"`
}

// revealAEAD returns the cipher sealing the reveals of the session whose
// cookie holds cookie.
func revealAEAD(cookie string) cipher.AEAD {
	m := hmac.New(sha256.New, []byte(cookie))
	m.Write([]byte("scimd console: API key reveal"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// sessionCookie returns the signed-in user's session cookie value.
func sessionCookie(r *http.Request) (string, error) {
	ck, err := r.Cookie(tenantCookie)
	if err != nil || ck.Value == "" {
		return "", errors.New("console: no session cookie")
	}
	return ck.Value, nil
}

// putReveal keeps secret for one display of key id to this session.
func (c *Console) putReveal(r *http.Request, q *req, id string, v revealed) error {
	cookie, err := sessionCookie(r)
	if err != nil {
		return err
	}
	plain, _ := json.Marshal(v)
	aead := revealAEAD(cookie)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, []byte(id))
	return c.cs.PutKeyReveal(r.Context(), q.sess.IDHash, id, sealed, c.now().Add(revealFor))
}

// takeReveal returns what putReveal kept for key id, once; ok is false
// when there is nothing (shown already, expired, another session's).
func (c *Console) takeReveal(r *http.Request, q *req, id string) (v revealed, ok bool, err error) {
	cookie, err := sessionCookie(r)
	if err != nil {
		return v, false, nil
	}
	sealed, err := c.cs.TakeKeyReveal(r.Context(), q.sess.IDHash, id, c.now())
	if errors.Is(err, store.ErrNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	aead := revealAEAD(cookie)
	if len(sealed) < aead.NonceSize() {
		return v, false, nil
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(id))
	if err != nil || json.Unmarshal(plain, &v) != nil {
		return v, false, nil
	}
	return v, true, nil
}
