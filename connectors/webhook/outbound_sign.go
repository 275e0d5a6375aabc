package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Headers of an outbound webhook request.
const (
	HeaderEvent     = "X-Ticketd-Event"
	HeaderDelivery  = "X-Ticketd-Delivery"
	HeaderTimestamp = "X-Ticketd-Timestamp"
	HeaderSignature = "X-Ticketd-Signature"
)

// DefaultTolerance is the replay window Verify uses when given none: how far
// the sender's timestamp may be from the receiver's clock, either way.
const DefaultTolerance = 5 * time.Minute

const sigPrefix = "sha256="

// Errors from Verify.
var (
	ErrSignature = errors.New("webhook: signature does not match")
	ErrTimestamp = errors.New("webhook: timestamp missing, malformed or outside the tolerance")
)

// Sign returns the X-Ticketd-Signature value for a body sent at ts (Unix
// seconds): "sha256=" and the hex HMAC-SHA256, keyed by secret, of the
// decimal timestamp, a dot and the body. Signing the timestamp with the body
// lets a receiver refuse a replayed request.
func Sign(secret []byte, ts int64, body []byte) string {
	return sigPrefix + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	var buf [20]byte
	m.Write(strconv.AppendInt(buf[:0], ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a received request: header is its X-Ticketd-Signature,
// tsHeader its X-Ticketd-Timestamp and body the raw body. It fails with
// ErrTimestamp unless the timestamp is a decimal number of Unix seconds
// within tolerance of now (DefaultTolerance when tolerance <= 0), and with
// ErrSignature unless header is exactly what Sign gives ("sha256=" and
// lower-case hex). The comparison takes constant time.
func Verify(secret []byte, header, tsHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, ok := parseUnix(tsHeader)
	if !ok {
		return ErrTimestamp
	}
	// Compare in seconds: no time.Duration overflow whatever ts is.
	d := now.Unix() - ts
	if d < 0 {
		d = -d
	}
	if d < 0 || d > int64(tolerance/time.Second) {
		return ErrTimestamp // d < 0: -MinInt64 overflowed
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(header), []byte(want)) {
		return ErrSignature
	}
	return nil
}

// parseUnix reads a non-negative decimal timestamp in its one canonical
// form (no sign, no space, no leading zero) of at most 18 digits, so that it
// cannot overflow and the signed text is the header's text.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
