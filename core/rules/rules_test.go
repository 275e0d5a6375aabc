package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/ticketd/ticketd/core"
)

func TestParseLines(t *testing.T) {
	f, err := Parse("r.json", []byte("{\n\"rules\": [\n  {\"name\": \"a\", \"on\": [\"created\"], \"do\": [{\"set_status\": \"open\"}]},\n\n  {\"name\": \"b\", \"on\": [\"reply\"], \"do\": [{\"set_priority\": 5}]}\n]}"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) != 2 || f.Rules[0].Line != 3 || f.Rules[1].Line != 5 {
		t.Fatalf("rules %+v", f.Rules)
	}
	if f.Rules[1].Do[0].Kind != ActionSetPriority || string(f.Rules[1].Do[0].Value) != "5" {
		t.Errorf("action %+v", f.Rules[1].Do[0])
	}
}

func TestParsePriorityRange(t *testing.T) {
	for in, want := range map[string][2]int{"50-99": {50, 99}, "80": {80, 99}, "-20": {0, 20}, "80-": {80, 99}, " 5 - 7 ": {5, 7}} {
		lo, hi, err := core.ParsePriorityRange(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("%q: %d-%d, %v", in, lo, hi, err)
		}
	}
	for _, bad := range []string{"", "-", "a-b", "90-10", "0-100", "-5-"} {
		if _, _, err := core.ParsePriorityRange(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}

// The rules file is written by people: any text gives rules or an error
// that names the file, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"defaults": {"take-on-staff-reply": false}, "rules": [{"name": "a", "on": ["created"], "if": {"queue": ["NOC"], "priority": "50-"}, "do": [{"notify": "group:oncall"}]}]}`))
	f.Add([]byte(`{"rules": [{"name": "a", "on": ["created"], "do": [{"set_status": "open", "x": 1}]}]}`))
	f.Add([]byte(`{"rules": [`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := Parse("f.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.json:") || !core.IsCode(err, core.CodeInvalid) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, r := range rf.Rules {
			if r.Line < 1 {
				t.Fatalf("rule %q without a line", r.Name)
			}
		}
	})
}

func FuzzParseCalendar(f *testing.F) {
	f.Add([]byte(`{"name": "office", "time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"], "sat": ["22:00-02:00"]}, "holidays": ["2026-12-25"]}`))
	f.Add([]byte(`{"name": "n", "time_zone": "UTC", "hours": {"daily": ["00:00-00:00"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := core.ParseCalendar(data)
		if err != nil {
			if !core.IsCode(err, core.CodeInvalid) {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		start := mustParseTime("2026-03-27T10:00:00Z")
		end, err := c.Add(start, 10*time.Hour)
		if err != nil {
			return // a calendar may have no time for years (holidays)
		}
		if b := c.Between(start, end); b != 10*time.Hour {
			t.Fatalf("Between(Add(10h)) = %s", b)
		}
	})
}

func mustParseTime(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}
