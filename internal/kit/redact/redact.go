// Package redact keeps credentials out of what loadgen writes: the values
// of the campaign's secrets wherever they appear, a URL's password
// (https://user:pass@host), and the values of headers and parameters that
// carry credentials (Authorization: Bearer …, api_key=…), as k6 echoes
// them in its log lines when a request fails or a script logs them.
package redact

import (
	"bytes"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sync"
)

// Mark replaces what is redacted.
const Mark = "[REDACTED]"

// Secrets are values that must never be written. The zero value redacts
// only the patterns (URL passwords, credential headers and parameters).
type Secrets struct {
	values [][]byte // longest first, so that a secret containing another is replaced whole
}

// New returns the secrets among values (empty ones are dropped).
func New(values ...string) Secrets {
	var s Secrets
	for _, v := range values {
		if v != "" && !slices.ContainsFunc(s.values, func(b []byte) bool { return string(b) == v }) {
			s.values = append(s.values, []byte(v))
		}
	}
	slices.SortFunc(s.values, func(a, b []byte) int { return len(b) - len(a) })
	return s
}

// Patterns of credentials in free text. A URL's password ends at the last
// @ before the host (a password may hold @ only percent-encoded, but k6
// echoes what the script built); a header or parameter value ends at white
// space, a quote or a separator.
var (
	urlCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s/:@"'<>]*):[^\s/@"'<>]*@`)
	credentialKV   = regexp.MustCompile(`(?i)((?:proxy-)?authorization|x-api-key|x-auth-token|api[-_]?key|api[-_]?token|access[-_]?token|cookie|set-cookie|password|passwd|secret|token)` +
		`("?\s*[:=]\s*(?:\[\s*)??"?)((?:bearer|basic|token|digest)\s+)?(\[REDACTED\]|[^\s"',;&}\[\]\\]+)`)
)

// String returns s with every secret value and every credential pattern
// replaced by Mark.
func (s Secrets) String(text string) string { return string(s.Bytes([]byte(text))) }

// Bytes is String for a byte slice; it may return b itself.
func (s Secrets) Bytes(b []byte) []byte {
	for _, v := range s.values {
		b = bytes.ReplaceAll(b, v, []byte(Mark))
	}
	b = urlCredentials.ReplaceAll(b, []byte("${1}:"+Mark+"@"))
	// The value's first alternative is Mark itself: redacted text comes
	// out the same.
	return credentialKV.ReplaceAll(b, []byte("${1}${2}${3}"+Mark))
}

// URL returns a URL fit to be written: its password, if it has one,
// replaced by xxxxx (url.URL.Redacted: the result still parses as the same
// URL, so it can be stored as a target and recognised on resume). Text
// that is not a URL is redacted as free text.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Secrets{}.String(raw)
	}
	return u.Redacted()
}

// Password is a URL's password, "" when it has none or is not a URL.
func Password(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// Writer passes what is written to w, redacted. Lines are redacted whole:
// a partial line is held back until its end (or 64 KiB) arrives, so a
// secret split across two writes is still caught. Flush writes a final
// partial line; call it after the last write.
type Writer struct {
	w       io.Writer
	secrets Secrets
	mu      sync.Mutex
	buf     []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer, secrets Secrets) *Writer { return &Writer{w: w, secrets: secrets} }

// Write implements io.Writer.
func (r *Writer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	i := bytes.LastIndexByte(r.buf, '\n')
	if i < 0 && len(r.buf) < 64<<10 {
		return len(p), nil
	}
	if i < 0 {
		i = len(r.buf) - 1
	}
	out := r.secrets.Bytes(slices.Clone(r.buf[:i+1]))
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	r.buf = append(r.buf[:0], r.buf[i+1:]...)
	return len(p), nil
}

// Flush writes a final partial line, if any.
func (r *Writer) Flush() {
	r.mu.Lock()
	rest := len(r.buf)
	r.mu.Unlock()
	if rest > 0 {
		_, _ = r.Write([]byte{'\n'})
	}
}
