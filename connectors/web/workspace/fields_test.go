package workspace_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ticketd/ticketd/connectors/web/webtest"
	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

// defineFields defines, as root, the fields the tests use: product (one of
// a list, required before resolved, shown to requesters), tags (several
// of a list), size (number), since (date), contact (user) and internal
// (text, staff only).
func (e *env) defineFields() {
	e.t.Helper()
	list := func(vs ...string) *[]string { return &vs }
	yes := true
	for _, in := range []engine.FieldInput{
		{Name: "product", Type: "select", Values: list("VPN", "DSL", "Fiber"), RequiredFor: list("resolved"), Requesters: &yes},
		{Name: "tags", Type: "multi", Values: list("urgent", "vip", "outage")},
		{Name: "size", Type: "number"},
		{Name: "since", Type: "date"},
		{Name: "contact", Type: "user"},
		{Name: "internal", Type: "text"},
	} {
		if _, err := e.eng.Admin().CreateField(e.ctx, core.RootID, in); err != nil {
			e.t.Fatal(err)
		}
	}
}

// fieldValues are a ticket's field values as root sees them: name to
// values.
func (e *env) fieldValues(id int64) map[string]string {
	e.t.Helper()
	info, err := e.eng.Show(e.ctx, core.RootID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range info.Fields {
		if len(f.Values) > 0 {
			out[f.Field.Name] = strings.Join(f.Values, ", ")
		}
	}
	return out
}

// submitValues posts a form with several values per name, with the page's
// CSRF token, and follows the redirect.
func (b *browser) submitValues(path string, f url.Values) *browser {
	b.e.t.Helper()
	if m := csrfRE.FindStringSubmatch(b.body); m != nil && !f.Has("csrf") {
		f.Set("csrf", m[1])
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// On the ticket page an engineer sets and clears each kind of field; a bad
// value is refused with the engine's words and writes nothing; resolving
// without the required product is refused, naming it; the history says
// what changed. The requester sees only the fields shown to requesters
// and cannot post to the field form; a forged post changes nothing.
func TestWorkspaceTicketFields(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.defineFields()
		e.user("alice", true)
		e.user("bob", true)
		carol := e.user("carol", false)
		tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops", Content: &core.Content{Body: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		id := tk.ID
		path := "/tickets/" + strconv.FormatInt(id, 10)
		done := path + "?done=field"

		a := e.browser().signIn("alice")
		a.get(path).want(http.StatusOK, path, `<dt>product</dt><dd id="field-product"><span class="muted">(none)</span></dd>`,
			`action="`+path+`/field"`, `<select name="value" id="cf-product">`, `<option>Fiber</option>`,
			`type="checkbox" name="value" value="outage"`, `type="number" step="any" name="value" id="cf-size"`,
			`type="date" name="value" id="cf-since"`, `id="cf-contact" value="" list="cf-users"`, `<datalist id="cf-users">`,
			`<option value="carol">`, `id="cf-internal"`)

		// Resolving is refused until product is set.
		a.submit(path+"/resolve").want(http.StatusBadRequest, path+"/resolve", "set product before resolving #"+strconv.FormatInt(id, 10))
		if info, _ := e.eng.Show(e.ctx, core.RootID, id); info.Ticket.Status == "resolved" {
			t.Fatal("the ticket was resolved without its product")
		}

		a.get(path).submit(path+"/field", "field", "product", "value", "VPN").want(http.StatusOK, done, "The field is changed.",
			`<dd id="field-product">VPN</dd>`, "changed product: (none) → VPN", `<option selected>VPN</option>`)
		a.submitValues(path+"/field", url.Values{"field": {"tags"}, "value": {"vip", "outage"}}).want(http.StatusOK, done,
			`<dd id="field-tags">outage, vip</dd>`, "changed tags: (none) → outage, vip", `value="vip" checked`)
		a.submit(path+"/field", "field", "size", "value", "42.5").want(http.StatusOK, done, `<dd id="field-size">42.5</dd>`, `value="42.5"`)
		a.submit(path+"/field", "field", "since", "value", "2026-11-30").want(http.StatusOK, done, `<dd id="field-since">2026-11-30</dd>`)
		a.submit(path+"/field", "field", "contact", "value", "bob").want(http.StatusOK, done, `<dd id="field-contact">bob</dd>`,
			"changed contact: (none) → bob")
		a.submit(path+"/field", "field", "internal", "value", "rekey timer").want(http.StatusOK, done, `<dd id="field-internal">rekey timer</dd>`)
		want := map[string]string{"product": "VPN", "tags": "outage, vip", "size": "42.5", "since": "2026-11-30", "contact": "bob", "internal": "rekey timer"}
		if got := e.fieldValues(id); !mapsEqual(got, want) {
			t.Fatalf("the values after setting them: %v, want %v", got, want)
		}

		// Bad values: the engine's message, nothing written.
		n := e.historyLen(id)
		for _, c := range []struct{ field, value, says string }{
			{"size", "a lot", "size is a number, not &#34;a lot&#34;"},
			{"product", "ISDN", "&#34;ISDN&#34; is not a value of product; it can be: VPN, DSL, Fiber"},
			{"tags", "vip,nosuch", "&#34;nosuch&#34; is not a value of tags"},
			{"since", "yesterday", "since is a date"},
			{"contact", "nobody-here", "contact names a user: there is no user &#34;nobody-here&#34;"},
			{"nosuch", "x", "no field named &#34;nosuch&#34;"},
		} {
			a.get(path).submit(path+"/field", "field", c.field, "value", c.value)
			if a.code != http.StatusBadRequest && a.code != http.StatusNotFound || !strings.Contains(a.body, c.says) {
				t.Fatalf("%s=%s: got %d, want the refusal %q:\n%s", c.field, c.value, a.code, c.says, a.body)
			}
		}
		if got := e.fieldValues(id); !mapsEqual(got, want) || e.historyLen(id) != n {
			t.Fatalf("refused values changed the ticket: %v (history %d rows, was %d)", got, e.historyLen(id), n)
		}

		// Clear: the button, an empty input, no box checked.
		a.get(path).submit(path+"/field", "field", "product", "value", "VPN", "clear", "1").want(http.StatusOK, done,
			`<dd id="field-product"><span class="muted">(none)</span></dd>`, "changed product: VPN → (none)")
		a.submit(path+"/field", "field", "size", "value", "").want(http.StatusOK, done, "changed size: 42.5 → (none)")
		a.submitValues(path+"/field", url.Values{"field": {"tags"}}).want(http.StatusOK, done, "changed tags: outage, vip → (none)")
		if got := e.fieldValues(id); got["product"] != "" || got["size"] != "" || got["tags"] != "" {
			t.Fatalf("the values after clearing: %v", got)
		}
		a.submit(path+"/resolve").want(http.StatusBadRequest, path+"/resolve", "set product before resolving")
		a.get(path).submit(path+"/field", "field", "product", "value", "dsl").want(http.StatusOK, done, `<dd id="field-product">DSL</dd>`)
		a.submit(path+"/resolve").want(http.StatusOK, path+"?done=resolve", `<dd id="status">resolved</dd>`)

		// The requester sees product, not the staff-only fields, nor their
		// history, and no form.
		c := e.browser().signIn("carol")
		c.get(path).want(http.StatusOK, path, `<dd id="field-product">DSL</dd>`, "changed product: (none) → VPN")
		c.lacks("internal", "rekey timer", "field-tags", "contact", `action="`+path+`/field"`, `id="cf-product"`)
		n = e.historyLen(id)
		for _, field := range []string{"product", "internal"} {
			c.get(path).submit(path+"/field", "field", field, "value", "VPN")
			if c.code != http.StatusForbidden && c.code != http.StatusNotFound {
				t.Fatalf("the requester's post to %s: %d", field, c.code)
			}
		}
		if got := e.fieldValues(id); got["product"] != "DSL" || got["internal"] != "rekey timer" || e.historyLen(id) != n {
			t.Fatalf("the requester's posts changed the ticket: %v", got)
		}

		// A forged post (wrong token) is refused.
		if code, _ := a.get(path).postForm(path+"/field", url.Values{"csrf": {"forged"}, "field": {"product"}, "value": {"Fiber"}}); code != http.StatusForbidden {
			t.Fatalf("a forged field post: %d", code)
		}
		if got := e.fieldValues(id); got["product"] != "DSL" {
			t.Fatalf("a forged post set product to %q", got["product"])
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The new ticket form offers the fields a person may set, with their
// queues named: a queue whose field is required on creation is filled in
// there; without it the ticket is refused, naming the field, and nothing
// is created. Requesters are offered only the fields shown to them.
func TestWorkspaceNewTicketFields(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.defineFields()
		q, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "Network"})
		if err != nil {
			t.Fatal(err)
		}
		queues, required := []string{"Network"}, []string{"new"}
		if _, err := e.eng.Admin().CreateField(e.ctx, core.RootID, engine.FieldInput{Name: "circuit", Type: "text",
			Queues: &queues, RequiredFor: &required}); err != nil {
			t.Fatal(err)
		}
		alice := e.user("alice", true)
		e.user("carol", false)
		qid := strconv.FormatInt(q.ID, 10)
		count := func() int {
			res, err := e.eng.Search(e.ctx, core.RootID, "status:any", 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			return len(res.Tickets)
		}

		a := e.browser().signIn("alice")
		a.get("/new").want(http.StatusOK, "/new", `<legend>Fields`, `<label>circuit (Network)`, `name="cf.circuit" id="cf-circuit"`,
			`<select name="cf.product" id="cf-product">`, `name="cf.tags" value="vip"`, `name="cf.internal"`)
		a.submitValues("/new", url.Values{"queue": {qid}, "subject": {"Line down"}, "cf.product": {"VPN"}, "cf.circuit": {""}}).
			want(http.StatusBadRequest, "/new", "a new ticket in Network needs circuit: give a value when opening it", `<option selected>VPN</option>`, `value="Line down"`)
		if n := count(); n != 0 {
			t.Fatalf("a refused ticket was created: %d tickets", n)
		}
		a.submitValues("/new", url.Values{"queue": {qid}, "subject": {"Line down"}, "cf.product": {"VPN"}, "cf.circuit": {"C-1234"},
			"cf.tags": {"vip", "urgent"}, "cf.size": {""}})
		if a.code != http.StatusOK || !strings.HasPrefix(a.url, "/tickets/") {
			t.Fatalf("creating with the fields: %d at %s:\n%s", a.code, a.url, a.body)
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(a.url, "/tickets/"), 10, 64)
		if got, want := e.fieldValues(id), map[string]string{"product": "VPN", "circuit": "C-1234", "tags": "urgent, vip"}; !mapsEqual(got, want) {
			t.Fatalf("the new ticket's fields: %v, want %v", got, want)
		}
		// A field of another queue filled in for General is refused.
		a.get("/new").submitValues("/new", url.Values{"queue": {"1"}, "subject": {"Other"}, "cf.circuit": {"C-9"}}).
			want(http.StatusBadRequest, "/new", "field circuit is not used in queue General")
		a.get("/new").submitValues("/new", url.Values{"queue": {"1"}, "subject": {"Bad size"}, "cf.size": {"big"}}).
			want(http.StatusBadRequest, "/new", "size is a number")
		if n := count(); n != 1 {
			t.Fatalf("%d tickets after the refusals, want 1", n)
		}

		c := e.browser().signIn("carol")
		c.get("/new").want(http.StatusOK, "/new", `name="cf.product"`)
		c.lacks("cf.internal", "cf.tags", "cf.contact")
		c.submitValues("/new", url.Values{"queue": {"1"}, "subject": {"Mine"}, "cf.product": {"Fiber"}})
		if c.code != http.StatusOK || !strings.HasPrefix(c.url, "/tickets/") {
			t.Fatalf("the requester creating with product: %d at %s", c.code, c.url)
		}
		id, _ = strconv.ParseInt(strings.TrimPrefix(c.url, "/tickets/"), 10, 64)
		if got := e.fieldValues(id); got["product"] != "Fiber" {
			t.Fatalf("the requester's ticket's fields: %v", got)
		}
		_ = alice
	})
}

// An admin defines and changes fields from /admin/fields; refusals say the
// engine's words and change nothing; staff without the right, requesters
// and forged posts get 403.
func TestAdminFieldsPage(t *testing.T) {
	forStores(t, func(t *testing.T, e *env) {
		e.superUser("ada")
		e.user("alice", true)
		e.user("carol", false)
		if _, err := e.eng.Admin().CreateQueue(e.ctx, core.RootID, engine.QueueInput{Name: "Network"}); err != nil {
			t.Fatal(err)
		}
		fields := func() map[string]*core.Field {
			fs, err := e.eng.Fields(e.ctx, core.RootID)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]*core.Field{}
			for _, f := range fs {
				out[f.Name] = f
			}
			return out
		}

		ada := e.browser().signInWithTOTP("ada")
		ada.get("/admin").want(http.StatusOK, "/admin", `href="/admin/fields"`)
		ada.get("/admin/fields").want(http.StatusOK, "/admin/fields", "No custom fields.", `id="new-field"`, `<option>multi</option>`,
			`name="queues" value="Network"`)
		ada.submitValues("/admin/fields", url.Values{"name": {"product"}, "type": {"select"}, "description": {"What broke"},
			"values": {"VPN\r\nDSL\r\n"}, "required": {"resolved, rejected"}, "queues": {"Network"}, "requesters": {"1"}}).
			want(http.StatusOK, "/admin/fields/product?done=field-created", "The field is created.", `id="field-settings"`,
				`value="What broke"`, "VPN\nDSL</textarea>", `value="resolved, rejected"`, `value="Network" checked`)
		f := fields()["product"]
		if f == nil || f.Type != core.FieldSelect || !slices.Equal(f.Values, []string{"VPN", "DSL"}) ||
			!slices.Equal(f.RequiredFor, []string{"resolved", "rejected"}) || len(f.QueueIDs) != 1 || !f.Requesters || f.Disabled {
			t.Fatalf("the field created: %+v", f)
		}
		ada.get("/admin/fields").want(http.StatusOK, "/admin/fields", `<a href="/admin/fields/product">product</a>`, "VPN, DSL", "resolved, rejected")

		// Refusals: nothing created.
		for _, c := range []struct {
			form url.Values
			code int
			says string
		}{
			{url.Values{"name": {"kind"}, "type": {"select"}}, http.StatusBadRequest, "a select field needs a list of values"},
			{url.Values{"name": {"product"}, "type": {"text"}}, http.StatusConflict, "a field named &#34;product&#34; already exists"},
			{url.Values{"name": {"two words"}, "type": {"text"}}, http.StatusBadRequest, "must be one word"},
			{url.Values{"name": {"size"}, "type": {"number"}, "values": {"1\n2"}}, http.StatusBadRequest, "only select and multi fields have a list"},
			{url.Values{"name": {"x"}, "type": {"colour"}}, http.StatusBadRequest, "a field&#39;s type is one of"},
		} {
			ada.get("/admin/fields").submitValues("/admin/fields", c.form)
			if ada.code != c.code || !strings.Contains(ada.body, c.says) {
				t.Fatalf("creating %v: %d, want %d saying %q:\n%s", c.form, ada.code, c.code, c.says, ada.body)
			}
			if !strings.Contains(ada.body, `value="`+c.form.Get("name")+`"`) {
				t.Fatalf("the refused form lost its name %q", c.form.Get("name"))
			}
		}
		if n := len(fields()); n != 1 {
			t.Fatalf("%d fields after the refusals, want 1", n)
		}

		// Edit.
		ada.get("/admin/fields/product").submitValues("/admin/fields/product", url.Values{"description": {"Which product"},
			"values": {"VPN\nDSL\nFiber"}, "required": {"resolved"}, "disabled": {"1"}}).
			want(http.StatusOK, "/admin/fields/product?done=field-saved", "The field is saved.", "VPN\nDSL\nFiber</textarea>")
		f = fields()["product"]
		if f.Description != "Which product" || !slices.Equal(f.Values, []string{"VPN", "DSL", "Fiber"}) || len(f.QueueIDs) != 0 ||
			f.Requesters || !f.Disabled || !slices.Equal(f.RequiredFor, []string{"resolved"}) {
			t.Fatalf("the field saved: %+v", f)
		}
		ada.get("/admin/fields").want(http.StatusOK, "/admin/fields", "every queue", "disabled")
		for _, c := range []struct {
			form url.Values
			says string
		}{
			{url.Values{"values": {"VPN\nvpn"}}, "the value &#34;vpn&#34; is listed twice"},
			{url.Values{"values": {"VPN"}, "queues": {"Nowhere"}}, "Nowhere"},
			{url.Values{"values": {"a,b"}}, "without commas"},
		} {
			ada.get("/admin/fields/product").submitValues("/admin/fields/product", c.form)
			if ada.code != http.StatusBadRequest && ada.code != http.StatusNotFound || !strings.Contains(ada.body, c.says) {
				t.Fatalf("saving %v: %d, want a refusal saying %q:\n%s", c.form, ada.code, c.says, ada.body)
			}
		}
		if g := fields()["product"]; g.Description != "Which product" || !slices.Equal(g.Values, []string{"VPN", "DSL", "Fiber"}) || !g.Disabled {
			t.Fatalf("refused edits changed the field: %+v", g)
		}
		ada.get("/admin/fields/nosuch").want(http.StatusNotFound, "/admin/fields/nosuch", "no field named nosuch")

		// A forged post.
		if code, _ := ada.get("/admin/fields").postForm("/admin/fields", url.Values{"csrf": {"forged"}, "name": {"forged"}, "type": {"text"}}); code != http.StatusForbidden {
			t.Fatalf("a forged create: %d", code)
		}
		// Staff without an admin right, and requesters.
		for _, who := range []string{"alice", "carol"} {
			b := e.browser().signIn(who)
			b.get("/admin/fields").want(http.StatusForbidden, "/admin/fields", "Not allowed")
			if code, _ := b.get("/").postForm("/admin/fields", url.Values{"name": {"mine"}, "type": {"text"}}); code != http.StatusForbidden {
				t.Fatalf("%s creating a field: %d", who, code)
			}
			if code, _ := b.get("/").postForm("/admin/fields/product", url.Values{"description": {"mine"}, "values": {"VPN"}}); code != http.StatusForbidden {
				t.Fatalf("%s changing a field: %d", who, code)
			}
		}
		if fs := fields(); len(fs) != 1 || fs["product"].Description != "Which product" {
			t.Fatalf("refused posts changed the fields: %v", fs)
		}
	})
}

// In Chromium, an engineer cannot resolve a ticket without its product
// (the page says so), picks the product from its list, and resolves it.
func TestBrowserFieldResolve(t *testing.T) {
	ctx := webtest.Chrome(t)
	e := newEnv(t, openSQLite(t))
	e.defineFields()
	e.user("alice", true)
	carol := e.user("carol", false)
	tk, err := e.eng.Create(e.ctx, carol.ID, engine.CreateInput{Queue: "General", Subject: "VPN drops", Content: &core.Content{Body: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, e.srv.URL, "alice")
	webtest.Do(t, ctx, chromedp.Navigate(e.srv.URL+"/tickets/"+strconv.FormatInt(tk.ID, 10)), chromedp.WaitVisible(chromedp.CSS(`#facts`)))
	webtest.Submit(t, ctx, `#resolve`)
	if got := webtest.Text(t, ctx, `main`); !strings.Contains(got, "set product before resolving") {
		t.Fatalf("resolving without a product: the page says %q", got)
	}
	if got := webtest.Text(t, ctx, `#status`); got == "resolved" {
		t.Fatal("resolved without a product")
	}
	webtest.Do(t, ctx, chromedp.SetValue(chromedp.CSS(`#cf-product`), "Fiber"))
	webtest.Submit(t, ctx, `#cf-set-product`)
	if got := webtest.Text(t, ctx, `#field-product`); got != "Fiber" {
		t.Fatalf("after setting it the product is %q", got)
	}
	webtest.Submit(t, ctx, `#resolve`)
	if got := webtest.Text(t, ctx, `#status`); got != "resolved" {
		t.Fatalf("after setting the product the status is %q", got)
	}
	if got := webtest.Text(t, ctx, `#history`); !strings.Contains(got, "changed product: (none) → Fiber") {
		t.Fatalf("the history: %q", got)
	}
}
