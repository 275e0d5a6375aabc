package account

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// RFC 6238, appendix B: the SHA-1 key "12345678901234567890"; the RFC's
// codes have 8 digits, ours are their last 6.
func TestTOTPCodeRFC6238(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for unix, want := range map[int64]string{
		59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924",
		2000000000: "279037", 20000000000: "353130",
	} {
		got, err := TOTPCode(secret, TOTPStep(time.Unix(unix, 0)))
		if err != nil || got != want {
			t.Errorf("code at %d = %q, %v; want %q", unix, got, err, want)
		}
	}
}

func TestCheckTOTP(t *testing.T) {
	secret := NewTOTPSecret()
	now := time.Unix(1_800_000_000, 0)
	code := func(at time.Time) string {
		c, err := TOTPCode(secret, TOTPStep(at))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step, ok := checkTOTP(secret, code(now), now, 0)
	if !ok || step != TOTPStep(now) {
		t.Fatalf("the current code is refused")
	}
	if _, ok := checkTOTP(secret, code(now), now, step); ok {
		t.Errorf("a code used once is taken again (replay)")
	}
	if _, ok := checkTOTP(secret, code(now.Add(-30*time.Second)), now, 0); !ok {
		t.Errorf("the previous step's code is refused (clock drift)")
	}
	if _, ok := checkTOTP(secret, code(now.Add(-90*time.Second)), now, 0); ok {
		t.Errorf("a code three steps old is taken")
	}
	if _, ok := checkTOTP(secret, "12345", now, 0); ok {
		t.Errorf("five digits are taken")
	}
	if _, ok := checkTOTP(secret, " "+code(now)[:3]+" "+code(now)[3:]+" ", now, 0); !ok {
		t.Errorf("a code typed with spaces is refused")
	}
}

func TestTOTPURL(t *testing.T) {
	u := TOTPURL("ticketd", "alice", "ABC")
	if !strings.HasPrefix(u, "otpauth://totp/ticketd:alice?") || !strings.Contains(u, "secret=ABC") || !strings.Contains(u, "issuer=ticketd") {
		t.Errorf("TOTPURL = %s", u)
	}
}

func TestRecoveryCodes(t *testing.T) {
	c := newRecoveryCode()
	if len(c) != 11 || c[5] != '-' {
		t.Fatalf("recovery code %q", c)
	}
	if string(hashRecovery(c)) != string(hashRecovery(strings.ToUpper(strings.ReplaceAll(c, "-", " ")))) {
		t.Errorf("a recovery code typed in capitals with a space is another code")
	}
	if newRecoveryCode() == c {
		t.Errorf("two recovery codes are the same")
	}
}
