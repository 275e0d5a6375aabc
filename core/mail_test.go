package core

import (
	"strings"
	"testing"
	"time"
)

func TestAutoreplyPolicy(t *testing.T) {
	p := AutoreplyPolicy{Max: 2, Per: time.Hour}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		st    AutoreplyState
		now   time.Time
		ok    bool
		after AutoreplyState
	}{
		{"first ever", AutoreplyState{}, t0, true, AutoreplyState{t0, 1}},
		{"second in the window", AutoreplyState{t0, 1}, t0.Add(time.Minute), true, AutoreplyState{t0, 2}},
		{"third in the window", AutoreplyState{t0, 2}, t0.Add(59 * time.Minute), false, AutoreplyState{t0, 2}},
		{"window over", AutoreplyState{t0, 2}, t0.Add(time.Hour), true, AutoreplyState{t0.Add(time.Hour), 1}},
		{"clock went back", AutoreplyState{t0, 2}, t0.Add(-time.Minute), true, AutoreplyState{t0.Add(-time.Minute), 1}},
	}
	for _, c := range cases {
		after, ok := p.Allow(c.st, c.now)
		if ok != c.ok || after != c.after {
			t.Errorf("%s: got %v %+v, want %v %+v", c.name, ok, after, c.ok, c.after)
		}
	}
	if _, ok := (AutoreplyPolicy{}).Allow(AutoreplyState{}, t0); ok {
		t.Errorf("a zero policy allows nothing")
	}
}

func TestSubjectTicket(t *testing.T) {
	tags := []string{"NOC", "noc.example.net", "General"}
	for _, c := range []struct {
		subject string
		want    int64
	}{
		{"[NOC #42] core1 unreachable", 42},
		{"Re: [NOC #42] core1", 42},
		{"RE: AW: [noc  #42 ] x", 42},
		{"[http://noc.example.net #7] x", 7},
		{"[https://noc.example.net/ #7] x", 7},
		{"[mailto:NOC #7]", 7},
		{"[General #3]", 3},
		{"[Other #42]", 0},
		{"[NOC#42]", 0},
		{"[NOC #0]", 0},
		{"[NOC #-1]", 0},
		{"[NOC #x]", 0},
		{"[NOC #42", 0},
		{"about [stuff] and [NOC #9]", 9},
		{"[] [#1] [NOC #]", 0},
		{"", 0},
	} {
		if got := SubjectTicket(c.subject, tags); got != c.want {
			t.Errorf("SubjectTicket(%q) = %d, want %d", c.subject, got, c.want)
		}
	}
}

func TestRouteAddress(t *testing.T) {
	qs := []*Queue{
		{ID: 1, Name: "General"},
		{ID: 2, Name: "NOC", CorrespondAddress: "noc@example.net", CommentAddress: "noc-comment@example.net"},
	}
	for _, c := range []struct {
		addr string
		want MailRoute
		ok   bool
	}{
		{"noc@example.net", MailRoute{QueueID: 2, Queue: "NOC", Action: MailCorrespond}, true},
		{"NOC@Example.NET", MailRoute{QueueID: 2, Queue: "NOC", Action: MailCorrespond}, true},
		{"<noc+42@example.net>", MailRoute{QueueID: 2, Queue: "NOC", Action: MailCorrespond, Ticket: 42}, true},
		{"noc-comment+7@example.net", MailRoute{QueueID: 2, Queue: "NOC", Action: MailComment, Ticket: 7}, true},
		{"noc+urgent@example.net", MailRoute{QueueID: 2, Queue: "NOC", Action: MailCorrespond}, true},
		{"noc@example.org", MailRoute{}, false},
		{"general@example.net", MailRoute{}, false},
		{"", MailRoute{}, false},
		{"@example.net", MailRoute{}, false},
	} {
		got, ok := RouteAddress(c.addr, qs)
		if ok != c.ok || got != c.want {
			t.Errorf("RouteAddress(%q) = %+v %v, want %+v %v", c.addr, got, ok, c.want, c.ok)
		}
	}
	if SubjectTag(qs[1], 42) != "[NOC #42]" || SubjectTag(&Queue{Name: "NOC", SubjectTag: "noc.example.net"}, 1) != "[noc.example.net #1]" {
		t.Errorf("SubjectTag")
	}
}

func TestCheckMailTemplate(t *testing.T) {
	for _, c := range []struct {
		text string
		ok   bool
	}{
		{"Subject: {{.Tag}} {{.Ticket.Subject}}\n\n{{.Text}}", true},
		{"Subject: x\r\nReply-To: y@example.net\r\nX-A: b\r\n\r\nbody", true},
		{"Subject: x", true},
		{"\n\nbody", false},
		{"Subject: {{.Missing}}\n\n", false},
		{"Subject: x\n\n{{.Ticket.Nope}}", false},
		{"Subject: x\nTo: y\n\nbody", false},
		{"Subject x\n\nbody", false},
		{"Subject: \xff\n\n", false},
	} {
		err := CheckMailTemplate(c.text)
		if (err == nil) != c.ok {
			t.Errorf("CheckMailTemplate(%q): %v", c.text, err)
		}
	}
}

func TestCheckMailCommands(t *testing.T) {
	many := make([]string, MaxMailCommands+1)
	for i := range many {
		many[i] = "/take"
	}
	for _, c := range []struct {
		lines []string
		ok    bool
	}{
		{nil, true},
		{[]string{"/take", "/priority 80"}, true},
		{many[:MaxMailCommands], true},
		{many, false},
		{[]string{"/comment " + strings.Repeat("x", MaxMailCommandBytes)}, false},
		{[]string{"/take\n/resolve"}, false},
		{[]string{"  "}, false},
		{[]string{"/comment \xff"}, false},
	} {
		err := CheckMailCommands(c.lines)
		if (err == nil) != c.ok || err != nil && !IsCode(err, CodeInvalid) {
			t.Errorf("checkMailCommands(%d lines, %.20q): %v", len(c.lines), c.lines, err)
		}
	}
}
