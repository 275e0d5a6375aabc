package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/storage/postgres"
	"github.com/ticketd/ticketd/storage/postgres/pgtest"
)

// intakeTypes are the integration types, in a fixed order for the fuzzers.
var intakeTypes = func() []string {
	var ts []string
	for t := range Parsers {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}()

func seedFixtures(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "intake", "*"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for i := range intakeTypes {
			f.Add(uint8(i), b)
		}
	}
}

// FuzzParsers: every parser, on any body, returns alerts with a status and
// an event id, or a *FieldError; it never panics, and never takes JSON with
// a key given twice in one object.
func FuzzParsers(f *testing.F) {
	seedFixtures(f)
	f.Add(uint8(0), []byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"1e400"}]}`))
	f.Add(uint8(6), []byte(`[{"name":"x","labels":[{"tag":"a","value":"b"},"k:v",3]}]`))
	f.Add(uint8(0), []byte(`{"version":"4","alerts":[{"status":"firing","Status":"resolved","labels":{"a":"1","a":"2"}}]}`))
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		name := intakeTypes[int(typ)%len(intakeTypes)]
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
			p := &Payload{Body: body, ContentType: ct, Query: url.Values{"state": {"1"}}, Mapping: genericMapping}
			got, err := Parsers[name](p)
			if err == nil && ct == "application/json" && core.FindDuplicateKey(body, nil) != nil {
				t.Fatalf("%s: a body with a key given twice was taken", name)
			}
			if err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("%s: error %T %v is not a *FieldError", name, err, err)
				}
				continue
			}
			for _, a := range got.Alerts {
				if a.Status != core.AlertFiring && a.Status != core.AlertResolved {
					t.Fatalf("%s: status %q", name, a.Status)
				}
				if a.EventID == "" {
					t.Fatalf("%s: no event id", name)
				}
			}
		}
	})
}

// FuzzIntake posts any body to every type of integration over Postgres (the
// stricter store: it refuses NUL bytes and invalid UTF-8): the answer is
// 200 or 400, never a server error, and a refused request records nothing.
func FuzzIntake(f *testing.F) {
	seedFixtures(f)
	// One environment for every input: a new one per input would measure
	// SQLite's start, not the intake.
	e := newIntakeEnvOn(f, IntakeOptions{}, func() core.Store {
		st, err := postgres.Open(context.Background(), pgtest.NewDatabase(f))
		if err != nil {
			f.Fatal(err)
		}
		return st
	})
	for _, typ := range intakeTypes {
		cfg := core.DefaultIntegrationConfig()
		if typ == core.IntegrationGeneric {
			cfg.Mapping = genericMapping
		}
		e.integration(typ, typ, &cfg)
	}
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		e.t = t
		name := intakeTypes[int(typ)%len(intakeTypes)]
		before := e.quickState()
		r := e.hook(name, body)
		switch r.status {
		case http.StatusOK:
		case http.StatusBadRequest:
			if after := e.quickState(); after != before {
				t.Fatalf("%s: a refused body changed the database: %s, before %s (%s)", name, after, before, r.err.Error)
			}
		default:
			t.Fatalf("%s: status %d %+v", name, r.status, r.err)
		}
	})
}

// quickState is state for many calls: occurrences, the newest ticket and
// the outbox messages, read from a cursor.
func (e *intakeEnv) quickState() string {
	e.t.Helper()
	n, err := e.eng.System().CountAlertOccurrences(e.ctx, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var newest int64
	err = e.st.View(e.ctx, func(tx core.Tx) error {
		ts, err := tx.SearchTickets(e.ctx, core.TicketFilter{Limit: 1})
		if len(ts) > 0 {
			newest = ts[0].ID
		}
		if err != nil {
			return err
		}
		ms, err := tx.Outbox(e.ctx, e.outboxSeen, 0)
		for _, m := range ms {
			e.outboxSeen = m.ID
			e.outboxCount++
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("occurrences=%d newest=%d outbox=%d", n, newest, e.outboxCount)
}
