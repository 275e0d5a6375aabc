package webhook

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestPrivateURLWarnings: a URL whose host is, or resolves to, an address
// the strict dialer refuses gets a warning saying why; a public one none.
func TestPrivateURLWarnings(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "intranet.example.net":
			return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
		case "hooks.example.net":
			return []netip.Addr{netip.MustParseAddr("192.0.2.10")}, nil
		case "mixed.example.net":
			return []netip.Addr{netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("::ffff:127.0.0.2")}, nil
		}
		return nil, errors.New("no such host")
	}
	for _, c := range []struct{ url, want string }{
		{"http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"},
		{"https://10.0.0.5/hook", "10.0.0.5 is a private address"},
		{"https://[::1]/hook", "::1 is a loopback address"},
		{"https://169.254.169.254/latest", "169.254.169.254 is a link-local address"},
		{"http://0.0.0.0/", "0.0.0.0 is an unspecified address"},
		{"http://localhost:9000/x", "localhost is a loopback address"},
		{"http://api.LOCALHOST./x", "api.LOCALHOST. is a loopback address"},
		{"https://intranet.example.net/t", "intranet.example.net resolves to 10.1.2.3, a private address"},
		{"https://mixed.example.net/t", "mixed.example.net resolves to 127.0.0.2, a loopback address"},
		{"https://hooks.example.net/t", ""},
		{"https://8.8.8.8/t", ""},
		{"https://unknown.example.net/t", ""},
		{"not a url", ""},
	} {
		ws := privateURLWarnings(context.Background(), c.url, lookup)
		got := strings.Join(ws, " | ")
		if c.want == "" {
			if got != "" {
				t.Errorf("%s: warned %q", c.url, got)
			}
			continue
		}
		if len(ws) != 1 || !strings.HasPrefix(got, c.want) || !strings.Contains(got, "refused unless the webhook allows private addresses") {
			t.Errorf("%s: %q, want %q...", c.url, got, c.want)
		}
	}
	// The exported form resolves for real; literals need no resolver.
	if ws := PrivateURLWarnings(context.Background(), "http://192.168.1.1/"); len(ws) != 1 {
		t.Errorf("PrivateURLWarnings: %q", ws)
	}
}
