package report

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		ds             []float64
		med, p90, mean float64
	}{
		{[]float64{10}, 10, 10, 10},
		{[]float64{4, 1, 3, 2}, 2.5, 3.7, 2.5},
		{[]float64{3600, 324000, 7200}, 7200, 260640, 111600},
	} {
		st := Stats(c.ds)
		if st.Median != c.med || abs(st.P90-c.p90) > 1e-9 || st.Mean != c.mean {
			t.Errorf("%v: got %+v, want %v %v %v", c.ds, st, c.med, c.p90, c.mean)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestParseTimeAndPeriods(t *testing.T) {
	now := time.Date(2026, 3, 12, 15, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     now,
		"now":                  now,
		"7d":                   now.AddDate(0, 0, -7),
		"12h":                  now.Add(-12 * time.Hour),
		"2w":                   now.AddDate(0, 0, -14),
		"2026-03-01":           time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"2026-03-01T10:00:00Z": time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "7x", "-3d", "2026-13-01"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
	ps := Periods(DimWeek, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
	if len(ps) != 3 || ps[0].Label != "2026-02-23" || ps[2].Label != "2026-03-09" || !ps[2].End.Equal(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("weeks: %+v", ps)
	}
	if _, err := ParseDims("queue,week,owner"); err == nil {
		t.Error("three dimensions accepted")
	}
	if _, err := ParseDims("day,week"); err == nil {
		t.Error("two periods accepted")
	}
	if ds, err := ParseDims("cf.Product week"); err != nil || ds[0].Field != "product" || ds[1].Kind != DimWeek {
		t.Errorf("ParseDims: %+v %v", ds, err)
	}
}
