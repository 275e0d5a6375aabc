package email

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/connectors/email/emailtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/account"
	"github.com/ticketd/ticketd/core/engine"
	route "github.com/ticketd/ticketd/core/mail"
)

// plainHasher stands in for argon2id: these tests sign in with no password.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "plain$" + pw, nil }
func (plainHasher) Verify(pw, hash string) (bool, bool, error) {
	return hash == "plain$"+pw, false, nil
}

// A sign-in link asked for on the web is mailed like other notices, with
// its own template.
func TestSenderSigninLink(t *testing.T) {
	sink := emailtest.New(t, emailtest.Options{})
	e := newEnv(t, withSender(sink, RelayOptions{}))
	email, no := "rita@example.org", false
	if _, err := e.eng.Admin().CreateUser(e.ctx, core.RootID, engine.UserInput{Name: "rita", Email: &email, Privileged: &no}); err != nil {
		t.Fatal(err)
	}
	acc, err := account.New(e.store.(account.Store), e.clock, plainHasher{}, nil, account.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.SendLink(e.ctx, "rita@example.org", "192.0.2.1", func(u *core.User, token string) (*core.OutboxMessage, error) {
		return route.SigninLinkMessage(u, "https://ticketd.example.net/login/link?token="+token)
	}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	m, _ := mailTo(t, sink.Wait(t, 1, 5*time.Second), "rita@example.org")
	if m.Subject != "Your ticketd sign-in link" || !strings.Contains(m.Text, "https://ticketd.example.net/login/link?token=") ||
		!strings.Contains(m.Text, "works once, for 15 minutes") {
		t.Errorf("sign-in link mail: %q\n%s", m.Subject, m.Text)
	}
}
