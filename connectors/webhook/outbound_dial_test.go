package webhook

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string // "" allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.254", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"fd00::1", "private"},
		{"fc00::1", "private"},
		{"fec0::1", "private"},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.254", "shared (CGNAT)"},
		{"::ffff:100.64.0.1", "shared (CGNAT)"},
		{"255.255.255.255", "reserved"},
		{"240.0.0.1", "reserved"},
		{"198.18.0.1", "reserved"},
		{"192.0.0.8", "reserved"},
		{"::127.0.0.1", "reserved"}, // IPv4-compatible
		{"64:ff9b::7f00:1", "loopback (through NAT64)"},
		{"64:ff9b::a9fe:a9fe", "link-local (through NAT64)"},
		{"64:ff9b:1::1", "private"},
		{"2002:c0a8:101::1", "private (through 6to4)"},
		{"100::1", "reserved"},
		// public
		{"1.1.1.1", ""},
		{"8.8.8.8", ""},
		{"93.184.215.14", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"169.253.0.1", ""},
		{"::ffff:8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
	}
	for _, tt := range tests {
		ip, err := netip.ParseAddr(tt.addr)
		if err != nil {
			t.Fatalf("%s: %v", tt.addr, err)
		}
		if got := classify(ip); got != tt.want {
			t.Errorf("classify(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestRefusePrivateControl(t *testing.T) {
	t.Parallel()
	for addr, refused := range map[string]bool{
		"127.0.0.1:80":            true,
		"[::ffff:127.0.0.1]:443":  true,
		"169.254.169.254:80":      true,
		"[fd00::1]:8080":          true,
		"not an address":          true,
		"1.1.1.1:443":             false,
		"[2606:4700:4700::1]:443": false,
	} {
		err := refusePrivate("tcp", addr, nil)
		var re *RefusedAddressError
		if refused != errors.As(err, &re) {
			t.Errorf("refusePrivate(%s) = %v, want refused %v", addr, err, refused)
		}
		if refused && !strings.Contains(err.Error(), addr) {
			t.Errorf("error %q does not name %s", err, addr)
		}
	}
}
