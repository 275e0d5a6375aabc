package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// setting is one configuration value: an environment variable, optionally a
// flag, a default and what it does. Every setting is listed here once, so
// `ticketd serve --help` documents them all.
type setting struct {
	env, flag, def, help string
}

var settings = []setting{
	{"TICKETD_LISTEN", "listen", "127.0.0.1:8080", "HTTP address of the API, health checks and metrics"},
	{"DATABASE_URL", "", "", "Postgres URL (postgres://user@host/db); empty: embedded SQLite under TICKETD_DATA_DIR"},
	{"TICKETD_DATA_DIR", "data-dir", "data", "directory of the embedded SQLite database"},
	{"REDIS_URL", "", "", "Redis URL (redis://host:6379/0) for the shared rate limiter and reminder index; empty: in-process (one replica)"},
	{"TICKETD_LOG_FORMAT", "log-format", "text", "log format: text or json"},
	{"TICKETD_LOG_LEVEL", "log-level", "info", "log level: debug, info, warn or error"},
	{"TICKETD_MAX_ATTACHMENT", "", "10485760", "largest attachment kept, in bytes; larger ones are dropped with a note in history"},
	{"TICKETD_TRUNCATE_ATTACHMENTS", "", "false", "keep the first TICKETD_MAX_ATTACHMENT bytes of oversized attachments instead of dropping them"},
	{"TICKETD_MAX_WATCHERS_PER_CHANGE", "", "20", "watchers (requestors, Cc, AdminCc) an unprivileged user may name in one create or change; more is refused (0: no limit)"},
	{"TICKETD_NEW_USER_LIMIT", "", "20/1h", "users that the unknown addresses one unprivileged user names may create, N/duration (0/1h: none); past it the change is refused (API: 429)"},
	{"TICKETD_WEBHOOK_RATE", "", "10", "webhook deliveries per second per subscription"},
	{"TICKETD_DISPATCH_MAX_ATTEMPTS", "", "10", "failed attempts before a delivery is given up (and listed as dead)"},
	{"TICKETD_DISPATCH_LEASE", "", "1m", "how long a replica holds the deliveries it claimed; those of a replica that died are sent after it"},
	{"TICKETD_SHUTDOWN_TIMEOUT", "", "30s", "how long shutdown waits for in-flight requests"},
	{"SLACK_BOT_TOKEN", "", "", "Slack bot token (xoxb-...): turns the Slack connector on"},
	{"SLACK_SIGNING_SECRET", "", "", "Slack signing secret: verifies requests to /slack/commands, /slack/events, /slack/interactions"},
	{"SLACK_APP_TOKEN", "", "", "Slack app-level token (xapp-...): receive over Socket Mode instead of HTTP"},
	{"SLACK_API_URL", "", "", "Slack Web API base URL (tests, proxies); empty: Slack's"},
	{"DISCORD_BOT_TOKEN", "", "", "Discord bot token: turns the Discord connector on (cards, thread lines, the gateway)"},
	{"DISCORD_APP_ID", "", "", "Discord application id: for /discord/interactions and `ticketd discord register-commands`"},
	{"DISCORD_PUBLIC_KEY", "", "", "Discord application public key (hex): verifies requests to /discord/interactions; empty: that endpoint is off"},
	{"DISCORD_GATEWAY", "", "true", "connect to the Discord gateway: thread messages become comments; interactions when no endpoint URL is set"},
	{"DISCORD_API_URL", "", "", "Discord REST API base URL with its version (tests, proxies); empty: https://discord.com/api/v9/"},
	{"MATRIX_HOMESERVER", "", "", "Matrix homeserver URL (https://matrix.example.net): turns the Matrix connector on, with credentials"},
	{"MATRIX_USER", "", "", "Matrix bot user (@ticketd:example.net, or a localpart for password login)"},
	{"MATRIX_PASSWORD", "", "", "Matrix bot password (password login)"},
	{"MATRIX_ACCESS_TOKEN", "", "", "Matrix bot access token, instead of a password"},
	{"MATRIX_DEVICE_ID", "", "TICKETD", "device id of the bot's password login (kept across restarts)"},
	{"MATRIX_AS_TOKEN", "", "", "run as a Matrix application service: the registration's as_token (deploy/matrix/registration.yaml)"},
	{"MATRIX_HS_TOKEN", "", "", "the registration's hs_token: checked on /_matrix/app/v1/transactions"},
	{"MATRIX_AUTOJOIN", "", "routed", "rooms the Matrix bot joins when invited: routed (rooms a queue posts to), always or never"},
	{"MATRIX_REACTIONS", "", "", "reactions on a Matrix card and what they do (default 👍=take,✅=resolve,✔=resolve,🎫=open)"},
	{"MATRIX_PICKLE_KEY", "", "", "secret that encrypts the Matrix crypto store: turns encrypted rooms on (needs a build with -tags goolm)"},
	{"TICKETD_PUBLIC_URL", "", "", "ticketd's URL as others reach it (https://ticketd.example.net): admin integration add prints alert URLs under it; chat's report links to its /reports; https makes the sign-in cookie Secure"},
	{"TICKETD_SESSION_IDLE", "", "8h", "a web session unused this long ends (sign in again)"},
	{"TICKETD_SESSION_LIFETIME", "", "168h", "a web session ends this long after sign-in, used or not"},
	{"TICKETD_OIDC_ISSUER", "", "", "OpenID Connect issuer URL (https://id.example.net/realms/staff): turns single sign-on on, with the client id and secret and TICKETD_PUBLIC_URL (the provider sends browsers back to TICKETD_PUBLIC_URL/login/oidc/callback); empty: off"},
	{"TICKETD_OIDC_CLIENT_ID", "", "", "ticketd's client id at the OpenID provider"},
	{"TICKETD_OIDC_CLIENT_SECRET", "", "", "ticketd's client secret at the OpenID provider"},
	{"TICKETD_OIDC_NAME", "", "", "the provider's name on the login page's button (\"Sign in with NAME\"); empty: single sign-on"},
	{"TICKETD_OIDC_SCOPES", "", "", "scopes asked besides openid, email and profile (space- or comma-separated; some providers send groups only for a groups scope)"},
	{"TICKETD_OIDC_GROUPS_CLAIM", "", "", "claim of the provider's groups of a person (groups; a.b is claim b inside claim a); empty: no groups are read"},
	{"TICKETD_OIDC_GROUPS", "", "", "provider-group=ticketd-group,...: people in a mapped group are made privileged and added to those ticketd groups at each sign-in (never removed: an admin does that)"},
	{"TICKETD_ALERT_MAX_BODY", "", "4194304", "largest alert webhook body, in bytes (413 past it)"},
	{"TICKETD_STORM_THRESHOLD", "", "20", "a chat channel whose backlog reaches this many messages is in an alert storm: alerts fold into one digest there (0: never)"},
	{"TICKETD_STORM_WINDOW", "", "1m", "what a storm digest counts (\"N new alerts in the last minute\"); a storm passes when a window brings fewer than half the threshold"},
	{"TICKETD_SMTP_LISTEN", "", "", "SMTP listener for inbound mail (host:port, or off); empty: 127.0.0.1:2525 in the embedded setup (no DATABASE_URL), off with Postgres"},
	{"TICKETD_LMTP_LISTEN", "", "", "LMTP listener for inbound mail from a local MTA (host:port or unix:/path); empty: off"},
	{"TICKETD_MAILGATE_SECRET", "", "", "shared secret of `ticketd mailgate` (POST /mail/gateway, 16+ characters); empty: that gateway is off"},
	{"TICKETD_MAIL_DOMAIN", "", "", "our mail domain: our Message-IDs and loop header; empty: this host's name"},
	{"TICKETD_MAIL_MAX_SIZE", "", "26214400", "largest message taken, in bytes (SMTP, LMTP and the mailgate)"},
	{"TICKETD_MAIL_COMMANDS", "", "true", "staff may put commands (/take, /resolve, /priority 80) on the first lines of a mail"},
	{"TICKETD_MAIL_TRUSTED_AUTHSERV", "", "", "authserv-ids (comma-separated) of the MTAs whose Authentication-Results prove a sender (dmarc=pass, or dkim=pass aligned with From): staff mail counts as theirs only when proven (or signed in with SMTP AUTH)"},
	{"TICKETD_MAIL_TRUST", "", "", "from: believe every From field, for closed networks only (logs a warning at every start); empty: staff mail must be authenticated"},
	{"TICKETD_SMTP_LISTEN_CERT", "", "", "certificate (PEM file) for STARTTLS on the SMTP and LMTP listeners; SMTP AUTH is offered after STARTTLS, or on loopback"},
	{"TICKETD_SMTP_LISTEN_KEY", "", "", "private key (PEM file) of TICKETD_SMTP_LISTEN_CERT"},
	{"TICKETD_AUTOREPLY_LIMIT", "", "5/1h", "automatic mails (autoreplies, refusals) one sender may get, N/duration"},
	{"TICKETD_SMTP_RELAY", "", "", "SMTP relay for outbound mail (host:port, e.g. 127.0.0.1:25); empty: ticketd sends no mail"},
	{"TICKETD_SMTP_TLS", "", "auto", "TLS to the relay: auto (STARTTLS when offered), starttls (required), tls (implicit, port 465) or none"},
	{"TICKETD_SMTP_TLS_INSECURE", "", "false", "do not verify the relay's certificate"},
	{"TICKETD_SMTP_USER", "", "", "relay user (AUTH PLAIN or LOGIN; never sent unencrypted to another host)"},
	{"TICKETD_SMTP_PASSWORD", "", "", "relay password"},
	{"TICKETD_SMTP_HELO", "", "", "name given in EHLO; empty: TICKETD_MAIL_DOMAIN"},
	{"TICKETD_SMTP_RATE", "", "20", "mails per second sent to the relay"},
	{"TICKETD_MAIL_FROM", "", "", "From of mail about queues without a correspond address; empty: ticketd@TICKETD_MAIL_DOMAIN"},
	{"TICKETD_REMINDER_POLL", "", "1s", "how often the reminder runner looks for due reminders when none were due"},
	{"TICKETD_REMINDER_LEASE", "", "1m", "how long a replica holds a claimed reminder before another may fire it (a replica that died)"},
	{"TICKETD_REMINDER_BATCH", "", "100", "due reminders claimed per round"},
	{"TICKETD_REMINDER_REBUILD", "", "", "rebuild the reminder index from the database this often, besides at start (0: only at start); empty: 1m in process, 1h with Redis"},
	{"TICKETD_RULES", "rules", "", "automation rules file (JSON; `ticketd admin rules check FILE` checks one); empty: the built-in rules only"},
	{"TICKETD_CONFIG", "config", "", "optional file of KEY=value lines with any of these settings; the environment wins"},
}

// config is the resolved configuration: flags, then the environment, then
// the file, then defaults.
type config map[string]string

func (c config) str(key string) string { return c[key] }

func (c config) int(key string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(c[key]))
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a whole number", key, c[key])
	}
	return n, nil
}

func (c config) bool(key string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(c[key]))
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", key, c[key])
	}
	return b, nil
}

func (c config) duration(key string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(c[key]))
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a duration such as 30s", key, c[key])
	}
	return d, nil
}

// getenv lets the configuration stand in for the environment.
func (c config) getenv(key string) string { return c[key] }

// loadConfig resolves every setting. flags holds values given on the
// command line, by environment name.
func loadConfig(getenv env, flags map[string]string) (config, error) {
	c := config{}
	for _, s := range settings {
		c[s.env] = s.def
	}
	file := flags["TICKETD_CONFIG"]
	if file == "" {
		file = getenv("TICKETD_CONFIG")
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		defer f.Close()
		vals, err := parseConfigFile(f)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w", file, err)
		}
		for k, v := range vals {
			c[k] = v
		}
	}
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			c[s.env] = v
		}
	}
	for k, v := range flags {
		c[k] = v
	}
	return c, nil
}

// parseConfigFile reads KEY=value lines; # starts a comment; values may be
// quoted. Unknown keys are an error, so a typo does not pass silently.
func parseConfigFile(r io.Reader) (map[string]string, error) {
	known := map[string]bool{}
	for _, s := range settings {
		known[s.env] = true
	}
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: want KEY=value", n)
		}
		if !known[k] {
			return nil, fmt.Errorf("line %d: unknown setting %s (see ticketd serve --help)", n, k)
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, sc.Err()
}

func settingsHelp() string {
	var b strings.Builder
	b.WriteString("Settings (environment variable, flag, default):\n")
	for _, s := range settings {
		name := s.env
		if s.flag != "" {
			name += ", --" + s.flag
		}
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "  %s\n      %s; default %s\n", name, s.help, def)
	}
	return b.String()
}
