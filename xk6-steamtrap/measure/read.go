package measure

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

var (
	// ErrSchema is wrapped when a file's first line is not a header of this
	// schema.
	ErrSchema = errors.New("not a " + Schema + " file")
	// ErrTruncated is wrapped when a file's last line is incomplete and does
	// not parse: the writer died in the middle of it.
	ErrTruncated = errors.New("incomplete last line")
	// ErrInvalid is wrapped when a line parses but holds what no writer
	// writes (Header.Check, Second.Check): a negative count, counts that do
	// not add up, seconds out of order, another histogram geometry.
	ErrInvalid = errors.New("invalid")
)

// FollowInterval is how often Follow polls the file for new lines.
const FollowInterval = 100 * time.Millisecond

// maxLine bounds a line Follow waits for; a record is a few hundred bytes
// to a few KB.
const maxLine = 16 << 20

// ReadFile reads a whole seconds file. On error it also returns the records
// read before the bad line.
func ReadFile(path string) ([]Second, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, seconds, err := ReadAll(f, path)
	return seconds, err
}

// ReadAll reads a seconds file from r; name is used in errors. The header
// it returns has BeganAt set from the file's began_at lines. On error it
// also returns what it read before the bad line.
func ReadAll(r io.Reader, name string) (Header, []Second, error) {
	var (
		p       = parser{name: name}
		seconds []Second
	)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		switch {
		case err == nil:
			s, ok, perr := p.line(line[:len(line)-1])
			if perr != nil {
				return p.header, seconds, perr
			}
			if ok {
				seconds = append(seconds, s)
			}
		case errors.Is(err, io.EOF):
			s, ok, perr := p.last(line)
			if ok {
				seconds = append(seconds, s)
			}
			return p.header, seconds, perr
		default:
			return p.header, seconds, fmt.Errorf("%s: %w", name, err)
		}
	}
}

// Follow calls fn with each second of the seconds file at path as the
// writer appends it (not the header nor began_at lines), in file order, from the goroutine that called Follow.
// It waits for the file to appear, polls it every FollowInterval, and keeps
// an incomplete last line until its newline arrives. When ctx ends it reads
// what the file holds by then, delivers it, and returns nil; it returns an
// error wrapping fs.ErrNotExist if the file never appeared, and stops at the
// first bad line with an error naming the file and line.
func Follow(ctx context.Context, path string, fn func(Second)) error {
	var (
		f       *os.File
		p       = parser{name: path}
		pending []byte
		chunk   = make([]byte, 64<<10)
		offset  int64
		done    bool
	)
	defer func() {
		if f != nil {
			_ = f.Close()
		}
	}()
	for {
		if f == nil {
			var err error
			f, err = os.Open(path)
			switch {
			case err == nil:
			case errors.Is(err, fs.ErrNotExist) && !done:
				f = nil
			case errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("%s was never created: %w", path, fs.ErrNotExist)
			default:
				return err
			}
		}
		if f != nil {
			if st, err := f.Stat(); err == nil && st.Size() < offset {
				return fmt.Errorf("%s: file shrank from %d to %d bytes while being read", path, offset, st.Size())
			}
			for {
				n, err := f.Read(chunk)
				offset += int64(n)
				pending = append(pending, chunk[:n]...)
				for {
					i := bytes.IndexByte(pending, '\n')
					if i < 0 {
						break
					}
					s, ok, perr := p.line(pending[:i])
					if perr != nil {
						return perr
					}
					if ok {
						fn(s)
					}
					pending = pending[i+1:]
				}
				if len(pending) > maxLine {
					return fmt.Errorf("%s:%d: line longer than %d bytes", path, p.n+1, maxLine)
				}
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("%s: %w", path, err)
				}
				if n == 0 || err != nil {
					break
				}
			}
			// Keep pending's memory from growing with the file.
			pending = append([]byte(nil), pending...)
		}
		if done {
			if f == nil {
				return fmt.Errorf("%s was never created: %w", path, fs.ErrNotExist)
			}
			s, ok, err := p.last(pending)
			if ok {
				fn(s)
			}
			return err
		}
		t := time.NewTimer(FollowInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			done = true // one more pass to drain what was written meanwhile
		case <-t.C:
		}
	}
}

// parser turns lines into records, checking the header first.
type parser struct {
	name   string
	n      int // lines seen
	header Header
	prev   int64 // the start of the last second read that was not a late supplement
}

// line parses one complete line (without its newline). ok is false for the
// header, began_at lines (noted in header) and blank lines.
func (p *parser) line(b []byte) (s Second, ok bool, err error) {
	p.n++
	b = bytes.TrimSpace(b)
	if p.n == 1 {
		if err := json.Unmarshal(b, &p.header); err != nil || p.header.Schema != Schema {
			got := p.header.Schema
			if err != nil || got == "" {
				got = "no header"
			}
			return s, false, fmt.Errorf("%s:1: %w (got %q)", p.name, ErrSchema, got)
		}
		if err := p.header.Check(); err != nil {
			return s, false, fmt.Errorf("%s:1: %w: %w", p.name, ErrInvalid, err)
		}
		return s, false, nil
	}
	if len(b) == 0 {
		return s, false, nil
	}
	// A line is a second or, without "start", a began_at line.
	var rec struct {
		Second
		BeganAt *time.Time `json:"began_at"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return s, false, fmt.Errorf("%s:%d: %w", p.name, p.n, err)
	}
	if rec.BeganAt != nil {
		if rec.StartUnix != 0 {
			return s, false, fmt.Errorf("%s:%d: a line has either start or began_at, not both", p.name, p.n)
		}
		p.header.noteBegan(*rec.BeganAt)
		return s, false, nil
	}
	s = rec.Second
	if err := s.Check(); err != nil {
		return s, false, fmt.Errorf("%s:%d: %w: %w", p.name, p.n, ErrInvalid, err)
	}
	if !s.Late {
		if p.prev != 0 && s.StartUnix <= p.prev {
			return s, false, fmt.Errorf("%s:%d: %w: start %d is not after the second before it (%d): want one line per second, in order (a supplement for an earlier second has \"late\":true)",
				p.name, p.n, ErrInvalid, s.StartUnix, p.prev)
		}
		p.prev = s.StartUnix
	}
	if s.Latency == nil {
		s.Latency = NewHistogram()
	}
	if s.Classes == nil {
		s.Classes = map[string]int64{}
	}
	return s, true, nil
}

// last parses what follows the final newline: nothing, or a line whose
// newline never came. A file with no header at all is an error.
func (p *parser) last(b []byte) (Second, bool, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		if p.n == 0 {
			return Second{}, false, fmt.Errorf("%s:1: %w (got an empty file)", p.name, ErrSchema)
		}
		return Second{}, false, nil
	}
	s, ok, err := p.line(b)
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrSchema) {
		return s, false, err // it parsed: what it holds is wrong, not cut short
	}
	if err != nil {
		return s, false, fmt.Errorf("%s:%d: %w: %w", p.name, p.n, ErrTruncated, errors.Unwrap(err))
	}
	return s, ok, nil
}
