package session

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/term"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/redact"
	"github.com/greenlang/loadgen/internal/target/reftarget"
)

// IsLoopback reports whether the URL's host is a loopback address or
// localhost.
func IsLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Confirm asks for a typed yes on the terminal in before doing what says,
// as the guide's stress script does before loading a target. Without a
// terminal to ask on, or without a yes, it is bad input: nothing was done.
func Confirm(in io.Reader, out io.Writer, what, nothing string) error {
	if !isTerminal(in) {
		return exitcode.Usage("%s: confirm with --yes (no terminal to ask on)", strings.TrimSuffix(what, "."))
	}
	fmt.Fprintf(out, "WARNING: %s\nType yes to proceed: ", what)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return exitcode.Usage("not confirmed; %s", nothing)
	}
	return nil
}

// ConfirmTarget asks before loading a target that is not on this machine.
func ConfirmTarget(in io.Reader, out io.Writer, target string) error {
	target = redact.URL(target)
	if !isTerminal(in) {
		return exitcode.Usage("%s is not on loopback: confirm with --yes (no terminal to ask on)", target)
	}
	return Confirm(in, out, fmt.Sprintf("this will push %s to its limits.", target), "nothing was sent")
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// K6Command returns how to run k6: the k6 binary at path (which must
// include xk6-steamtrap), or this binary's own embedded k6.
func K6Command(path string) ([]string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, exitcode.Usage("--k6: %v", err)
		}
		return []string{path}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{self, "k6"}, nil
}

// K6Version is the version of the embedded k6 (the go.k6.io/k6/v2 module
// this binary was built with, from its build information), e.g. "2.2.0".
func K6Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.k6.io/k6/v2" {
				if d.Replace != nil && d.Replace.Version != "" {
					d = d.Replace
				}
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "unknown"
}

// StartTarget readies the target a campaign loads and returns the URL its
// steps load: the embedded reference target started (stop stops it), or a
// target not on loopback confirmed (unless yes).
func StartTarget(cfg campaign.Config, yes bool, in io.Reader, log io.Writer) (baseURL string, stop func(), err error) {
	if cfg.Target == campaign.EmbeddedTarget {
		url, stopTarget, err := reftarget.StartEmbedded(cfg.Replicas, cfg.TargetCapacityFactor, cfg.TargetTimeScale)
		if err != nil {
			return "", nil, OpenErr(err)
		}
		fmt.Fprintf(log, "embedded reference target: %d replica(s) at %s\n", cfg.Replicas, url)
		return url, stopTarget, nil
	}
	if !IsLoopback(cfg.Target) && !yes {
		if err := ConfirmTarget(in, log, cfg.Target); err != nil {
			return "", nil, err
		}
	}
	return cfg.Target, func() {}, nil
}
