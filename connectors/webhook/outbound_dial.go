package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// RefusedAddressError is the dial error for an address a subscription
// without AllowPrivate may not reach.
type RefusedAddressError struct {
	Addr   string // ip:port as dialled
	Reason string // "loopback", "private", ...
}

func (e *RefusedAddressError) Error() string {
	return fmt.Sprintf("refusing to connect to %s: %s address (the subscription does not allow private addresses)", e.Addr, e.Reason)
}

// Ranges refused besides those netip.Addr classifies itself.
var refusedPrefixes = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"}, // "this network"
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},  // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"}, // benchmarking, often used inside networks
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},   // and the broadcast address
	{netip.MustParsePrefix("::/96"), "reserved"},         // IPv4-compatible (deprecated)
	{netip.MustParsePrefix("64:ff9b:1::/48"), "private"}, // local-use NAT64
	{netip.MustParsePrefix("100::/64"), "reserved"},      // discard-only
	{netip.MustParsePrefix("fec0::/10"), "private"},      // site-local (deprecated)
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// classify says why a subscription without AllowPrivate may not reach ip,
// or "" when it may. IPv4 addresses embedded in IPv6 ones (IPv4-mapped,
// NAT64, 6to4) are judged as the IPv4 address they reach.
func classify(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.WithZone("").Unmap()
	switch {
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local" // 169.254.169.254, the cloud metadata service, is here
	case ip.IsMulticast():
		return "multicast"
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			if r := classify(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
				return r + " (through NAT64)"
			}
		case sixToFour.Contains(ip):
			if r := classify(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
				return r + " (through 6to4)"
			}
		}
	}
	for _, r := range refusedPrefixes {
		if r.p.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

// refusePrivate is a net.Dialer Control function: it runs after name
// resolution, on the very address being connected to, so a name that
// resolves to a public address when the URL is checked and to a private one
// when the request is sent (DNS rebinding) is refused all the same.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedAddressError{Addr: address, Reason: "unparsable"}
	}
	if r := classify(ap.Addr()); r != "" {
		return &RefusedAddressError{Addr: address, Reason: r}
	}
	return nil
}

// PrivateURLWarnings says, for a webhook URL about to be added, which
// addresses it names or its host resolves to now that a subscription
// without AllowPrivate may not reach: deliveries are refused when they are
// made (refusePrivate), so whoever adds one should hear of it at once.
// Nothing when the host is public or cannot be resolved.
func PrivateURLWarnings(ctx context.Context, rawURL string) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return privateURLWarnings(ctx, rawURL, func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	})
}

func privateURLWarnings(ctx context.Context, rawURL string, lookup func(context.Context, string) ([]netip.Addr, error)) []string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Hostname() == "" {
		return nil
	}
	host := u.Hostname()
	const refused = "deliveries to it will be refused unless the webhook allows private addresses"
	if ip, err := netip.ParseAddr(host); err == nil {
		if r := classify(ip); r != "" {
			return []string{fmt.Sprintf("%s is %s address: %s", host, article(r), refused)}
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") { // RFC 6761: never anything else
		return []string{fmt.Sprintf("%s is a loopback address: %s", host, refused)}
	}
	ips, err := lookup(ctx, host)
	if err != nil {
		return nil
	}
	var out []string
	for _, ip := range ips {
		if r := classify(ip); r != "" {
			out = append(out, fmt.Sprintf("%s resolves to %s, %s address: %s", host, ip.Unmap(), article(r), refused))
		}
	}
	return out
}

// article puts "a" or "an" before a reason of classify.
func article(reason string) string {
	if strings.ContainsRune("aeiou", rune(reason[0])) {
		return "an " + reason
	}
	return "a " + reason
}

// newClient returns the HTTP client for subscriptions that allow private
// addresses (strict false) or not. It follows no redirect (a 3xx comes back
// as the response) and uses no proxy from the environment: a proxy would
// make the dialer see the proxy's address instead of the target's.
func newClient(strict bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if strict {
		d.Control = refusePrivate
	}
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
