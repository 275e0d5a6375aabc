package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Slack's request signing: X-Slack-Signature is "v0=" and the hex
// HMAC-SHA256, keyed by the app's signing secret, of "v0:" + the
// X-Slack-Request-Timestamp + ":" + the raw body. Requests older (or newer)
// than the replay window are refused.
const (
	HeaderSignature = "X-Slack-Signature"
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	HeaderRetryNum  = "X-Slack-Retry-Num"
	// ReplayWindow is how far a request's timestamp may be from now.
	ReplayWindow = 5 * time.Minute
)

// ErrBadSignature is the answer to a request that is not Slack's.
var ErrBadSignature = errors.New("slack: bad or missing request signature")

// Sign returns the X-Slack-Signature of body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a request's signature and that its timestamp is within
// window of now.
func Verify(secret []byte, signature, timestamp string, body []byte, now time.Time, window time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no signing secret is configured", ErrBadSignature)
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return fmt.Errorf("%w: timestamp is %s away from now (the window is %s)", ErrBadSignature, d.Round(time.Second), window)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}
