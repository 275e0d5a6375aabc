package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// The request decoding of create and patch, fuzzed through the whole API on
// a real store: whatever the body, the answer is not a 5xx, a body with a
// key given twice is a 400, and a refused request writes nothing.

var fuzzSeeds = []string{
	`{"subject":"printer on fire","priority":5}`,
	`{"subject":"x","queue":"General","requestors":["a@example.org","alice"],"cc":["bob"],"admincc":[],"owner":"alice","status":"open","due":"2030-01-01T00:00:00Z","time_estimated":30,"content":{"body":"hi","content_type":"text/plain","attachments":[{"filename":"a.txt","content_type":"text/plain","data_base64":"aGVsbG8="}]}}`,
	`{"subject":"y","requestors":["\u0000"],"owner":"Nobody"}`,
	`{"subject":"z","queue":"-1","status":"resolved"}`,
	`{"priority":-1,"subject":"q"}`,
	`{"subject":null,"due":null}`,
	`{"due":"2024-13-45T99:00:00Z"}`,
	`{"time_left":1e9}`,
	`{"subject":"ok"} trailing`,
	`[]`, `null`, `"x"`, `{`, ``, `{"subject":"\ud800"}`,
	`{"queue":"General","subject":"moved"}`,
	`{"content":{"attachments":[{"filename":"","data_base64":"=="}]}}`,
	`{"subject":"a","subject":"b"}`, `{"subject":"a","Subject":"b"}`, `{"priority":1,"content":{"body":"x","Body":"y"}}`,
}

type fuzzEnv struct {
	e     *env
	alice *person
	id    int64 // a ticket to patch
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := newEnv(f, openPostgres(f)) // the stricter store: it refuses NUL and invalid UTF-8
	alice := e.staff("alice")
	e.staff("bob")
	t, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Subject: "fuzz target"})
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{e: e, alice: alice, id: t.ID}
}

func (z *fuzzEnv) serve(method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+z.alice.token)
	rec := httptest.NewRecorder()
	z.e.api.Handler().ServeHTTP(rec, req)
	return rec
}

// state is what a refused request must leave as it was: the newest ticket
// and the target ticket's version and history.
func (z *fuzzEnv) state(t *testing.T) string {
	res, err := z.e.eng.Search(z.e.ctx, core.RootID, "status:any", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := z.e.eng.Show(z.e.ctx, core.RootID, z.id)
	if err != nil {
		t.Fatal(err)
	}
	txns, err := z.e.eng.History(z.e.ctx, core.RootID, z.id)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("newest %d, target version %d, history %d", res.Tickets[0].ID, info.Ticket.Version, len(txns))
}

func (z *fuzzEnv) check(t *testing.T, method, path string, body []byte) {
	before := z.state(t)
	rec := z.serve(method, path, body)
	if rec.Code >= 500 {
		t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
	}
	if core.FindDuplicateKey(body, nil) != nil && rec.Code != http.StatusBadRequest {
		t.Fatalf("%s %s %q, a key given twice: %d %s", method, path, body, rec.Code, rec.Body)
	}
	if rec.Code >= 300 {
		if after := z.state(t); after != before {
			t.Fatalf("%s %q refused with %d but changed: %s -> %s", method, body, rec.Code, before, after)
		}
		if !bytes.Contains(rec.Body.Bytes(), []byte(`"error"`)) {
			t.Fatalf("%d without an error body: %s", rec.Code, rec.Body)
		}
	} else if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
		t.Fatalf("unexpected status %d", rec.Code)
	}
}

func FuzzCreateBody(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	z := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		z.check(t, "POST", "/api/v1/tickets", body)
	})
}

func FuzzPatchBody(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	z := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		z.check(t, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", z.id), body)
	})
}
