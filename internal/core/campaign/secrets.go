package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Secret-looking names: --env refuses them (an --env value is stored in
// run.json and travels on k6's command line), --secret-env takes them.
var secretWords = []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE", "SESSION", "PRIVATE", "SIGNATURE"}

// SecretLike reports whether an environment variable's name looks like it
// holds a secret (case-insensitive), and the word that says so.
func SecretLike(name string) (word string, ok bool) {
	up := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(up, w) {
			return w, true
		}
	}
	return "", false
}

// StepEnv are the script variables every step sets itself (stress.StepSpec
// and k6step.Runner.RunFlags): neither --env nor --secret-env may name
// them.
var StepEnv = []string{"BASE_URL", "ENDPOINT", "SEED", "TIMEOUT", "RATE", "DURATION", "VUS", "MAX_VUS", "GRACEFUL_STOP", "STEAMTRAP_COLLECT_TOKEN"}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// SecretSpec is one --secret-env: the variable's name, and the file its
// value is read from ("" = from loadgen's own environment).
type SecretSpec struct {
	Name, File string
}

// ParseSecretEnv parses a --secret-env value: NAME (the value is $NAME in
// loadgen's environment) or NAME=@FILE (the file's content, less a final
// newline). A value on the command line is refused: it would be in the
// shell's history and in every process listing.
func ParseSecretEnv(spec string) (SecretSpec, error) {
	name, rest, hasValue := strings.Cut(spec, "=")
	if !envName.MatchString(name) {
		return SecretSpec{}, fmt.Errorf("--secret-env %q: want NAME or NAME=@FILE, NAME a variable name (letters, digits, _)", redactedSpec(spec))
	}
	if !hasValue {
		return SecretSpec{Name: name}, nil
	}
	file, ok := strings.CutPrefix(rest, "@")
	if !ok || file == "" {
		return SecretSpec{}, fmt.Errorf("--secret-env %s=…: a secret's value never comes from the command line (it would stay in the shell's history and show in the process list); export %s and give --secret-env %s, or give --secret-env %s=@FILE", name, name, name, name)
	}
	return SecretSpec{Name: name, File: file}, nil
}

// redactedSpec is a --secret-env value fit for an error message: its name
// only.
func redactedSpec(spec string) string {
	name, _, has := strings.Cut(spec, "=")
	if has {
		return name + "=…"
	}
	return name
}

// SetSecretEnv adds --secret-env values.
func (c *Config) SetSecretEnv(specs []string) error {
	for _, s := range specs {
		if _, err := ParseSecretEnv(s); err != nil {
			return err
		}
		c.SecretEnv = append(c.SecretEnv, s)
	}
	return nil
}

// SecretSpecs parses SecretEnv (Validate has checked it).
func (c Config) SecretSpecs() []SecretSpec {
	out := make([]SecretSpec, 0, len(c.SecretEnv))
	for _, s := range c.SecretEnv {
		if sp, err := ParseSecretEnv(s); err == nil {
			out = append(out, sp)
		}
	}
	return out
}

// checkEnv is Validate's part for Env and SecretEnv.
func (c Config) checkEnv(bad func(string, ...any)) {
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if w, ok := SecretLike(k); ok {
			bad("env %s: the name looks like a secret (%s), and an --env value is stored in run.json and passed on k6's command line; pass it with --secret-env %s (its value from loadgen's environment, or %s=@FILE)", k, w, k, k)
		}
	}
	seen := map[string]bool{}
	for _, s := range c.SecretEnv {
		sp, err := ParseSecretEnv(s)
		if err != nil {
			bad("%v", err)
			continue
		}
		switch {
		case seen[sp.Name]:
			bad("--secret-env %s: given twice", sp.Name)
		case slices.Contains(StepEnv, sp.Name):
			bad("--secret-env %s: every step sets it itself (a --target URL with a password travels as a secret by itself)", sp.Name)
		case c.Env[sp.Name] != "":
			bad("--secret-env %s: also given with --env", sp.Name)
		}
		seen[sp.Name] = true
	}
}
