// Package numfmt formats figures the way every renderer prints them (the
// comparison, the report, the forecast and the CLI), so that one number reads
// the same wherever it appears.
package numfmt

import (
	"fmt"
	"math"
	"strings"
)

// Num formats a figure without trailing zeros: whole numbers without a
// decimal point (250), one decimal from 100 up (333.3), at most two from 1
// up (2.5) and at most three below 1 (0.8, 0.125).
func Num(x float64) string {
	switch {
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.1f", x)
	case math.Abs(x) >= 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
	}
}

// Round rounds x to digits decimal places, as run.json and the reports
// store figures (2 for rates, 3 for milliseconds and fractions).
func Round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
