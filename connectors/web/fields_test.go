package web

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
)

// TestFieldsAPI: admins define fields; tickets carry them on create and
// PATCH; bad values are refused (400) with nothing written; a resolve a
// required field holds up is refused naming it; requesters see only the
// fields marked for them; search by cf.name. On both stores.
func TestFieldsAPI(t *testing.T) {
	for _, s := range []struct {
		name string
		open func(testing.TB) core.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			fieldsAPI(t, newEnv(t, s.open(t)))
		})
	}
}

func fieldsAPI(t *testing.T, e *env) {
	root, alice, carol := e.root.token, e.staff("alice"), e.requester("carol")
	r := e.do(root, "POST", "/api/v1/fields", `{"name":"product","type":"select","values":["VPN","DSL"],"required_for":["resolved"],"requesters":true}`)
	if r.status != 201 {
		t.Fatalf("create field: %d %s", r.status, r.body)
	}
	var f Field
	r.decode(t, &f)
	want := Field{ID: f.ID, Name: "product", Type: "select", Description: "", Values: []string{"VPN", "DSL"},
		RequiredFor: []string{"resolved"}, Queues: []string{}, Requesters: true, Created: f.Created}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("field %+v", f)
	}
	if r := e.do(root, "POST", "/api/v1/fields", `{"name":"size","type":"number","queues":["General"]}`); r.status != 201 {
		t.Fatalf("create size: %d %s", r.status, r.body)
	}
	expectError(t, e.do(root, "POST", "/api/v1/fields", `{"name":"Product","type":"text"}`), 409, "conflict")
	expectError(t, e.do(root, "POST", "/api/v1/fields", `{"name":"x","type":"colour"}`), 400, "invalid")
	expectError(t, e.do(alice.token, "POST", "/api/v1/fields", `{"name":"x","type":"text"}`), 403, "forbidden")
	expectError(t, e.do(root, "PATCH", "/api/v1/fields/nosuch", `{"description":"x"}`), 404, "not_found")
	r = e.do(root, "PATCH", "/api/v1/fields/size", `{"description":"in units"}`)
	if r.status != 200 {
		t.Fatalf("patch field: %d %s", r.status, r.body)
	}
	r.decode(t, &f)
	if f.Description != "in units" || fmt.Sprint(f.Queues) != "[General]" {
		t.Fatalf("patched field %+v", f)
	}
	var list []Field
	e.do(carol.token, "GET", "/api/v1/fields", nil).decode(t, &list)
	if len(list) != 1 || list[0].Name != "product" {
		t.Fatalf("carol lists %+v", list)
	}

	// Create with fields; bad values refused, nothing made.
	r = e.do(carol.token, "POST", "/api/v1/tickets", `{"subject":"vpn down","fields":{"product":"vpn"}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var tk Ticket
	r.decode(t, &tk)
	if fmt.Sprint(tk.Fields) != "map[product:VPN]" {
		t.Fatalf("created ticket's fields %v", tk.Fields)
	}
	ae := expectError(t, e.do(alice.token, "POST", "/api/v1/tickets", `{"subject":"x","fields":{"product":"ISDN"}}`), 400, "invalid")
	if !strings.Contains(ae.Message, `"ISDN" is not a value of product`) {
		t.Fatalf("message %q", ae.Message)
	}
	id := tk.ID
	path := fmt.Sprintf("/api/v1/tickets/%d", id)
	n := e.historyLen(id)
	for body, msg := range map[string]string{
		`{"fields":{"size":"ten"}}`:            `size is a number, not "ten"`,
		`{"fields":{"colour":"red"}}`:          `no field named "colour"`,
		`{"fields":{"product":["VPN","DSL"]}}`: "product holds one value",
		`{"fields":{"size":5}}`:                "a string or an array of strings",
	} {
		r := e.do(alice.token, "PATCH", path, body)
		if r.status != 400 && r.status != 404 {
			t.Fatalf("PATCH %s: %d %s", body, r.status, r.body)
		}
		if ae := r.errorBody(t); !strings.Contains(ae.Message, msg) {
			t.Fatalf("PATCH %s: %q, want %q", body, ae.Message, msg)
		}
	}
	if e.historyLen(id) != n {
		t.Fatal("refused values wrote history")
	}
	r = e.do(alice.token, "PATCH", path, `{"fields":{"size":"12","product":""}}`)
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	tk = Ticket{}
	r.decode(t, &tk)
	if fmt.Sprint(tk.Fields) != "map[size:12]" {
		t.Fatalf("patched ticket's fields %v", tk.Fields)
	}

	// Required before resolved: refused, naming the field, nothing written.
	n, v := e.historyLen(id), e.ticketAsRoot(id).Version
	ae = expectError(t, e.do(alice.token, "POST", path+"/resolve", `{}`), 400, "invalid")
	if !strings.Contains(ae.Message, fmt.Sprintf("set product before resolving #%d", id)) {
		t.Fatalf("resolve refused with %q", ae.Message)
	}
	if e.historyLen(id) != n || e.ticketAsRoot(id).Version != v || e.ticketAsRoot(id).Status == "resolved" {
		t.Fatal("a refused resolve wrote something")
	}
	if r := e.do(alice.token, "PATCH", path, `{"fields":{"product":"DSL"}}`); r.status != 200 {
		t.Fatalf("set product: %d %s", r.status, r.body)
	}
	if r := e.do(alice.token, "POST", path+"/resolve", `{}`); r.status != 200 {
		t.Fatalf("resolve: %d %s", r.status, r.body)
	}

	// carol sees product, not size, on her ticket and in its history.
	tk = Ticket{}
	e.do(carol.token, "GET", path, nil).decode(t, &tk)
	if fmt.Sprint(tk.Fields) != "map[product:DSL]" {
		t.Fatalf("carol sees fields %v", tk.Fields)
	}
	var hist []Transaction
	e.do(carol.token, "GET", path+"/history", nil).decode(t, &hist)
	for _, h := range hist {
		if h.Type == string(core.TxnCustomField) && h.Field != "product" {
			t.Fatalf("carol sees the history of %s", h.Field)
		}
	}
	var page SearchPage
	r = e.do(alice.token, "GET", "/api/v1/tickets?q="+strings.ReplaceAll("cf.product:DSL,VPN cf.size>10 status:any", " ", "+"), nil)
	r.decode(t, &page)
	if r.status != 200 || len(page.Tickets) != 1 || page.Tickets[0].ID != id {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	expectError(t, e.do(alice.token, "GET", "/api/v1/tickets?q=cf.colour:red", nil), 400, "invalid")
}
