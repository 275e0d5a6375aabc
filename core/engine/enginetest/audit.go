package enginetest

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
	"github.com/ticketd/ticketd/core/engine"
	"github.com/ticketd/ticketd/core/mail"
)

// auditSince reads the rows written after the row with id after, oldest
// first.
func (h *harness) auditSince(after int64) []*core.AuditEntry {
	h.t.Helper()
	es, err := h.eng.Admin().Audit(h.ctx, core.RootID, engine.AuditQuery{Limit: core.AuditMaxLimit})
	h.must(err)
	var out []*core.AuditEntry
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].ID > after {
			out = append(out, es[i])
		}
	}
	return out
}

func (h *harness) lastAuditID() int64 {
	h.t.Helper()
	es, err := h.eng.Admin().Audit(h.ctx, core.RootID, engine.AuditQuery{Limit: 1})
	h.must(err)
	if len(es) == 0 {
		return 0
	}
	return es[0].ID
}

// testAudit: every administrative change writes exactly one audit row,
// with the actor, the origin, the action, what it acted on and the values
// before and after, never a secret; a change refused writes none, and so
// does one that changes nothing, or a person's own preferences; only
// SuperUser reads the log.
func testAudit(t *testing.T, h *harness) {
	cli := core.Origin{Via: "cli", Address: "admin-host"}
	eng := h.eng.With(engine.From(cli))
	admin := eng.Admin()
	root := core.RootID
	var secrets []string
	// step runs fn and checks that it wrote exactly one row, of action on
	// object ("": the caller checks) by actor, from cli; it returns the row.
	step := func(action, object string, actor int64, fn func() error) *core.AuditEntry {
		t.Helper()
		last := h.lastAuditID()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		es := h.auditSince(last)
		if len(es) != 1 {
			t.Fatalf("%s wrote %d audit rows, want 1: %+v", action, len(es), es)
		}
		e := es[0]
		if e.Action != action || (object != "" && e.Object != object) || e.ActorID != actor || e.Origin != cli || e.At.IsZero() {
			t.Errorf("%s: row %+v, want action %s on %q by %d from %+v", action, e, action, object, actor, cli)
		}
		return e
	}
	none := func(what string, fn func() error, code core.Code) {
		t.Helper()
		last := h.lastAuditID()
		err := fn()
		if core.ErrorCode(err) != code && !(code == "" && err == nil) {
			t.Fatalf("%s: error %v, want %q", what, err, code)
		}
		if es := h.auditSince(last); len(es) != 0 {
			t.Errorf("%s wrote audit rows: %+v", what, es)
		}
	}
	yes, no := true, false
	str := func(s string) *string { return &s }

	// Users, groups and members.
	e := step("user.create", "user dave", root, func() error {
		_, err := admin.CreateUser(h.ctx, root, engine.UserInput{Name: "dave", Email: str("dave@example.net"), Privileged: &yes})
		return err
	})
	same(t, "user.create values", [2]string{e.Old, e.New},
		[2]string{"", `{"email":"dave@example.net","real_name":"","privileged":true,"disabled":false}`})
	e = step("user.update", "user dave", root, func() error {
		_, err := admin.UpdateUser(h.ctx, root, engine.UserInput{Name: "dave", RealName: str("Dave"), Disabled: &no})
		return err
	})
	same(t, "user.update values: the changed ones", [2]string{e.Old, e.New}, [2]string{`{"real_name":""}`, `{"real_name":"Dave"}`})
	none("an update that changes nothing", func() error {
		_, err := admin.UpdateUser(h.ctx, root, engine.UserInput{Name: "dave", RealName: str("Dave")})
		return err
	}, "")
	none("a refused change", func() error {
		_, err := eng.Admin().CreateUser(h.ctx, h.alice, engine.UserInput{Name: "mallory"})
		return err
	}, core.CodeForbidden)
	none("a change that fails", func() error {
		_, err := admin.CreateUser(h.ctx, root, engine.UserInput{Name: "DAVE"})
		return err
	}, core.CodeConflict)
	step("group.create", "group NetOps", root, func() error {
		_, err := admin.CreateGroup(h.ctx, root, "NetOps", "network")
		return err
	})
	e = step("group.member.add", "group NetOps", root, func() error { return admin.SetMember(h.ctx, root, "netops", "dave", true) })
	same(t, "group.member.add values", [2]string{e.Old, e.New}, [2]string{"", "user dave"})
	e = step("group.member.remove", "group NetOps", root, func() error { return admin.SetMember(h.ctx, root, "NetOps", "dave", false) })
	same(t, "group.member.remove values", [2]string{e.Old, e.New}, [2]string{"user dave", ""})

	// Queues, rights and lifecycles.
	step("queue.create", "queue Changes", root, func() error {
		_, err := admin.CreateQueue(h.ctx, root, engine.QueueInput{Name: "Changes"})
		return err
	})
	e = step("queue.update", "queue Changes", root, func() error {
		_, err := admin.UpdateQueue(h.ctx, root, engine.QueueInput{Name: "changes", Description: str("planned work")})
		return err
	})
	same(t, "queue.update values", [2]string{e.Old, e.New}, [2]string{`{"description":""}`, `{"description":"planned work"}`})
	e = step("grant.add", "grant StealTicket in queue Changes", root, func() error {
		_, err := admin.Grant(h.ctx, root, engine.GrantInput{Right: "StealTicket", Queue: "changes", Group: "netops"})
		return err
	})
	same(t, "grant.add values", [2]string{e.Old, e.New}, [2]string{"", "group NetOps"})
	_, err := admin.Grant(h.ctx, root, engine.GrantInput{Right: "AdminUsers", User: "dave"})
	h.must(err)
	e = step("grant.remove", "grant AdminUsers globally", root, func() error {
		return admin.Revoke(h.ctx, root, engine.GrantInput{Right: "AdminUsers", User: "dave"})
	})
	same(t, "grant.remove values", [2]string{e.Old, e.New}, [2]string{"user dave", ""})
	lc := `{"name": "change", "initial": ["new"], "active": ["open"], "inactive": ["resolved"],
		"transitions": {"": ["new"], "new": ["open", "resolved"], "open": ["resolved"], "resolved": ["open"]},
		"defaults": {"on_create": "new", "resolve": "resolved", "reopen": "open"}}`
	e = step("lifecycle.put", "lifecycle change", root, func() error {
		_, err := admin.PutLifecycle(h.ctx, root, []byte(lc))
		return err
	})
	if e.Old != "" || !strings.HasPrefix(e.New, `{"name":"change","initial":["new"]`) {
		t.Errorf("lifecycle.put values %q, %q", e.Old, e.New)
	}
	none("the same lifecycle again", func() error {
		_, err := admin.PutLifecycle(h.ctx, root, []byte(lc))
		return err
	}, "")

	// Tokens.
	var tok *core.Token
	e = step("token.issue", "", root, func() error {
		secret, t, err := admin.IssueToken(h.ctx, root, "dave", "laptop")
		secrets, tok = append(secrets, secret), t
		return err
	})
	if want := "token " + itoa(tok.ID) + " of dave"; e.Object != want {
		t.Errorf("token.issue object %q, want %q", e.Object, want)
	}
	same(t, "token.issue values", e.New, `{"hint":"…`+tok.Hint+`","name":"laptop"}`)
	step("token.revoke", "token "+itoa(tok.ID)+" of dave", root, func() error { return admin.RevokeToken(h.ctx, root, tok.ID) })

	// Webhooks, integrations, chat routes and links.
	var hook *core.Webhook
	e = step("webhook.create", "", root, func() error {
		var err error
		hook, err = admin.CreateWebhook(h.ctx, root, engine.WebhookInput{URL: "https://hooks.example.net/in?key=s3cr3t-in-query",
			Secret: "0123456789abcdef-webhook-secret", Queue: "NOC"})
		return err
	})
	secrets = append(secrets, hook.Secret, "s3cr3t-in-query")
	same(t, "webhook.create object", e.Object, "webhook "+itoa(hook.ID))
	same(t, "webhook.create values", e.New, `{"url":"https://hooks.example.net/in?…","events":null,"queue":"NOC","allow_private":false}`)
	step("webhook.delete", "webhook "+itoa(hook.ID), root, func() error { return admin.DeleteWebhook(h.ctx, root, hook.ID) })
	none("deleting a webhook that is not there", func() error { return admin.DeleteWebhook(h.ctx, root, hook.ID) }, core.CodeNotFound)
	cfg := core.DefaultIntegrationConfig()
	cfg.HMACSecret = "hmac-secret-of-the-integration"
	secrets = append(secrets, cfg.HMACSecret)
	step("integration.create", "integration am", root, func() error {
		_, token, err := admin.CreateIntegration(h.ctx, root, engine.IntegrationInput{Name: "am", Type: "alertmanager", Queue: "NOC", Config: &cfg})
		secrets = append(secrets, token)
		return err
	})
	step("integration.token", "integration am", root, func() error {
		_, token, err := admin.RotateIntegrationToken(h.ctx, root, "am")
		secrets = append(secrets, token)
		return err
	})
	step("integration.delete", "integration am", root, func() error { return admin.DeleteIntegration(h.ctx, root, "am") })
	var ch *core.ChatChannel
	e = step("chat.channel.add", "", root, func() error {
		var err error
		ch, err = admin.AddChatChannel(h.ctx, root, "NOC", "slack", "T1", "C1")
		return err
	})
	same(t, "chat.channel.add", [2]string{e.Object, e.New},
		[2]string{"chat channel " + itoa(ch.ID), `{"queue":"NOC","platform":"slack","workspace":"T1","channel":"C1"}`})
	step("chat.channel.remove", "chat channel "+itoa(ch.ID), root, func() error { return admin.RemoveChatChannel(h.ctx, root, ch.ID) })
	e = step("chat.link", "slack user U1 in T1", h.alice, func() error {
		code, err := eng.NewChatLinkCode(h.ctx, core.ChatUser{Platform: "slack", Workspace: "T1", ID: "U1"})
		if err != nil {
			return err
		}
		secrets = append(secrets, code)
		_, err = eng.ConfirmChatLink(h.ctx, h.alice, code)
		return err
	})
	same(t, "chat.link values", [2]string{e.Old, e.New}, [2]string{"", "user alice"})

	// Mail, digests and reminders.
	step("mail.template.set", "mail template autoreply of queue NOC", root, func() error {
		_, err := admin.SetMailTemplate(h.ctx, root, "noc", mail.KindAutoreply, "Subject: got it\n\nWe have it.")
		return err
	})
	e = step("mail.template.reset", "mail template autoreply of queue NOC", root, func() error {
		return admin.DeleteMailTemplate(h.ctx, root, "NOC", mail.KindAutoreply)
	})
	same(t, "mail.template.reset values", [2]string{e.Old, e.New}, [2]string{"Subject: got it\n\nWe have it.", ""})
	e = step("mail.notify", "mail notices of user alice", root, func() error { return admin.SetMailNotify(h.ctx, root, "alice", false) })
	same(t, "mail.notify values", [2]string{e.Old, e.New}, [2]string{"on", "off"})
	none("one's own mail notices", func() error { return admin.SetMailNotify(h.ctx, h.alice, "alice", true) }, "")
	e = step("digest.set", "digest of user alice", root, func() error {
		_, err := admin.SetDigest(h.ctx, root, "alice", engine.DigestInput{Via: "mail", At: "07:30"})
		return err
	})
	same(t, "digest.set values", [2]string{e.Old, e.New}, [2]string{`{"via":"off"}`, `{"at":"07:30","via":"mail"}`})
	none("one's own digest", func() error {
		_, err := admin.SetDigest(h.ctx, h.alice, "me", engine.DigestInput{Via: "off"})
		return err
	}, "")
	e = step("reminder.policy.set", "reminder policy of queue NOC", root, func() error {
		d := 15 * time.Minute
		_, err := admin.SetReminderPolicy(h.ctx, root, "NOC", engine.ReminderPolicyInput{UntakenAfter: &d, OnDutyGroup: str("NetOps")})
		return err
	})
	same(t, "reminder.policy.set values", [2]string{e.Old, e.New},
		[2]string{`{"on_duty":"","untaken_after":"0s"}`, `{"on_duty":"NetOps","untaken_after":"15m0s"}`})

	// SLA.
	step("sla.calendar.put", "calendar office", root, func() error {
		_, err := admin.PutCalendar(h.ctx, root, core.CalendarDef{Name: "office", TimeZone: "Europe/Berlin",
			Hours: map[string][]string{"mon-fri": {"09:00-17:00"}}})
		return err
	})
	pol := engine.SLAPolicyInput{Name: "gold", Queue: "NOC", Response: "1h", Calendar: "office"}
	step("sla.policy.put", "SLA policy gold", root, func() error {
		_, err := admin.PutSLAPolicy(h.ctx, root, pol)
		return err
	})
	none("the same SLA policy again", func() error {
		_, err := admin.PutSLAPolicy(h.ctx, root, pol)
		return err
	}, "")
	pol.Response = "2h"
	e = step("sla.policy.put", "SLA policy gold", root, func() error {
		_, err := admin.PutSLAPolicy(h.ctx, root, pol)
		return err
	})
	same(t, "sla.policy.put values", [2]string{e.Old, e.New}, [2]string{`{"response":"1h"}`, `{"response":"2h"}`})
	step("sla.policy.delete", "SLA policy gold", root, func() error { return admin.DeleteSLAPolicy(h.ctx, root, "GOLD") })
	step("sla.calendar.delete", "calendar office", root, func() error { return admin.DeleteCalendar(h.ctx, root, "Office") })

	// Rules: recorded when the rules in force change, not when a replica
	// loads the same file again, nor when a file is only checked.
	file := `{"rules": [{"name": "noc", "on": ["created"], "if": {"queue": ["NOC"]}, "do": [{"set_priority": 50}]}]}`
	e = step("rules.load", "rules in force", root, func() error {
		_, err := eng.LoadRules(h.ctx, root, "rules.json", []byte(file))
		return err
	})
	if !strings.HasPrefix(e.New, "rules.json (sha256 ") || !strings.HasSuffix(e.New, "noc") {
		t.Errorf("rules.load value %q", e.New)
	}
	none("the same rules again", func() error {
		_, err := eng.LoadRules(h.ctx, root, "rules.json", []byte(file))
		return err
	}, "")
	none("a rules check", func() error {
		_, err := eng.CheckRules(h.ctx, root, "other.json", []byte(`{}`))
		return err
	}, "")
	step("rules.load", "rules in force", root, func() error {
		_, err := eng.LoadRules(h.ctx, root, "rules.json", []byte(`{}`))
		return err
	})

	// No secret is in the log.
	all := h.auditSince(0)
	for _, e := range all {
		for _, s := range secrets {
			if s != "" && strings.Contains(e.Object+e.Old+e.New, s) {
				t.Errorf("audit row %s carries a secret: %+v", e.Action, e)
			}
		}
	}

	// Reading: SuperUser only; filters by actor name and action prefix.
	_, err = h.eng.Admin().Audit(h.ctx, h.alice, engine.AuditQuery{})
	wantErr(t, err, core.CodeForbidden, "SuperUser")
	_, err = h.eng.Admin().Audit(h.ctx, root, engine.AuditQuery{Limit: core.AuditMaxLimit + 1})
	wantErr(t, err, core.CodeInvalid, "at most")
	es, err := h.eng.Admin().Audit(h.ctx, root, engine.AuditQuery{Actor: "alice"})
	h.must(err)
	if len(es) != 1 || es[0].Action != "chat.link" {
		t.Errorf("alice's rows: %+v", es)
	}
	es, err = h.eng.Admin().Audit(h.ctx, root, engine.AuditQuery{Action: "sla."})
	h.must(err)
	if len(es) != 5 || es[0].Action != "sla.calendar.delete" {
		t.Errorf("sla rows: %+v", es)
	}
	page, err := h.eng.Admin().Audit(h.ctx, root, engine.AuditQuery{Action: "sla.", Limit: 2, Before: es[1].ID})
	h.must(err)
	if len(page) != 2 || page[0].ID != es[2].ID || page[1].ID != es[3].ID {
		t.Errorf("page before %d: %+v", es[1].ID, page)
	}
}
