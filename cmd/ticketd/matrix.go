package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx": the Matrix crypto store on Postgres

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/connectors/matrix"
	"github.com/ticketd/ticketd/core/engine"
)

// matrixWiring is the Matrix connector as serve runs it: a bot account
// syncing, or an application service receiving transactions.
type matrixWiring struct {
	conn       *matrix.Connector
	appservice bool
	encrypted  bool
	cryptoDB   *sql.DB
	quit       context.CancelFunc // ends the start loop
	done       chan struct{}
}

// addMatrix wires the Matrix connector into the chat layer when
// MATRIX_HOMESERVER and credentials are set: a password
// (MATRIX_USER, MATRIX_PASSWORD), an access token (MATRIX_ACCESS_TOKEN), or
// an application service's tokens (MATRIX_AS_TOKEN, MATRIX_HS_TOKEN, with
// MATRIX_USER the bot's full user id).
func addMatrix(cfg config, w *chatWiring, log *slog.Logger) error {
	hs := cfg.str("MATRIX_HOMESERVER")
	creds := cfg.str("MATRIX_PASSWORD") != "" || cfg.str("MATRIX_ACCESS_TOKEN") != "" || cfg.str("MATRIX_AS_TOKEN") != ""
	if hs == "" {
		if creds {
			return fmt.Errorf("MATRIX_PASSWORD, MATRIX_ACCESS_TOKEN or MATRIX_AS_TOKEN is set but MATRIX_HOMESERVER is not: set it to the homeserver's URL (https://matrix.example.net)")
		}
		w.parts = append(w.parts, offPart("Matrix off (MATRIX_HOMESERVER not set)"))
		return nil
	}
	if !creds {
		return fmt.Errorf("MATRIX_HOMESERVER is set: set MATRIX_USER and MATRIX_PASSWORD, or MATRIX_ACCESS_TOKEN, or MATRIX_AS_TOKEN and MATRIX_HS_TOKEN (application service)")
	}
	mc := matrix.Config{Homeserver: hs, User: cfg.str("MATRIX_USER"), Password: cfg.str("MATRIX_PASSWORD"),
		AccessToken: cfg.str("MATRIX_ACCESS_TOKEN"), DeviceID: cfg.str("MATRIX_DEVICE_ID"), AutoJoin: cfg.str("MATRIX_AUTOJOIN"),
		PickleKey: cfg.str("MATRIX_PICKLE_KEY"), Logger: log.With("component", "matrix")}
	mw := &matrixWiring{}
	if as := cfg.str("MATRIX_AS_TOKEN"); as != "" {
		if cfg.str("MATRIX_HS_TOKEN") == "" {
			return fmt.Errorf("MATRIX_AS_TOKEN is set: set MATRIX_HS_TOKEN too (the registration's hs_token)")
		}
		if !strings.HasPrefix(mc.User, "@") {
			return fmt.Errorf("MATRIX_USER=%q: an application service needs the bot's full user id (@ticketd:example.net)", mc.User)
		}
		mc.AccessToken = as
		mc.AppService = &matrix.AppServiceConfig{HSToken: cfg.str("MATRIX_HS_TOKEN")}
		mw.appservice = true
	}
	if r := cfg.str("MATRIX_REACTIONS"); r != "" {
		m, err := parseReactions(r)
		if err != nil {
			return err
		}
		mc.Reactions = m
	}
	if mc.PickleKey != "" {
		db, dialect, err := openCryptoDB(cfg)
		if err != nil {
			return err
		}
		mc.CryptoDB, mc.CryptoDialect = db, dialect
		mw.cryptoDB, mw.encrypted = db, true
	}
	conn, err := matrix.New(w.bot, mc)
	if err != nil {
		if mw.cryptoDB != nil {
			mw.cryptoDB.Close()
		}
		return err
	}
	mw.conn = conn
	w.senders = append(w.senders, bot.NewSender(w.bot, conn))
	w.parts = append(w.parts, mw)
	return nil
}

// parseReactions reads MATRIX_REACTIONS: "👍=take,✅=resolve,🎫=open".
func parseReactions(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("MATRIX_REACTIONS=%q: write key=verb pairs separated by commas (👍=take,✅=resolve,🎫=open)", s)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}

// openCryptoDB opens ticketd's own database once more for the Matrix crypto
// store (mautrix's tables crypto_* and mx_*, beside ticketd's).
func openCryptoDB(cfg config) (*sql.DB, string, error) {
	if url := cfg.str("DATABASE_URL"); url != "" {
		db, err := sql.Open("pgx", url)
		if err != nil {
			return nil, "", fmt.Errorf("the Matrix crypto store (DATABASE_URL): %w", err)
		}
		return db, "postgres", nil
	}
	path := filepath.Join(cfg.str("TICKETD_DATA_DIR"), "ticketd.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, "", fmt.Errorf("the Matrix crypto store (SQLite %s): %w", path, err)
	}
	return db, "sqlite3", nil
}

func (m *matrixWiring) mount(mux *http.ServeMux, eng *engine.Engine) {
	if h := m.conn.Handler(); h != nil {
		mux.Handle("/_matrix/app/", h)
		mux.Handle("PUT /transactions/", h) // homeservers that use the legacy paths
	}
}

// start logs the connector in and starts it; while the homeserver cannot
// be reached (or refuses), it tries again every matrixRetry.
func (m *matrixWiring) start(ctx context.Context, log *slog.Logger) {
	base, quit := context.WithCancel(context.Background())
	m.quit, m.done = quit, make(chan struct{})
	go func() {
		defer close(m.done)
		for {
			sctx, cancel := context.WithTimeout(base, time.Minute)
			err := m.conn.Start(sctx)
			cancel()
			if err == nil {
				log.Info("Matrix started", "user", m.conn.UserID())
				return
			}
			log.Error("Matrix did not start; trying again", "in", matrixRetry, "err", err)
			select {
			case <-base.Done():
				return
			case <-time.After(matrixRetry):
			}
		}
	}()
}

// matrixRetry is how long start waits before trying again.
var matrixRetry = 30 * time.Second

func (m *matrixWiring) stop() {
	if m.quit != nil {
		m.quit()
		<-m.done
	}
	m.conn.Stop()
	if m.cryptoDB != nil {
		m.cryptoDB.Close()
	}
}

func (m *matrixWiring) describe() string {
	mode := "bot account, /sync"
	if m.appservice {
		mode = "application service: /_matrix/app/v1/transactions"
	}
	if m.encrypted {
		mode += ", encrypted rooms"
	}
	return "Matrix on (" + mode + ")"
}

// offPart is a chat connector that is off: it only says so.
type offPart string

func (offPart) mount(*http.ServeMux, *engine.Engine) {}
func (offPart) start(context.Context, *slog.Logger)  {}
func (offPart) stop()                                {}
func (o offPart) describe() string                   { return string(o) }
