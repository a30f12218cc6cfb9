package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A help text as cobra prints it, trimmed: a Long text that itself names
// flags, commands, flags with shorthands, types and optional values, and a
// Global Flags section that is the parent's.
const autoscaleHelp = `autoscale runs one k6 load profile; see --phases.

  first_scale_up       the surge's first scale-up
Flags: in the text is not a section

Usage:
  loadgen autoscale [flags]
  loadgen autoscale [command]

Available Commands:
  completion  Generate the autocompletion script
  simulate    Run the HPA controller simulation over a metric timeline

Flags:
      --capacity float         req/s the percents of --phases are of
  -h, --help                   help for autoscale
      --mode[=auto] string     an optional value
      --dry-run                print and exit
  -y, --yes                    load a target without asking

Global Flags:
      --config string   inherited from the parent

Use "loadgen autoscale [command] --help" for more information about a command.
`

func TestParseHelp(t *testing.T) {
	t.Parallel()
	h := parseHelp(autoscaleHelp)
	assert.Equal(t, []string{"completion", "simulate"}, h.Subcommands)
	assert.Equal(t, []string{"capacity", "help", "mode", "dry-run", "yes"}, h.Flags)

	assert.Empty(t, parseHelp("Usage:\n  loadgen sample [flags]\n").Flags, "no Flags section, no flags")
	k6 := parseHelp("Core Commands:\n  run         Run a test\n\nFlags:\n  -h, --help      Show help\n      --version   Show version information\n")
	assert.Empty(t, k6.Subcommands, "k6's own command list is not loadgen's")
	assert.Equal(t, []string{"help", "version"}, k6.Flags)
}

func TestFlagName(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"  -c, --campaign string   campaign file":  "campaign",
		"      --dry-run           print":          "dry-run",
		"      --mode[=auto]       optional":       "mode",
		"      --p95 float         limit":          "p95",
		"                          wrapped --not":  "",
		"  -v                      shorthand only": "",
		"      --                  nothing":        "",
		"":                                         "",
	} {
		assert.Equal(t, want, flagName(line), "%q", line)
	}
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for heading, want := range map[string]string{
		"Exit codes": "exit-codes",
		"`loadgen history` — capacity over time, and its change points": "loadgen-history--capacity-over-time-and-its-change-points",
		"`loadgen k6 <args>` — k6 with the extension":                   "loadgen-k6-args--k6-with-the-extension",
		"Running on Kubernetes (k6-operator)":                           "running-on-kubernetes-k6-operator",
		"run.json (`loadgen/run/v1`)":                                   "runjson-loadgenrunv1",
		"GL-006 §8.2: Mann–Whitney U":                                   "gl-006-82-mannwhitney-u",
		"max_sustainable_rps, **bold** and *em*":                        "max_sustainable_rps-bold-and-em",
		"A [linked](docs/x.md) <em>heading</em>":                        "a-linked-heading",
		"Réglage σ/κ":                                                   "réglage-σκ",
		"  C# is kept as C  ":                                           "c-is-kept-as-c",
	} {
		assert.Equal(t, want, slug(headingText(heading)), "%q", heading)
	}
}

func TestSluggerNumbersDuplicates(t *testing.T) {
	t.Parallel()
	var s slugger
	got := []string{s.slug("Flags"), s.slug("Flags"), s.slug("Flags-1"), s.slug("flags")}
	// "Flags-1" is taken by the second "Flags", so it becomes flags-1-1; the
	// fourth "flags" skips the taken flags-1 too.
	assert.Equal(t, []string{"flags", "flags-1", "flags-1-1", "flags-2"}, got)
}

func TestParseMarkdown(t *testing.T) {
	t.Parallel()
	md := parseMarkdown(strings.Join([]string{
		"# Title ##",                                // 1
		"See [stress](docs/stress.md#flags) and",    // 2
		"![pic](img/a.png \"title\") [x](<a b.md>)", // 3
		"`[not](a-link.md)` but [yes](b.md)",        // 4
		"```sh",                                     // 5
		"[in](code.md)",                             // 6
		"# not a heading",                           // 7
		"```",                                       // 8
		"[ref]: ref.md",                             // 9
		"Setext heading",                            // 10
		"---",                                       // 11
		"| a | [cell](c.md) |",                      // 12
		"[ext](https://example.com) [here](#title) [paren](f(1).md)", // 13
		`<a id="custom"></a>`, // 14
		"## Title",            // 15
		"~~~~",                // 16
		"[in tilde](t.md)",    // 17
		"~~~~",                // 18
	}, "\n"))
	var got []string
	for _, l := range md.Links {
		got = append(got, fmt.Sprintf("%d %s", l.Line, l.Target))
	}
	assert.Equal(t, []string{
		"2 docs/stress.md#flags", "3 img/a.png", "3 a b.md", "4 b.md", "9 ref.md", "12 c.md",
		"13 https://example.com", "13 #title", "13 f(1).md",
	}, got)
	assert.Equal(t, map[string]bool{"title": true, "setext-heading": true, "custom": true, "title-1": true}, md.Anchors)
}

func TestCheckLinks(t *testing.T) {
	t.Parallel()
	r := repo{
		Files: map[string]bool{"README.md": true, "docs": true, "docs/a.md": true, "docs/b.md": true, "examples": true, "examples/ci": true, "examples/ci/x.yml": true},
		Texts: map[string]string{
			"README.md": "# Front\n[a](docs/a.md) [a flags](docs/a.md#flags-1) [dir](examples/ci/)\n[gone](docs/gone.md)\n[bad anchor](docs/a.md#nope)\n[self](#front) [self bad](#back)\n[up](../outside.md) [abs](/docs/b.md#b)\n[file anchor](examples/ci/x.yml#L3)\n",
			"docs/a.md": "# A\n## Flags\n## Flags\n[back](../README.md#front) [sibling](b.md) [broken](c.md)\n",
			"docs/b.md": "# B\n",
		},
	}
	probs, checked := checkLinks(r)
	assert.Equal(t, 13, checked)
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	assert.Equal(t, []string{
		`README.md:3: link "docs/gone.md": docs/gone.md does not exist`,
		`README.md:4: link "docs/a.md#nope": docs/a.md has no heading #nope`,
		`README.md:5: link "#back": README.md has no heading #back`,
		`README.md:6: link "../outside.md" leaves the repository`,
		`docs/a.md:4: link "c.md": docs/c.md does not exist`,
	}, got)
}

func TestNearestSuggestsAnAnchor(t *testing.T) {
	t.Parallel()
	anchors := map[string]bool{"running-on-kubernetes-k6-operator": true, "flags": true}
	assert.Equal(t, " (did you mean #running-on-kubernetes-k6-operator?)", nearest("running-on-kubernetes", anchors))
	assert.Equal(t, "", nearest("zzz", anchors))
}

func TestCheckFlags(t *testing.T) {
	t.Parallel()
	r := repo{Texts: map[string]string{
		"README.md":      "# loadgen\n",
		"docs/stress.md": "`--max` req/s, `--max-vus`; --p95=ms\n",
	}}
	cmds := []command{
		{Path: "", Flags: []string{"help", "version"}},
		{Path: "stress", Flags: []string{"max", "max-vus", "p95", "p99", "step", "help"}},
		{Path: "sweep", Flags: []string{"replicas"}},
		{Path: "target", Flags: []string{"addr"}},
	}
	table := map[string]string{"": "README.md", "stress": "docs/stress.md", "target": "docs/target.md", "gone": "docs/gone.md"}
	probs, checked := checkFlags(r, cmds, table, 9)
	assert.Equal(t, 5, checked, "help and version are not counted")
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	assert.Equal(t, []string{
		"docs/stress.md:1: loadgen stress --p99 is not documented on this page",
		"docs/stress.md:1: loadgen stress --step is not documented on this page",
		"internal/tools/docscheck/pages.go:9: loadgen sweep has no docs page: add it to the pages table (and write the page)",
		"internal/tools/docscheck/pages.go:9: loadgen target: its page docs/target.md does not exist",
		`internal/tools/docscheck/pages.go:9: the pages table names "loadgen gone", a command loadgen does not have`,
	}, got)
}

func TestMentionsFlag(t *testing.T) {
	t.Parallel()
	assert.True(t, mentionsFlag("use `--max 2000`", "max"))
	assert.True(t, mentionsFlag("--max", "max"))
	assert.True(t, mentionsFlag("(--max)", "max"))
	assert.False(t, mentionsFlag("use --max-vus", "max"), "a longer flag is not the flag")
	assert.False(t, mentionsFlag("use max", "max"), "the bare word is not the flag")
	assert.False(t, mentionsFlag("use ---max", "max"))
}

func TestCheckReadmeLength(t *testing.T) {
	t.Parallel()
	ok := repo{Texts: map[string]string{"README.md": strings.Repeat("line\n", maxReadmeLines)}}
	assert.Empty(t, checkReadmeLength(ok))
	long := repo{Texts: map[string]string{"README.md": strings.Repeat("line\n", maxReadmeLines) + "one more"}}
	probs := checkReadmeLength(long)
	require.Len(t, probs, 1)
	assert.Equal(t, "README.md:251: README.md has 251 lines; the front door keeps to 250: move the rest to a page under docs/", probs[0].String())
	assert.Len(t, checkReadmeLength(repo{Texts: map[string]string{}}), 1, "no README is a problem")
}
