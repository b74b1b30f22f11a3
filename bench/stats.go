//go:build linux

package main

import (
	"fmt"
	"sort"
	"time"
)

// series is a set of repeated measurements of one figure.
type series []float64

func (s series) sorted() []float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c
}

func (s series) median() float64 {
	c := s.sorted()
	n := len(c)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return c[n/2]
	default:
		return (c[n/2-1] + c[n/2]) / 2
	}
}

func (s series) min() float64 {
	if len(s) == 0 {
		return 0
	}
	return s.sorted()[0]
}

func (s series) max() float64 {
	if len(s) == 0 {
		return 0
	}
	return s.sorted()[len(s)-1]
}

// ratio divides two medians; 0 when either side is missing.
func ratio(a, b series) float64 {
	if len(a) == 0 || len(b) == 0 || b.median() == 0 {
		return 0
	}
	return a.median() / b.median()
}

// fmtS formats "median (min–max) unit" with the given verb.
func fmtS(s series, verb, unit string) string {
	if len(s) == 0 {
		return "—"
	}
	m := fmt.Sprintf(verb, s.median())
	if len(s) == 1 {
		return m + unit
	}
	return fmt.Sprintf("%s%s (%s–%s)", m, unit, fmt.Sprintf(verb, s.min()), fmt.Sprintf(verb, s.max()))
}

func fmtRatio(r float64) string {
	if r == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", r)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
