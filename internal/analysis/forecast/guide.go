// Package forecast is capacity planning: the GL-008 guide's growth forecast
// (scripts/forecast_capacity.py) reproduced exactly (its arithmetic here,
// its constants from the benchmarks file's growth_forecast), the same forecast and
// the guide's capacity matrix sized from a measured per-pod capacity
// instead, and the GL-006 §8.2 replica formula with documented and measured
// durations. Everything here is pure arithmetic: inputs in, tables out.
package forecast

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/guides"
)

// Model is the growth forecast's constants, forecast_capacity.py's as a
// benchmarks file documents them (growth_forecast): the arithmetic below is
// the script's, its numbers the file's.
type Model = guides.GrowthForecast

// DefaultModel is the default service's model (guides.Default: GL-008's
// scripts/forecast_capacity.py), from its built-in benchmarks file: what a
// forecast without a Model uses. It is shared: read it, never change it.
var DefaultModel = guides.Documented(guides.Default()).GrowthForecast

// The default model's constants by name (the last three are the CLI's
// defaults). They are read from the benchmarks file, not kept here.
var (
	TrapsPerSite              = DefaultModel.TrapsPerSite
	InspectionsPerTrapPerDay  = DefaultModel.InspectionsPerTrapPerDay
	InspectionsPerDayPerBlock = DefaultModel.InspectionsPerDayPerBlock
	ReplicasPerBlock          = DefaultModel.ReplicasPerBlock
	MinReplicas               = DefaultModel.MinReplicas
	CPUCoresPerReplica        = DefaultModel.CPUCoresPerReplica
	MemoryGBPerReplica        = DefaultModel.MemoryGBPerReplica
	DBGBPerTrap               = DefaultModel.DBGBPerTrap
	CoreHourUSD               = DefaultModel.CoreHourUSD
	GBHourUSD                 = DefaultModel.GBHourUSD
	DBGBMonthUSD              = DefaultModel.DBGBMonthUSD
	HoursPerMonth             = DefaultModel.HoursPerMonth // sic: the script multiplies hourly prices by 30
	MediumAboveReplicas       = DefaultModel.MediumAboveReplicas
	LargeAboveReplicas        = DefaultModel.LargeAboveReplicas
	DBScalingAboveGB          = DefaultModel.DBScalingAboveGB
	DefaultSites              = DefaultModel.DefaultSites
	DefaultGrowth             = DefaultModel.DefaultGrowthMonthly
	DefaultMonths             = DefaultModel.DefaultMonths
)

// modelOr returns m, or DefaultModel when m is nil.
func modelOr(m *Model) *Model {
	if m == nil {
		return DefaultModel
	}
	return m
}

// MaxSites bounds a forecast's projected sites, so that every column stays
// an exact integer (and pandas' int64) and no float overflows.
const MaxSites = 1e12

// GuideInput are forecast_capacity_requirements' arguments, plus the clock
// and the script's constants.
type GuideInput struct {
	Sites  int64   // current_sites
	Growth float64 // growth_rate_monthly, e.g. 0.10
	Months int     // months_ahead
	// Now stands for datetime.now() (local wall-clock time).
	Now time.Time
	// Model holds the script's constants (nil: DefaultModel).
	Model *Model
}

// GuideRow is one row of the script's table; JSON keys are its column names.
type GuideRow struct {
	Month            int    `json:"month"`
	Date             string `json:"date"`
	Sites            int64  `json:"sites"`
	Traps            int64  `json:"traps"`
	InspectionsDaily int64  `json:"inspections_daily"`
	RequiredReplicas int64  `json:"required_replicas"`
	RequiredCPUCores int64  `json:"required_cpu_cores"`
	RequiredMemoryGB int64  `json:"required_memory_gb"`
	RequiredDBSizeGB int64  `json:"required_db_size_gb"`
	MonthlyCostUSD   int64  `json:"monthly_cost_usd"`
}

// ErrInput is wrapped for forecast inputs out of range.
var ErrInput = errors.New("bad forecast input")

// Validate checks the inputs: sites ≥ 0, growth > −1 (a shrinking fleet is
// allowed), 0 ≤ months ≤ 1200, and a projection below MaxSites. One problem
// is reported on one line, several as a numbered list.
func (in GuideInput) Validate() error {
	var errs []string
	if in.Sites < 0 {
		errs = append(errs, fmt.Sprintf("--sites %d: want ≥ 0", in.Sites))
	}
	if !(in.Growth > -1) || math.IsInf(in.Growth, 0) {
		errs = append(errs, fmt.Sprintf("--growth %v: want a monthly fraction > -1, e.g. 0.10 for 10%%", in.Growth))
	}
	if in.Months < 0 || in.Months > 1200 {
		errs = append(errs, fmt.Sprintf("--months %d: want 0–1200", in.Months))
	}
	if len(errs) == 0 && in.Months > 0 {
		top := 0.0
		for m := 1; m <= in.Months; m++ {
			top = math.Max(top, float64(in.Sites)*PowInt(1+in.Growth, m))
		}
		if !(top < MaxSites) {
			errs = append(errs, fmt.Sprintf("--sites %d growing %v a month for %d months reaches %.3g sites: want fewer than %.0g", in.Sites, in.Growth, in.Months, top, float64(MaxSites)))
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s", ErrInput, errs[0])
	}
	for i := range errs {
		errs[i] = fmt.Sprintf("%d. %s", i+1, errs[i])
	}
	return fmt.Errorf("%w:\n  %s", ErrInput, strings.Join(errs, "\n  "))
}

// Guide computes forecast_capacity_requirements' table with the script's
// arithmetic: Python float semantics for every float step, int() truncation,
// the same order of operations, and (1+growth)**month as the correctly
// rounded power (see PowInt).
func Guide(in GuideInput) ([]GuideRow, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	rows := make([]GuideRow, 0, in.Months)
	for month := 1; month <= in.Months; month++ {
		rows = append(rows, guideRow(modelOr(in.Model), in, month))
	}
	return rows, nil
}

func guideRow(m *Model, in GuideInput, month int) GuideRow {
	// projected_sites = int(current_sites * ((1 + growth_rate_monthly) ** month))
	sites := int64(float64(float64(in.Sites) * PowInt(float64(1+in.Growth), month)))
	traps := sites * int64(m.TrapsPerSite)
	inspections := traps * int64(m.InspectionsPerTrapPerDay)
	replicas := ruleReplicas(m, inspections)
	cpu := float64(float64(replicas) * m.CPUCoresPerReplica)
	mem := replicas * int64(m.MemoryGBPerReplica)
	db := traps * int64(m.DBGBPerTrap)
	return GuideRow{
		Month:            month,
		Date:             in.Now.AddDate(0, 0, 30*month).Format("2006-01"),
		Sites:            sites,
		Traps:            traps,
		InspectionsDaily: inspections,
		RequiredReplicas: replicas,
		RequiredCPUCores: int64(cpu),
		RequiredMemoryGB: mem,
		RequiredDBSizeGB: db,
		MonthlyCostUSD:   monthlyCost(m, cpu, mem, db),
	}
}

// ruleReplicas is the script's rule, max(4, int(inspections_daily / 25000)
// * 4) with GL-008's constants: true division, then truncation.
func ruleReplicas(m *Model, inspectionsPerDay int64) int64 {
	return max(int64(m.MinReplicas), int64(float64(float64(inspectionsPerDay)/m.InspectionsPerDayPerBlock))*int64(m.ReplicasPerBlock))
}

// monthlyCost is the script's cost model, cpu*30*0.04 + mem*30*0.005 +
// db*0.10 with GL-008's constants, evaluated left to right; the conversions
// keep every step rounded (no fused multiply-add). The products of whole
// numbers are exact, as Python's integer products are.
func monthlyCost(m *Model, cpu float64, mem, db int64) int64 {
	a := float64(float64(cpu*m.HoursPerMonth) * m.CoreHourUSD)
	b := float64(float64(float64(mem)*m.HoursPerMonth) * m.GBHourUSD)
	c := float64(float64(db) * m.DBGBMonthUSD)
	return int64(float64(float64(a+b) + c))
}

// PowInt returns b**n for n ≥ 0, correctly rounded to float64: the exact
// power computed with big.Float and rounded once to nearest-even. Python's
// float ** int calls the C library's pow(), which glibc makes correctly
// rounded in all but extremely rare cases (≤ 0.52 ULP); Go's math.Pow is not
// (it is off by an ULP in most (1+g)**m cases), and an ULP decides int()
// when the product is near an integer: in Python 1.2**3 is
// 1.7279999999999998 and int(125 * 1.2**3) is 215; math.Pow gives 1.728 and
// 216.
func PowInt(b float64, n int) float64 {
	if n < 0 {
		return 1 / PowInt(b, -n)
	}
	if n == 0 || b == 1 {
		return 1
	}
	if b == 0 || math.IsNaN(b) || math.IsInf(b, 0) {
		return math.Pow(b, float64(n))
	}
	prec := uint(53*n + 64)
	result := new(big.Float).SetPrec(prec).SetFloat64(1)
	base := new(big.Float).SetPrec(prec).SetFloat64(b)
	for k := n; k > 0; k >>= 1 {
		if k&1 == 1 {
			result.Mul(result, base)
		}
		if k > 1 {
			base.Mul(base, base)
		}
	}
	f, _ := result.Float64()
	return f
}

// Milestones returns the script's "Capacity Milestones" lines with
// DefaultModel's thresholds. Like the script, it compares each row with
// df.iloc[idx-1], which for the first row is the LAST row: a shrinking
// forecast can announce an upgrade in month 1.
func Milestones(rows []GuideRow) []string { return milestones(DefaultModel, rows) }

func milestones(m *Model, rows []GuideRow) []string {
	var out []string
	n := len(rows)
	medium, large, db := int64(m.MediumAboveReplicas), int64(m.LargeAboveReplicas), int64(m.DBScalingAboveGB)
	for i, row := range rows {
		prev := rows[(i-1+n)%n]
		if row.RequiredReplicas > medium && prev.RequiredReplicas <= medium {
			out = append(out, fmt.Sprintf("⚠️  %s: Upgrade to medium cluster (>%d replicas)", row.Date, medium))
		}
		if row.RequiredReplicas > large && prev.RequiredReplicas <= large {
			out = append(out, fmt.Sprintf("⚠️  %s: Upgrade to large cluster (>%d replicas)", row.Date, large))
		}
		if row.RequiredDBSizeGB > db && prev.RequiredDBSizeGB <= db {
			out = append(out, fmt.Sprintf("⚠️  %s: Database scaling required (>%dGB)", row.Date, db))
		}
	}
	return out
}

// guideColumns are the script's DataFrame columns, in order; numeric tells
// pandas to prefix the header with a space.
var guideColumns = []struct {
	name    string
	numeric bool
}{
	{"month", true}, {"date", false}, {"sites", true}, {"traps", true}, {"inspections_daily", true},
	{"required_replicas", true}, {"required_cpu_cores", true}, {"required_memory_gb", true},
	{"required_db_size_gb", true}, {"monthly_cost_usd", true},
}

func (r GuideRow) cells() []string {
	i := func(x int64) string { return strconv.FormatInt(x, 10) }
	return []string{strconv.Itoa(r.Month), r.Date, i(r.Sites), i(r.Traps), i(r.InspectionsDaily), i(r.RequiredReplicas),
		i(r.RequiredCPUCores), i(r.RequiredMemoryGB), i(r.RequiredDBSizeGB), i(r.MonthlyCostUSD)}
}

// WriteGuideText writes exactly what the script prints: the table as
// pandas' DataFrame.to_string(index=False) renders it (pandas 1.5: columns
// right-aligned to their widest cell, numeric headers prefixed with a space,
// one space between columns; an empty frame as "Empty DataFrame"), a blank
// line, "=== Capacity Milestones ===", then the milestones (Milestones).
func WriteGuideText(w io.Writer, rows []GuideRow) error {
	return writeGuideText(w, rows, Milestones(rows))
}

func writeGuideText(w io.Writer, rows []GuideRow, milestones []string) error {
	var b strings.Builder
	if len(rows) == 0 {
		b.WriteString("Empty DataFrame\nColumns: []\nIndex: []\n")
	} else {
		cells := make([][]string, len(rows))
		for i, r := range rows {
			cells[i] = r.cells()
		}
		widths := make([]int, len(guideColumns))
		headers := make([]string, len(guideColumns))
		for c, col := range guideColumns {
			headers[c] = col.name
			if col.numeric {
				headers[c] = " " + col.name
			}
			widths[c] = len(headers[c])
			for _, r := range cells {
				widths[c] = max(widths[c], len(r[c]))
			}
		}
		line := func(vals []string) {
			for c, v := range vals {
				if c > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(strings.Repeat(" ", widths[c]-len(v)) + v)
			}
			b.WriteByte('\n')
		}
		line(headers)
		for _, r := range cells {
			line(r)
		}
	}
	b.WriteString("\n=== Capacity Milestones ===\n")
	for _, m := range milestones {
		b.WriteString(m + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
