package source

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/session/preflight"
)

func TestTarget(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/steam-trap/health":
			_, _ = w.Write([]byte(`{"status":"healthy"}`))
		case "/sick":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	ctx := context.Background()
	for _, tc := range []struct {
		base, path string
		want       preflight.Status
		connected  bool
		status     int
	}{
		{srv.URL, "/v1/steam-trap/health", preflight.OK, true, 200},
		{srv.URL + "/", "/v1/steam-trap/health", preflight.OK, true, 200},
		{srv.URL, "/sick", preflight.Warning, true, 503},
		{srv.URL, "/v1/heat-recovery/health", preflight.Warning, true, 404},
		{closed, "/v1/steam-trap/health", preflight.Warning, false, 0},
	} {
		p, err := Target(tc.base, tc.path)(ctx)
		require.NoError(t, err)
		assert.Equal(t, tc.connected, p.Connected, tc)
		assert.Equal(t, tc.status, p.Status, tc)
		c := preflight.JudgeTarget(p)
		assert.Equal(t, tc.want, c.Status, c.Detail)
	}
}
