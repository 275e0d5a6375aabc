package search

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	q, err := Parse(`queue:noc,"Network Ops" status:open owner:me priority>50 requester:bob@example.net "bgp  flap" edge1 created>7d due<2d sort:-priority,id`, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(q.Queues, "|") != "noc|Network Ops" || strings.Join(q.Statuses, ",") != "open" || q.Owners[0] != "me" ||
		q.PriorityGT[0] != 50 || q.Requestors[0] != "bob@example.net" || q.Phrases[0] != "bgp flap" || q.Words[0] != "edge1" {
		t.Fatalf("parsed %+v", q)
	}
	if !q.Created[0].After || !q.Created[0].T.Equal(now.AddDate(0, 0, -7)) || q.Due[0].After || !q.Due[0].T.Equal(now.AddDate(0, 0, 2)) {
		t.Fatalf("times %+v %+v", q.Created, q.Due)
	}
	if len(q.Sort) != 2 || q.Sort[0] != (core.SortKey{Field: "priority", Desc: true}) || q.Sort[1] != (core.SortKey{Field: "id", Desc: false}) {
		t.Fatalf("sort %+v", q.Sort)
	}
	q, err = Parse(`"queue:noc" status:any`, now)
	if err != nil || len(q.Queues) != 0 || strings.Join(q.Phrases, ",") != "queue noc" || q.Class != "any" {
		t.Fatalf("quoted field syntax is text: %+v %v", q, err)
	}
	q, err = Parse(`http://example.net/x 10:00`, now)
	if err != nil || len(q.Words) == 0 {
		t.Fatalf("urls and times are text: %+v %v", q, err)
	}
}

func TestParseNeedsReply(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"needs:reply", "NEEDS:Reply status:active", "needs=reply"} {
		if q, err := Parse(s, now); err != nil || !q.NeedsReply {
			t.Errorf("%q: %+v %v", s, q, err)
		}
	}
	if q, err := Parse("owner:me", now); err != nil || q.NeedsReply {
		t.Errorf("owner:me needs a reply: %+v %v", q, err)
	}
	for _, s := range []string{"needs:love", "needs>reply", "needs:"} {
		if _, err := Parse(s, now); core.ErrorCode(err) != core.CodeInvalid || !strings.Contains(err.Error(), "needs:reply") {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", `queue:noc status:open owner:me priority>50 "bgp flap"`, `"unterminated`, "priority>=0 priority<=99",
		"created>7d due<2024-01-01", "resolved>7d resolved<2024-01-01", "sort:-id", "needs:reply", "id:#42,43", "colour:red", "\xff", "queue:\"a b\""} {
		f.Add(s)
	}
	now := time.Unix(1_700_000_000, 0).UTC()
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s, now)
		if err != nil {
			if core.ErrorCode(err) != core.CodeInvalid {
				t.Fatalf("error %v has code %s, want invalid", err, core.ErrorCode(err))
			}
			return
		}
		for _, w := range append(q.Words, q.Phrases...) {
			if w == "" || strings.TrimSpace(w) != w {
				t.Fatalf("empty or untrimmed text term %q", w)
			}
		}
		for _, n := range q.PriorityGT {
			if n < -1 || n > core.MaxPriority {
				t.Fatalf("priority bound %d", n)
			}
		}
	})
}

// resolved> and resolved< bound when a ticket last became inactive, as
// created and updated do; resolved:x is refused with an example.
func TestParseResolved(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	q, err := Parse("resolved>2026-03-01 resolved<7d", now)
	if err != nil {
		t.Fatal(err)
	}
	want := []TimeBound{{After: true, T: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, {After: false, T: now.AddDate(0, 0, -7)}}
	if len(q.Resolved) != 2 || q.Resolved[0] != want[0] || q.Resolved[1] != want[1] {
		t.Fatalf("resolved bounds %+v, want %+v", q.Resolved, want)
	}
	if _, err := Parse("resolved:yesterday", now); err == nil || !strings.Contains(err.Error(), "resolved>2024-05-01") {
		t.Fatalf("resolved:yesterday: %v", err)
	}
}
