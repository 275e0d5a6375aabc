package core

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Business-hours calendars: SLA targets count working time only. A
// calendar has a time zone, working hours per weekday (several intervals a
// day; an interval whose end is not after its start runs past midnight into
// the next day) and holidays (dates on which no time counts, whatever the
// weekday).
//
// Working hours are wall-clock times in the calendar's zone, so a working
// day is as long as the clock says on ordinary days, and the durations are
// real elapsed time: on the night the clocks go forward an interval that
// spans the change is an hour shorter, and an hour longer when they go back.
// A wall time that does not exist (inside the spring-forward gap) is read at
// the offset in force before the change, as time.Date does.

// CalendarDef is a calendar as written in a file or stored: JSON.
//
//	{"name": "office", "time_zone": "Europe/Berlin",
//	 "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"], "sat": ["10:00-14:00"]},
//	 "holidays": ["2026-12-25", "2026-12-26"]}
//
// Keys of hours: mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri,
// or "daily". An interval "22:00-06:00" runs past midnight; "00:00-24:00" is
// the whole day. A single day overrides a range, and a range "daily"; an
// empty list makes a day off.
type CalendarDef struct {
	Name     string              `json:"name"`
	TimeZone string              `json:"time_zone"`
	Hours    map[string][]string `json:"hours"`
	Holidays []string            `json:"holidays,omitempty"`
}

const (
	// Calendar24x7 is the name of the built-in calendar in which every moment
	// counts (UTC, no holidays).
	Calendar24x7 = "24x7"
	// maxCalendarDays bounds the search for working time: a calendar without
	// working time within this many days of an instant has none.
	maxCalendarDays = 3 * 366
)

// Calendar is a compiled CalendarDef.
type Calendar struct {
	Name string
	loc  *time.Location
	// week holds, per time.Weekday, the sorted, disjoint working intervals
	// of that date in seconds after midnight, wall clock, [start, end).
	week     [7][]span
	holidays map[civilDate]bool
	always   bool // every moment counts: Add and Between are plain arithmetic
	def      CalendarDef
}

type span struct{ start, end int } // seconds after midnight, 0..86400

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

func (c civilDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", c.y, c.m, c.d) }

// Always24x7 returns the built-in calendar in which every moment counts.
func Always24x7() *Calendar {
	c := &Calendar{Name: Calendar24x7, loc: time.UTC, always: true, holidays: map[civilDate]bool{},
		def: CalendarDef{Name: Calendar24x7, TimeZone: "UTC", Hours: map[string][]string{"daily": {"00:00-24:00"}}}}
	for d := range c.week {
		c.week[d] = []span{{0, 86400}}
	}
	return c
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseCalendar decodes and compiles a JSON calendar definition.
func ParseCalendar(data []byte) (*Calendar, error) {
	var def CalendarDef
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return nil, Errorf(CodeInvalid, "calendar definition is not valid JSON: %v", err)
	}
	return CompileCalendar(def)
}

// CompileCalendar checks a definition and compiles it. Errors name the field.
func CompileCalendar(def CalendarDef) (*Calendar, error) {
	name := strings.TrimSpace(def.Name)
	if err := CheckSLAName("calendar", name); err != nil {
		return nil, err
	}
	if strings.EqualFold(name, Calendar24x7) {
		return nil, Errorf(CodeInvalid, "calendar %q is built in and cannot be redefined", Calendar24x7)
	}
	def.Name = name
	if def.TimeZone == "" {
		return nil, Errorf(CodeInvalid, "calendar %s: time_zone is missing (e.g. \"Europe/Berlin\", \"UTC\")", name)
	}
	loc, err := time.LoadLocation(def.TimeZone)
	if err != nil || def.TimeZone == "Local" {
		return nil, Errorf(CodeInvalid, "calendar %s: time_zone %q is not a known IANA time zone", name, def.TimeZone)
	}
	c := &Calendar{Name: name, loc: loc, holidays: map[civilDate]bool{}, def: def}
	// The intervals that start on each weekday; a single day overrides a
	// range, a range overrides "daily".
	keys := make([]string, 0, len(def.Hours))
	for k := range def.Hours {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if r := keyRank(a) - keyRank(b); r != 0 {
			return r
		}
		return strings.Compare(a, b)
	})
	type interval struct{ st, en int }
	var starts [7][]interval
	var rankOf [7]int
	var keyOf [7]string
	for _, k := range keys {
		days, err := parseDays(k)
		if err != nil {
			return nil, Errorf(CodeInvalid, "calendar %s: hours: %v", name, err)
		}
		for _, d := range days {
			if keyOf[d] != "" && rankOf[d] == keyRank(k) {
				return nil, Errorf(CodeInvalid, "calendar %s: hours: %q and %q both name %s", name, keyOf[d], k, d)
			}
			keyOf[d], rankOf[d] = k, keyRank(k)
		}
		var ivs []interval
		for i, iv := range def.Hours[k] {
			st, en, err := parseInterval(iv)
			if err != nil {
				return nil, Errorf(CodeInvalid, "calendar %s: hours[%q][%d]: %v", name, k, i, err)
			}
			ivs = append(ivs, interval{st, en})
		}
		for _, d := range days {
			starts[d] = ivs
		}
	}
	var raw [7][]span // by the weekday each piece falls on
	for d, ivs := range starts {
		for _, iv := range ivs {
			if iv.en > iv.st {
				raw[d] = append(raw[d], span{iv.st, iv.en})
				continue
			}
			// Past midnight: the rest falls on the next day.
			raw[d] = append(raw[d], span{iv.st, 86400})
			if iv.en > 0 {
				raw[(d+1)%7] = append(raw[(d+1)%7], span{0, iv.en})
			}
		}
	}
	total := 0
	for d := range raw {
		c.week[d] = mergeSpans(raw[d])
		for _, s := range c.week[d] {
			total += s.end - s.start
		}
	}
	if total == 0 {
		return nil, Errorf(CodeInvalid, "calendar %s: hours give no working time in the week", name)
	}
	for i, h := range def.Holidays {
		d, err := time.Parse("2006-01-02", strings.TrimSpace(h))
		if err != nil {
			return nil, Errorf(CodeInvalid, "calendar %s: holidays[%d]: %q is not a date (YYYY-MM-DD)", name, i, h)
		}
		c.holidays[dateOf(d)] = true
	}
	c.always = total == 7*86400 && len(c.holidays) == 0 && loc == time.UTC
	return c, nil
}

func keyRank(k string) int {
	k = strings.ToLower(strings.TrimSpace(k))
	switch {
	case k == "daily" || k == "all":
		return 0
	case strings.Contains(k, "-"):
		return 1
	}
	return 2
}

func parseDays(k string) ([]time.Weekday, error) {
	key := strings.ToLower(strings.TrimSpace(k))
	if key == "daily" || key == "all" {
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
	}
	if a, b, ok := strings.Cut(key, "-"); ok {
		from, ok1 := dayNames[a]
		to, ok2 := dayNames[b]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%q is not a day range such as mon-fri", k)
		}
		var out []time.Weekday
		for d := from; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == to {
				break
			}
		}
		return out, nil
	}
	d, ok := dayNames[key]
	if !ok {
		return nil, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily)", k)
	}
	return []time.Weekday{d}, nil
}

// parseInterval reads "HH:MM-HH:MM" into seconds after midnight.
func parseInterval(s string) (int, int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not an interval such as 09:00-17:00", s)
	}
	st, err1 := parseClock(a)
	en, err2 := parseClock(b)
	if err1 != nil || err2 != nil || st == 86400 {
		return 0, 0, fmt.Errorf("%q is not an interval such as 09:00-17:00 (times run 00:00 to 24:00)", s)
	}
	if st == en && st != 0 {
		return 0, 0, fmt.Errorf("%q is empty", s)
	}
	if st == 0 && en == 0 {
		en = 86400 // 00:00-00:00: the whole day
	}
	return st, en, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("bad time")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time")
	}
	return hh*3600 + mm*60, nil
}

func mergeSpans(in []span) []span {
	if len(in) == 0 {
		return nil
	}
	slices.SortFunc(in, func(a, b span) int { return a.start - b.start })
	out := []span{in[0]}
	for _, s := range in[1:] {
		last := &out[len(out)-1]
		if s.start <= last.end {
			last.end = max(last.end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// Def returns the definition the calendar was compiled from.
func (c *Calendar) Def() CalendarDef { return c.def }

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// window is working time on one date, as instants.
type window struct{ start, end time.Time }

// windows lists the working time of the date d, in order.
func (c *Calendar) windows(d civilDate) []window {
	if c.holidays[d] {
		return nil
	}
	wd := time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
	spans := c.week[wd]
	out := make([]window, 0, len(spans))
	for _, s := range spans {
		st := c.wall(d, s.start)
		en := c.wall(d, s.end)
		if en.After(st) {
			out = append(out, window{st, en})
		}
	}
	return out
}

// wall is the instant of a wall time (seconds after midnight) on date d.
func (c *Calendar) wall(d civilDate, sec int) time.Time {
	if sec == 86400 {
		return time.Date(d.y, d.m, d.d+1, 0, 0, 0, 0, c.loc)
	}
	return time.Date(d.y, d.m, d.d, sec/3600, sec/60%60, sec%60, 0, c.loc)
}

func nextDate(d civilDate) civilDate {
	return dateOf(time.Date(d.y, d.m, d.d+1, 12, 0, 0, 0, time.UTC))
}

func prevDate(d civilDate) civilDate {
	return dateOf(time.Date(d.y, d.m, d.d-1, 12, 0, 0, 0, time.UTC))
}

// Add returns the instant at which d of working time will have passed
// after t. Add(t, 0) is t. Time outside working hours does not count, so a
// result lands inside working hours or at the end of an interval. A
// negative d counts backwards. It fails only for a calendar without working
// time within years of t.
func (c *Calendar) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d == 0 {
		return t, nil
	}
	if c.always {
		return t.Add(d), nil
	}
	if d < 0 {
		return c.sub(t, -d)
	}
	lt := t.In(c.loc)
	day := dateOf(lt)
	// A piece past midnight belongs to the date it falls on, but the date
	// of t in the zone is right only after t's own day started: start a
	// day early so that nothing is missed around DST changes.
	day = prevDate(day)
	for i := 0; i < maxCalendarDays; i++ {
		for _, w := range c.windows(day) {
			if !w.end.After(t) {
				continue
			}
			s := w.start
			if t.After(s) {
				s = t
			}
			if avail := w.end.Sub(s); d <= avail {
				return s.Add(d).In(t.Location()), nil
			} else {
				d -= avail
			}
		}
		day = nextDate(day)
	}
	return time.Time{}, Errorf(CodeInvalid, "calendar %s has no working time within %d days of %s", c.Name, maxCalendarDays,
		t.Format(time.RFC3339))
}

func (c *Calendar) sub(t time.Time, d time.Duration) (time.Time, error) {
	day := nextDate(dateOf(t.In(c.loc)))
	for i := 0; i < maxCalendarDays; i++ {
		ws := c.windows(day)
		for j := len(ws) - 1; j >= 0; j-- {
			w := ws[j]
			if !w.start.Before(t) {
				continue
			}
			e := w.end
			if t.Before(e) {
				e = t
			}
			if avail := e.Sub(w.start); d <= avail {
				return e.Add(-d).In(t.Location()), nil
			} else {
				d -= avail
			}
		}
		day = prevDate(day)
	}
	return time.Time{}, Errorf(CodeInvalid, "calendar %s has no working time within %d days before %s", c.Name,
		maxCalendarDays, t.Format(time.RFC3339))
}

// Between returns the working time from t to u: negative when u is before t.
func (c *Calendar) Between(t, u time.Time) time.Duration {
	if c.always {
		return u.Sub(t)
	}
	if u.Before(t) {
		return -c.Between(u, t)
	}
	var sum time.Duration
	day := prevDate(dateOf(t.In(c.loc)))
	last := nextDate(dateOf(u.In(c.loc)))
	for {
		for _, w := range c.windows(day) {
			s, e := w.start, w.end
			if s.Before(t) {
				s = t
			}
			if e.After(u) {
				e = u
			}
			if e.After(s) {
				sum += e.Sub(s)
			}
		}
		if day == last {
			return sum
		}
		day = nextDate(day)
	}
}

// Working reports whether t is inside working hours.
func (c *Calendar) Working(t time.Time) bool {
	if c.always {
		return true
	}
	day := dateOf(t.In(c.loc))
	for _, d := range []civilDate{prevDate(day), day, nextDate(day)} {
		for _, w := range c.windows(d) {
			if !t.Before(w.start) && t.Before(w.end) {
				return true
			}
		}
	}
	return false
}
