package core

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func mustCalendar(t testing.TB, def CalendarDef) *Calendar {
	t.Helper()
	c, err := CompileCalendar(def)
	if err != nil {
		t.Fatalf("CompileCalendar(%+v): %v", def, err)
	}
	return c
}

func at(t testing.TB, loc, s string) time.Time {
	t.Helper()
	l, err := time.LoadLocation(loc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Calendars of the tests. 2026-03-02 is a Monday; Berlin's clocks go
// forward on 2026-03-29 and back on 2026-10-25, New York's on 2026-03-08
// and 2026-11-01.
var (
	officeBerlin = CalendarDef{Name: "office", TimeZone: "Europe/Berlin",
		Hours: map[string][]string{"mon-fri": {"09:00-17:00"}}, Holidays: []string{"2026-04-06", "2026-12-25"}}
	lunchBerlin = CalendarDef{Name: "lunch", TimeZone: "Europe/Berlin",
		Hours: map[string][]string{"mon-fri": {"09:00-12:30", "13:30-17:00"}, "fri": {"09:00-13:00"}}}
	nightsBerlin = CalendarDef{Name: "nights", TimeZone: "Europe/Berlin",
		Hours: map[string][]string{"daily": {"22:00-06:00"}}}
	allDayBerlin = CalendarDef{Name: "always-berlin", TimeZone: "Europe/Berlin",
		Hours: map[string][]string{"daily": {"00:00-24:00"}}}
	newYork = CalendarDef{Name: "ny", TimeZone: "America/New_York",
		Hours: map[string][]string{"mon-fri": {"08:00-18:00"}, "sun": {"00:00-04:00"}}, Holidays: []string{"2026-11-26"}}
)

func TestCalendarAdd(t *testing.T) {
	const B, NY = "Europe/Berlin", "America/New_York"
	cases := []struct {
		name  string
		cal   CalendarDef
		loc   string
		start string
		add   time.Duration
		want  string
	}{
		{"same day", officeBerlin, B, "2026-03-02 10:00", 2 * time.Hour, "2026-03-02 12:00"},
		{"to the end of the day exactly", officeBerlin, B, "2026-03-02 16:00", time.Hour, "2026-03-02 17:00"},
		{"a minute past the end", officeBerlin, B, "2026-03-02 16:00", 61 * time.Minute, "2026-03-03 09:01"},
		{"before opening", officeBerlin, B, "2026-03-02 06:30", 30 * time.Minute, "2026-03-02 09:30"},
		{"after closing", officeBerlin, B, "2026-03-02 19:00", time.Hour, "2026-03-03 10:00"},
		{"over the weekend", officeBerlin, B, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"from a Saturday", officeBerlin, B, "2026-03-07 12:00", time.Hour, "2026-03-09 10:00"},
		{"a whole week", officeBerlin, B, "2026-03-02 09:00", 40 * time.Hour, "2026-03-06 17:00"},
		{"a week and a minute", officeBerlin, B, "2026-03-02 09:00", 40*time.Hour + time.Minute, "2026-03-09 09:01"},
		{"holiday on a Monday", officeBerlin, B, "2026-04-03 16:00", 2 * time.Hour, "2026-04-07 10:00"},
		{"from the holiday itself", officeBerlin, B, "2026-04-06 11:00", time.Hour, "2026-04-07 10:00"},
		{"weekend of spring forward", officeBerlin, B, "2026-03-27 16:00", 2 * time.Hour, "2026-03-30 10:00"},
		{"weekend of fall back", officeBerlin, B, "2026-10-23 16:00", 2 * time.Hour, "2026-10-26 10:00"},
		{"Christmas on a Friday", officeBerlin, B, "2026-12-24 16:00", 2 * time.Hour, "2026-12-28 10:00"},
		{"lunch break skipped", lunchBerlin, B, "2026-03-02 12:00", time.Hour, "2026-03-02 14:00"},
		{"short Friday", lunchBerlin, B, "2026-03-06 12:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"night shift same night", nightsBerlin, B, "2026-03-02 23:00", 2 * time.Hour, "2026-03-03 01:00"},
		{"night shift into the next", nightsBerlin, B, "2026-03-03 05:00", 2 * time.Hour, "2026-03-03 23:00"},
		{"night shift by day", nightsBerlin, B, "2026-03-03 12:00", time.Hour, "2026-03-03 23:00"},
		// The spring-forward night is 7 real hours long, the fall-back one 9.
		{"spring-forward night", nightsBerlin, B, "2026-03-28 22:00", 7 * time.Hour, "2026-03-29 06:00"},
		{"spring-forward night and more", nightsBerlin, B, "2026-03-28 22:00", 7*time.Hour + 30*time.Minute, "2026-03-29 22:30"},
		{"fall-back night", nightsBerlin, B, "2026-10-24 22:00", 9 * time.Hour, "2026-10-25 06:00"},
		{"fall-back night and more", nightsBerlin, B, "2026-10-24 22:00", 9*time.Hour + time.Minute, "2026-10-25 22:01"},
		{"all day across spring forward", allDayBerlin, B, "2026-03-28 23:00", 3 * time.Hour, "2026-03-29 03:00"},
		{"all day across fall back", allDayBerlin, B, "2026-10-24 23:00", 5 * time.Hour, "2026-10-25 03:00"},
		{"NY Sunday hours across spring forward", newYork, NY, "2026-03-08 00:00", 3 * time.Hour, "2026-03-08 04:00"},
		{"NY Sunday hours, an hour more", newYork, NY, "2026-03-08 00:00", 4 * time.Hour, "2026-03-09 09:00"},
		{"NY Sunday hours across fall back", newYork, NY, "2026-11-01 00:00", 5 * time.Hour, "2026-11-01 04:00"},
		{"NY Thanksgiving", newYork, NY, "2026-11-25 17:00", 2 * time.Hour, "2026-11-27 09:00"},
		{"backwards over the weekend", officeBerlin, B, "2026-03-09 10:00", -2 * time.Hour, "2026-03-06 16:00"},
		{"backwards over the holiday", officeBerlin, B, "2026-04-07 10:00", -2 * time.Hour, "2026-04-03 16:00"},
		{"backwards over the night", nightsBerlin, B, "2026-03-03 23:00", -2 * time.Hour, "2026-03-03 05:00"},
		{"zero", officeBerlin, B, "2026-03-07 12:00", 0, "2026-03-07 12:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cal := mustCalendar(t, c.cal)
			start, want := at(t, c.loc, c.start), at(t, c.loc, c.want)
			got, err := cal.Add(start, c.add)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", start, c.add, got.In(want.Location()), want)
			}
			if c.add > 0 {
				if b := cal.Between(start, got); b != c.add {
					t.Errorf("Between(%s, %s) = %s, want %s", start, got, b, c.add)
				}
			}
		})
	}
}

func TestCalendarBetween(t *testing.T) {
	const B, NY = "Europe/Berlin", "America/New_York"
	cases := []struct {
		name     string
		cal      CalendarDef
		loc      string
		from, to string
		want     time.Duration
	}{
		{"a working week", officeBerlin, B, "2026-03-02 00:00", "2026-03-09 00:00", 40 * time.Hour},
		{"a week with a holiday Monday", officeBerlin, B, "2026-04-06 00:00", "2026-04-13 00:00", 32 * time.Hour},
		{"a weekend", officeBerlin, B, "2026-03-06 17:00", "2026-03-09 09:00", 0},
		{"within a day", officeBerlin, B, "2026-03-02 10:15", "2026-03-02 11:45", 90 * time.Minute},
		{"reversed", officeBerlin, B, "2026-03-02 11:45", "2026-03-02 10:15", -90 * time.Minute},
		{"lunch week", lunchBerlin, B, "2026-03-02 00:00", "2026-03-09 00:00", 4*7*time.Hour + 4*time.Hour},
		{"spring-forward day", allDayBerlin, B, "2026-03-29 00:00", "2026-03-30 00:00", 23 * time.Hour},
		{"fall-back day", allDayBerlin, B, "2026-10-25 00:00", "2026-10-26 00:00", 25 * time.Hour},
		{"nights of a spring-forward week", nightsBerlin, B, "2026-03-23 00:00", "2026-03-30 00:00", 7*8*time.Hour - time.Hour},
		{"NY spring-forward Sunday", newYork, NY, "2026-03-08 00:00", "2026-03-08 12:00", 3 * time.Hour},
		{"NY fall-back Sunday", newYork, NY, "2026-11-01 00:00", "2026-11-01 12:00", 5 * time.Hour},
		{"a year of office time", officeBerlin, B, "2026-01-01 00:00", "2027-01-01 00:00", (261 - 2) * 8 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cal := mustCalendar(t, c.cal)
			if got := cal.Between(at(t, c.loc, c.from), at(t, c.loc, c.to)); got != c.want {
				t.Fatalf("Between(%s, %s) = %s, want %s", c.from, c.to, got, c.want)
			}
		})
	}
}

func Test24x7(t *testing.T) {
	c := Always24x7()
	start := at(t, "Europe/Berlin", "2026-03-28 23:00")
	got, err := c.Add(start, 50*time.Hour)
	if err != nil || !got.Equal(start.Add(50*time.Hour)) {
		t.Fatalf("Add = %s, %v", got, err)
	}
	if b := c.Between(start, start.Add(26*time.Hour)); b != 26*time.Hour {
		t.Fatalf("Between = %s", b)
	}
	if !c.Working(start) {
		t.Fatal("24x7 is always working")
	}
}

func TestCalendarWorking(t *testing.T) {
	night := mustCalendar(t, nightsBerlin)
	office := mustCalendar(t, officeBerlin)
	for _, c := range []struct {
		cal  *Calendar
		at   string
		want bool
	}{
		{night, "2026-03-03 02:00", true}, {night, "2026-03-03 12:00", false}, {night, "2026-03-03 22:00", true},
		{office, "2026-03-02 09:00", true}, {office, "2026-03-02 17:00", false}, {office, "2026-04-06 10:00", false},
		{office, "2026-03-07 10:00", false},
	} {
		if got := c.cal.Working(at(t, "Europe/Berlin", c.at)); got != c.want {
			t.Errorf("%s Working(%s) = %v", c.cal.Name, c.at, got)
		}
	}
}

func TestCalendarErrors(t *testing.T) {
	cases := []struct {
		def  string
		want string
	}{
		{`{"name":"x","time_zone":"Mars/Olympus","hours":{"mon":["09:00-17:00"]}}`, `time_zone "Mars/Olympus" is not a known`},
		{`{"name":"x","hours":{"mon":["09:00-17:00"]}}`, "time_zone is missing"},
		{`{"name":"","time_zone":"UTC","hours":{"mon":["09:00-17:00"]}}`, "calendar name is missing"},
		{`{"name":"a b","time_zone":"UTC","hours":{"mon":["09:00-17:00"]}}`, "must be 1 to 64 letters"},
		{`{"name":"24x7","time_zone":"UTC","hours":{"mon":["09:00-17:00"]}}`, "built in"},
		{`{"name":"x","time_zone":"UTC","hours":{"funday":["09:00-17:00"]}}`, `"funday" is not a day`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon-fry":["09:00-17:00"]}}`, `"mon-fry" is not a day range`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon":["9-17"]}}`, `hours["mon"][0]: "9-17" is not an interval`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon":["09:00-25:00"]}}`, `is not an interval`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon":["09:00-09:00"]}}`, `is empty`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon":[]}}`, "no working time"},
		{`{"name":"x","time_zone":"UTC","hours":{"mon-wed":["09:00-17:00"],"tue-fri":["09:00-17:00"]}}`, `both name Tuesday`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon":["09:00-17:00"]},"holidays":["25.12.2026"]}`, `holidays[0]: "25.12.2026" is not a date`},
		{`{"name":"x","time_zone":"UTC","hours":{"mon":["09:00-17:00"]},"workdays":1}`, `unknown field "workdays"`},
	}
	for _, c := range cases {
		_, err := ParseCalendar([]byte(c.def))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseCalendar(%s) = %v, want an error containing %q", c.def, err, c.want)
			continue
		}
		if !IsCode(err, CodeInvalid) {
			t.Errorf("ParseCalendar(%s): code %s, want invalid", c.def, ErrorCode(err))
		}
	}
}

func TestCalendarOverrides(t *testing.T) {
	c := mustCalendar(t, CalendarDef{Name: "x", TimeZone: "UTC",
		Hours: map[string][]string{"daily": {"08:00-20:00"}, "mon-fri": {"09:00-17:00"}, "wed": {}}})
	day := func(s string) time.Duration {
		d := at(t, "UTC", s+" 00:00")
		return c.Between(d, d.Add(24*time.Hour))
	}
	for _, w := range []struct {
		day  string
		want time.Duration
	}{{"2026-03-02", 8 * time.Hour}, {"2026-03-04", 0}, {"2026-03-07", 12 * time.Hour}} {
		if got := day(w.day); got != w.want {
			t.Errorf("%s: %s of working time, want %s", w.day, got, w.want)
		}
	}
}

func TestCalendarHasNoTime(t *testing.T) {
	var hs []string
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2030; d = d.AddDate(0, 0, 1) {
		hs = append(hs, d.Format("2006-01-02"))
	}
	c := mustCalendar(t, CalendarDef{Name: "never", TimeZone: "UTC", Hours: map[string][]string{"mon": {"09:00-10:00"}}, Holidays: hs})
	if _, err := c.Add(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), time.Hour); err == nil {
		t.Fatal("a calendar that is all holidays gave a deadline")
	}
}

// checkAddBetween checks that Add and Between agree for one start and
// duration: Between(t, Add(t, d)) is d, and Add(t, Between(t, u)) is the
// last working moment not after u.
func checkAddBetween(t *testing.T, c *Calendar, start time.Time, d time.Duration, u time.Time) {
	t.Helper()
	end, err := c.Add(start, d)
	if err != nil {
		t.Fatalf("%s: Add(%s, %s): %v", c.Name, start, d, err)
	}
	if end.Before(start) {
		t.Fatalf("%s: Add(%s, %s) = %s went backwards", c.Name, start, d, end)
	}
	if b := c.Between(start, end); b != d {
		t.Fatalf("%s: Between(%s, Add(.., %s)=%s) = %s", c.Name, start, d, end, b)
	}
	if back, err := c.Add(end, -d); err != nil || c.Between(back, start) != 0 || c.Between(back, end) != d {
		t.Fatalf("%s: Add(%s, -%s) = %s, %v", c.Name, end, d, back, err)
	}
	if u.Before(start) {
		start, u = u, start
	}
	b := c.Between(start, u)
	v, err := c.Add(start, b)
	if err != nil {
		t.Fatal(err)
	}
	if v.After(u) || c.Between(v, u) != 0 {
		t.Fatalf("%s: Add(%s, Between(.., %s) = %s) = %s", c.Name, start, u, b, v)
	}
}

func calendarsForProperties(t testing.TB) []*Calendar {
	return []*Calendar{mustCalendar(t, officeBerlin), mustCalendar(t, lunchBerlin), mustCalendar(t, nightsBerlin),
		mustCalendar(t, allDayBerlin), mustCalendar(t, newYork), Always24x7()}
}

func TestCalendarProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range calendarsForProperties(t) {
		for i := 0; i < 400; i++ {
			start := base.Add(time.Duration(r.Int64N(int64(366*24*time.Hour))) / time.Minute * time.Minute)
			d := time.Duration(r.Int64N(int64(300*time.Hour))) / time.Minute * time.Minute
			u := base.Add(time.Duration(r.Int64N(int64(366 * 24 * time.Hour))))
			checkAddBetween(t, c, start, d, u)
		}
	}
}

func FuzzCalendarAddBetween(f *testing.F) {
	f.Add(int64(0), int64(60), int64(3600), uint8(0))
	f.Add(int64(7_430_400), int64(25_200), int64(86_400), uint8(2)) // the spring-forward night in Berlin
	f.Add(int64(25_400_000), int64(32_400), int64(3_600), uint8(4))
	cals := calendarsForProperties(f)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, startSec, dSec, uSec int64, which uint8) {
		c := cals[int(which)%len(cals)]
		const span = 2 * 366 * 24 * 3600
		start := base.Add(time.Duration(mod(startSec, span)) * time.Second)
		d := time.Duration(mod(dSec, 400*3600)) * time.Second
		u := base.Add(time.Duration(mod(uSec, span)) * time.Second)
		checkAddBetween(t, c, start, d, u)
	})
}

func mod(a, m int64) int64 {
	a %= m
	if a < 0 {
		a += m
	}
	return a
}

func BenchmarkCalendarAdd(b *testing.B) {
	c := mustCalendar(b, officeBerlin)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := c.Add(start, 16*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBusinessDurations(t *testing.T) {
	for in, want := range map[string]string{"90m": "1h30m", "4h": "4h", "2d": "2d", "1d4h": "28h", "1m30s": "1m30s", "45m": "45m"} {
		d, err := ParseBusinessDuration(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := FormatBusinessDuration(d); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "0h", "-1h", "soon", "400d", "d", "1x"} {
		if _, err := ParseBusinessDuration(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
