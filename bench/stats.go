package main

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// row is one line of the results table: a measured quantity per runtime.
type row struct {
	group string // scenario, for the chart
	name  string
	unit  string // "ms", "s", "MB", "" (count)
	vals  map[string][]float64
	fails map[string]int
	errs  map[string][]string
	// total: report the sum instead of the median.
	total bool
	// skip: runtimes this row does not apply to, and why.
	skip map[string]string
	// chart: draw it in results.svg.
	chart bool
	// noRatio: the ratio columns make no sense (counts of things).
	noRatio bool
}

func (b *bench) newRow(group, name, unit string) *row {
	r := &row{group: group, name: name, unit: unit, vals: map[string][]float64{},
		fails: map[string]int{}, errs: map[string][]string{}, skip: map[string]string{}, chart: true}
	b.mu.Lock()
	b.rows = append(b.rows, r)
	b.mu.Unlock()
	return r
}

func (r *row) add(key string, v float64) { r.vals[key] = append(r.vals[key], v) }

func (r *row) addDur(key string, d time.Duration) {
	switch r.unit {
	case "s":
		r.add(key, d.Seconds())
	default:
		r.add(key, float64(d.Microseconds())/1000)
	}
}

// fail records a failure; its message is printed at once and kept.
func (r *row) fail(key string, err error) {
	r.fails[key]++
	if len(r.errs[key]) < 3 {
		r.errs[key] = append(r.errs[key], err.Error())
	}
	fmt.Printf("   FAIL %s [%s]: %v\n", key, r.name, err)
}

// value is the row's figure for key: the median (or the sum), ok=false if
// there is nothing.
func (r *row) value(key string) (float64, bool) {
	v := r.vals[key]
	if len(v) == 0 {
		return 0, false
	}
	if r.total {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s, true
	}
	return quantile(v, 0.5), true
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64{}, v...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return s[lo]
	}
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func fmtVal(v float64, unit string) string {
	var s string
	switch {
	case unit == "" && v == math.Trunc(v):
		s = fmt.Sprintf("%.0f", v)
	case v >= 100:
		s = fmt.Sprintf("%.0f", v)
	case v >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.2f", v)
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}
