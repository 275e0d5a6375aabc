package main

import (
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// The single sign-on settings: off without an issuer; else complete, or
// a message saying what is missing.
func TestOIDCSettings(t *testing.T) {
	base := map[string]string{"TICKETD_OIDC_ISSUER": "https://id.example.net/realms/staff", "TICKETD_OIDC_CLIENT_ID": "ticketd",
		"TICKETD_OIDC_CLIENT_SECRET": "s3cret", "TICKETD_PUBLIC_URL": "https://ticketd.example.net/",
		"TICKETD_OIDC_GROUPS_CLAIM": "groups", "TICKETD_OIDC_GROUPS": "noc=NetOps,noc=Admins", "TICKETD_OIDC_SCOPES": "groups, offline_access"}
	with := func(k, v string) config {
		c := config{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	o, err := oidcOptions(with("TICKETD_OIDC_NAME", "Example ID"))
	if err != nil {
		t.Fatal(err)
	}
	if o.RedirectURL != "https://ticketd.example.net/login/oidc/callback" || o.Name != "Example ID" ||
		strings.Join(o.Groups["noc"], ",") != "NetOps,Admins" || strings.Join(o.Scopes, " ") != "groups offline_access" {
		t.Errorf("options: %+v", o)
	}
	if o, err := oidcOptions(with("TICKETD_OIDC_ISSUER", "")); o != nil || err != nil {
		t.Errorf("no issuer: %v %v, want off", o, err)
	}
	if _, err := oidcOptions(with("TICKETD_OIDC_ISSUER", "http://127.0.0.1:5556/dex")); err != nil {
		t.Errorf("an issuer on loopback: %v", err)
	}
	for _, c := range []struct{ key, value, want string }{
		{"TICKETD_OIDC_ISSUER", "http://id.example.net", "must be https"},
		{"TICKETD_OIDC_ISSUER", "id.example.net", "not a URL"},
		{"TICKETD_OIDC_CLIENT_SECRET", "", "needs TICKETD_OIDC_CLIENT_ID and TICKETD_OIDC_CLIENT_SECRET"},
		{"TICKETD_PUBLIC_URL", "", "needs TICKETD_PUBLIC_URL"},
		{"TICKETD_OIDC_GROUPS", "noc", "TICKETD_OIDC_GROUPS"},
		{"TICKETD_OIDC_GROUPS_CLAIM", "", "needs TICKETD_OIDC_GROUPS_CLAIM"},
	} {
		if _, err := oidcOptions(with(c.key, c.value)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q: %v, want %q", c.key, c.value, err, c.want)
		}
	}
}

// ticketd serve starts with single sign-on while the provider is down: the
// login page offers it, and starting it says the provider cannot be
// reached (it is found again at the next try).
func TestServeOIDCProviderDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	url, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": filepath.Join(t.TempDir(), "data"),
		"TICKETD_OIDC_ISSUER": down, "TICKETD_OIDC_CLIENT_ID": "ticketd", "TICKETD_OIDC_CLIENT_SECRET": "s3cret",
		"TICKETD_PUBLIC_URL": "http://ticketd.example.net", "TICKETD_OIDC_NAME": "Example ID"})
	if code, body := get(t, url+"/login", ""); code != http.StatusOK || !strings.Contains(body, "Sign in with Example ID") {
		t.Errorf("/login: %d\n%s", code, body)
	}
	if code, body := get(t, url+"/login/oidc", ""); code != http.StatusBadGateway || !strings.Contains(body, "cannot be reached") {
		t.Errorf("/login/oidc with the provider down: %d\n%s", code, body)
	}
}
