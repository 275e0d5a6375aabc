package web

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
)

func TestReminderAPI(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	alice := e.staff("alice")
	tk := must[*core.Ticket](t)(e.eng.Create(e.ctx, alice.ID, engine.CreateInput{Subject: "BGP flap on edge2"}))
	when := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	path := fmt.Sprintf("/api/v1/tickets/%d/reminders", tk.ID)

	r := e.do(alice.token, "POST", path, map[string]any{"when": when, "text": "check the BGP session"})
	if r.status != http.StatusCreated {
		t.Fatalf("create reminder: %d %s", r.status, r.body)
	}
	var got Reminder
	r.decode(t, &got)
	if got.ID == 0 || got.Kind != "user" || got.UserID != alice.ID || !got.Due.Equal(when) || got.Text != "check the BGP session" {
		t.Errorf("reminder: %+v", got)
	}
	expectError(t, e.do(alice.token, "POST", path, map[string]any{"when": time.Now().Add(-time.Hour), "text": "late"}),
		http.StatusBadRequest, "invalid")
	expectError(t, e.do(alice.token, "POST", path, map[string]any{"text": "when?"}), http.StatusBadRequest, "invalid")
	expectError(t, e.do(alice.token, "POST", path, map[string]any{"when": when, "text": "x", "repeat": true}),
		http.StatusBadRequest, "invalid")
	var list []Reminder
	r = e.do(alice.token, "GET", path, nil)
	r.decode(t, &list)
	if r.status != 200 || len(list) != 1 || list[0].ID != got.ID {
		t.Errorf("list: %d %+v", r.status, list)
	}
	bob := e.requester("bob")
	expectError(t, e.do(bob.token, "GET", path, nil), http.StatusNotFound, "not_found")
	expectError(t, e.do(bob.token, "DELETE", fmt.Sprintf("%s/%d", path, got.ID), nil), http.StatusNotFound, "not_found")

	// Cancelled by whoever set it; then it is gone.
	other := must[*core.Reminder](t)(e.eng.Remind(e.ctx, alice.ID, tk.ID, when, "cancel me"))
	if r := e.do(alice.token, "DELETE", fmt.Sprintf("%s/%d", path, other.ID), nil); r.status != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	expectError(t, e.do(alice.token, "DELETE", fmt.Sprintf("%s/%d", path, other.ID), nil), http.StatusNotFound, "not_found")

	// The queue's policy: staff read it, AdminQueue changes it.
	expectError(t, e.do(alice.token, "PATCH", "/api/v1/queues/General/reminders", map[string]any{"untaken_after": "15m"}),
		http.StatusForbidden, "forbidden")
	must[*core.Group](t)(e.eng.Admin().CreateGroup(e.ctx, core.RootID, "NetOps", ""))
	r = e.do(e.root.token, "PATCH", "/api/v1/queues/General/reminders",
		map[string]any{"untaken_after": "15m", "untaken_every": "30m", "on_duty_group": "NetOps"})
	var p ReminderPolicy
	r.decode(t, &p)
	want := ReminderPolicy{Queue: "General", UntakenAfter: "15m0s", UntakenEvery: "30m0s", OnDutyGroup: "NetOps", StalledAfter: "0s"}
	if r.status != 200 || p != want {
		t.Errorf("patch policy: %d %+v", r.status, p)
	}
	expectError(t, e.do(e.root.token, "PATCH", "/api/v1/queues/General/reminders", map[string]any{"stalled_after": "soon"}),
		http.StatusBadRequest, "invalid")
	r = e.do(alice.token, "GET", "/api/v1/queues/general/reminders", nil)
	p = ReminderPolicy{}
	r.decode(t, &p)
	if r.status != 200 || p != want {
		t.Errorf("get policy: %d %+v", r.status, p)
	}

	// The final priority of linear escalation, set and read back.
	r = e.do(alice.token, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"final_priority": 90,
		"due": time.Now().UTC().Add(48 * time.Hour)})
	var tj Ticket
	r.decode(t, &tj)
	if r.status != 200 || tj.FinalPriority != 90 {
		t.Errorf("final priority: %d %+v", r.status, tj.TicketSummary)
	}
	expectError(t, e.do(alice.token, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"final_priority": 100}),
		http.StatusBadRequest, "invalid")
	list = nil
	e.do(alice.token, "GET", path, nil).decode(t, &list)
	if len(list) != 2 || list[1].Kind != "escalate" {
		t.Fatalf("reminders after setting a due date and a final priority: %+v", list)
	}
	expectError(t, e.do(alice.token, "DELETE", fmt.Sprintf("%s/%d", path, list[1].ID), nil), http.StatusBadRequest, "invalid")

	// Digests: one's own.
	r = e.do(alice.token, "PUT", "/api/v1/users/me/digest", map[string]any{"via": "mail", "at": "07:30", "time_zone": "Europe/Berlin"})
	var d Digest
	r.decode(t, &d)
	if r.status != 200 || d != (Digest{Via: "mail", At: "07:30", TimeZone: "Europe/Berlin"}) {
		t.Errorf("digest: %d %+v", r.status, d)
	}
	expectError(t, e.do(bob.token, "PUT", "/api/v1/users/alice/digest", map[string]any{"via": "off"}), http.StatusForbidden, "forbidden")
}
