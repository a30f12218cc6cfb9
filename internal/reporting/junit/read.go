package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrInvalid is wrapped by every error Read returns for a document that is
// not a well-formed report of the Ant/Surefire shape.
var ErrInvalid = errors.New("not a valid JUnit report")

// allowed lists, for every element of the Ant/Surefire shape (as the
// Jenkins xunit plugin's junit-10.xsd has it), the attributes it may carry
// and the elements it may contain. Text is allowed only in the leaves.
var allowed = map[string]struct {
	attrs    []string
	children []string
	text     bool
}{
	"testsuites": {attrs: []string{"name", "time", "tests", "failures", "errors"}, children: []string{"testsuite"}},
	"testsuite": {attrs: []string{"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id", "package", "group", "file", "log", "url"},
		children: []string{"properties", "testcase", "system-out", "system-err"}},
	"properties": {children: []string{"property"}},
	"property":   {attrs: []string{"name", "value"}},
	"testcase":   {attrs: []string{"name", "classname", "time", "group"}, children: []string{"failure", "error", "skipped", "system-out", "system-err"}},
	"failure":    {attrs: []string{"message", "type"}, text: true},
	"error":      {attrs: []string{"message", "type"}, text: true},
	"skipped":    {attrs: []string{"message", "type"}, text: true},
	"system-out": {text: true},
	"system-err": {text: true},
}

// required lists the attributes an element must carry.
var required = map[string][]string{
	"testsuite": {"name", "tests", "failures", "errors"},
	"testcase":  {"name"},
	"property":  {"name", "value"},
}

// Read parses a JUnit report strictly: the root must be <testsuites>, every
// element and attribute must belong to the Ant/Surefire shape (no unknown
// ones, no namespaces, no text between elements), each test case may hold
// at most one failure, error or skipped, test case names are unique within
// a suite, and every count (tests, failures, errors, skipped, and the
// root's totals) must equal what the test cases say.
func Read(r io.Reader) (*Suites, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := checkShape(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var s Suites
	if err := xml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.checkCounts(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &s, nil
}

// checkShape walks the document's tokens against allowed.
func checkShape(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []string
	roots := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				return fmt.Errorf("element <%s> in namespace %q", name, t.Name.Space)
			}
			spec, ok := allowed[name]
			if !ok {
				return fmt.Errorf("unknown element <%s>", name)
			}
			if len(stack) == 0 {
				if roots++; name != "testsuites" || roots > 1 {
					return fmt.Errorf("root element <%s>: want one <testsuites>", name)
				}
			} else if parent := stack[len(stack)-1]; !contains(allowed[parent].children, name) {
				return fmt.Errorf("element <%s> inside <%s>", name, parent)
			}
			seen := map[string]bool{}
			for _, a := range t.Attr {
				if a.Name.Space != "" || !contains(spec.attrs, a.Name.Local) {
					return fmt.Errorf("unknown attribute %s on <%s>", attrName(a.Name), name)
				}
				seen[a.Name.Local] = true
			}
			for _, want := range required[name] {
				if !seen[want] {
					return fmt.Errorf("<%s> without its %s attribute", name, want)
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && !allowed[stack[len(stack)-1]].text && strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("text %q inside <%s>", strings.TrimSpace(string(t)), stack[len(stack)-1])
			}
		case xml.Directive:
			return fmt.Errorf("unexpected directive <!%s>", t)
		}
	}
	if roots == 0 {
		return errors.New("no <testsuites> element")
	}
	return nil
}

func attrName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// checkCounts compares every count with the test cases.
func (s *Suites) checkCounts() error {
	var tests, failures, errs int
	for i, su := range s.Suites {
		var f, e, sk int
		names := map[string]bool{}
		for _, c := range su.Cases {
			n := 0
			if c.Failure != nil {
				f, n = f+1, n+1
			}
			if c.Error != nil {
				e, n = e+1, n+1
			}
			if c.Skipped != nil {
				sk, n = sk+1, n+1
			}
			if n > 1 {
				return fmt.Errorf("suite %d, test case %q: more than one of failure, error and skipped", i+1, c.Name)
			}
			key := c.Classname + "\x00" + c.Name
			if names[key] {
				return fmt.Errorf("suite %d: test case %q of class %q appears twice", i+1, c.Name, c.Classname)
			}
			names[key] = true
		}
		for _, chk := range []struct {
			what      string
			got, want int
		}{{"tests", su.Tests, len(su.Cases)}, {"failures", su.Failures, f}, {"errors", su.Errors, e}, {"skipped", su.Skipped, sk}} {
			if chk.got != chk.want {
				return fmt.Errorf("suite %d (%s): %s=%d, but its test cases say %d", i+1, su.Name, chk.what, chk.got, chk.want)
			}
		}
		tests, failures, errs = tests+len(su.Cases), failures+f, errs+e
	}
	for _, chk := range []struct {
		what      string
		got, want int
	}{{"tests", s.Tests, tests}, {"failures", s.Failures, failures}, {"errors", s.Errors, errs}} {
		if chk.got != chk.want {
			return fmt.Errorf("<testsuites> %s=%d, but its suites hold %d", chk.what, chk.got, chk.want)
		}
	}
	return nil
}
