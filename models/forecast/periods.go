package forecast

import (
	"fmt"
	"time"
)

// Period grains.
const (
	GrainMonth         = "month"
	GrainQuarter       = "quarter"
	GrainFiscalQuarter = "fiscal_quarter"
)

// period is [Start, End) in UTC with its label.
type period struct {
	Start, End time.Time
	Label      string
}

// calendar turns dates into periods of one grain.
type calendar struct {
	grain   string
	fyStart int // 1..12
}

func newCalendar(grain string, fyStart int) (calendar, error) {
	switch grain {
	case GrainMonth, GrainQuarter, GrainFiscalQuarter:
	default:
		return calendar{}, fmt.Errorf("forecast: grain must be month, quarter or fiscal_quarter, not %q", grain)
	}
	if fyStart < 1 || fyStart > 12 {
		fyStart = 1
	}
	if grain == GrainQuarter {
		fyStart = 1
	}
	return calendar{grain: grain, fyStart: fyStart}, nil
}

func (c calendar) months() int {
	if c.grain == GrainMonth {
		return 1
	}
	return 3
}

// containing returns the period holding t.
func (c calendar) containing(t time.Time) period {
	t = t.UTC()
	y, m := t.Year(), int(t.Month())
	if c.grain != GrainMonth {
		// Months since the (fiscal) year's first month, rounded down to a quarter.
		off := ((m-c.fyStart)%12 + 12) % 12
		m -= off % 3
		if m < 1 {
			m += 12
			y--
		}
	}
	return c.at(time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC))
}

// at builds the period starting at start (a period boundary).
func (c calendar) at(start time.Time) period {
	end := start.AddDate(0, c.months(), 0)
	return period{Start: start, End: end, Label: c.label(start)}
}

func (c calendar) next(p period) period { return c.at(p.End) }
func (c calendar) prev(p period) period { return c.at(p.Start.AddDate(0, -c.months(), 0)) }

// label: 2026-01 (month), 2026-Q1 (calendar quarter), FY2026-Q1 (fiscal
// quarter; the fiscal year is named after the calendar year it ends in, so
// with a February start FY2026 runs Feb 2025 - Jan 2026).
func (c calendar) label(start time.Time) string {
	switch c.grain {
	case GrainMonth:
		return start.Format("2006-01")
	case GrainQuarter:
		return fmt.Sprintf("%d-Q%d", start.Year(), (int(start.Month())-1)/3+1)
	}
	m := int(start.Month())
	off := ((m-c.fyStart)%12 + 12) % 12
	fy := start.Year()
	if c.fyStart != 1 && m >= c.fyStart {
		fy++
	}
	return fmt.Sprintf("FY%d-Q%d", fy, off/3+1)
}

// forecastPeriods returns the n periods a forecast made at asOf covers: the
// first is the one containing asOf + 1 day (a period with less than a day
// left is not forecast), then the following ones.
func (c calendar) forecastPeriods(asOf time.Time, n int) []period {
	p := c.containing(asOf.Add(24 * time.Hour))
	out := make([]period, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, p)
		p = c.next(p)
	}
	return out
}
