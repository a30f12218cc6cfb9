// Command docscheck checks that the documentation matches the binary and
// itself (`make docs-check`):
//
//	go run ./internal/tools/docscheck --loadgen bin/loadgen
//
// It checks that:
//
//   - every flag of every loadgen command (walked from `loadgen --help`
//     through each command's and subcommand's --help; cobra's help and
//     completion commands aside) appears as --name on the command's docs
//     page, named in the table in pages.go;
//   - every relative link in the repository's Markdown files (those git
//     tracks, and new ones it does not ignore) reaches a file or directory
//     of the repository, and a #fragment into a Markdown file names one of
//     its headings by GitHub's anchor rules;
//   - README.md stays within its line budget.
//
// Each problem is printed as file:line: what, and the exit code is 1 if
// there is any; otherwise one summary line, exit 0. Bad usage exits 2.
// Run it from the repository's root (or give --root).
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	loadgen := flag.String("loadgen", "bin/loadgen", "the loadgen binary whose commands are checked")
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "docscheck: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	bin, err := filepath.Abs(*loadgen)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "docscheck: --loadgen: %v (make build first)\n", err)
		os.Exit(2)
	}
	if err := os.Chdir(*root); err != nil {
		fmt.Fprintf(os.Stderr, "docscheck: --root: %v\n", err)
		os.Exit(2)
	}

	r, err := loadRepo()
	if err != nil {
		fmt.Fprintf(os.Stderr, "docscheck: %v\n", err)
		os.Exit(2)
	}
	cmds, probs := walkCommands(bin)
	flagProbs, flags := checkFlags(r, cmds, pages, tableLine())
	linkProbs, links := checkLinks(r)
	probs = append(append(append(probs, flagProbs...), linkProbs...), checkReadmeLength(r)...)
	sortProblems(probs)
	for _, p := range probs {
		fmt.Println(p)
	}
	if len(probs) > 0 {
		fmt.Fprintf(os.Stderr, "docscheck: %d problem(s)\n", len(probs))
		os.Exit(1)
	}
	fmt.Printf("docscheck: ok: %d commands, %d flags documented; %d Markdown files, %d relative links; README.md %d lines (≤ %d)\n",
		len(cmds), flags, len(r.Texts), links, lineCount(r.Texts["README.md"]), maxReadmeLines)
}

// loadRepo lists the repository's files as git sees them: tracked, or new
// and not ignored (bin/ and results/ are ignored: a link into them would
// break on GitHub). Without git it walks the tree, skipping .git, bin and
// results.
func loadRepo() (repo, error) {
	r := repo{Files: map[string]bool{}, Texts: map[string]string{}}
	var files []string
	out, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (p == ".git" || p == "bin" || p == "results") {
				return fs.SkipDir
			}
			if !d.IsDir() {
				files = append(files, filepath.ToSlash(p))
			}
			return nil
		})
		if err != nil {
			return r, err
		}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue // deleted in the work tree
		}
		for p := f; p != "." && p != "/"; p = path.Dir(p) {
			r.Files[p] = true
		}
		if strings.HasSuffix(f, ".md") {
			b, err := os.ReadFile(f)
			if err != nil {
				return r, err
			}
			r.Texts[f] = string(b)
		}
	}
	return r, nil
}

// walkCommands runs loadgen --help and every subcommand's --help, level by
// level, each level's in parallel.
func walkCommands(bin string) ([]command, []problem) {
	var (
		cmds  []command
		probs []problem
		mu    sync.Mutex
	)
	level := []string{""}
	for len(level) > 0 {
		var next []string
		var wg sync.WaitGroup
		for _, p := range level {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := help(bin, p)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					probs = append(probs, problem{pagesFile, tableLine(), err.Error()})
					return
				}
				cmds = append(cmds, command{Path: p, Flags: h.Flags})
				for _, sub := range h.Subcommands {
					if !cobraCommands[sub] {
						next = append(next, strings.TrimSpace(p+" "+sub))
					}
				}
			}()
		}
		wg.Wait()
		level = next
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Path < cmds[j].Path })
	return cmds, probs
}

// help runs one command's --help.
func help(bin, cmdPath string) (helpText, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args := append(strings.Fields(cmdPath), "--help")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return helpText{}, fmt.Errorf("%s: %v: %s", strings.Join(append([]string{"loadgen"}, args...), " "), err, strings.TrimSpace(out.String()))
	}
	return parseHelp(out.String()), nil
}

// tableLine is the line of pagesFile that declares the pages table, for
// problems that point at it (1 if it cannot be read).
func tableLine() int {
	f, err := os.Open(pagesFile)
	if err != nil {
		return 1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if strings.HasPrefix(s.Text(), "var pages") {
			return n
		}
	}
	return 1
}
