package k6operator

import (
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/greenlang/loadgen/internal/core/k6step"
)

// hiddenValue stands for a Secret's value in what WriteObjects prints;
// caValue for the collector's CA certificate, which is public but made
// when the campaign starts.
const (
	hiddenValue = "<generated for each campaign; never printed>"
	caValue     = "<the collector's CA certificate (PEM), generated for each campaign>"
)

// WriteObjects writes, as YAML documents, the objects a campaign would
// create for spec: its Secret (if it has anything to hold), and the step's
// Secret, ConfigMap and TestRun, the Secrets' values hidden. It contacts
// nothing.
func (e *Executor) WriteObjects(w io.Writer, spec k6step.Spec) error {
	objs, err := e.objects(spec, "")
	if err != nil {
		return err
	}
	var shown []any
	for _, secret := range []*corev1.Secret{e.secret(), objs.secret} {
		if len(secret.Data) == 0 {
			continue
		}
		secret.StringData = map[string]string{}
		for k := range secret.Data {
			secret.StringData[k] = hiddenValue
			if k == KeyCollectCA {
				secret.StringData[k] = caValue
			}
		}
		secret.Data = nil
		shown = append(shown, secret)
	}
	var docs []map[string]any
	for _, o := range append(shown, objs.configMap) {
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
