package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	queues := map[string]bool{"noc": true, "servers": true}
	o := Options{IsQueue: func(s string) bool { return queues[strings.ToLower(s)] },
		IsStatus: func(s string) bool { return s == "open" || s == "new" || s == "stalled" }}
	in := o
	in.Ticket = 7
	cases := []struct {
		line string
		o    Options
		want string // fmt of the interesting fields, or "error: <part>"
	}{
		{"/ticket take 42", o, "take #42"},
		{"take #42", o, "take #42"},
		{"!ticket take", in, "take #7"},
		{"take", o, "error: which ticket? say `take 42`"},
		{"take 42 now", o, "error: unexpected \"now\""},
		{"new noc core1 unreachable", o, "new q=noc text=core1 unreachable"},
		{"new core1 unreachable", o, "new text=core1 unreachable"},
		{"new noc", o, "new text=noc"},
		{"new", o, "error: new needs a subject"},
		{"list noc open", o, "list q=noc status=open"},
		{"list open", o, "list status=open"},
		{"list a b c", o, "error: unexpected"},
		{"mine", o, "mine"},
		{"search queue:noc \"bgp flap\"", o, "search query=queue:noc \"bgp flap\""},
		{"resolve 42 fixed by reboot", o, "resolve #42 text=fixed by reboot"},
		{"resolve fixed it", in, "resolve #7 text=fixed it"},
		{"close", in, "resolve #7"},
		{"comment 5 servers down", in, "comment #7 text=5 servers down"},
		{"comment #5 servers down", in, "comment #5 text=servers down"},
		{"comment 5 servers down", o, "comment #5 text=servers down"},
		{"reply", in, "error: reply needs text"},
		{"give 42 alice", o, "give #42 user=alice"},
		{"give alice", in, "give #7 user=alice"},
		{"priority 42 80", o, "priority #42 prio=80"},
		{"priority 80", in, "priority #7 prio=80"},
		{"priority 42 100", o, "error: 0 to 99"},
		{"time 42 1h30m", o, "time #42 min=90"},
		{"time 45", in, "time #7 min=45"},
		{"time 42 soon", o, "error: not a duration"},
		{"due 42 tomorrow 17:00", o, "due #42 when=tomorrow 17:00"},
		{"queue 42 servers", o, "queue #42 q=servers"},
		{"link 42 depends-on 43", o, "link #42 depends-on #43"},
		{"link depends-on 43", in, "link #7 depends-on #43"},
		{"link 42 likes 43", o, "error: link how?"},
		{"merge 42 into 43", o, "merge #42 into #43"},
		{"merge into 43", in, "merge #7 into #43"},
		{"merge 42 43", o, "error: merge into which ticket?"},
		{"cc 42 add bob@example.net", o, "cc #42 add bob@example.net"},
		{"cc remove bob@example.net", in, "cc #7 del bob@example.net"},
		{"remind 42 tomorrow 09:00 check the BGP session", o, "remind #42 when=tomorrow 09:00 text=check the BGP session"},
		{"remind 42 whenever", o, "error: remind when"},
		{"frobnicate", o, "error: unknown command \"frobnicate\""},
		{"", o, "error: no command"},
		{"help take", o, "help text=take"},
		{"report noc 7d", o, "report q=noc when=7d"},
		{"report 30d noc mttr", o, "report q=noc when=30d measure=resolution"},
		{"report", o, "report"},
		{"report backlog", o, "report measure=backlog"},
		{"report nowhere", o, "error: unexpected \"nowhere\""},
		{"report noc 7d 30d", o, "error: unexpected \"30d\""},
	}
	for _, c := range cases {
		cmd, err := Parse(c.line, c.o)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = describe(cmd)
		}
		if !strings.HasPrefix(got, c.want) && !(strings.HasPrefix(c.want, "error: ") && strings.Contains(got, strings.TrimPrefix(c.want, "error: "))) {
			t.Errorf("Parse(%q) = %s, want %s", c.line, got, c.want)
		}
	}
}

func describe(c *Command) string {
	s := c.Verb
	if c.Ticket != 0 {
		s += fmt.Sprintf(" #%d", c.Ticket)
	}
	for _, kv := range []struct{ k, v string }{{"q", c.Queue}, {"status", c.Status}, {"user", c.User}, {"when", c.When}, {"query", c.Query}} {
		if kv.v != "" {
			s += " " + kv.k + "=" + kv.v
		}
	}
	if c.Link != "" {
		s += fmt.Sprintf(" %s #%d", c.Link, c.Other)
	} else if c.Verb == "merge" {
		s += fmt.Sprintf(" into #%d", c.Other)
	}
	if c.CcOp != "" {
		s += " " + c.CcOp + " " + c.Address
	}
	if c.Verb == "priority" {
		s += fmt.Sprintf(" prio=%d", c.Priority)
	}
	if c.Minutes != 0 {
		s += fmt.Sprintf(" min=%d", c.Minutes)
	}
	if c.Text != "" {
		s += " text=" + c.Text
	}
	if c.Measure != "" {
		s += " measure=" + c.Measure
	}
	return s
}

func TestParseWhen(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	if loc == nil {
		loc = time.UTC
	}
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, loc) // a Wednesday
	cases := map[string]string{
		"tomorrow 09:00":   "2026-03-05 09:00",
		"tomorrow":         "2026-03-05 09:00",
		"today 17:30":      "2026-03-04 17:30",
		"17:00":            "2026-03-04 17:00",
		"14:00":            "2026-03-05 14:00",
		"monday":           "2026-03-09 09:00",
		"wed 08:00":        "2026-03-11 08:00",
		"2026-06-01 17:00": "2026-06-01 17:00",
		"in 2h":            "2026-03-04 17:00",
		"+3d":              "2026-03-07 15:00",
		"in 1w":            "2026-03-11 15:00",
	}
	for in, want := range cases {
		got, err := ParseWhen(in, now, loc)
		if err != nil || got.Format("2006-01-02 15:04") != want {
			t.Errorf("ParseWhen(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if got, err := ParseWhen("none", now, loc); err != nil || !got.IsZero() {
		t.Errorf("none: %v %v", got, err)
	}
	for _, bad := range []string{"soon", "25:00", "tomorrow 9am", "2026-13-01", "+-3d", "in 99999d"} {
		if _, err := ParseWhen(bad, now, loc); err == nil {
			t.Errorf("ParseWhen(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"take 42", "new noc x", "link 1 depends-on 2", "merge 1 into 2", "remind 1 tomorrow 09:00 x",
		"cc 1 add a@b", "time 1 1h", "priority 5 5", "/ticket help", "due in 3d", "\xff"} {
		f.Add(s, int64(0))
		f.Add(s, int64(7))
	}
	f.Fuzz(func(t *testing.T, line string, ctx int64) {
		c, err := Parse(line, Options{Ticket: ctx, IsQueue: func(s string) bool { return s == "noc" }})
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if c.Verb == "" || c.Ticket < 0 || c.Other < 0 || c.Priority < 0 || c.Priority > 99 || c.Minutes < 0 {
			t.Fatalf("Parse(%q) = %+v", line, c)
		}
	})
}
