package chart

import (
	"math"
	"strconv"

	"github.com/go-analyze/charts"
)

// maxTicks bounds the value axis to a handful of labels so it stays readable at 300px.
const maxTicks = 6

// niceRange returns an axis from lo to hi, both multiples of a 1, 2 or 5 step,
// that covers every value and zero, and the number of labels on it. Counts get
// whole-number steps and rates get steps like 5%, never 2.5 or 3.3.
func niceRange(values [][]float64) (lo, hi float64, ticks int) {
	for _, row := range values {
		for _, v := range row {
			if v == charts.GetNullValue() || math.IsNaN(v) {
				continue
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi-lo == 0 {
		return 0, maxTicks - 1, maxTicks // an empty chart still shows a plain 0–5 axis
	}
	step := niceStep((hi - lo) / (maxTicks - 1))
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi/step) * step
	return lo, hi, int(math.Round((hi-lo)/step)) + 1
}

// niceStep returns the smallest step of 1, 2 or 5 times a power of ten that is at least raw.
func niceStep(raw float64) float64 {
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw*(1-1e-9) {
			return m * pow
		}
	}
	return 10 * pow
}

// formatValue writes v with at most two decimals and no trailing zeros,
// shortening large numbers (12000 is "12k", 12345 is "12.3k"), followed by unit.
func formatValue(v float64, unit string) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return round(v/1e6, 10) + "M" + unit
	case a >= 1e4:
		return round(v/1e3, 10) + "k" + unit
	default:
		return round(v, 100) + unit
	}
}

// round writes v rounded to 1/scale, without trailing zeros or a minus sign on zero.
func round(v, scale float64) string {
	s := strconv.FormatFloat(math.Round(v*scale)/scale, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}
