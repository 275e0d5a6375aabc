package enginetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

func strs(v ...string) *[]string { return &v }

// defineFields defines the fields the field tests use: product (select,
// required before resolved, visible to requesters), size (number), since
// (date), tags (multi), engineer (user), note (text, staff only).
func (h *harness) defineFields() {
	h.t.Helper()
	yes := true
	for _, in := range []engine.FieldInput{
		{Name: "product", Type: "select", Values: strs("VPN", "DSL", "Fibre"), RequiredFor: strs("resolved"), Requesters: &yes},
		{Name: "size", Type: "number"},
		{Name: "since", Type: "date"},
		{Name: "tags", Type: "multi", Values: strs("urgent", "vip", "outage")},
		{Name: "engineer", Type: "user"},
		{Name: "note", Type: "text", Queues: strs("NOC")},
	} {
		_, err := h.eng.Admin().CreateField(h.ctx, core.RootID, in)
		h.must(err)
	}
}

func shown(info *engine.TicketInfo) string {
	var out []string
	for _, f := range info.Fields {
		out = append(out, f.String())
	}
	return strings.Join(out, "; ")
}

// testFieldDefinitions: bad definitions are refused with a clear message
// and nothing is written; only admins define fields; changes are audited.
func testFieldDefinitions(t *testing.T, h *harness) {
	adm := h.eng.Admin()
	for _, c := range []struct {
		in   engine.FieldInput
		want string
	}{
		{engine.FieldInput{Name: "", Type: "text"}, "needs a name"},
		{engine.FieldInput{Name: "two words", Type: "text"}, "one word"},
		{engine.FieldInput{Name: "x", Type: "colour"}, "text, number, date, select, multi, user"},
		{engine.FieldInput{Name: "x", Type: "select"}, "needs a list of values"},
		{engine.FieldInput{Name: "x", Type: "number", Values: strs("1")}, "only select and multi"},
		{engine.FieldInput{Name: "x", Type: "select", Values: strs("a", "A")}, "listed twice"},
		{engine.FieldInput{Name: "x", Type: "select", Values: strs("a,b")}, "without commas"},
		{engine.FieldInput{Name: "x", Type: "text", Queues: strs("nosuch")}, "nosuch"},
	} {
		_, err := adm.CreateField(h.ctx, core.RootID, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CreateField(%+v): %v, want an error mentioning %q", c.in, err, c.want)
		}
	}
	_, err := adm.CreateField(h.ctx, h.alice, engine.FieldInput{Name: "x", Type: "text"})
	wantErr(t, err, core.CodeForbidden, "AdminQueue")
	fs, err := h.eng.Fields(h.ctx, core.RootID)
	h.must(err)
	if len(fs) != 0 {
		t.Fatalf("refused definitions left fields: %v", fs)
	}
	since := h.lastAuditID()
	h.defineFields()
	_, err = adm.CreateField(h.ctx, core.RootID, engine.FieldInput{Name: "Product", Type: "text"})
	wantErr(t, err, core.CodeConflict, `"Product" already exists`)
	_, err = adm.UpdateField(h.ctx, core.RootID, engine.FieldInput{Name: "product", Type: "text"})
	wantErr(t, err, core.CodeInvalid, "type cannot change")
	_, err = adm.UpdateField(h.ctx, core.RootID, engine.FieldInput{Name: "nosuch"})
	wantErr(t, err, core.CodeNotFound, `no field named "nosuch"`)
	f, err := adm.UpdateField(h.ctx, core.RootID, engine.FieldInput{Name: "PRODUCT", Values: strs("VPN", "DSL", "Fibre", "Cable")})
	h.must(err)
	if fmt.Sprint(f.Values) != "[VPN DSL Fibre Cable]" || fmt.Sprint(f.RequiredFor) != "[resolved]" {
		t.Fatalf("updated field %+v", f)
	}
	var actions []string
	for _, e := range h.auditSince(since) {
		actions = append(actions, e.Action+" "+e.Object)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "field.create field product") || !strings.Contains(got, "field.update field product") {
		t.Fatalf("audit rows %s", got)
	}
	// Requesters list only the fields marked for them.
	fs, err = h.eng.Fields(h.ctx, h.carol)
	h.must(err)
	if len(fs) != 1 || fs[0].Name != "product" {
		t.Fatalf("carol sees fields %v", fs)
	}
}

// testFieldValues: values are checked against their field, each change is a
// history row and an outbox row, and Show lists the fields the viewer may
// see.
func testFieldValues(t *testing.T, h *harness) {
	h.defineFields()
	tk := h.create(h.carol, engine.CreateInput{Queue: "NOC"})
	before, hist := h.counts(), len(h.history(h.alice, tk.ID))
	for _, c := range []struct {
		field, value, want string
	}{
		{"size", "ten", `size is a number, not "ten"`},
		{"since", "yesterday", "since is a date"},
		{"product", "ISDN", `"ISDN" is not a value of product; it can be: VPN, DSL, Fibre`},
		{"engineer", "nosuch", `there is no user "nosuch"`},
		{"colour", "red", `no field named "colour"`},
		{"tags", "urgent,nope", `"nope" is not a value of tags`},
	} {
		_, err := h.eng.SetField(h.ctx, h.alice, tk.ID, c.field, engine.FieldSet, []string{c.value})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetField %s %q: %v, want an error mentioning %q", c.field, c.value, err, c.want)
		}
	}
	_, err := h.eng.SetField(h.ctx, h.alice, tk.ID, "product", engine.FieldSet, []string{"VPN", "DSL"})
	wantErr(t, err, core.CodeInvalid, "product holds one value, not 2")
	_, err = h.eng.SetField(h.ctx, h.carol, tk.ID, "product", engine.FieldSet, []string{"VPN"})
	wantErr(t, err, core.CodeForbidden, "ModifyTicket")
	if got := h.counts(); got != before || len(h.history(h.alice, tk.ID)) != hist {
		t.Fatalf("refused values wrote something: %+v, was %+v", got, before)
	}

	set := func(field string, op engine.FieldOp, vs ...string) {
		t.Helper()
		_, err := h.eng.SetField(h.ctx, h.alice, tk.ID, field, op, vs)
		h.must(err)
	}
	set("product", engine.FieldSet, "vpn") // the list's spelling is kept
	set("size", engine.FieldSet, "10.50")
	set("since", engine.FieldSet, "2026-03-01")
	set("tags", engine.FieldAdd, "urgent")
	set("tags", engine.FieldAdd, "vip", "urgent")
	set("tags", engine.FieldRemove, "urgent")
	set("engineer", engine.FieldSet, "bob")
	set("note", engine.FieldSet, "call before 10")
	set("product", engine.FieldSet, "VPN") // no change: no row

	var rows []string
	for _, txn := range h.history(h.alice, tk.ID) {
		if txn.Type == core.TxnCustomField {
			rows = append(rows, fmt.Sprintf("%s:%q->%q", txn.Field, txn.OldValue, txn.NewValue))
		}
	}
	want := `product:""->"VPN" size:""->"10.5" since:""->"2026-03-01" tags:""->"urgent" tags:"urgent"->"urgent, vip" ` +
		`tags:"urgent, vip"->"vip" engineer:""->"bob" note:""->"call before 10"`
	if got := strings.Join(rows, " "); got != want {
		t.Fatalf("history rows\n got %s\nwant %s", got, want)
	}
	kinds := 0
	for _, m := range h.outbox() {
		if m.TicketID == tk.ID && m.Kind == "ticket.customfield" {
			kinds++
		}
	}
	if kinds != 8 {
		t.Fatalf("%d outbox rows of kind ticket.customfield, want 8", kinds)
	}

	info, err := h.eng.Show(h.ctx, h.alice, tk.ID)
	h.must(err)
	if got := shown(info); got != "engineer: bob; note: call before 10; product: VPN; since: 2026-03-01; size: 10.5; tags: vip" {
		t.Fatalf("staff see %q", got)
	}
	// The requester sees product only, in Show and in the history.
	info, err = h.eng.Show(h.ctx, h.carol, tk.ID)
	h.must(err)
	if got := shown(info); got != "product: VPN" {
		t.Fatalf("requester sees %q", got)
	}
	for _, txn := range h.history(h.carol, tk.ID) {
		if txn.Type == core.TxnCustomField && txn.Field != "product" {
			t.Fatalf("requester sees the history of %s", txn.Field)
		}
	}

	// Clearing, and a field of another queue.
	set("note", engine.FieldSet)
	other := h.create(h.alice, engine.CreateInput{})
	_, err = h.eng.SetField(h.ctx, h.alice, other.ID, "note", engine.FieldSet, []string{"x"})
	wantErr(t, err, core.CodeInvalid, "field note is not used in queue General")

	// Fields on create and through Update.
	made := h.create(h.alice, engine.CreateInput{Queue: "NOC", Fields: map[string][]string{"product": {"DSL"}, "size": {"3"}}})
	_, err = h.eng.Update(h.ctx, h.alice, made.ID, core.Changes{Fields: map[string][]string{"size": {"4"}, "tags": {"vip", "outage"}}})
	h.must(err)
	info, err = h.eng.Show(h.ctx, h.alice, made.ID)
	h.must(err)
	if got := shown(info); got != "engineer: ; note: ; product: DSL; since: ; size: 4; tags: outage, vip" {
		t.Fatalf("created ticket shows %q", got)
	}
	c := h.counts()
	_, err = h.eng.Create(h.ctx, h.alice, engine.CreateInput{Subject: "x", Queue: "NOC", Fields: map[string][]string{"size": {"big"}}})
	wantErr(t, err, core.CodeInvalid, "size is a number")
	if h.counts() != c {
		t.Fatal("a refused creation wrote something")
	}
}

// testFieldRequired: a ticket without a value of a field required for a
// status cannot enter it, by any verb; nothing is written; with the value
// set it can.
func testFieldRequired(t *testing.T, h *harness) {
	h.defineFields()
	tk := h.create(h.alice, engine.CreateInput{Queue: "NOC"})
	before, hist := h.counts(), len(h.history(h.alice, tk.ID))
	_, err := h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	wantErr(t, err, core.CodeInvalid, fmt.Sprintf("set product before resolving #%d", tk.ID))
	_, err = h.eng.SetStatus(h.ctx, h.alice, tk.ID, "resolved", engine.StatusOptions{Force: true})
	wantErr(t, err, core.CodeInvalid, "set product before resolving")
	if got := h.counts(); got != before || len(h.history(h.alice, tk.ID)) != hist {
		t.Fatalf("a refused resolve wrote something: %+v, was %+v", got, before)
	}
	_, err = h.eng.Create(h.ctx, h.alice, engine.CreateInput{Subject: "done already", Queue: "NOC", Status: "resolved"})
	if err == nil || !strings.Contains(err.Error(), "product") {
		// The default lifecycle may not create resolved tickets at all;
		// either way the ticket is not made.
		if err == nil {
			t.Fatal("a ticket was created resolved without product")
		}
	} else {
		// A ticket refused at creation has no number to quote.
		wantErr(t, err, core.CodeInvalid, "a new ticket in NOC needs product: give a value when opening it")
	}
	// Other statuses are not held up.
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbReject, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbReopen, engine.StatusOptions{})
	h.must(err)
	_, err = h.eng.SetField(h.ctx, h.alice, tk.ID, "product", engine.FieldSet, []string{"Fibre"})
	h.must(err)
	got, err := h.eng.Transition(h.ctx, h.alice, tk.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	if got.Status != "resolved" {
		t.Fatalf("status %s", got.Status)
	}
	// A field scoped to another queue does not hold tickets elsewhere; a
	// disabled one holds none.
	_, err = h.eng.Admin().UpdateField(h.ctx, core.RootID, engine.FieldInput{Name: "product", Queues: strs("General")})
	h.must(err)
	noc := h.create(h.alice, engine.CreateInput{Queue: "NOC"})
	_, err = h.eng.Transition(h.ctx, h.alice, noc.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
	gen := h.create(h.alice, engine.CreateInput{})
	_, err = h.eng.Transition(h.ctx, h.alice, gen.ID, engine.VerbResolve, engine.StatusOptions{})
	wantErr(t, err, core.CodeInvalid, "set product before resolving")
	yes := true
	_, err = h.eng.Admin().UpdateField(h.ctx, core.RootID, engine.FieldInput{Name: "product", Disabled: &yes})
	h.must(err)
	_, err = h.eng.Transition(h.ctx, h.alice, gen.ID, engine.VerbResolve, engine.StatusOptions{})
	h.must(err)
}

// testFieldSearch: cf.name:value (any of a list), numbers and dates
// compared as such, unknown fields and bad values refused, staff-only
// fields unknown to requesters.
func testFieldSearch(t *testing.T, h *harness) {
	h.defineFields()
	mk := func() int64 {
		return h.create(h.carol, engine.CreateInput{Queue: "NOC"}).ID
	}
	a, b, c := mk(), mk(), mk()
	for id, fs := range map[int64]map[string][]string{
		a: {"product": {"VPN"}, "size": {"9"}, "since": {"2026-02-01"}, "tags": {"vip", "urgent"}},
		b: {"product": {"DSL"}, "size": {"10"}, "since": {"2026-03-01T12:00:00+01:00"}, "engineer": {"bob"}},
		c: {"product": {"Fibre"}, "size": {"-1"}},
	} {
		_, err := h.eng.Update(h.ctx, h.alice, id, core.Changes{Fields: fs})
		h.must(err)
	}
	for q, want := range map[string][]int64{
		"cf.product:VPN":                 {a},
		"cf.product:vpn,DSL":             {b, a},
		"cf.PRODUCT=Fibre":               {c},
		"cf.size>9":                      {b},
		"cf.size>=9":                     {b, a},
		"cf.size<0":                      {c},
		"cf.since>2026-02-15":            {b},
		"cf.since<2026-03-01T10:30:00Z":  {a},
		"cf.tags:urgent":                 {a},
		"cf.engineer:bob":                {b},
		"cf.product:VPN,DSL cf.size>9.5": {b},
		"cf.product:VPN status:any":      {a},
		"cf.since>30d":                   {b, a}, // the clock is 2026-03-02
	} {
		if got := h.search(h.alice, q); !sameIDs(got, want) {
			t.Errorf("search %q: %v, want %v", q, got, want)
		}
	}
	for q, want := range map[string]string{
		"cf.colour:red":   `cf.colour: no field named "colour"`,
		"cf.product:ISDN": `"ISDN" is not a value of product`,
		"cf.size>big":     "size is a number",
		"cf.product>VPN":  "only number and date fields take > and <",
		"cf.product:":     "needs a value",
		"cf.engineer:zed": `there is no user "zed"`,
	} {
		_, err := h.eng.Search(h.ctx, h.alice, q, 10, 0)
		if err == nil || core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(err.Error(), want) {
			t.Errorf("search %q: %v, want an invalid error mentioning %q", q, err, want)
		}
	}
	// carol, a requester, may search by product (visible to her), not by size.
	if got := h.search(h.carol, "cf.product:DSL"); !sameIDs(got, []int64{b}) {
		t.Errorf("carol's search by product: %v", got)
	}
	_, err := h.eng.Search(h.ctx, h.carol, "cf.size>1", 10, 0)
	wantErr(t, err, core.CodeInvalid, `no field named "size"`)
}

// alertEngineFields: an integration sets custom fields from an alert's
// labels when the alert opens a ticket; a value a field refuses is left
// out and the ticket opens all the same.
func alertEngineFields(t *testing.T, s core.Store) {
	cfg := &core.IntegrationConfig{Resolve: true, Fields: map[string]string{"service": "service", "where": "host", "size": "instance"}}
	h := newAlertHarness(t, s, cfg)
	for _, in := range []engine.FieldInput{
		{Name: "service", Type: "select", Values: strs("db", "web")},
		{Name: "where", Type: "text"},
		{Name: "size", Type: "number"},
	} {
		_, err := h.eng.Admin().CreateField(h.ctx, core.RootID, in)
		h.must(err)
	}
	_, _, err := h.eng.Admin().CreateIntegration(h.ctx, core.RootID, engine.IntegrationInput{Name: "bad", Type: "alertmanager",
		Queue: "NOC", Config: &core.IntegrationConfig{Fields: map[string]string{"two words": "x"}}})
	if !core.IsCode(err, core.CodeInvalid) || !strings.Contains(err.Error(), "one word") {
		t.Fatalf("bad field mapping: %v", err)
	}
	a := firing("fp1", "e1")
	a.Labels["service"] = "DB"
	b := firing("fp2", "e2")
	b.Labels["service"] = "mail" // not a value of service
	res := h.ingest(a, b)
	if res.Opened != 2 {
		t.Fatalf("opened %d tickets", res.Opened)
	}
	for i, want := range []string{"service: db; size: ; where: db1:9100", "service: ; size: ; where: db1:9100"} {
		info, err := h.eng.Show(h.ctx, core.RootID, res.Tickets[i])
		h.must(err)
		if got := shown(info); got != want {
			t.Errorf("ticket of alert %d shows %q, want %q", i, got, want)
		}
	}
	var found []int64
	r, err := h.eng.Search(h.ctx, core.RootID, "cf.service:db", 10, 0)
	h.must(err)
	for _, tk := range r.Tickets {
		found = append(found, tk.ID)
	}
	if !sameIDs(found, res.Tickets[:1]) {
		t.Fatalf("cf.service:db finds %v", found)
	}
}
