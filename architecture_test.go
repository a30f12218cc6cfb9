// The architecture test: docs/architecture.md's table of rooms and levels
// against every package's imports.
package loadgen_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/greenlang/loadgen"

// beside is the level of the rooms beside the stack (testutil, tools).
const beside = -1

// rooms reads the table of docs/architecture.md's "Dependency direction":
// room name → level (beside for testutil and tools).
func rooms(t *testing.T, doc io.Reader) map[string]int {
	t.Helper()
	row := regexp.MustCompile(`^\|\s*(\d+|beside)\s*\|\s*(\w+)\s*\|`)
	out := map[string]int{}
	in := false
	sc := bufio.NewScanner(doc)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Dependency direction"
			continue
		}
		if m := row.FindStringSubmatch(line); in && m != nil {
			level := beside
			if m[1] != "beside" {
				level, _ = strconv.Atoi(m[1])
			}
			out[m[2]] = level
		}
	}
	require.NoError(t, sc.Err())
	return out
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// packages lists every package of the module with its imports.
func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	require.NoError(t, err)
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		require.NoError(t, dec.Decode(&p))
		ps = append(ps, p)
	}
	return ps
}

// roomOf is the room of an import path of the module: the folder under
// internal/, "" for the module's packages outside internal/ (the
// extension, scenarios: below every room; cmd: above), and ok=false for
// other modules' packages.
func roomOf(path string) (room string, ok bool) {
	rest, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return "", false
	}
	if r, in := strings.CutPrefix(rest, "internal/"); in {
		return strings.SplitN(r, "/", 2)[0], true
	}
	return "", true
}

// allowed says whether a package of room from (level lf) may import a
// package of room to (level lt), in product code.
func allowed(from, to string, lf, lt int) bool {
	switch {
	case to == "":
		return true // the extension and scenarios sit below every room
	case from == to:
		return true
	case to == "tools", to == "cli":
		return false // imported by nothing (cli: by cmd/ only, which has no room)
	case to == "testutil":
		return from == "tools"
	case from == "tools":
		return true
	case from == "testutil":
		return lt >= 0 && lt < 7 // below session
	}
	return lt >= 0 && lt < lf
}

func TestImportsGoDownward(t *testing.T) {
	doc, err := os.Open(filepath.Join("docs", "architecture.md"))
	require.NoError(t, err)
	defer doc.Close()
	levels := rooms(t, doc)
	require.NotEmpty(t, levels, "docs/architecture.md has no table of rooms under ## Dependency direction")

	dirs, err := os.ReadDir("internal")
	require.NoError(t, err)
	onDisk := map[string]bool{}
	for _, d := range dirs {
		if d.IsDir() {
			onDisk[d.Name()] = true
			assert.Contains(t, levels, d.Name(), "internal/%s is not in docs/architecture.md's table", d.Name())
		}
	}
	for r := range levels {
		assert.True(t, onDisk[r], "docs/architecture.md names room %s, but internal/%s does not exist", r, r)
	}
	assert.LessOrEqual(t, len(onDisk), 12, "at most 12 rooms under internal/")

	for _, p := range packages(t) {
		from, _ := roomOf(p.ImportPath)
		if from == "" {
			for _, imp := range p.Imports {
				if to, ok := roomOf(imp); ok && to != "" && !strings.HasPrefix(p.ImportPath, module+"/cmd/") {
					t.Errorf("%s imports %s: outside internal/, only cmd/ imports a room", p.ImportPath, imp)
				}
			}
			continue
		}
		for _, imp := range p.Imports {
			to, ok := roomOf(imp)
			if ok && !allowed(from, to, levels[from], levels[to]) {
				t.Errorf("%s (room %s, level %d) imports %s (room %s, level %d): see docs/architecture.md",
					p.ImportPath, from, levels[from], imp, to, levels[to])
			}
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			if to, ok := roomOf(imp); ok && (to == "tools" || (to == "cli" && from != "cli")) {
				t.Errorf("a test of %s imports %s", p.ImportPath, imp)
			}
		}
	}
}

// The test must be able to fail: a table and imports that break the rules.
func TestImportRules(t *testing.T) {
	levels := rooms(t, strings.NewReader("## Dependency direction\n| level | room | may import |\n|---|---|---|\n| 0 | kit | x |\n| 1 | core | x |\n| beside | testutil | x |\n## Next\n| 9 | nope | x |\n"))
	assert.Equal(t, map[string]int{"kit": 0, "core": 1, "testutil": beside}, levels)
	assert.True(t, allowed("core", "kit", 1, 0))
	assert.False(t, allowed("kit", "core", 0, 1), "upward")
	assert.False(t, allowed("core", "testutil", 1, beside), "product code importing test helpers")
	assert.True(t, allowed("tools", "testutil", beside, beside))
	assert.False(t, allowed("session", "cli", 7, 8))
	assert.True(t, allowed("cli", "", 8, 0))
	r, ok := roomOf(module + "/internal/core/ramp")
	assert.Equal(t, "core", r)
	assert.True(t, ok)
	_, ok = roomOf("k8s.io/client-go/kubernetes")
	assert.False(t, ok)
}
