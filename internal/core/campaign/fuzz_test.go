package campaign

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzLoad: whatever a campaign file holds, Load either refuses it, naming
// the file, and leaves the configuration as it was; or takes it, every key
// it names passing its check, and the configuration written back as a
// campaign file loads as the same configuration. It never panics.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "..", "scenarios", "*.yaml"))
	if len(paths) == 0 {
		f.Fatal("no campaign file in scenarios/")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{"", "start: 0\n", "cooldown: 5\nstep_duration: 1e300\n", "env: {A: b}\nkubernetes: {namespace: x}\nsecret_env: [DB_PASSWORD, KEY=@/run/key]\n", "---\n---\n", "start: 1.5\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Defaults()
		if err := c.Load(b, "f.yaml"); err != nil {
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			if !reflect.DeepEqual(c, Defaults()) {
				t.Fatalf("refused, but changed the configuration: %+v", c)
			}
			return
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("accepted what is not YAML: %v", err)
		}
		for key, check := range KeyChecks {
			if named(&doc, key) && check(c) != "" {
				t.Fatalf("accepted %s %s", key, check(c))
			}
		}
		back := Defaults()
		text := writeBack(t, c)
		if err := back.Load(text, "back.yaml"); err != nil {
			t.Fatalf("written back, %v:\n%s", err, text)
		}
		if len(c.Env) == 0 { // nil and empty are one
			c.Env, back.Env = nil, nil
		}
		if len(c.SecretEnv) == 0 {
			c.SecretEnv, back.SecretEnv = nil, nil
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("read back as %+v, not %+v", back, c)
		}
	})
}

// named says whether the document's top-level mapping has key.
func named(doc *yaml.Node, key string) bool {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// writeBack writes c as a campaign file, leaving out the keys whose value
// is an empty string (the defaults' target: not a value a file can give).
func writeBack(t *testing.T, c Config) []byte {
	t.Helper()
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		t.Fatal(err)
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == "" {
			continue
		}
		kept = append(kept, n.Content[i], n.Content[i+1])
	}
	n.Content = kept
	b, err := yaml.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
