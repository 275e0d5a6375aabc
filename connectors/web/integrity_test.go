package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// TestDuplicateKeys: a body with a key given twice in one object, at any
// depth, or a field in two spellings encoding/json would fold into one, is
// refused with a 400 naming the key, and changes nothing.
func TestDuplicateKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	tk, err := e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Subject: "target"})
	if err != nil {
		t.Fatal(err)
	}
	version, history := e.ticketAsRoot(tk.ID).Version, e.historyLen(tk.ID)
	rows := func() (tickets, users int) {
		err := e.store.View(e.ctx, func(tx core.Tx) error {
			ts, err := tx.SearchTickets(e.ctx, core.TicketFilter{IncludeMerged: true})
			us, uerr := tx.Users(e.ctx)
			tickets, users = len(ts), len(us)
			return errors.Join(err, uerr)
		})
		if err != nil {
			t.Fatal(err)
		}
		return tickets, users
	}
	tickets, users := rows()
	patch := fmt.Sprintf("/api/v1/tickets/%d", tk.ID)
	for _, c := range []struct {
		method, path, body, says string
	}{
		{"POST", "/api/v1/tickets", `{"subject":"a","subject":"b"}`, `key "subject" appears twice`},
		{"POST", "/api/v1/tickets", `{"subject":"a","Subject":"b"}`, `keys "subject" and "Subject" name the same field`},
		{"POST", "/api/v1/tickets", `{"subject":"a","content":{"body":"x","BODY":"y"}}`, `keys "body" and "BODY" in content`},
		{"POST", "/api/v1/tickets", `{"subject":"a","content":{"body":"x","attachments":[{"filename":"a","filename":"b"}]}}`,
			`key "filename" appears twice in content.attachments[0]`},
		{"PATCH", patch, `{"priority":5,"priority":60}`, `key "priority" appears twice`},
		{"PATCH", patch, `{"priority":60,"subject":null,"subject":"x"}`, `key "subject" appears twice`},
		{"PATCH", "/api/v1/queues/General", `{"status_map":{"a":"open","a":"new"}}`, `key "a" appears twice in status_map`},
		{"POST", "/api/v1/users", `{"name":"mallory","privileged":false,"Privileged":true}`, `keys "privileged" and "Privileged"`},
	} {
		r := e.do(e.root.token, c.method, c.path, c.body)
		ae := expectError(t, r, 400, "invalid")
		if !strings.Contains(ae.Message, c.says) {
			t.Errorf("%s %s %s: %q does not say %q", c.method, c.path, c.body, ae.Message, c.says)
		}
	}
	if n, u := rows(); n != tickets || u != users || e.ticketAsRoot(tk.ID).Version != version || e.historyLen(tk.ID) != history {
		t.Fatalf("refused bodies wrote: tickets %d -> %d, users %d -> %d", tickets, n, users, u)
	}
	// Keys of a map that differ in case are different keys; the engine
	// reads statuses in lower case, so it refuses them as two answers.
	r := e.do(e.root.token, "PATCH", "/api/v1/queues/General", `{"status_map":{"a":"open","A":"new"}}`)
	expectError(t, r, 400, "invalid")
}

// TestQueueStatusMap: PATCH of a queue's lifecycle that would strand
// tickets answers 409 naming them and saying how to map them in this API,
// changes nothing, and with status_map moves them, each with a history row
// by the caller.
func TestQueueStatusMap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	for _, def := range []string{
		`{"name":"intake","initial":["new","triage"],"active":["open"],"inactive":["resolved"],
		 "transitions":{"":["new","triage"],"new":["triage","open","resolved"],"triage":["open","resolved"],"open":["resolved"],"resolved":["open"]},
		 "defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open"}}`,
		`{"name":"x","initial":["new"],"active":["open"],"inactive":["resolved"],
		 "transitions":{"":["new"],"new":["open","resolved"],"open":["resolved"],"resolved":["open"]},
		 "defaults":{"on_create":"new","resolve":"resolved","reopen":"open","open":"open"}}`,
	} {
		if _, err := e.eng.Admin().PutLifecycle(e.ctx, core.RootID, []byte(def)); err != nil {
			t.Fatal(err)
		}
	}
	intake := "intake"
	if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC", Lifecycle: &intake}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 2 {
		tk, err := e.eng.Create(e.ctx, core.RootID, engine.CreateInput{Queue: "NOC", Subject: "to sort", Status: "triage"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	history := e.historyLen(ids[0])

	ae := expectError(t, e.do(e.root.token, "PATCH", "/api/v1/queues/NOC", `{"lifecycle":"x"}`), 409, "conflict")
	if want := `queue NOC holds 2 tickets in status 'triage', which lifecycle 'x' lacks; say where each goes with "status_map": {"triage": "new"}`; ae.Message != want {
		t.Errorf("refusal:\n got %s\nwant %s", ae.Message, want)
	}
	expectError(t, e.do(e.root.token, "PATCH", "/api/v1/queues/NOC", `{"lifecycle":"x","status_map":{"triage":"stalled"}}`), 400, "invalid")
	expectError(t, e.do(e.root.token, "POST", "/api/v1/queues", `{"name":"Ops","status_map":{"triage":"open"}}`), 400, "invalid")
	if e.ticketAsRoot(ids[0]).Status != "triage" || e.historyLen(ids[0]) != history {
		t.Fatal("a refused change moved a ticket")
	}
	var q Queue
	r := e.do(e.root.token, "PATCH", "/api/v1/queues/NOC", `{"lifecycle":"x","status_map":{"triage":"open"}}`)
	r.decode(t, &q)
	if r.status != 200 || q.Lifecycle != "x" {
		t.Fatalf("with a map: %d %s", r.status, r.body)
	}
	for _, id := range ids {
		var hist []Transaction
		e.do(e.root.token, "GET", fmt.Sprintf("/api/v1/tickets/%d/history", id), nil).decode(t, &hist)
		last := hist[len(hist)-1]
		if e.ticketAsRoot(id).Status != "open" || last.Type != "Status" || last.Old != "triage" || last.New != "open" || last.Actor != "root" {
			t.Errorf("#%d: %+v", id, last)
		}
	}
}

// TestWebhookWarnings: the answer to adding a webhook carries what
// Options.WebhookWarnings says of its URL, unless private addresses are
// allowed for it.
func TestWebhookWarnings(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	e := newEnv(t, openSQLite(t), func(o *Options) {
		o.WebhookWarnings = func(_ context.Context, url string) []string {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, url)
			if strings.Contains(url, "10.0.0.5") {
				return []string{"10.0.0.5 is a private address: deliveries to it will be refused"}
			}
			return nil
		}
	})
	var w Webhook
	r := e.do(e.root.token, "POST", "/api/v1/webhooks", `{"url":"http://10.0.0.5/hook"}`)
	r.decode(t, &w)
	if r.status != 201 || len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], "private address") {
		t.Fatalf("private URL: %d %s", r.status, r.body)
	}
	w = Webhook{}
	r = e.do(e.root.token, "POST", "/api/v1/webhooks", `{"url":"http://10.0.0.5/other","allow_private":true}`)
	r.decode(t, &w)
	if r.status != 201 || w.Warnings != nil || strings.Contains(string(r.body), "warnings") {
		t.Fatalf("allowed private URL: %d %s", r.status, r.body)
	}
	r = e.do(e.root.token, "POST", "/api/v1/webhooks", `{"url":"https://hooks.example.net/t"}`)
	if r.status != 201 || strings.Contains(string(r.body), "warnings") {
		t.Fatalf("public URL: %d %s", r.status, r.body)
	}
	mu.Lock()
	if len(asked) != 2 {
		t.Errorf("asked about %v", asked)
	}
	mu.Unlock()
	var ws []Webhook
	e.do(e.root.token, "GET", "/api/v1/webhooks", nil).decode(t, &ws)
	for _, w := range ws {
		if w.Warnings != nil {
			t.Errorf("listed with warnings: %+v", w)
		}
	}
}

// TestCreateQueueInSubject: with queue_in_subject the subject's first word
// is the queue when the caller may create tickets there; else the answer's
// notice says where the ticket went and why, even when asked for a minimal
// answer.
func TestCreateQueueInSubject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "NOC"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk, err := alice.client.CreateTicket(ctx, CreateTicketRequest{Subject: "noc core1 unreachable", QueueInSubject: true})
	if err != nil || tk.Queue != "NOC" || tk.Subject != "core1 unreachable" || tk.Notice != "" {
		t.Fatalf("a queue named: %+v %v", tk, err)
	}
	tk, err = alice.client.CreateTicket(ctx, CreateTicketRequest{Subject: "nosuchqueue printer on fire", QueueInSubject: true})
	want := fmt.Sprintf("Ticket #%d created in General (no queue named 'nosuchqueue' you can create in; the word was kept in the subject)", tk.ID)
	if err != nil || tk.Queue != "General" || tk.Subject != "nosuchqueue printer on fire" || tk.Notice != want {
		t.Fatalf("no such queue: %+v %v", tk, err)
	}
	r := e.do(alice.token, "POST", "/api/v1/tickets", `{"subject":"nosuchqueue again","queue":"NOC","queue_in_subject":true}`,
		"Prefer", "return=minimal")
	var full Ticket
	r.decode(t, &full)
	if r.status != 201 || full.Queue != "NOC" || !strings.Contains(full.Notice, "created in NOC (no queue named 'nosuchqueue'") ||
		r.header.Get("Preference-Applied") != "" {
		t.Fatalf("minimal: %d %s", r.status, r.body)
	}
	// Without queue_in_subject, a subject is a subject, and nothing is noticed.
	tk, err = alice.client.CreateTicket(ctx, CreateTicketRequest{Subject: "noc core2 unreachable"})
	if err != nil || tk.Queue != "General" || tk.Notice != "" {
		t.Fatalf("plain: %+v %v", tk, err)
	}
	expectError(t, e.do(alice.token, "POST", "/api/v1/tickets", `{"subject":"x","queue":"nosuchqueue"}`), 404, "not_found")
}
