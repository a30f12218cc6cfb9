package main

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
)

// problem is one thing wrong, at a file and 1-based line.
type problem struct {
	File string
	Line int
	What string
}

func (p problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.What) }

func sortProblems(ps []problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}

// repo is the documentation as the checks see it: every file GitHub would
// show (slash-separated paths relative to the repository's root) and the
// text of the Markdown ones.
type repo struct {
	Files map[string]bool   // files, and the directories that hold them
	Texts map[string]string // Markdown files checked for links
}

// exists says whether a path (cleaned, relative to the root) is a file or
// directory of the repository.
func (r repo) exists(p string) bool { return r.Files[p] }

// checkLinks checks every relative link of every Markdown file: its file or
// directory exists, and a #fragment into a Markdown file names one of its
// headings (or HTML anchors).
func checkLinks(r repo) (probs []problem, checked int) {
	parsed := map[string]markdown{}
	parse := func(p string) (markdown, bool) {
		if md, ok := parsed[p]; ok {
			return md, true
		}
		text, ok := r.Texts[p]
		if !ok {
			b, err := os.ReadFile(p)
			if err != nil {
				return markdown{}, false
			}
			text = string(b)
		}
		parsed[p] = parseMarkdown(text)
		return parsed[p], true
	}
	files := make([]string, 0, len(r.Texts))
	for f := range r.Texts {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, file := range files {
		md, _ := parse(file)
		for _, l := range md.Links {
			if l.Target == "" || hasScheme.MatchString(l.Target) {
				continue // external: not checked here
			}
			checked++
			target, fragment, _ := strings.Cut(l.Target, "#")
			target, _, _ = strings.Cut(target, "?")
			if t, err := url.PathUnescape(target); err == nil {
				target = t
			}
			if f, err := url.PathUnescape(fragment); err == nil {
				fragment = f
			}
			dest := file
			if target != "" {
				if strings.HasPrefix(target, "/") {
					dest = path.Clean(strings.TrimPrefix(target, "/"))
				} else {
					dest = path.Join(path.Dir(file), target)
				}
				if dest == ".." || strings.HasPrefix(dest, "../") {
					probs = append(probs, problem{file, l.Line, fmt.Sprintf("link %q leaves the repository", l.Target)})
					continue
				}
				if !r.exists(dest) {
					probs = append(probs, problem{file, l.Line, fmt.Sprintf("link %q: %s does not exist", l.Target, dest)})
					continue
				}
			}
			if fragment == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			tmd, ok := parse(dest)
			if !ok {
				probs = append(probs, problem{file, l.Line, fmt.Sprintf("link %q: cannot read %s", l.Target, dest)})
				continue
			}
			if !tmd.Anchors[fragment] {
				probs = append(probs, problem{file, l.Line, fmt.Sprintf("link %q: %s has no heading #%s%s", l.Target, dest, fragment, nearest(fragment, tmd.Anchors))})
			}
		}
	}
	return probs, checked
}

// nearest suggests the anchor that shares the longest prefix with a missing
// one, as "(did you mean #x?)", or "".
func nearest(fragment string, anchors map[string]bool) string {
	best, bestLen := "", 3
	for a := range anchors {
		n := 0
		for n < len(a) && n < len(fragment) && a[n] == fragment[n] {
			n++
		}
		if n > bestLen || (n == bestLen && best != "" && a < best) {
			best, bestLen = a, n
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean #%s?)", best)
}

// command is one loadgen command as its --help describes it.
type command struct {
	Path  string // "" for loadgen itself, "autoscale simulate"
	Flags []string
}

// name is how the command is typed.
func (c command) name() string { return strings.TrimSpace("loadgen " + c.Path) }

// checkFlags checks that every command has a page in the table, every page
// exists, every table entry is a command, and every flag of a command
// appears as --name on its page.
func checkFlags(r repo, cmds []command, table map[string]string, tableLine int) (probs []problem, checked int) {
	have := map[string]bool{}
	for _, c := range cmds {
		have[c.Path] = true
		page, ok := table[c.Path]
		if !ok {
			probs = append(probs, problem{pagesFile, tableLine, fmt.Sprintf("%s has no docs page: add it to the pages table (and write the page)", c.name())})
			continue
		}
		text, ok := r.Texts[page]
		if !ok {
			probs = append(probs, problem{pagesFile, tableLine, fmt.Sprintf("%s: its page %s does not exist", c.name(), page)})
			continue
		}
		for _, f := range c.Flags {
			if ignoredFlags[f] {
				continue
			}
			checked++
			if !mentionsFlag(text, f) {
				probs = append(probs, problem{page, 1, fmt.Sprintf("%s --%s is not documented on this page", c.name(), f)})
			}
		}
	}
	paths := make([]string, 0, len(table))
	for p := range table {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if !have[p] {
			probs = append(probs, problem{pagesFile, tableLine, fmt.Sprintf("the pages table names %q, a command loadgen does not have", strings.TrimSpace("loadgen "+p))})
		}
	}
	return probs, checked
}

// mentionsFlag says whether a text names --flag as a whole word: --max is
// not mentioned by --max-vus.
func mentionsFlag(text, flag string) bool {
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_-])--` + regexp.QuoteMeta(flag) + `($|[^A-Za-z0-9_-])`)
	return re.MatchString(text)
}

// checkReadmeLength keeps the front door short.
func checkReadmeLength(r repo) []problem {
	text, ok := r.Texts["README.md"]
	if !ok {
		return []problem{{"README.md", 1, "README.md does not exist"}}
	}
	n := lineCount(text)
	if n > maxReadmeLines {
		return []problem{{"README.md", maxReadmeLines + 1, fmt.Sprintf("README.md has %d lines; the front door keeps to %d: move the rest to a page under docs/", n, maxReadmeLines)}}
	}
	return nil
}

// lineCount counts lines as wc -l does, plus a last line without a newline.
func lineCount(text string) int {
	n := strings.Count(text, "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		n++
	}
	return n
}
