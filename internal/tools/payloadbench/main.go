// Command payloadbench measures what generating payloads costs k6: it runs the
// same closed-model k6 script against a loopback sink with three bodies —
// one constant body, the extension's fleet.inspection(), and the same payload
// built in JavaScript — interleaved round by round in one run, and prints
// each variant's request rate and its ratio to the constant body.
//
//	go run ./internal/tools/payloadbench --loadgen bin/loadgen
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

const header = `import http from 'k6/http';
import steamtrap from 'k6/x/steamtrap';
const url = __ENV.BASE_URL + '/v1/steam-trap/inspection';
const params = { headers: { 'Content-Type': 'application/json' } };
const fleet = new steamtrap.Fleet({ seed: 1 });
`

// variants are the three scripts compared; each sends one inspection body
// per iteration and differs only in how the body is made.
var variants = []struct{ name, body string }{
	{"constant", header + `const BODY = fleet.inspection().body;
export default function () { http.post(url, BODY, params); }
`},
	{"extension", header + `export default function () { http.post(url, fleet.inspection().body, params); }
`},
	{"javascript", header + `
// The same payload built in JavaScript: a fleet of traps with identities,
// the saturation temperature by interpolation, readings by state.
const SAT = [[0, 100], [5, 108.4], [15, 120.9], [50, 147.6], [100, 170.0], [150, 185.5], [200, 197.7], [250, 207.8], [300, 216.6], [600, 253.8]];
function sat(p) { for (let i = 1; i < SAT.length; i++) { if (p <= SAT[i][0]) { const [p0, t0] = SAT[i - 1], [p1, t1] = SAT[i]; return t0 + (t1 - t0) * (p - p0) / (p1 - p0); } } return SAT[SAT.length - 1][1]; }
const TYPES = ['thermodynamic', 'inverted_bucket', 'float_thermostatic', 'balanced_pressure_thermostatic', 'bimetallic'];
const LEVELS = [5, 10, 15, 30, 50, 75, 100, 125, 150, 200, 250, 300];
const traps = [];
for (let i = 0; i < 1000; i++) {
  const p = LEVELS[Math.floor(Math.random() * LEVELS.length)];
  traps.push({ id: 'ST-' + String(Math.floor(i / 100) + 1).padStart(3, '0') + '-' + String(i % 100 + 1).padStart(4, '0'),
    site: 'site_' + String(Math.floor(i / 100) + 1).padStart(3, '0'), type: TYPES[i % 5], p, sat: sat(p), ret: 0, orifice: 0.125,
    state: ['good', 'good', 'good', 'good', 'leaking', 'failed_open', 'failed_closed', 'flooded'][i % 8] });
}
let seq = 0;
const r1 = (x) => Math.round(x * 10) / 10;
const u = (a, b) => a + Math.random() * (b - a);
export default function () {
  const t = traps[Math.floor(Math.random() * traps.length)];
  seq++;
  const amb = u(12, 35);
  let inlet = t.sat - u(0.3, 2.5), outlet = 100 + u(0, 3), db = u(22, 36), cyc = u(1, 6), f = u(900, 1500);
  if (t.state === 'failed_open') { outlet = inlet - u(0.5, 4); db = u(60, 80); cyc = 0; f = u(1500, 2500); }
  if (t.state === 'failed_closed') { inlet = amb + u(10, 55); outlet = amb + u(0, 8); db = u(0, 8); cyc = 0; f = u(100, 300); }
  const body = JSON.stringify({ trap_id: t.id, site_id: t.site, trap_type: t.type, orifice_in: t.orifice, return_pressure_psig: t.ret,
    sequence: seq, timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString().replace('.000', ''),
    sensor_data: { acoustic_frequency: Math.round(f), thermal_temp: r1(inlet), pressure: t.p, outlet_temp_c: r1(Math.min(outlet, inlet)),
      ambient_temp_c: r1(amb), ultrasound_db: r1(db), ultrasound_upstream_db: r1(db - 1), cycles_per_min: r1(cyc) } });
  http.post(url, body, params);
}
`},
}

func main() {
	loadgen := flag.String("loadgen", "bin/loadgen", "loadgen binary (its embedded k6 runs the scripts)")
	vus := flag.Int("vus", 10, "k6 VUs (closed model: each loops as fast as it can)")
	duration := flag.Duration("duration", 5*time.Second, "length of each k6 run")
	rounds := flag.Int("rounds", 5, "rounds; each round runs every variant once, in rotating order")
	flag.Parse()
	if err := run(*loadgen, *vus, *duration, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "payloadbench:", err)
		os.Exit(1)
	}
}

func run(loadgen string, vus int, duration time.Duration, rounds int) error {
	if _, err := os.Stat(loadgen); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()

	dir, err := os.MkdirTemp("", "payloadbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rates := map[string][]float64{}
	fmt.Printf("k6 closed model, %d VUs, %s per run, %d rounds, sink %s\n", vus, duration, rounds, base)
	for r := range rounds {
		for i := range variants {
			v := variants[(i+r)%len(variants)] // rotate so no variant always runs first
			script := filepath.Join(dir, v.name+".js")
			summary := filepath.Join(dir, v.name+".json")
			if err := os.WriteFile(script, []byte(v.body), 0o644); err != nil {
				return err
			}
			cmd := exec.Command(loadgen, "k6", "run", "-q", "--no-color", "--summary-export", summary,
				"--vus", fmt.Sprint(vus), "--duration", duration.String(), "-e", "BASE_URL="+base, script)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("k6 run %s: %w\n%s", v.name, err, out)
			}
			rate, err := reqRate(summary)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			rates[v.name] = append(rates[v.name], rate)
			fmt.Printf("  round %d  %-10s %9.0f req/s\n", r+1, v.name, rate)
		}
	}
	// Ratios are paired within a round (same machine state), then the
	// median over rounds is taken: robust to a noisy neighbour in one round.
	ratioOf := func(name string) float64 {
		var rs []float64
		for r := range rounds {
			rs = append(rs, rates[name][r]/rates["constant"][r])
		}
		return median(rs)
	}
	fmt.Printf("\n%-10s %12s %14s\n", "variant", "median req/s", "median ratio")
	for _, v := range variants {
		fmt.Printf("%-10s %12.0f %14.3f\n", v.name, median(rates[v.name]), ratioOf(v.name))
	}
	ratio := ratioOf("extension")
	verdict := "meets"
	if ratio < 0.95 {
		verdict = "BELOW"
	}
	fmt.Printf("\nextension/constant = %.3f (target ≥ 0.95: %s)\n", ratio, verdict)
	return nil
}

func reqRate(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var s struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, err
	}
	rate, ok := s.Metrics["http_reqs"]["rate"]
	if !ok {
		return 0, fmt.Errorf("no http_reqs rate in %s", path)
	}
	return rate, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
