//go:build goolm

package matrix

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/ticketd/ticketd/bot"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/dispatch"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/wire"
	"github.com/ticketd/ticketd/storage/memory"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
	"github.com/ticketd/ticketd/storage/sqlite"
)

// e2eeUser is a user whose client encrypts and decrypts (its own device,
// its crypto store in a SQLite file), and records what it reads.
type e2eeUser struct {
	cli *mautrix.Client

	mu     sync.Mutex
	events []*event.Event
	wake   chan struct{}
}

var devices sync.Map

func newE2EEUser(t *testing.T, local string) *e2eeUser {
	t.Helper()
	ctx := context.Background()
	account(t, local)
	cli, err := mautrix.NewClient(hs.url, "", "")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := devices.LoadOrStore(t.Name(), len(t.Name()))
	if _, err := cli.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: password(local),
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: local},
		DeviceID:   id.DeviceID(fmt.Sprintf("E2EE%d%d", n, time.Now().UnixNano()%1e9)), StoreCredentials: true}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), local+"-crypto.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	udb, err := dbutil.NewWithDB(db, "sqlite3")
	if err != nil {
		t.Fatal(err)
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte("pickle-"+local), udb)
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Init(ctx); err != nil {
		t.Fatal(err)
	}
	cli.Crypto = helper
	u := &e2eeUser{cli: cli, wake: make(chan struct{})}
	record := func(ctx context.Context, evt *event.Event) {
		u.mu.Lock()
		u.events = append(u.events, evt)
		close(u.wake)
		u.wake = make(chan struct{})
		u.mu.Unlock()
	}
	syncer := cli.Syncer.(*mautrix.DefaultSyncer)
	syncer.OnEventType(event.EventMessage, record)
	syncer.OnEventType(event.StateMember, record)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); cli.SyncWithContext(sctx) }()
	t.Cleanup(func() { cancel(); cli.StopSync(); <-done; helper.Close() })
	return u
}

func (u *e2eeUser) wait(t *testing.T, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		u.mu.Lock()
		for _, e := range u.events {
			if match(e) {
				u.mu.Unlock()
				return e
			}
		}
		wake := u.wake
		u.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("no %s within 15s", what)
		}
	}
}

// TestEncryptedRoom: in an encrypted room the bot reads an encrypted
// command and answers, and posts the ticket's card, encrypted; its crypto
// store lives in ticketd's own database (SQLite, then Postgres).
func TestEncryptedRoom(t *testing.T) {
	needHomeserver(t)
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (core.Store, *sql.DB, string)
	}{
		{"SQLite", func(t *testing.T) (core.Store, *sql.DB, string) {
			path := filepath.Join(t.TempDir(), "ticketd.db")
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
			if err != nil {
				t.Fatal(err)
			}
			return st, db, "sqlite3"
		}},
		{"Postgres", func(t *testing.T) (core.Store, *sql.DB, string) {
			url := pgtest.NewDatabase(t)
			st, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			return st, db, "postgres"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, db, dialect := tc.open(t)
			if err := st.(interface{ Migrate(context.Context) error }).Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			eng := engine.New(st, nil, core.Config{}, wire.Plugins()...)
			if _, err := eng.Admin().CreateQueue(ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
				t.Fatal(err)
			}
			botLocal, _ := newBot(t)
			botUser := id.NewUserID(botLocal, serverName)
			alice := newE2EEUser(t, "alice")
			room, err := alice.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "E2EE " + t.Name(),
				Invite: []id.UserID{botUser}, InitialState: []*event.Event{{Type: event.StateEncryption,
					Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Admin().AddChatChannel(ctx, core.RootID, "NOC", Platform, serverName, room.RoomID.String()); err != nil {
				t.Fatal(err)
			}
			b := bot.New(eng, bot.Config{})
			c, err := New(b, Config{Homeserver: hs.url, User: botLocal, Password: password(botLocal),
				PickleKey: "bot-pickle-key", CryptoDB: db, CryptoDialect: dialect})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Stop)
			alice.wait(t, "the bot's join", func(ev *event.Event) bool {
				m, ok := ev.Content.Parsed.(*event.MemberEventContent)
				return ev.RoomID == room.RoomID && ev.GetStateKey() == botUser.String() && ok && m.Membership == event.MembershipJoin
			})
			resp, err := alice.cli.SendMessageEvent(ctx, room.RoomID, event.EventMessage,
				&event.MessageEventContent{MsgType: event.MsgText, Body: "!ticket new NOC Secret core router rebuild"})
			if err != nil {
				t.Fatal(err)
			}
			answer := alice.wait(t, "the bot's encrypted answer", func(ev *event.Event) bool {
				m, ok := ev.Content.Parsed.(*event.MessageEventContent)
				return ev.Sender == botUser && ok && m.RelatesTo.GetReplyTo() == resp.EventID
			})
			if answer.Mautrix.EventSource&event.SourceDecrypted == 0 {
				t.Fatal("the answer in an encrypted room was not encrypted")
			}
			body := answer.Content.Parsed.(*event.MessageEventContent).Body
			if !strings.Contains(body, "Opened ticket #") {
				t.Fatalf("answer %q", body)
			}
			// The card goes to the room encrypted too.
			disp := dispatch.New(st, memory.NewRateLimiter(), nil, nil, dispatch.Config{}, bot.NewSender(b, c))
			for i := 0; i < 20; i++ {
				if n, err := disp.RunOnce(ctx); err != nil || n == 0 {
					break
				}
			}
			card := alice.wait(t, "the encrypted card", func(ev *event.Event) bool {
				m, ok := ev.Content.Parsed.(*event.MessageEventContent)
				return ev.Sender == botUser && ok && strings.Contains(m.Body, "Secret core router rebuild") && m.MsgType == event.MsgText
			})
			if card.Mautrix.EventSource&event.SourceDecrypted == 0 {
				t.Fatal("the card in an encrypted room was not encrypted")
			}
			// The bot's Olm account is in ticketd's database.
			var accounts int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM crypto_account").Scan(&accounts); err != nil || accounts != 1 {
				t.Fatalf("crypto_account in ticketd's database: %d rows, %v", accounts, err)
			}
		})
	}
}
