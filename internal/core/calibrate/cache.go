package calibrate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/greenlang/loadgen/internal/core/k6step"
	"github.com/greenlang/loadgen/internal/kit/atomicfile"
)

// MaxAge is how long a cached ceiling stands: a machine's kernel, its
// neighbours and its firmware change; a month-old figure is measured again.
const MaxAge = 30 * 24 * time.Hour

// Machine is what the cache calls one machine: its identity and what a
// generator on it may use. Two machines of the same make share nothing:
// the machine id is in the key.
type Machine struct {
	ID       string `json:"machine_id,omitempty"` // /etc/machine-id, when there is one
	Hostname string `json:"hostname"`
	CPUModel string `json:"cpu_model"`
	CPUs     int    `json:"cpus"`
	// AllowedCPUs is what this process may use (affinity, cgroup quota):
	// what k6, its child, may use.
	AllowedCPUs float64 `json:"allowed_cpus"`
	MemGiB      int     `json:"mem_gib"`
	GOOS        string  `json:"goos"`
	GOARCH      string  `json:"goarch"`
}

// ThisMachine reads this machine's identity.
func ThisMachine(allowedCPUs float64) Machine {
	m := Machine{CPUs: runtime.NumCPU(), AllowedCPUs: allowedCPUs, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		m.ID = strings.TrimSpace(string(b))
	}
	m.Hostname, _ = os.Hostname()
	m.CPUModel = CPUModel()
	m.MemGiB = int(k6step.MemTotal() >> 30)
	return m
}

// Key is what a cached ceiling is the ceiling of: the machine, the k6 build
// (a hash of the binary that runs k6), the script and the workload as a
// step runs them, and k6's runtime settings. Any change is another key.
type Key struct {
	Machine  Machine  `json:"machine"`
	K6Build  string   `json:"k6_build"` // sha256 of the k6 executable
	Script   string   `json:"script"`   // its name
	ScriptID string   `json:"script_sha256"`
	Endpoint string   `json:"endpoint"`
	Runners  int      `json:"runners"`
	Env      []string `json:"k6_env"` // GOGC, GOMAXPROCS, GOMEMLIMIT as k6 gets them
}

// ID is the key's file name in the cache.
func (k Key) ID() string {
	b, _ := json.Marshal(k)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// Dir is the cache's directory: $XDG_CACHE_HOME/loadgen/generator (or the
// platform's user cache directory).
func Dir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "loadgen", "generator"), nil
}

// lookup reads the ceiling cached for k in dir; ok is false when there is
// none, or when it is older than MaxAge or of another key (a file written
// by another version).
func lookup(dir string, k Key, now time.Time) (Ceiling, bool) {
	b, err := os.ReadFile(filepath.Join(dir, k.ID()+".json"))
	if err != nil {
		return Ceiling{}, false
	}
	var c Ceiling
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Schema != Schema || c.Key.ID() != k.ID() || c.CeilingRPS <= 0 {
		return Ceiling{}, false
	}
	if age := now.Sub(c.MeasuredAt); age < 0 || age > MaxAge {
		return Ceiling{}, false
	}
	return c, true
}

// store writes c to dir.
func store(dir string, c Ceiling) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, c.Key.ID()+".json"), append(b, '\n'))
}

// BuildID is the sha256 of the executable at path.
func BuildID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CPUModel is /proc/cpuinfo's first "model name" (GOARCH when unknown).
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
