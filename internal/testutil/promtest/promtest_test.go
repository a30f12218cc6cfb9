package promtest

import (
	"testing"
)

// recorder is a testing.TB that records Skip and Fatal instead of ending
// the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(args ...any)      { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any)     { r.failed = args[0].(string) }
func (r *recorder) Fatalf(string, ...any) { r.failed = "fatalf" }

func TestAMissingBinarySkipsOutsideCIAndFailsInCI(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	binary(r, "no-such-prometheus-binary")
	if r.skipped == "" || r.failed != "" {
		t.Fatalf("outside CI: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}

	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	binary(r, "no-such-prometheus-binary")
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("in CI: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
}

func TestBinaryFindsAnInstalledOne(t *testing.T) {
	r := &recorder{TB: t}
	if got := binary(r, "no-such-prometheus-binary", "sh"); got == "" || r.skipped != "" || r.failed != "" {
		t.Fatalf("got %q (skipped %q, failed %q); want sh's path", got, r.skipped, r.failed)
	}
}
