package webhook

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"sync"

	"github.com/scimd/scimd/internal/store"
)

// secretKeyName is the server secret (store.Store.Secret) that seals the
// endpoints' signing secrets: every instance sharing the database uses it.
const secretKeyName = "webhook-secret-key"

// sealer seals signing secrets with AES-256-GCM, each bound to its
// endpoint's id (the additional data), so that a sealed secret copied to
// another endpoint's row does not open.
type sealer struct {
	st   store.Store
	mu   sync.Mutex
	aead cipher.AEAD
}

func (s *sealer) cipher(ctx context.Context) (cipher.AEAD, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aead != nil {
		return s.aead, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	key, err := s.st.Secret(ctx, secretKeyName, fresh)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return s.aead, nil
}

func additional(endpointID string) []byte { return []byte("scimd webhook secret " + endpointID) }

// seal returns the secret of an endpoint sealed: nonce, then ciphertext.
func (s *sealer) seal(ctx context.Context, endpointID, secret string) ([]byte, error) {
	a, err := s.cipher(ctx)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(secret)+a.Overhead())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, []byte(secret), additional(endpointID)), nil
}

var errSealed = errors.New("webhook: the endpoint's secret does not open with this deployment's key")

// open returns the secret seal sealed.
func (s *sealer) open(ctx context.Context, endpointID string, sealed []byte) (string, error) {
	a, err := s.cipher(ctx)
	if err != nil {
		return "", err
	}
	if len(sealed) < a.NonceSize() {
		return "", errSealed
	}
	b, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], additional(endpointID))
	if err != nil {
		return "", errSealed
	}
	return string(b), nil
}
