package forecast

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/guides"
)

// now is the pinned datetime.now() of every test (the guide's "as of" date).
var now = time.Date(2025, 11, 26, 10, 0, 0, 0, time.Local)

func guideText(t *testing.T, sites int64, growth float64, months int) string {
	t.Helper()
	rows, err := Guide(GuideInput{Sites: sites, Growth: growth, Months: months, Now: now})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteGuideText(&b, rows))
	return b.String()
}

// TestGuideMatchesScriptOutput compares with what the guide's own script
// printed (testdata/script_*.txt, from testdata/run_forecast.py with pandas
// 1.5.3 and datetime.now() pinned to 2025-11-26 10:00).
func TestGuideMatchesScriptOutput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file   string
		sites  int64
		growth float64
		months int
	}{
		{"script_100_0.10_12.txt", 100, 0.10, 12}, // the script's own __main__
		{"script_300_-0.3_4.txt", 300, -0.3, 4},   // shrinking: df.iloc[-1] announces upgrades in month 1
		{"script_1_0.5_6.txt", 1, 0.5, 6},         // the database milestone
		{"script_125_0.2_3.txt", 125, 0.2, 3},     // 125 × 1.2**3 = 215.99999999999997 → 215
		{"script_100_0.1_0.txt", 100, 0.1, 0},     // an empty DataFrame
	} {
		want, err := os.ReadFile(filepath.Join("testdata", c.file))
		require.NoError(t, err)
		assert.Equal(t, string(want), guideText(t, c.sites, c.growth, c.months), c.file)
	}
}

// pythonArithmetic is the script's arithmetic, line for line, without
// pandas: it prints one JSON row per month.
const pythonArithmetic = `
import json, sys
from datetime import datetime, timedelta
now = datetime(2025, 11, 26, 10, 0, 0)
for line in sys.stdin:
    current_sites, growth_rate_monthly, months_ahead = line.split()
    current_sites, growth_rate_monthly, months_ahead = int(current_sites), float(growth_rate_monthly), int(months_ahead)
    out = []
    for month in range(1, months_ahead + 1):
        projected_sites = int(current_sites * ((1 + growth_rate_monthly) ** month))
        projected_traps = projected_sites * 100
        projected_inspections_daily = projected_traps * 10
        required_replicas = max(4, int(projected_inspections_daily / 25000) * 4)
        required_cpu_cores = required_replicas * 2.5
        required_memory_gb = required_replicas * 5
        required_db_size_gb = projected_traps * 3
        monthly_cost = (
            required_cpu_cores * 30 * 0.04 +
            required_memory_gb * 30 * 0.005 +
            required_db_size_gb * 0.10
        )
        out.append({
            'month': month,
            'date': (now + timedelta(days=30*month)).strftime('%Y-%m'),
            'sites': projected_sites,
            'traps': projected_traps,
            'inspections_daily': projected_inspections_daily,
            'required_replicas': required_replicas,
            'required_cpu_cores': int(required_cpu_cores),
            'required_memory_gb': int(required_memory_gb),
            'required_db_size_gb': int(required_db_size_gb),
            'monthly_cost_usd': int(monthly_cost)
        })
    print(json.dumps(out))
`

// TestGuideMatchesPythonArithmetic runs the script's formulas in python3
// (no pandas needed) over a grid of inputs, including those where float
// error decides int(): 100 sites at 10%, 125 at 20%, and many more.
func TestGuideMatchesPythonArithmetic(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed in CI")
		}
		t.Skip("python3 not found")
	}
	type input struct {
		sites  int64
		growth string
		months int
	}
	var inputs []input
	for _, s := range []int64{0, 1, 7, 10, 50, 100, 125, 250, 333, 500, 1000, 2500} {
		for _, g := range []string{"0.0", "0.01", "0.05", "0.1", "0.10", "0.15", "0.2", "0.25", "0.3", "0.5", "1.0", "-0.05", "-0.3", "0.07", "0.33"} {
			inputs = append(inputs, input{s, g, 24})
		}
	}
	var stdin strings.Builder
	for _, in := range inputs {
		fmt.Fprintf(&stdin, "%d %s %d\n", in.sites, in.growth, in.months)
	}
	cmd := exec.Command(py, "-c", pythonArithmetic)
	cmd.Stdin = strings.NewReader(stdin.String())
	out, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(inputs))
	for i, in := range inputs {
		var want []GuideRow
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &want))
		var g float64
		_, err := fmt.Sscan(in.growth, &g)
		require.NoError(t, err)
		got, err := Guide(GuideInput{Sites: in.sites, Growth: g, Months: in.months, Now: now})
		require.NoError(t, err)
		require.Equal(t, want, got, "sites %d growth %s", in.sites, in.growth)
	}
}

// TestGuideMatchesScriptLive runs the real script (with pandas) on inputs
// no golden file holds. It is skipped where no python3 has pandas.
func TestGuideMatchesScriptLive(t *testing.T) {
	t.Parallel()
	var py string
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import pandas").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with pandas (apt-get install python3-pandas to run the guide's script itself)")
	}
	for _, c := range []struct {
		sites  int64
		growth string
		months int
	}{{37, "0.23", 18}, {1000, "0.02", 24}, {9, "0.9", 10}, {640, "-0.12", 9}, {100, "0.1", 1}} {
		cmd := exec.Command(py, filepath.Join("testdata", "run_forecast.py"), fmt.Sprint(c.sites), c.growth, fmt.Sprint(c.months), "2025-11-26T10:00:00")
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		want, err := cmd.Output()
		require.NoError(t, err)
		var g float64
		_, err = fmt.Sscan(c.growth, &g)
		require.NoError(t, err)
		assert.Equal(t, string(want), guideText(t, c.sites, g, c.months), "%+v", c)
	}
}

func TestPowIntIsCorrectlyRounded(t *testing.T) {
	t.Parallel()
	// Python: 1.1**2 == 1.2100000000000002, 1.2**3 == 1.7279999999999998,
	// 1.1**12 == 3.138428376721003.
	assert.Equal(t, 1.2100000000000002, PowInt(1.1, 2))
	assert.Equal(t, 1.7279999999999998, PowInt(1.2, 3))
	assert.Equal(t, 3.138428376721003, PowInt(1+0.10, 12))
	assert.Equal(t, int64(215), int64(125*PowInt(1.2, 3)))
	assert.NotEqual(t, PowInt(1.2, 3), math.Pow(1.2, 3), "math.Pow is an ULP off here")
	assert.Equal(t, 1.0, PowInt(1.3, 0))
	assert.Equal(t, 0.25, PowInt(2, -2))
	assert.Equal(t, math.Pow(0.7, 5), PowInt(0.7, 5))
}

func TestMilestonesWrapToTheLastRow(t *testing.T) {
	t.Parallel()
	rows := []GuideRow{
		{Date: "a", RequiredReplicas: 16, RequiredDBSizeGB: 600},
		{Date: "b", RequiredReplicas: 8, RequiredDBSizeGB: 400},
	}
	// Row "a" is compared with row "b" (df.iloc[-1]).
	assert.Equal(t, []string{
		"⚠️  a: Upgrade to medium cluster (>12 replicas)",
		"⚠️  a: Database scaling required (>500GB)",
	}, Milestones(rows))
	assert.Empty(t, Milestones(rows[:1]), "one row is compared with itself")
	assert.Empty(t, Milestones(nil))
}

func TestGuideDatesUseWallClockDays(t *testing.T) {
	t.Parallel()
	// 2025-01-31 + 30 days = 2025-03-02; + 60 = 2025-04-01.
	rows, err := Guide(GuideInput{Sites: 10, Growth: 0, Months: 2, Now: time.Date(2025, 1, 31, 23, 30, 0, 0, time.UTC)})
	require.NoError(t, err)
	assert.Equal(t, "2025-03", rows[0].Date)
	assert.Equal(t, "2025-04", rows[1].Date)
}

func TestGuideValidation(t *testing.T) {
	t.Parallel()
	for _, in := range []GuideInput{
		{Sites: -1, Growth: 0.1, Months: 12},
		{Sites: 10, Growth: -1, Months: 12},
		{Sites: 10, Growth: math.NaN(), Months: 12},
		{Sites: 10, Growth: 0.1, Months: -1},
		{Sites: 10, Growth: 0.1, Months: 1201},
		{Sites: 1000, Growth: 2, Months: 100},
	} {
		_, err := Guide(in)
		require.ErrorIs(t, err, ErrInput, "%+v", in)
	}
}

// The constants come from the benchmarks file (growth_forecast); these are
// the figures of the guide's scripts/forecast_capacity.py, written out, so
// that a benchmarks file that drifts from the guide fails here.
func TestConstantsAreTheGuideScripts(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 100.0, float64(TrapsPerSite), "projected_sites * 100")
	assert.Equal(t, 10.0, float64(InspectionsPerTrapPerDay), "projected_traps * 10")
	assert.Equal(t, 25000.0, float64(InspectionsPerDayPerBlock), "projected_inspections_daily / 25000")
	assert.Equal(t, 4.0, float64(ReplicasPerBlock), "int(…) * 4")
	assert.Equal(t, 4.0, float64(MinReplicas), "max(4, …)")
	assert.Equal(t, 2.5, float64(CPUCoresPerReplica), "required_replicas * 2.5")
	assert.Equal(t, 0.04, float64(CoreHourUSD), "* 30 * 0.04")
	assert.Equal(t, 0.005, float64(GBHourUSD), "* 30 * 0.005")
	assert.Equal(t, 30.0, float64(HoursPerMonth), "the script's * 30")
}

func TestMeasuredSizing(t *testing.T) {
	t.Parallel()
	a := DefaultAssumptions()
	c := Capacity{PerPodRPS: 250, Endpoint: "inspection"}
	// 1,000,000 inspections/day → 11.574 req/s average → ×3 = 34.72 req/s
	// peak; 34.72 ÷ (250 × 0.7) = 0.198 → the floor of 4.
	assert.InDelta(t, 34.722, a.PeakRPS(1e6), 1e-3)
	assert.Equal(t, 4, a.ReplicasFor(a.PeakRPS(1e6), c))
	// At 100 inspections/min per pod (1.667 req/s): 34.72 ÷ (1.667 × 0.7)
	// = 29.76 → 30.
	assert.Equal(t, 30, a.ReplicasFor(a.PeakRPS(1e6), Capacity{PerPodRPS: 100.0 / 60}))
	// Exactly on a whole number stays there despite float noise.
	assert.Equal(t, 10, a.ReplicasFor(7, Capacity{PerPodRPS: 1}))
	assert.Equal(t, 0, a.ReplicasFor(10, Capacity{}))

	b, err := guides.Builtin(guides.GL008)
	require.NoError(t, err)
	m := Matrix(b, Capacity{PerPodRPS: 100.0 / 60}, a)
	require.Len(t, m, 6)
	assert.Equal(t, MatrixRow{Sites: 100, Traps: 10000, InspectionsPerDay: 100000, DocumentedReplicas: 12, RuleReplicas: 16,
		PeakRPS: 100000.0 / 86400 * 3, MeasuredReplicas: 4, DocumentedLoad: 100000.0 / 86400 * 3 / (12 * 100.0 / 60)}, m[2])
	assert.Equal(t, 30, m[5].MeasuredReplicas)
	assert.Equal(t, int64(160), m[5].RuleReplicas)

	rows, err := Guide(GuideInput{Sites: 100, Growth: 0.1, Months: 12, Now: now})
	require.NoError(t, err)
	mr := Measured(rows, c, a)
	require.Len(t, mr, 12)
	assert.Equal(t, int64(16), mr[0].GuideReplicas)
	assert.Equal(t, 4, mr[0].Replicas)
	// The script's cost model with 4 replicas: 10 cores, 20 GB, 33,000 GB.
	assert.Equal(t, int64(int(10*30*0.04+20*30*0.005+33000*0.10)), mr[0].MonthlyCostUSD)
}

func TestGL006WorkedExample(t *testing.T) {
	t.Parallel()
	b, err := guides.Builtin(guides.GL006)
	require.NoError(t, err)
	p, err := GL006(b, GL006Input{}, nil)
	require.NoError(t, err)
	assert.InDelta(t, 57.142857, p.Example, 1e-6) // the guide: ~57
	assert.Equal(t, 57, int(math.Round(p.Example)))
	assert.InDelta(t, 5.7142857, p.Alternative, 1e-6) // the guide: ~6
	require.Len(t, p.Rows, 5)
	pinch := p.Rows[1]
	assert.Equal(t, "pinch_analysis", pinch.Operation)
	assert.InDelta(t, 57.142857, pinch.Replicas, 1e-6)
	assert.Equal(t, 58, pinch.Whole)
	full := p.Rows[4]
	assert.InDelta(t, 100*60*800/(0.7*1000), full.Replicas, 1e-9)

	p, err = GL006(b, GL006Input{RatePerS: 10}, &GL006Measured{Operation: "pinch-analysis", DurationS: 1.5, PerPodRPS: 2.5, Basis: "test"})
	require.NoError(t, err)
	pinch = p.Rows[1]
	assert.InDelta(t, 10*1.5*200/(0.7*1000), pinch.MeasuredReplicas, 1e-9) // 4.29
	assert.Equal(t, 5, pinch.MeasuredWhole)
	assert.InDelta(t, 10/(2.5*0.7), pinch.CapacityReplicas, 1e-9) // 5.71
	assert.Equal(t, 6, pinch.CapacityWhole)
	assert.Zero(t, p.Rows[0].MeasuredReplicas)

	_, err = GL006(b, GL006Input{RatePerS: -1}, nil)
	require.ErrorIs(t, err, ErrInput)
}
