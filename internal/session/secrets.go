package session

import (
	"bytes"
	"maps"
	"os"
	"slices"

	"github.com/greenlang/loadgen/internal/core/campaign"
	"github.com/greenlang/loadgen/internal/kit/exitcode"
	"github.com/greenlang/loadgen/internal/kit/redact"
)

// APITokenEnv is the variable the scenarios read the target's bearer token
// from: a secret without being named by --secret-env, when it is set.
const APITokenEnv = "API_TOKEN"

// Secrets are the values a campaign passes to k6 that nothing may write:
// the --secret-env variables, API_TOKEN, and the target's URL when it holds
// a password (as BASE_URL). Locally they reach k6 through its process
// environment, on Kubernetes through the campaign's Secret; never through
// k6's command line, run.json, a log or a report.
type Secrets map[string]string

// ReadSecrets reads the values of cfg's --secret-env variables (from this
// process's environment, or from the file NAME=@FILE names) and API_TOKEN.
// A variable that is not set, or empty, is exit 2: a campaign without its
// credentials would measure the target's 401s.
func ReadSecrets(cfg campaign.Config) (Secrets, error) {
	s := Secrets{}
	for _, sp := range cfg.SecretSpecs() {
		if sp.File == "" {
			v, ok := os.LookupEnv(sp.Name)
			if !ok || v == "" {
				return nil, exitcode.Usage("--secret-env %s: %s is not set in loadgen's environment (export it, or give --secret-env %s=@FILE)", sp.Name, sp.Name, sp.Name)
			}
			s[sp.Name] = v
			continue
		}
		b, err := os.ReadFile(sp.File)
		if err != nil {
			return nil, exitcode.Usage("--secret-env %s=@%s: %v", sp.Name, sp.File, err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, exitcode.Usage("--secret-env %s=@%s: the file is empty", sp.Name, sp.File)
		}
		s[sp.Name] = string(b)
	}
	if _, named := s[APITokenEnv]; !named {
		if v := os.Getenv(APITokenEnv); v != "" {
			s[APITokenEnv] = v
		}
	}
	return s, nil
}

// TargetURL splits a --target URL that holds a password: the URL to show
// and store (password redacted) and, as BASE_URL among s, the URL to load.
// A target without one is returned as it is.
func (s Secrets) TargetURL(target string) (shown string) {
	if redact.Password(target) == "" {
		return target
	}
	s["BASE_URL"] = target
	return redact.URL(target)
}

// BaseURL is the URL to load for the shown target URL: BASE_URL when the
// target holds a password, shown otherwise.
func (s Secrets) BaseURL(shown string) string {
	if u := s["BASE_URL"]; u != "" {
		return u
	}
	return shown
}

// Values are the secret values, for redaction: each one, but of a URL
// with a password only the password (the rest of the URL is worth
// reading in a log).
func (s Secrets) Values() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if p := redact.Password(s[k]); p != "" {
			out = append(out, p)
		} else {
			out = append(out, s[k])
		}
	}
	return out
}

// Environ is base (a process environment) with the secrets set, for k6.
func (s Secrets) Environ(base []string) []string {
	env := slices.Clone(base)
	for _, k := range slices.Sorted(maps.Keys(s)) {
		env = append(env, k+"="+s[k]) // the last of a name wins (os/exec)
	}
	return env
}
