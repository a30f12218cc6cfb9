package k6operator

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/greenlang/loadgen/internal/core/k6step"
)

// hiddenValue stands for a Secret's value in what WriteObjects prints.
const hiddenValue = "<generated for each campaign; never printed>"

// WriteObjects writes, as YAML documents, the objects a campaign would
// create for spec: its Secret (values hidden), and the step's ConfigMap and
// TestRun. It contacts nothing.
func (e *Executor) WriteObjects(w io.Writer, spec k6step.Spec) error {
	objs, err := e.objects(spec)
	if err != nil {
		return err
	}
	secret := e.secret()
	secret.StringData = map[string]string{}
	for k := range secret.Data {
		secret.StringData[k] = hiddenValue
	}
	secret.Data = nil
	var docs []map[string]any
	for _, o := range []any{secret, objs.configMap} {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return err
		}
		docs = append(docs, m)
	}
	for _, m := range append(docs, objs.testRun.Object) {
		// The API server sets these; empty, they are noise.
		if meta, ok := m["metadata"].(map[string]any); ok {
			delete(meta, "creationTimestamp")
		}
		delete(m, "status")
		b, err := yaml.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}
