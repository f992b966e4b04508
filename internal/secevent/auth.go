package secevent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/scimd/scimd/internal/store"
)

// AppKeyAuthenticator checks the Bearer credential of a poll. Application
// keys (deployment-wide keys of the host application) will satisfy it;
// KeyFile does today.
type AppKeyAuthenticator interface {
	// AppKeyAuth returns the tenants whose events the holder of bearer may
	// read: all of them, or those listed. It returns an error that
	// errors.Is store.ErrNotFound when bearer is no valid key.
	AppKeyAuth(ctx context.Context, bearer string) (tenants []int64, all bool, err error)
}

// MinPollKeyLength is the shortest key a KeyFile accepts.
const MinPollKeyLength = 32

// KeyFile is the set of deployment-wide poll keys read from a file
// (scimd serve --set-poll-key-file): one key per line, at least
// MinPollKeyLength characters of printable ASCII; blank lines and lines
// starting with # are ignored. Each key reads the events of every tenant.
// Only the SHA-256 of each key is kept in memory.
type KeyFile struct {
	hashes [][sha256.Size]byte
}

var _ AppKeyAuthenticator = (*KeyFile)(nil)

// LoadKeyFile reads a key file. Its errors name the file and line, never
// a key.
func LoadKeyFile(path string) (*KeyFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseKeyFile(path, b)
}

// ParseKeyFile reads the content of a key file called name.
func ParseKeyFile(name string, content []byte) (*KeyFile, error) {
	kf := &KeyFile{}
	sc := bufio.NewScanner(bytes.NewReader(content))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if len(s) < MinPollKeyLength {
			return nil, fmt.Errorf("%s:%d: a poll key must be at least %d characters (e.g. openssl rand -hex 32)", name, line, MinPollKeyLength)
		}
		for _, c := range []byte(s) {
			if c <= ' ' || c > '~' {
				return nil, fmt.Errorf("%s:%d: a poll key is printable ASCII without spaces", name, line)
			}
		}
		kf.hashes = append(kf.hashes, sha256.Sum256([]byte(s)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(kf.hashes) == 0 {
		return nil, fmt.Errorf("%s holds no poll key", name)
	}
	return kf, nil
}

// Len is the number of keys.
func (kf *KeyFile) Len() int { return len(kf.hashes) }

// AppKeyAuth accepts a key of the file (compared in constant time) for
// every tenant.
func (kf *KeyFile) AppKeyAuth(_ context.Context, bearer string) ([]int64, bool, error) {
	h := sha256.Sum256([]byte(bearer))
	ok := 0
	for _, k := range kf.hashes {
		ok |= subtle.ConstantTimeCompare(h[:], k[:])
	}
	if ok != 1 {
		return nil, false, store.ErrNotFound
	}
	return nil, true, nil
}

// pollerID is the id under which a credential's position is kept: a hash
// of the key, so that the database holds no key. A new key is a new
// poller.
func pollerID(bearer string) string {
	h := sha256.Sum256([]byte("scimd set poller\x00" + bearer))
	return "k_" + hex.EncodeToString(h[:16])
}
