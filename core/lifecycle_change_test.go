package core

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

func TestParseStatusMap(t *testing.T) {
	for _, c := range []struct {
		specs []string
		want  StatusMap
		err   string
	}{
		{nil, StatusMap{}, ""},
		{[]string{"triage=open"}, StatusMap{"triage": "open"}, ""},
		{[]string{"triage=open,waiting=stalled", " Closed = Resolved "}, StatusMap{"triage": "open", "waiting": "stalled", "closed": "resolved"}, ""},
		{[]string{"triage=open,", "triage=open"}, StatusMap{"triage": "open"}, ""},
		{[]string{"triage"}, nil, `status map "triage": write old=new`},
		{[]string{"=open"}, nil, "write old=new"},
		{[]string{"triage="}, nil, "write old=new"},
		{[]string{"triage=open", "triage=new"}, nil, "triage goes to open or to new?"},
	} {
		got, err := ParseStatusMap(c.specs...)
		switch {
		case c.err != "":
			if !IsCode(err, CodeInvalid) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.specs, err, c.err)
			}
		case err != nil || !maps.Equal(got, c.want):
			t.Errorf("%q: %v %v, want %v", c.specs, got, err, c.want)
		}
	}
}

func TestStatusMapNeededExplain(t *testing.T) {
	n := &StatusMapNeeded{Lifecycle: "x", Held: []string{"queue NOC holds 3 tickets in status 'triage' and 1 in 'waiting'"},
		Suggested: []string{"triage=new", "waiting=open"}}
	if got, want := n.Error(), "queue NOC holds 3 tickets in status 'triage' and 1 in 'waiting', which lifecycle 'x' lacks; "+
		"say where each goes with --map triage=new,waiting=open"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	got := n.Explain(func(pairs []string) string { return fmt.Sprint(len(pairs), " pairs") })
	if !strings.HasSuffix(got, "say where each goes with 2 pairs") {
		t.Errorf("explained: %q", got)
	}
}
