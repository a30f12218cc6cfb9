package measure

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, code string
		want         Class
	}{
		{"200", "", Class{"200", true}},
		{"204", "", Class{"204", true}},
		{"302", "", Class{"302", true}},
		{"404", "1404", Class{"404", false}},
		{"429", "1429", Class{"429", false}},
		{"503", "1503", Class{"503", false}},
		{"503", "", Class{"503", false}}, // error_code tag disabled
		{"0", "1050", Class{ClassTimeout, false}},
		{"0", "1211", Class{ClassTimeout, false}},
		{"0", "1212", Class{ClassConnRefused, false}},
		{"0", "1220", Class{ClassConnReset, false}},
		{"0", "1201", Class{ClassConnReset, false}},
		{"0", "1000", Class{ClassOtherError, false}}, // e.g. unexpected EOF
		{"0", "1101", Class{ClassOtherError, false}}, // no such host
		{"0", "1210", Class{ClassOtherError, false}},
		{"0", "1310", Class{ClassOtherError, false}}, // x509
		{"0", "1650", Class{ClassOtherError, false}}, // http2
		{"0", "1701", Class{ClassOtherError, false}}, // decompression
		{"0", "", Class{ClassOtherError, false}},
		{"0", "junk", Class{ClassOtherError, false}},
		{"", "1212", Class{ClassConnRefused, false}}, // status tag disabled
		{"", "1502", Class{"502", false}},
		{"", "", Class{ClassUnknown, true}},
	} {
		assert.Equal(t, tc.want, Classify(tc.status, tc.code), "status=%q error_code=%q", tc.status, tc.code)
	}
}

func TestIsTransportClass(t *testing.T) {
	t.Parallel()
	for _, c := range []string{ClassTimeout, ClassConnRefused, ClassConnReset, ClassOtherError} {
		assert.True(t, IsTransportClass(c), c)
	}
	for _, c := range []string{"200", "503", ClassUnknown} {
		assert.False(t, IsTransportClass(c), c)
	}
}
