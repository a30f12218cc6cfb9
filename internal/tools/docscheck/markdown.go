package main

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// link is one link destination found in a Markdown file, with its 1-based line.
type link struct {
	Line   int
	Target string
}

// markdown is what the link check needs of one Markdown file: the links it
// makes and the anchors it offers (heading slugs, and HTML id/name
// attributes).
type markdown struct {
	Links   []link
	Anchors map[string]bool
}

var (
	atxHeading    = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$`)
	atxClosing    = regexp.MustCompile(`(?:^|[ \t]+)#+[ \t]*$`)
	setextLine    = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	refDefinition = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)`)
	htmlAnchor    = regexp.MustCompile(`(?i)<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"`)
	htmlTag       = regexp.MustCompile(`</?[A-Za-z][^>]*>`)
	inlineLink    = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	hasScheme     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// parseMarkdown finds the links and anchors of a Markdown text. Fenced code
// blocks and code spans are skipped: what they hold is code, not links.
func parseMarkdown(text string) markdown {
	md := markdown{Anchors: map[string]bool{}}
	var slugs slugger
	fence := "" // the opening fence while inside a fenced code block
	prev := ""  // the previous line, when it could be a setext heading's text
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if f := openingFence(trimmed); f != "" && len(line)-len(trimmed) <= 3 {
			fence, prev = f, ""
			continue
		}
		if m := atxHeading.FindStringSubmatch(line); m != nil {
			md.Anchors[slugs.slug(headingText(atxClosing.ReplaceAllString(m[2], "")))] = true
			prev = ""
			continue
		}
		if setextLine.MatchString(line) && prev != "" {
			md.Anchors[slugs.slug(headingText(prev))] = true
			prev = ""
			continue
		}
		prev = ""
		if strings.TrimSpace(line) != "" && setextCandidate(line) {
			prev = strings.TrimSpace(line)
		}
		for _, a := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			md.Anchors[a[1]] = true
		}
		if m := refDefinition.FindStringSubmatch(line); m != nil {
			md.Links = append(md.Links, link{Line: i + 1, Target: strings.Trim(m[1], "<>")})
			continue
		}
		for _, t := range inlineTargets(stripCodeSpans(line)) {
			md.Links = append(md.Links, link{Line: i + 1, Target: t})
		}
	}
	return md
}

// openingFence returns the fence a line opens (``` or ~~~, three or more), or "".
func openingFence(trimmed string) string {
	for _, c := range []string{"`", "~"} {
		n := len(trimmed) - len(strings.TrimLeft(trimmed, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// setextCandidate says whether a line may be the text of a setext heading:
// a paragraph line, not a table row, list item, quote or indented code.
func setextCandidate(line string) bool {
	if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
		return false
	}
	t := strings.TrimSpace(line)
	switch t[0] {
	case '|', '-', '*', '+', '>', '#', '<':
		return false
	}
	if i := strings.IndexAny(t, ".)"); i > 0 {
		if _, err := strconv.Atoi(t[:i]); err == nil {
			return false // an ordered list item
		}
	}
	return true
}

// stripCodeSpans blanks the code spans of a line (a run of backticks up to
// the next run of the same length), so that their text is not read as links.
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		run := line[i : i+n]
		end := -1
		for j := i + n; j < len(line); {
			k := strings.Index(line[j:], run)
			if k < 0 {
				break
			}
			k += j
			m := 0
			for k+m < len(line) && line[k+m] == '`' {
				m++
			}
			if m == n {
				end = k
				break
			}
			j = k + m
		}
		if end < 0 { // no closing run: the backticks are literal
			b.WriteString(run)
			i += n
			continue
		}
		b.WriteString(strings.Repeat(" ", end+n-i))
		i = end + n
	}
	return b.String()
}

// inlineTargets returns the destinations of the inline links and images of
// a line: "](dest)", "](dest "title")", "](<dest>)"; a destination may hold
// balanced parentheses.
func inlineTargets(line string) []string {
	var out []string
	for {
		i := strings.Index(line, "](")
		if i < 0 {
			return out
		}
		rest := strings.TrimLeft(line[i+2:], " \t")
		line = line[i+2:]
		if strings.HasPrefix(rest, "<") {
			if j := strings.IndexByte(rest, '>'); j > 0 {
				out = append(out, rest[1:j])
			}
			continue
		}
		depth, end := 0, -1
	scan:
		for j, r := range rest {
			switch {
			case r == '(':
				depth++
			case r == ')' && depth == 0:
				end = j
				break scan
			case r == ')':
				depth--
			case r == ' ' || r == '\t':
				end = j
				break scan
			}
		}
		if end > 0 {
			out = append(out, rest[:end])
		}
	}
}

// headingText is the text GitHub renders for a heading's Markdown: code
// spans as their content, links as their text, no emphasis markers, no
// HTML tags outside code.
func headingText(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			b.WriteString(plainInline(s))
			break
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		j := strings.Index(s[i+n:], s[i:i+n])
		if j < 0 {
			b.WriteString(plainInline(s))
			break
		}
		b.WriteString(plainInline(s[:i]))
		code := s[i+n : i+n+j]
		if strings.TrimSpace(code) != "" && strings.HasPrefix(code, " ") && strings.HasSuffix(code, " ") {
			code = code[1 : len(code)-1]
		}
		b.WriteString(code)
		s = s[i+n+j+n:]
	}
	return b.String()
}

// plainInline renders Markdown outside code spans as text.
func plainInline(s string) string {
	s = inlineLink.ReplaceAllString(s, "$1")
	s = htmlTag.ReplaceAllString(s, "")
	s = strings.NewReplacer(`\*`, "\x00", "**", "", "*", "", "~~", "").Replace(s)
	return strings.ReplaceAll(s, "\x00", "*")
}

// slug is GitHub's anchor for a heading's text (github-slugger): lower
// case; letters, digits, marks, '-' and '_' kept, other characters
// dropped; each space a '-'.
func slug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// slugger gives the headings of one file their anchors as GitHub does: the
// second heading with a slug gets slug-1, the third slug-2, skipping any
// taken by another heading.
type slugger struct{ seen map[string]int }

func (s *slugger) slug(text string) string {
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	base := slug(text)
	result := base
	for {
		if _, taken := s.seen[result]; !taken {
			break
		}
		s.seen[base]++
		result = base + "-" + strconv.Itoa(s.seen[base])
	}
	s.seen[result] = 0
	return result
}
