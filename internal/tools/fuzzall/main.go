// Command fuzzall runs every fuzz target of both modules for a short time:
// every func Fuzz… of a _test.go file under internal/ and xk6-steamtrap/,
// each its own go test -fuzz run (-fuzz takes one target a run), a few at
// once with one fuzzing worker each (so that the build and start of one
// overlaps the fuzzing of another), and prints a line per target: how long
// it took and how many inputs it ran. A target that fails prints go test's
// output, with the failing input it wrote to the package's testdata/fuzz/
// (where go test replays it from then on: commit it with the fix), and the
// command exits 1. make fuzz and make test's phase-fuzz run it.
//
//	go run ./internal/tools/fuzzall -fuzztime 3s
//	go run ./internal/tools/fuzzall -fuzztime 2m -jobs 1 -run 'FuzzParse$'
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Target is one fuzz target: its package's folder (relative to the
// repository), the module that holds it ("." or "xk6-steamtrap") and its
// name.
type Target struct {
	Dir, Module, Name string
}

// modules are the repository's Go modules, the nested one first.
var modules = []string{"xk6-steamtrap", "."}

var fuzzFunc = regexp.MustCompile(`^func (Fuzz[A-Za-z0-9_]*)\(\w+ \*testing\.F\)`)

// Find lists the fuzz targets of the _test.go files under roots (folders
// of the repository at root), in order of package and name.
func Find(root string, roots ...string) ([]Target, error) {
	var out []Target
	for _, r := range roots {
		err := filepath.WalkDir(filepath.Join(root, r), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			mod := "."
			for _, m := range modules {
				if m != "." && (rel == m || strings.HasPrefix(rel, m+string(filepath.Separator))) {
					mod = m
					break
				}
			}
			s := bufio.NewScanner(f)
			for s.Scan() {
				if m := fuzzFunc.FindStringSubmatch(s.Text()); m != nil {
					out = append(out, Target{Dir: filepath.ToSlash(rel), Module: mod, Name: m[1]})
				}
			}
			return s.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b Target) int {
		if c := strings.Compare(a.Dir, b.Dir); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Package is the target's package as go test takes it in its module.
func (t Target) Package() string {
	if t.Module == "." {
		return "./" + t.Dir
	}
	return "./" + strings.TrimPrefix(strings.TrimPrefix(t.Dir, t.Module), "/")
}

var execs = regexp.MustCompile(`execs: (\d+)`)

func main() {
	fuzztime := flag.String("fuzztime", "20s", "how long to fuzz each target (go test -fuzztime)")
	jobs := flag.Int("jobs", max(1, runtime.NumCPU()), "targets fuzzed at once, each with one worker")
	run := flag.String("run", "", "only the targets whose name matches this regular expression")
	goCmd := flag.String("go", "go", "the go command")
	flag.Parse()
	only, err := regexp.Compile(*run)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fuzzall: -run: %v\n", err)
		os.Exit(2)
	}
	targets, err := Find(".", "internal", "xk6-steamtrap")
	if err != nil {
		fmt.Fprintf(os.Stderr, "fuzzall: %v (run it from the repository's root)\n", err)
		os.Exit(2)
	}
	targets = slices.DeleteFunc(targets, func(t Target) bool { return !only.MatchString(t.Name) })
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "fuzzall: no fuzz target")
		os.Exit(2)
	}
	start := time.Now()
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
		slots  = make(chan struct{}, *jobs)
	)
	for _, t := range targets {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			began := time.Now()
			cmd := exec.Command(*goCmd, "test", "-run", "^$", "-fuzz", "^"+t.Name+"$", "-fuzztime", *fuzztime,
				"-fuzzminimizetime", "1s", "-parallel", "1", t.Package())
			cmd.Dir = t.Module
			out, err := cmd.CombinedOutput()
			n := "?"
			if m := execs.FindAllSubmatch(out, -1); len(m) > 0 {
				n = string(m[len(m)-1][1])
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && deadlineOnly(out) {
				fmt.Printf("ok   fuzz %s %s (%.0fs, %s inputs; Go's fuzzer ended at its deadline while it took a new input, which it reports as \"context deadline exceeded\" with no failing input)\n",
					t.Dir, t.Name, time.Since(began).Seconds(), n)
				return
			}
			if err != nil {
				os.Stdout.Write(out)
				fmt.Printf("FAIL fuzz %s %s (%.0fs): %v\n", t.Dir, t.Name, time.Since(began).Seconds(), err)
				failed = append(failed, t.Dir+" "+t.Name)
				return
			}
			fmt.Printf("ok   fuzz %s %s (%.0fs, %s inputs)\n", t.Dir, t.Name, time.Since(began).Seconds(), n)
		})
	}
	wg.Wait()
	fmt.Printf("fuzzall: %d targets, %s each, %d at once: %.0fs\n", len(targets), *fuzztime, *jobs, time.Since(start).Seconds())
	if len(failed) > 0 {
		fmt.Printf("fuzzall: failed: %s\n", strings.Join(failed, "; "))
		os.Exit(1)
	}
}

// deadlineOnly reports whether a failed go test -fuzz run failed only
// because the fuzzing deadline came while the coordinator was taking a new
// interesting input: its one failure is "context deadline exceeded", and
// no failing input was written (every real failure writes one to
// testdata/fuzz). With -fuzztime of a few seconds that happens to a few
// targets in every make fuzz.
func deadlineOnly(out []byte) bool {
	return bytes.Contains(out, []byte("\n    context deadline exceeded\n")) &&
		!bytes.Contains(out, []byte("Failing input written to")) &&
		bytes.Count(out, []byte("--- FAIL:")) == 1 && !bytes.Contains(out, []byte("panic:"))
}
