package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")

	t.Run("no token", func(t *testing.T) {
		r := e.do("", "GET", "/api/v1/me", nil)
		expectError(t, r, 401, "unauthorized")
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("WWW-Authenticate %q", got)
		}
	})
	t.Run("other scheme", func(t *testing.T) {
		r := e.do("", "GET", "/api/v1/me", nil, "Authorization", "Basic YWxpY2U6eA==")
		expectError(t, r, 401, "unauthorized")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Error("no WWW-Authenticate")
		}
	})
	t.Run("bad token", func(t *testing.T) {
		for _, tok := range []string{"nonsense", engine.TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", alice.token + "x"} {
			r := e.do(tok, "GET", "/api/v1/me", nil)
			expectError(t, r, 401, "unauthorized")
			if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, "invalid_token") {
				t.Errorf("WWW-Authenticate %q", got)
			}
		}
	})
	t.Run("good token", func(t *testing.T) {
		me := must[*User](t)(alice.client.Me(e.ctx))
		if me.Name != "alice" || !me.Privileged || me.ID != alice.ID {
			t.Errorf("me = %+v", me)
		}
		r := e.do(alice.token, "GET", "/api/v1/me", nil, "Authorization", "bearer "+alice.token)
		if r.status != 200 {
			t.Errorf("lower-case scheme: %d %s", r.status, r.body)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		bob := e.staff("bob")
		issued := must[*IssuedToken](t)(bob.client.IssueToken(e.ctx, "", "laptop"))
		c := NewClient(e.srv.URL, issued.Secret, e.srv.Client())
		if _, err := c.Me(e.ctx); err != nil {
			t.Fatal(err)
		}
		toks := must[[]Token](t)(bob.client.Tokens(e.ctx))
		if len(toks) != 2 {
			t.Fatalf("bob has %d tokens, want 2", len(toks))
		}
		if err := bob.client.RevokeToken(e.ctx, issued.Token.ID); err != nil {
			t.Fatal(err)
		}
		_, err := c.Me(e.ctx)
		if ErrorCode(err) != "unauthorized" {
			t.Fatalf("revoked token: %v", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != 401 {
			t.Fatalf("revoked token: %#v", err)
		}
	})
	t.Run("disabled user", func(t *testing.T) {
		carol := e.staff("carol")
		yes := true
		if _, err := e.eng.Admin().UpdateUser(e.ctx, core.RootID, engine.UserInput{Name: "carol", Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		_, err := carol.client.Me(e.ctx)
		if ErrorCode(err) != "unauthorized" {
			t.Fatalf("disabled user: %v", err)
		}
	})
	t.Run("openapi is public", func(t *testing.T) {
		r := e.do("", "GET", "/api/v1/openapi.json", nil)
		if r.status != 200 || !bytes.Equal(r.body, openAPIDoc) {
			t.Fatalf("openapi: %d", r.status)
		}
	})
	t.Run("every other route needs a token", func(t *testing.T) {
		for _, rt := range routes {
			if rt.public {
				continue
			}
			path := strings.NewReplacer("{id}", "1", "{action}", "take", "{role}", "Cc", "{user}", "root",
				"{type}", "refers-to", "{other}", "2", "{attachment}", "1", "{name}", "General").Replace(rt.path)
			r := e.do("", rt.method, path, "{}")
			if r.status != 401 {
				t.Errorf("%s %s without a token: %d", rt.method, path, r.status)
			}
		}
		expectError(t, e.do("", "GET", "/api/v1/secret-admin", nil), 401, "unauthorized")
		expectError(t, e.do("", "PUT", "/api/v1/tickets/1", nil), 401, "unauthorized")
		expectError(t, e.do("", "GET", "/elsewhere", nil), 404, "not_found")
	})
}

// mainFlow is the life of a ticket through the API, run on each store.
func mainFlow(t *testing.T, e *env) {
	alice, bob := e.staff("alice"), e.staff("bob")
	carl := e.requester("carl")
	ac := alice.client

	// A requester opens a ticket with a message.
	created, err := carl.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "VPN drops every hour",
		Content: &Message{Body: "Since Monday the VPN drops at :00."}, Priority: 30})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.Queue != "General" || created.Status != "new" || created.Owner != "Nobody" ||
		created.Priority != 30 || created.Version != 1 || !slices.Equal(created.Requestors, []string{"carl"}) {
		t.Fatalf("created %+v", created)
	}
	if !slices.Contains(created.Actions, "reply") || slices.Contains(created.Actions, "take") {
		t.Errorf("requester's actions: %v", created.Actions)
	}
	id := created.ID

	// Staff find it, take it, answer, resolve; the requester replies and it reopens.
	page := must[*SearchPage](t)(ac.Search(e.ctx, "VPN status:new", 0, 0))
	if len(page.Tickets) != 1 || page.Tickets[0].ID != id || page.Tickets[0].Queue != "General" || page.Next != nil {
		t.Fatalf("search: %+v", page)
	}
	tk := must[*Ticket](t)(ac.Ticket(e.ctx, id))
	if !slices.Contains(tk.Actions, "take") || !slices.Contains(tk.Actions, "comment") {
		t.Errorf("staff actions: %v", tk.Actions)
	}
	tk = must[*Ticket](t)(ac.Take(e.ctx, id, IfMatch(tk)))
	if tk.Owner != "alice" || tk.OwnerID != alice.ID || tk.Version != 2 {
		t.Fatalf("after take: %+v", tk)
	}
	tk = must[*Ticket](t)(ac.Reply(e.ctx, id, Message{Body: "Which client version?"}))
	if tk.Status != "open" && tk.Status != "new" {
		t.Fatalf("after reply: %s", tk.Status)
	}
	if tk.Told == nil {
		t.Error("told not set after a staff reply")
	}
	must[*Ticket](t)(ac.Comment(e.ctx, id, Message{Body: "probably the 5.1 bug"}))
	tk = must[*Ticket](t)(ac.Resolve(e.ctx, id, "fixed by upgrading"))
	if tk.Status != "resolved" || tk.Resolved == nil {
		t.Fatalf("after resolve: %+v", tk.TicketSummary)
	}
	tk = must[*Ticket](t)(carl.client.Reply(e.ctx, id, Message{Body: "still broken"}))
	if tk.Status != "open" {
		t.Fatalf("a requester's reply should reopen: %s", tk.Status)
	}
	// Fields.
	subject, prio := "VPN drops hourly (client 5.1)", 60
	due := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tk = must[*Ticket](t)(ac.UpdateTicket(e.ctx, id, TicketPatch{Subject: &subject, Priority: &prio, Due: PatchTime{Set: true, Time: due}}))
	if tk.Subject != subject || tk.Priority != 60 || tk.Due == nil || !tk.Due.Equal(due) {
		t.Fatalf("after update: %+v", tk.TicketSummary)
	}
	tk = must[*Ticket](t)(ac.UpdateTicket(e.ctx, id, TicketPatch{Due: PatchTime{Set: true}}))
	if tk.Due != nil {
		t.Fatalf("due not cleared: %v", tk.Due)
	}
	// Give to bob; bob records time.
	tk = must[*Ticket](t)(ac.Give(e.ctx, id, "bob"))
	if tk.Owner != "bob" {
		t.Fatalf("after give: %s", tk.Owner)
	}
	tk = must[*Ticket](t)(bob.client.AddTime(e.ctx, id, 25, "debugging"))
	if tk.TimeWorked != 25 {
		t.Fatalf("time worked %d", tk.TimeWorked)
	}
	// History as staff and as the requester.
	hist := must[[]Transaction](t)(ac.History(e.ctx, id))
	types := func(h []Transaction) []string {
		var out []string
		for _, x := range h {
			out = append(out, x.Type)
		}
		return out
	}
	if !slices.Contains(types(hist), "Comment") || !slices.Contains(types(hist), "Correspond") {
		t.Fatalf("staff history: %v", types(hist))
	}
	if hist[0].Type != "Create" || hist[0].Content == nil || *hist[0].Content != "Since Monday the VPN drops at :00." || hist[0].Actor != "carl" {
		t.Fatalf("create entry: %+v", hist[0])
	}
	ch := must[[]Transaction](t)(carl.client.History(e.ctx, id))
	if slices.Contains(types(ch), "Comment") {
		t.Fatalf("requester sees comments: %v", types(ch))
	}
	// Search again, as the requester: only their own.
	page = must[*SearchPage](t)(carl.client.Search(e.ctx, "status:any", 0, 0))
	if len(page.Tickets) != 1 || page.Tickets[0].ID != id {
		t.Fatalf("requester search: %+v", page.Tickets)
	}
}

func TestMainFlowSQLite(t *testing.T) {
	t.Parallel()
	mainFlow(t, newEnv(t, openSQLite(t)))
}

func TestMainFlowPostgres(t *testing.T) {
	t.Parallel()
	mainFlow(t, newEnv(t, openPostgres(t)))
}

func TestCreateAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	e.staff("bob")
	noc := must[*Queue](t)(e.root.client.CreateQueue(e.ctx, QueueRequest{Name: "noc"}))
	due := time.Date(2031, 5, 1, 10, 0, 0, 0, time.UTC)
	r := e.do(alice.token, "POST", "/api/v1/tickets", CreateTicketRequest{
		Queue: "noc", Subject: "core1 down", Requestors: []string{"ops@example.org"}, Cc: []string{"bob"},
		AdminCc: []string{"alice"}, Owner: "alice", Status: "open", Priority: 90, Due: &due, TimeEstimated: 120,
		Content: &Message{Body: "<p>down</p>", ContentType: "text/html"},
	})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var tk Ticket
	r.decode(t, &tk)
	if r.header.Get("Location") != fmt.Sprintf("/api/v1/tickets/%d", tk.ID) {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	if r.header.Get("ETag") != tk.ETag() || tk.ETag() != fmt.Sprintf(`"%d-1"`, tk.ID) {
		t.Errorf("ETag %q, ticket %s", r.header.Get("ETag"), tk.ETag())
	}
	want := Ticket{TicketSummary: TicketSummary{ID: tk.ID, EffectiveID: tk.ID, Queue: "noc", QueueID: noc.ID, Subject: "core1 down",
		Status: "open", Owner: "alice", OwnerID: alice.ID, Priority: 90, TimeEstimated: 120, TimeLeft: 120, Version: 1,
		CreatorID: alice.ID},
		Requestors: []string{"ops@example.org"}, Cc: []string{"bob"}, AdminCc: []string{"alice"}, Links: []TicketLink{}}
	got := tk
	got.Due, got.Created, got.Started, got.LastUpdated, got.Actions = nil, time.Time{}, nil, time.Time{}, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if tk.Due == nil || !tk.Due.Equal(due) || tk.Started == nil || tk.Created.IsZero() || tk.Resolved != nil {
		t.Errorf("times: %+v", tk.TicketSummary)
	}
	// GET answers the same, with the same ETag, and 304 for If-None-Match.
	r = e.do(alice.token, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil)
	var again Ticket
	r.decode(t, &again)
	if r.status != 200 || r.header.Get("ETag") != tk.ETag() || again.Subject != tk.Subject {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if fmt.Sprintf("%+v", again) != fmt.Sprintf("%+v", tk) {
		t.Errorf("the create answered\n%+v\nGET answers\n%+v", tk, again)
	}
	r = e.do(alice.token, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil, "If-None-Match", tk.ETag())
	if r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	// Prefer: return=minimal answers with the number only.
	r = e.do(alice.token, "POST", "/api/v1/tickets", `{"subject":"quick"}`, "Prefer", "return=minimal")
	var ct CreatedTicket
	r.decode(t, &ct)
	if r.status != 201 || ct.ID != tk.ID+1 || ct.Version != 1 || r.header.Get("Preference-Applied") != "return=minimal" ||
		r.header.Get("ETag") != fmt.Sprintf(`"%d-1"`, ct.ID) || strings.Contains(string(r.body), "subject") {
		t.Fatalf("minimal create: %d %v %s", r.status, r.header, r.body)
	}
	if c := must[*CreatedTicket](t)(alice.client.CreateTicketMinimal(e.ctx, CreateTicketRequest{Subject: "quick 2"})); c.ID != ct.ID+1 {
		t.Fatalf("client minimal create: %+v", c)
	}
	// The HTML body is in history as text and as an attachment.
	hist := must[[]Transaction](t)(alice.client.History(e.ctx, tk.ID))
	if hist[0].Content == nil || *hist[0].Content != "<p>down</p>" || hist[0].ContentType != "text/html" ||
		len(hist[0].Attachments) != 1 || hist[0].Attachments[0].ContentType != "text/html" {
		t.Errorf("history: %+v", hist[0])
	}
	a := must[*Attachment](t)(alice.client.Attachment(e.ctx, hist[0].Attachments[0].URL))
	if string(a.Data) != "<p>down</p>" || a.ContentType != "text/html" {
		t.Errorf("body attachment: %+v", a)
	}
}

func TestSearchPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	var ids []int64
	for i := range 7 {
		tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: fmt.Sprintf("printer %d jammed", i)}))
		ids = append(ids, tk.ID)
	}
	must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "unrelated"}))
	var seen []int64
	r := e.do(alice.token, "GET", "/api/v1/tickets?q=printer&limit=3", nil)
	pages := 0
	for {
		if r.status != 200 {
			t.Fatalf("search: %d %s", r.status, r.body)
		}
		var p SearchPage
		r.decode(t, &p)
		pages++
		for _, tk := range p.Tickets {
			seen = append(seen, tk.ID)
		}
		if p.Next == nil {
			break
		}
		if !strings.HasPrefix(*p.Next, "/api/v1/tickets?") || pages > 5 {
			t.Fatalf("next %q", *p.Next)
		}
		r = e.do(alice.token, "GET", *p.Next, nil)
	}
	slices.Sort(seen)
	if pages != 3 || !slices.Equal(seen, ids) {
		t.Fatalf("%d pages, saw %v, want %v", pages, seen, ids)
	}
	// Default order is newest first; the default page size is 50.
	p := must[*SearchPage](t)(alice.client.Search(e.ctx, "", 0, 0))
	if len(p.Tickets) != 8 || p.Tickets[0].ID < p.Tickets[7].ID || p.Next != nil {
		t.Fatalf("default search: %d tickets", len(p.Tickets))
	}
	for _, q := range []string{"limit=0", "limit=x", "offset=-1", fmt.Sprintf("limit=%d", engine.MaxSearchLimit+1), "q=colour:red", "q=%22open"} {
		expectError(t, e.do(alice.token, "GET", "/api/v1/tickets?"+q, nil), 400, "invalid")
	}
	r = e.do(alice.token, "GET", fmt.Sprintf("/api/v1/tickets?limit=%d", engine.MaxSearchLimit), nil)
	if r.status != 200 {
		t.Fatalf("max limit: %d %s", r.status, r.body)
	}
}

func TestEveryAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	e.staff("bob")
	root := e.root.client
	ac := alice.client
	newTicket := func(subject string) *Ticket {
		return must[*Ticket](t)(ac.CreateTicket(e.ctx, CreateTicketRequest{Subject: subject, Requestors: []string{"user@example.org"}}))
	}
	id := newTicket("router flaps").ID
	step := func(name string, check func(*Ticket) bool) func(*Ticket, error) *Ticket {
		return func(tk *Ticket, err error) *Ticket {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !check(tk) {
				t.Fatalf("%s: %+v", name, tk)
			}
			return tk
		}
	}
	step("take", func(x *Ticket) bool { return x.Owner == "alice" })(ac.Take(e.ctx, id))
	step("untake", func(x *Ticket) bool { return x.Owner == "Nobody" })(ac.Untake(e.ctx, id))
	step("give", func(x *Ticket) bool { return x.Owner == "bob" })(ac.Give(e.ctx, id, "bob"))
	step("steal", func(x *Ticket) bool { return x.Owner == "root" })(root.Steal(e.ctx, id))
	for _, s := range []struct{ verb, status string }{{"open", "open"}, {"stall", "stalled"}, {"resolve", "resolved"},
		{"reopen", "open"}, {"reject", "rejected"}, {"reopen", "open"}, {"delete", "deleted"}, {"reopen", "open"}} {
		step(s.verb, func(x *Ticket) bool { return x.Status == s.status })(
			root.Transition(e.ctx, id, s.verb, StatusRequest{Note: "because " + s.verb}))
	}
	step("reply", func(x *Ticket) bool { return x.Told != nil })(ac.Reply(e.ctx, id, Message{Body: "on it"}))
	step("comment", func(x *Ticket) bool { return true })(ac.Comment(e.ctx, id, Message{Body: "internal"}))
	step("watchers add", func(x *Ticket) bool { return slices.Equal(x.Cc, []string{"bob"}) })(ac.AddWatcher(e.ctx, id, "cc", "bob"))
	step("watchers remove", func(x *Ticket) bool { return len(x.Cc) == 0 })(ac.RemoveWatcher(e.ctx, id, "Cc", "bob"))
	other := newTicket("upstream outage")
	step("links add", func(x *Ticket) bool { return slices.Equal(x.Links, []TicketLink{{"depends-on", other.ID}}) })(
		ac.AddLink(e.ctx, id, "depends-on", other.ID))
	back := must[*Ticket](t)(ac.Ticket(e.ctx, other.ID))
	if !slices.Equal(back.Links, []TicketLink{{"depended-on-by", id}}) {
		t.Errorf("link from the other side: %+v", back.Links)
	}
	// Resolving with an open dependency is a conflict, unless forced.
	_, err := root.Resolve(e.ctx, id, "")
	if ErrorCode(err) != "conflict" {
		t.Fatalf("resolve with open dependency: %v", err)
	}
	step("resolve force", func(x *Ticket) bool { return x.Status == "resolved" })(
		root.Transition(e.ctx, id, "resolve", StatusRequest{Force: true}))
	step("reopen", func(x *Ticket) bool { return x.Status == "open" })(root.Transition(e.ctx, id, "reopen", StatusRequest{}))
	step("links remove", func(x *Ticket) bool { return len(x.Links) == 0 })(ac.RemoveLink(e.ctx, id, "depends-on", other.ID))
	step("time", func(x *Ticket) bool { return x.TimeWorked == 15 })(ac.AddTime(e.ctx, id, 15, ""))
	dup := newTicket("router flaps again")
	step("merge", func(x *Ticket) bool { return x.ID == id })(ac.Merge(e.ctx, dup.ID, id))
	// The merged number leads to the surviving ticket.
	via := must[*Ticket](t)(ac.Ticket(e.ctx, dup.ID))
	if via.ID != id {
		t.Fatalf("merged ticket reads as %d", via.ID)
	}
	// Every action shows up in history.
	hist := must[[]Transaction](t)(ac.History(e.ctx, id))
	var types []string
	for _, x := range hist {
		if !slices.Contains(types, x.Type) {
			types = append(types, x.Type)
		}
	}
	for _, want := range []string{"Create", "Take", "Untake", "Give", "Steal", "Status", "Correspond", "Comment",
		"AddWatcher", "DelWatcher", "AddLink", "DeleteLink", "TimeWorked", "Merge"} {
		if !slices.Contains(types, want) {
			t.Errorf("history lacks %s: %v", want, types)
		}
	}
	// Owner and watcher changes name the users, not only their ids.
	var named []string
	for _, x := range hist {
		if x.Type == "Give" || x.Type == "Steal" || x.Type == "AddWatcher" {
			named = append(named, x.Type+" "+x.OldName+">"+x.NewName)
		}
	}
	if want := []string{"Give Nobody>bob", "Steal bob>root", "AddWatcher >bob"}; !slices.Equal(named, want) {
		t.Errorf("named history %q, want %q", named, want)
	}
	// Every action in the table was exercised above.
	r := e.do(alice.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/frobnicate", id), nil)
	ae := expectError(t, r, 404, "not_found")
	for _, name := range actionNames() {
		if !strings.Contains(ae.Message, name) {
			t.Errorf("unknown action message %q does not list %s", ae.Message, name)
		}
	}
}

func TestActionsOffered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice, bob := e.staff("alice"), e.staff("bob")
	tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "x"}))
	want := []string{"take", "give", "open", "stall", "resolve", "reject", "reply", "comment", "watchers", "links", "merge", "time", "update"}
	if !slices.Equal(tk.Actions, want) {
		t.Errorf("staff on new unowned: %v\nwant %v", tk.Actions, want)
	}
	tk = must[*Ticket](t)(alice.client.Take(e.ctx, tk.ID))
	if !slices.Contains(tk.Actions, "untake") || slices.Contains(tk.Actions, "take") || slices.Contains(tk.Actions, "steal") {
		t.Errorf("owner: %v", tk.Actions)
	}
	tk = must[*Ticket](t)(bob.client.Ticket(e.ctx, tk.ID))
	if slices.Contains(tk.Actions, "untake") || slices.Contains(tk.Actions, "steal") {
		t.Errorf("other staff without StealTicket: %v", tk.Actions)
	}
	tk = must[*Ticket](t)(e.root.client.Ticket(e.ctx, tk.ID))
	if !slices.Contains(tk.Actions, "steal") || !slices.Contains(tk.Actions, "delete") {
		t.Errorf("root: %v", tk.Actions)
	}
	// Each offered action is one the engine accepts (spot check).
	if _, err := bob.client.Steal(e.ctx, tk.ID); ErrorCode(err) != "forbidden" {
		t.Errorf("bob steals: %v", err)
	}
}

func TestAttachmentRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	carl := e.requester("carl")
	tk := must[*Ticket](t)(carl.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "logs attached"}))
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i*7 + i/256)
	}
	copy(data, "\x00\xff\xfe binary \r\n\x00")
	name := "trace été 2024.pcap"
	must[*Ticket](t)(alice.client.Reply(e.ctx, tk.ID, Message{Body: "see the capture", Attachments: []Upload{
		{Filename: name, ContentType: "application/vnd.tcpdump.pcap", DataBase64: base64.StdEncoding.EncodeToString(data)},
	}}))
	must[*Ticket](t)(alice.client.Comment(e.ctx, tk.ID, Message{Body: "secret notes", Attachments: []Upload{
		{Filename: "notes.txt", DataBase64: base64.StdEncoding.EncodeToString([]byte("internal"))},
	}}))
	hist := must[[]Transaction](t)(carl.client.History(e.ctx, tk.ID))
	var file AttachmentInfo
	for _, x := range hist {
		if x.Type == "Comment" {
			t.Fatal("requester sees the comment")
		}
		for _, a := range x.Attachments {
			if a.Filename == name {
				file = a
			}
		}
	}
	if file.ID == 0 || file.Size != int64(len(data)) || file.ContentType != "application/vnd.tcpdump.pcap" {
		t.Fatalf("attachment in history: %+v", file)
	}
	got := must[*Attachment](t)(carl.client.Attachment(e.ctx, file.URL))
	if !bytes.Equal(got.Data, data) || got.Filename != name || got.ContentType != "application/vnd.tcpdump.pcap" {
		t.Fatalf("downloaded %d bytes named %q (%s)", len(got.Data), got.Filename, got.ContentType)
	}
	r := e.do(carl.token, "GET", file.URL, nil)
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	// The comment's attachment is there for staff, not for the requester.
	var secret AttachmentInfo
	for _, x := range must[[]Transaction](t)(alice.client.History(e.ctx, tk.ID)) {
		for _, a := range x.Attachments {
			if a.Filename == "notes.txt" {
				secret = a
			}
		}
	}
	if a := must[*Attachment](t)(alice.client.Attachment(e.ctx, secret.URL)); string(a.Data) != "internal" {
		t.Fatalf("staff reads %q", a.Data)
	}
	expectError(t, e.do(carl.token, "GET", secret.URL, nil), 404, "not_found")
	// Another ticket's attachment is not found through this ticket.
	other := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "other"}))
	expectError(t, e.do(alice.token, "GET", fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", other.ID, file.ID), nil), 404, "not_found")
	// Bad base64 changes nothing.
	before := e.historyLen(tk.ID)
	r = e.do(alice.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/reply", tk.ID),
		`{"body":"x","attachments":[{"filename":"a","data_base64":"!!!"}]}`)
	expectError(t, r, 400, "invalid")
	if e.historyLen(tk.ID) != before {
		t.Fatal("bad base64 wrote history")
	}
}

func TestRequesterIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	carl, dora := e.requester("carl"), e.requester("dora")
	alice := e.staff("alice")
	mine := must[*Ticket](t)(carl.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "carl's"}))
	hers := must[*Ticket](t)(dora.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "dora's"}))
	must[*Ticket](t)(alice.client.Comment(e.ctx, mine.ID, Message{Body: "carl is on the old client"}))

	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/v1/tickets/%d", ""}, {"GET", "/api/v1/tickets/%d/history", ""},
		{"POST", "/api/v1/tickets/%d/reply", `{"body":"hello"}`}, {"PATCH", "/api/v1/tickets/%d", `{"priority":1}`},
		{"POST", "/api/v1/tickets/%d/resolve", ""}, {"GET", "/api/v1/tickets/%d/attachments/1", ""},
	} {
		var body any
		if req.body != "" {
			body = req.body
		}
		expectError(t, e.do(carl.token, req.method, fmt.Sprintf(req.path, hers.ID), body), 404, "not_found")
	}
	p := must[*SearchPage](t)(carl.client.Search(e.ctx, "status:any", 0, 0))
	if len(p.Tickets) != 1 || p.Tickets[0].ID != mine.ID {
		t.Fatalf("carl's search: %+v", p.Tickets)
	}
	if p := must[*SearchPage](t)(carl.client.Search(e.ctx, fmt.Sprintf("id:%d", hers.ID), 0, 0)); len(p.Tickets) != 0 {
		t.Fatalf("carl finds dora's ticket by id")
	}
	// His own history has no comments.
	for _, x := range must[[]Transaction](t)(carl.client.History(e.ctx, mine.ID)) {
		if x.Type == "Comment" || (x.Content != nil && strings.Contains(*x.Content, "old client")) {
			t.Fatalf("requester sees %+v", x)
		}
	}
	// A requester may not look up staff: names fall back to ids.
	expectError(t, e.do(carl.token, "GET", "/api/v1/users/alice", nil), 404, "not_found")
	expectError(t, e.do(carl.token, "GET", "/api/v1/users", nil), 403, "forbidden")
	// ... and may not do staff things on his own ticket.
	expectError(t, e.do(carl.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/take", mine.ID), nil), 403, "forbidden")
	expectError(t, e.do(carl.token, "POST", fmt.Sprintf("/api/v1/tickets/%d/comment", mine.ID), `{"body":"x"}`), 403, "forbidden")
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice, bob := e.staff("alice"), e.staff("bob")
	tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "shared", Priority: 10}))

	t.Run("patch: one wins", func(t *testing.T) {
		a := must[*Ticket](t)(alice.client.Ticket(e.ctx, tk.ID))
		b := must[*Ticket](t)(bob.client.Ticket(e.ctx, tk.ID))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []*person{alice, bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				prio := 20 + i
				read := []*Ticket{a, b}[i]
				_, errs[i] = p.client.UpdateTicket(e.ctx, tk.ID, TicketPatch{Priority: &prio}, IfMatch(read))
			}()
		}
		wg.Wait()
		var won, lost int
		for i, err := range errs {
			switch ErrorCode(err) {
			case "":
				won = i
			case CodePreconditionFailed:
				lost++
			default:
				t.Fatalf("client %d: %v", i, err)
			}
		}
		if lost != 1 {
			t.Fatalf("errors %v: want exactly one 412", errs)
		}
		now := e.ticketAsRoot(tk.ID)
		if now.Priority != 20+won || now.Version != a.Version+1 {
			t.Fatalf("priority %d version %d: the loser changed something", now.Priority, now.Version)
		}
	})
	t.Run("action with a stale ETag", func(t *testing.T) {
		stale := must[*Ticket](t)(alice.client.Ticket(e.ctx, tk.ID))
		must[*Ticket](t)(bob.client.Comment(e.ctx, tk.ID, Message{Body: "bump"}))
		before := e.historyLen(tk.ID)
		_, err := alice.client.Take(e.ctx, tk.ID, IfMatch(stale))
		if ErrorCode(err) != CodePreconditionFailed {
			t.Fatalf("take with stale ETag: %v", err)
		}
		if now := e.ticketAsRoot(tk.ID); now.OwnerID != core.NobodyID || e.historyLen(tk.ID) != before {
			t.Fatal("the refused take changed the ticket")
		}
		fresh := must[*Ticket](t)(alice.client.Ticket(e.ctx, tk.ID))
		must[*Ticket](t)(alice.client.Take(e.ctx, tk.ID, IfMatch(fresh)))
	})
	t.Run("forms of If-Match", func(t *testing.T) {
		cur := must[*Ticket](t)(alice.client.Ticket(e.ctx, tk.ID))
		path := fmt.Sprintf("/api/v1/tickets/%d", tk.ID)
		for _, c := range []struct {
			header string
			status int
		}{
			{`"1-1"`, 412}, {"W/" + cur.ETag(), 412}, {"garbage", 412}, {fmt.Sprintf(`"%d-%d"`, tk.ID, cur.Version+1), 412},
			{`"1-1", ` + cur.ETag(), 200}, {"*", 200},
		} {
			r := e.do(alice.token, "PATCH", path, `{"time_left":5}`, "If-Match", c.header)
			if r.status != c.status {
				t.Errorf("If-Match %s: %d %s", c.header, r.status, r.body)
			}
			if r.status == 412 {
				expectError(t, r, 412, CodePreconditionFailed)
				if r.header.Get("ETag") != cur.ETag() {
					t.Errorf("412 without the current ETag: %q", r.header.Get("ETag"))
				}
			}
		}
		// The ETag of a merged ticket is that of the ticket it leads to.
		dup := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "dup"}))
		merged := must[*Ticket](t)(alice.client.Merge(e.ctx, dup.ID, tk.ID))
		r := e.do(alice.token, "GET", fmt.Sprintf("/api/v1/tickets/%d", dup.ID), nil)
		if r.header.Get("ETag") != merged.ETag() {
			t.Errorf("merged ETag %q, want %q", r.header.Get("ETag"), merged.ETag())
		}
		r = e.do(alice.token, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", dup.ID), `{"priority":3}`, "If-Match", dup.ETag())
		expectError(t, r, 412, CodePreconditionFailed)
		r = e.do(alice.token, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", dup.ID), `{"priority":3}`, "If-Match", merged.ETag())
		if r.status != 200 {
			t.Errorf("PATCH through merged number: %d %s", r.status, r.body)
		}
	})
}

func TestObserve(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	tk := must[*Ticket](t)(alice.client.CreateTicket(e.ctx, CreateTicketRequest{Subject: "x"}))
	must[*Ticket](t)(alice.client.Take(e.ctx, tk.ID))
	e.do("", "GET", "/api/v1/me", nil)
	e.do(alice.token, "GET", "/nowhere", nil)
	e.do(alice.token, "DELETE", "/api/v1/me", nil)
	e.mu.Lock()
	got := slices.Clone(e.observed)
	e.mu.Unlock()
	for _, want := range []string{"POST /api/v1/tickets 201", "POST /api/v1/tickets/{id}/{action} 200",
		"GET /api/v1/me 401", "unmatched 404", "unmatched 405"} {
		if !slices.Contains(got, want) {
			t.Errorf("observed %v, want %q among them", got, want)
		}
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	expectError(t, e.do(alice.token, "GET", "/api/v1/nothing", nil), 404, "not_found")
	expectError(t, e.do(alice.token, "GET", "/", nil), 404, "not_found")
	expectError(t, e.do(alice.token, "GET", "/api/v1/tickets/abc", nil), 404, "not_found")
	expectError(t, e.do(alice.token, "GET", "/api/v1/tickets/999", nil), 404, "not_found")
	r := e.do(alice.token, "PUT", "/api/v1/tickets/1", "{}")
	expectError(t, r, 405, CodeMethodNotAllowed)
	if allow := r.header.Get("Allow"); allow != "GET, PATCH, HEAD" {
		t.Errorf("Allow %q", allow)
	}
	r = e.do(alice.token, "GET", "/api/v1/tickets/1/take", nil)
	expectError(t, r, 405, CodeMethodNotAllowed)
	if allow := r.header.Get("Allow"); allow != "POST" {
		t.Errorf("Allow %q", allow)
	}
}
