package signin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id hashes passwords with argon2id (RFC 9106) and writes them in the
// PHC string format, which records the parameters: a hash made with weaker
// ones still verifies, and is reported stale so that sign-in rehashes it.
type Argon2id struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	// slots bounds the hashes computed at once: each takes Memory.
	slots chan struct{}
}

// NewArgon2id returns the hasher with ticketd's parameters: 64 MiB, two
// passes, two lanes; at most two hashes at a time (128 MiB at most).
func NewArgon2id() *Argon2id {
	return &Argon2id{Memory: 64 * 1024, Time: 2, Threads: 2, slots: make(chan struct{}, 2)}
}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// derive computes a key, holding one of the slots while it does.
func (a *Argon2id) derive(password string, salt []byte, m, t uint32, p uint8, n uint32) []byte {
	if a.slots != nil {
		a.slots <- struct{}{}
		defer func() { <-a.slots }()
	}
	return argon2.IDKey([]byte(password), salt, t, m, p, n)
}

// Hash returns password's hash: $argon2id$v=19$m=65536,t=2,p=2$salt$key.
func (a *Argon2id) Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	k := a.derive(password, salt, a.Memory, a.Time, a.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.Memory, a.Time, a.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(k)), nil
}

var errHash = errors.New("not an argon2id hash in the PHC format")

// Verify checks password against hash; stale: hash's parameters are weaker
// than a's.
func (a *Argon2id) Verify(password, hash string) (ok, stale bool, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, false, errHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, false, errHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m < 8 || m > 1<<20 || t < 1 || t > 100 || p < 1 {
		return false, false, errHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false, false, errHash
	}
	got := a.derive(password, salt, m, t, p, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && (m < a.Memory || t < a.Time || p < a.Threads), nil
}
