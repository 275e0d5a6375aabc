package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	now := time.Unix(1_770_000_000, 0)
	ts := now.Unix()
	body := []byte(`{"id":"1-txn-1","event":"ticket.create"}`)
	sig := Sign(secret, ts, body)
	tsh := strconv.FormatInt(ts, 10)

	m := hmac.New(sha256.New, secret)
	m.Write([]byte(tsh + "." + string(body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("Sign = %q, want %q", sig, want)
	}

	tests := []struct {
		name      string
		secret    []byte
		sig, ts   string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"good", secret, sig, tsh, body, now, time.Minute, nil},
		{"good at the edge of the window", secret, sig, tsh, body, now.Add(time.Minute), time.Minute, nil},
		{"good from the future", secret, sig, tsh, body, now.Add(-time.Minute), time.Minute, nil},
		{"default tolerance", secret, sig, tsh, body, now.Add(DefaultTolerance), 0, nil},
		{"stale", secret, sig, tsh, body, now.Add(time.Minute + time.Second), time.Minute, ErrTimestamp},
		{"too far ahead", secret, sig, tsh, body, now.Add(-time.Minute - time.Second), time.Minute, ErrTimestamp},
		{"stale by default", secret, sig, tsh, body, now.Add(DefaultTolerance + time.Second), 0, ErrTimestamp},
		{"tampered body", secret, sig, tsh, []byte(`{"id":"1-txn-1","event":"ticket.delete"}`), now, time.Minute, ErrSignature},
		{"other timestamp", secret, sig, strconv.FormatInt(ts+1, 10), body, now, time.Minute, ErrSignature},
		{"wrong secret", []byte("another secret of some length"), sig, tsh, body, now, time.Minute, ErrSignature},
		{"no signature", secret, "", tsh, body, now, time.Minute, ErrSignature},
		{"no prefix", secret, sig[len("sha256="):], tsh, body, now, time.Minute, ErrSignature},
		{"other algorithm", secret, "sha1=" + sig[len("sha256="):], tsh, body, now, time.Minute, ErrSignature},
		{"truncated", secret, sig[:len(sig)-2], tsh, body, now, time.Minute, ErrSignature},
		{"trailing space", secret, sig + " ", tsh, body, now, time.Minute, ErrSignature},
		{"no timestamp", secret, sig, "", body, now, time.Minute, ErrTimestamp},
		{"signed timestamp", secret, sig, "+" + tsh, body, now, time.Minute, ErrTimestamp},
		{"leading zero", secret, sig, "0" + tsh, body, now, time.Minute, ErrTimestamp},
		{"fractional timestamp", secret, sig, tsh + ".0", body, now, time.Minute, ErrTimestamp},
		{"huge timestamp", secret, sig, "99999999999999999999999", body, now, time.Minute, ErrTimestamp},
	}
	for _, tt := range tests {
		if err := Verify(tt.secret, tt.sig, tt.ts, tt.body, tt.now, tt.tolerance); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	secret := []byte(testSecret)
	body := []byte(`{"id":"1-txn-1"}`)
	f.Add(Sign(secret, 1_770_000_000, body), "1770000000", body, int64(1_770_000_000))
	f.Add("sha256=", "0", []byte{}, int64(0))
	f.Add("", "-1", []byte("x"), int64(-1))
	f.Add("sha256=zz", "18446744073709551616", []byte("x"), int64(1<<62))
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte, now int64) {
		err := Verify(secret, sig, ts, body, time.Unix(now, 0), time.Hour)
		if err == nil {
			// Accepted: the timestamp must be in the window and the
			// signature exactly the one Sign gives.
			n, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || ts != strconv.FormatInt(n, 10) {
				t.Fatalf("accepted timestamp %q", ts)
			}
			if d := now - n; d > 3600 || d < -3600 {
				t.Fatalf("accepted timestamp %q at %d", ts, now)
			}
			if sig != Sign(secret, n, body) {
				t.Fatalf("accepted signature %q for %q at %q", sig, body, ts)
			}
		} else if !errors.Is(err, ErrSignature) && !errors.Is(err, ErrTimestamp) {
			t.Fatalf("unexpected error %v", err)
		}
		// A correct signature of the fuzzed input is accepted in its window.
		if n, perr := strconv.ParseInt(ts, 10, 64); perr == nil && n >= 0 && n < 1e17 && ts == strconv.FormatInt(n, 10) {
			if err := Verify(secret, Sign(secret, n, body), ts, body, time.Unix(n, 0), time.Hour); err != nil {
				t.Fatalf("own signature at %q refused: %v", ts, err)
			}
		}
	})
}
