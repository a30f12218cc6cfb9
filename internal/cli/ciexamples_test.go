package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// ciExamples are the CI examples whose loadgen command lines are checked.
var ciExamples = []string{
	filepath.Join("..", "..", "examples", "ci", "github-actions.yml"),
	filepath.Join("..", "..", "examples", "ci", "gitlab-ci.yml"),
}

// shellKeys are the YAML keys whose values are shell: a GitHub Actions
// step's run, a GitLab job's scripts.
var shellKeys = map[string]bool{"run": true, "script": true, "before_script": true, "after_script": true}

// shellOf collects the shell text under shellKeys anywhere in a YAML tree.
func shellOf(n *yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, shellOf(c)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if shellKeys[k.Value] {
				out = append(out, scalars(v)...)
				continue
			}
			out = append(out, shellOf(v)...)
		}
	}
	return out
}

func scalars(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}

// shellWords splits shell text into simple commands of words: quotes and
// backslash continuations are honoured, comments dropped, and commands end
// at newlines, ;, &&, ||, |, and the parentheses and keywords of if/then.
// It is just enough shell to find every loadgen command line.
func shellWords(s string) [][]string {
	var cmds [][]string
	var cur []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs) && rs[i+1] == '\n':
			i++ // a continued line
		case r == '\\' && i+1 < len(rs):
			word.WriteRune(rs[i+1])
			inWord = true
			i++
		case r == '\'' || r == '"':
			inWord = true
			for i++; i < len(rs) && rs[i] != r; i++ {
				word.WriteRune(rs[i])
			}
		case r == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			endCmd()
		case r == '\n' || r == ';' || r == '|' || r == '&' || r == '(' || r == ')':
			endCmd()
		case r == ' ' || r == '\t':
			endWord()
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// loadgenCalls returns the arguments of every loadgen command line in cmds.
func loadgenCalls(cmds [][]string) [][]string {
	var calls [][]string
	for _, c := range cmds {
		for i, w := range c {
			if w == "loadgen" || strings.HasSuffix(w, "/loadgen") {
				calls = append(calls, c[i+1:])
				break
			}
		}
	}
	return calls
}

// checkCall walks args through the real command tree: it returns the
// command path it reached and every problem (an unknown subcommand or flag).
func checkCall(root *cobra.Command, args []string) (string, []string) {
	cmd := root
	var problems []string
	positional := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if cmd.DisableFlagParsing { // loadgen k6 …: k6's own command line
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if !positional {
				if sub, _, err := cmd.Find([]string{a}); err == nil && sub != cmd {
					cmd = sub
					continue
				}
				if cmd == root {
					problems = append(problems, "unknown command "+a)
					break
				}
			}
			positional = true
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var f *pflag.Flag
		if strings.HasPrefix(a, "--") {
			f = cmd.Flags().Lookup(name)
			if f == nil {
				f = cmd.InheritedFlags().Lookup(name)
			}
		} else if len(name) == 1 {
			f = cmd.Flags().ShorthandLookup(name)
		}
		if f == nil && (name == "help" || name == "h") {
			continue
		}
		if f == nil {
			problems = append(problems, cmd.CommandPath()+": unknown flag "+a)
			continue
		}
		if !hasValue && f.NoOptDefVal == "" {
			i++ // the flag's value is the next word
		}
	}
	return cmd.CommandPath(), problems
}

// TestCIExamplesUseOnlyCommandsAndFlagsThatExist parses both CI examples as
// YAML, finds every loadgen command line in their shell steps, and checks its
// subcommands and flags against the real command tree. The examples must
// also do what they are for: run a campaign with a JUnit report, compare
// with a baseline and gate, and gate on the history.
func TestCIExamplesUseOnlyCommandsAndFlagsThatExist(t *testing.T) {
	t.Parallel()
	root := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	root.InitDefaultHelpFlag()
	for _, path := range ciExamples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			var doc yaml.Node
			require.NoError(t, yaml.Unmarshal(b, &doc), path)
			var calls [][]string
			for _, sh := range shellOf(&doc) {
				calls = append(calls, loadgenCalls(shellWords(sh))...)
			}
			require.NotEmpty(t, calls, "%s runs no loadgen command", path)
			seen := map[string]bool{}
			junitFiles := map[string]bool{}
			for _, c := range calls {
				for i, a := range c {
					if a == "--junit" && i+1 < len(c) {
						junitFiles[c[i+1]] = true
					}
					if a == "--out" && i+1 < len(c) && len(c) > 0 && c[0] == "signoff" {
						junitFiles[filepath.Join(c[i+1], "junit.xml")] = true // a sign-off writes DIR/junit.xml
					}
				}
				cmdPath, problems := checkCall(root, c)
				assert.Empty(t, problems, "%s: loadgen %s", path, strings.Join(c, " "))
				for _, a := range c {
					if strings.HasPrefix(a, "--") {
						name, _, _ := strings.Cut(a, "=")
						seen[cmdPath+" "+name] = true
					}
				}
				seen[cmdPath] = true
			}
			for _, want := range []string{"loadgen stress --junit", "loadgen compare --baseline", "loadgen compare --gate", "loadgen history", "loadgen history --gate",
				"loadgen history prune --keep", "loadgen history prune --baseline", "loadgen signoff --plan", "loadgen signoff --quick", "loadgen signoff --out"} {
				assert.True(t, seen[want], "%s never runs %s", path, want)
			}
			// The history is pruned by loadgen, which keeps the newest
			// completed run and the baseline, never by removing folders
			// in name order.
			for _, sh := range shellOf(&doc) {
				for _, c := range shellWords(sh) {
					assert.NotContains(t, c, "rm", "%s removes files itself: %v", path, c)
				}
			}
			// The JUnit report published is the one the campaign writes.
			published := publishedJUnit(t, b)
			require.NotEmpty(t, published, "%s publishes no JUnit report", path)
			for _, p := range published {
				assert.True(t, junitFiles[p], "%s publishes %s, but no campaign writes it (--junit %v)", path, p, junitFiles)
			}
		})
	}
}

// publishedJUnit returns the JUnit files a CI file publishes: GitHub
// Actions' action-junit-report report_paths, GitLab's artifacts:reports:junit.
func publishedJUnit(t *testing.T, b []byte) []string {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	var out []string
	if jobs, ok := doc["jobs"].(map[string]any); ok { // GitHub Actions
		for _, job := range jobs {
			steps, _ := job.(map[string]any)["steps"].([]any)
			for _, st := range steps {
				step, _ := st.(map[string]any)
				if uses, _ := step["uses"].(string); strings.HasPrefix(uses, "mikepenz/action-junit-report@") {
					assert.Equal(t, "always()", step["if"], "the JUnit report is published when a gate fails too")
					with, _ := step["with"].(map[string]any)
					if p, ok := with["report_paths"].(string); ok {
						out = append(out, p)
					}
				}
			}
		}
		return out
	}
	for _, v := range doc { // GitLab CI: every job
		job, ok := v.(map[string]any)
		if !ok {
			continue
		}
		arts, _ := job["artifacts"].(map[string]any)
		reports, _ := arts["reports"].(map[string]any)
		if p, ok := reports["junit"].(string); ok {
			assert.Equal(t, "always", arts["when"], "the JUnit report is kept when a gate fails too")
			out = append(out, p)
		}
	}
	return out
}

func TestShellWordsAndCheckCall(t *testing.T) {
	t.Parallel()
	cmds := shellWords("# a comment with bin/loadgen nope\nif [ -f x ]; then\n  bin/loadgen stress --campaign gl008-quick \\\n   --out \"results/$RUN\" -c=x --plain || status=$?\nfi")
	calls := loadgenCalls(cmds)
	require.Equal(t, [][]string{{"stress", "--campaign", "gl008-quick", "--out", "results/$RUN", "-c=x", "--plain"}}, calls)

	root := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	root.InitDefaultHelpFlag()
	p, problems := checkCall(root, calls[0])
	assert.Equal(t, "loadgen stress", p)
	assert.Empty(t, problems)
	_, problems = checkCall(root, []string{"stress", "--no-such-flag", "x"})
	assert.Equal(t, []string{"loadgen stress: unknown flag --no-such-flag"}, problems)
	_, problems = checkCall(root, []string{"no-such-command", "x"})
	assert.Equal(t, []string{"unknown command no-such-command"}, problems)
	p, problems = checkCall(root, []string{"k6", "run", "--whatever", "x.js"})
	assert.Equal(t, "loadgen k6", p)
	assert.Empty(t, problems)
	// A value that looks like a subcommand is the flag's value, not a command.
	p, problems = checkCall(root, []string{"compare", "results/x", "--format", "json"})
	assert.Equal(t, "loadgen compare", p)
	assert.Empty(t, problems)
}
