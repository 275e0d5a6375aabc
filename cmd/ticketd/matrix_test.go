package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/connectors/matrix"
)

func TestServeMatrixSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		envs map[string]string
		want string // in the error; "" for none
	}{
		{"homeserver without credentials", map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1"}, "MATRIX_HOMESERVER is set"},
		{"credentials without homeserver", map[string]string{"MATRIX_ACCESS_TOKEN": "t"}, "MATRIX_HOMESERVER is not"},
		{"as_token without hs_token", map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1", "MATRIX_USER": "@t:x",
			"MATRIX_AS_TOKEN": "a"}, "MATRIX_HS_TOKEN"},
		{"appservice with a localpart", map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1", "MATRIX_USER": "t",
			"MATRIX_AS_TOKEN": "a", "MATRIX_HS_TOKEN": "h"}, "full user id"},
		{"bad reactions", map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1", "MATRIX_ACCESS_TOKEN": "t",
			"MATRIX_REACTIONS": "👍"}, "MATRIX_REACTIONS"},
		{"bad auto-join", map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1", "MATRIX_ACCESS_TOKEN": "t",
			"MATRIX_AUTOJOIN": "sometimes"}, "auto-join"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.envs["TICKETD_DATA_DIR"] = t.TempDir()
			tc.envs["TICKETD_LISTEN"] = "127.0.0.1:0"
			tc.envs["TICKETD_SMTP_LISTEN"] = "off"
			cfg, err := loadConfig(func(k string) string { return tc.envs[k] }, nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := newServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
			if err == nil {
				s.start(context.Background())
				s.shutdown()
				t.Fatalf("serve started; want an error with %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestServeMatrixEncryption: a build without -tags goolm refuses to start
// with encryption asked for, and says why.
func TestServeMatrixEncryption(t *testing.T) {
	envs := map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1", "MATRIX_ACCESS_TOKEN": "t",
		"MATRIX_PICKLE_KEY": "k", "TICKETD_DATA_DIR": t.TempDir(), "TICKETD_LISTEN": "127.0.0.1:0", "TICKETD_SMTP_LISTEN": "off"}
	cfg, err := loadConfig(func(k string) string { return envs[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if matrix.EncryptionAvailable {
		if err != nil {
			t.Fatalf("a goolm build refused encryption: %v", err)
		}
		s.start(context.Background())
		s.shutdown()
		return
	}
	if err == nil {
		s.start(context.Background())
		s.shutdown()
		t.Fatal("a build without goolm started with MATRIX_PICKLE_KEY set")
	}
	if !strings.Contains(err.Error(), "encryption is unavailable in this build") {
		t.Fatalf("error %q", err)
	}
}

// TestServeMatrixAppService: serve mounts the application service's
// transactions endpoint, which checks the hs_token, and asks for the
// transactions again while the bot has not started (the homeserver cannot
// be reached).
func TestServeMatrixAppService(t *testing.T) {
	envs := map[string]string{"MATRIX_HOMESERVER": "http://127.0.0.1:1", "MATRIX_USER": "@ticketd:example.net",
		"MATRIX_AS_TOKEN": "as-secret", "MATRIX_HS_TOKEN": "hs-secret", "TICKETD_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	// A room is routed to a queue as a Slack channel is: the workspace is
	// the homeserver's server name, the channel the room id.
	mustRun(t, envs, "admin", "chat", "channel", "add", "--queue", "General", "--platform", "matrix",
		"--workspace", "example.net", "--channel", "!AbCdEf:example.net")
	if out := mustRun(t, envs, "admin", "chat", "channel", "list"); !strings.Contains(out, "matrix") ||
		!strings.Contains(out, "!AbCdEf:example.net") {
		t.Fatalf("chat channel list:\n%s", out)
	}
	url, s := startServer(t, envs)
	if d := s.chat.describe(); !strings.Contains(d, "Matrix on (application service") {
		t.Fatalf("describe: %q", d)
	}
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/_matrix/app/v1/transactions/1", "", http.StatusUnauthorized},
		{"/_matrix/app/v1/transactions/1", "as-secret", http.StatusForbidden},
		// The homeserver cannot be reached, so the bot has not started: the
		// transaction is to be sent again.
		{"/_matrix/app/v1/transactions/1", "hs-secret", http.StatusServiceUnavailable},
		{"/transactions/2", "hs-secret", http.StatusServiceUnavailable},
	} {
		req, _ := http.NewRequest(http.MethodPut, url+tc.path, strings.NewReader(`{"events":[]}`))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("PUT %s with %q: %d, want %d", tc.path, tc.token, resp.StatusCode, tc.want)
		}
	}
}
