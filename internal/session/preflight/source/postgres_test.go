package source

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenlang/loadgen/internal/session/preflight"
	"github.com/greenlang/loadgen/internal/testutil/pgtest"
)

// TestPostgresChecks runs checks 2 and 4 against real PostgreSQL servers,
// one with too few connections for the guide and one with enough.
func TestPostgresChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		maxConn int
		want    preflight.Status
	}{{50, preflight.Warning}, {250, preflight.OK}} {
		t.Run(strings.ReplaceAll(string(tc.want), " ", "_"), func(t *testing.T) {
			t.Parallel()
			srv := pgtest.Start(t, tc.maxConn)
			db, err := ParseDB(srv.URL)
			require.NoError(t, err)
			assert.NotContains(t, db.Display, pgtest.Password)
			assert.Contains(t, db.Display, "xxxxx")

			got, err := db.Query("")(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.maxConn, got.MaxConnections)
			assert.Equal(t, pgtest.Database, got.Name)
			assert.Greater(t, got.SizeBytes, int64(1<<20), "an empty database still holds its catalogs (several MB)")
			assert.NotEmpty(t, got.Version)

			c := preflight.JudgeConnections(got, preflight.GuideMinConnections)
			assert.Equal(t, tc.want, c.Status, c.Detail)

			// A database named apart from the one connected to.
			other, err := db.Query("postgres")(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "postgres", other.Name)
			assert.Greater(t, other.SizeBytes, int64(0))

			// PrettySize prints sizes as the guide's pg_size_pretty does.
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, srv.URL)
			require.NoError(t, err)
			defer conn.Close(ctx)
			for _, n := range []int64{0, 1, 10239, 10240, 10751, 10752, 7_700_000, got.SizeBytes, 10 << 30, 5 << 40} {
				var want string
				require.NoError(t, conn.QueryRow(ctx, "SELECT pg_size_pretty($1::bigint)", n).Scan(&want))
				assert.Equal(t, want, preflight.PrettySize(n), "%d bytes", n)
			}
		})
	}
}

// TestPostgresErrorsAreRedacted: a wrong password, a database that does not
// exist and a server that is not there are errors that never carry the
// password.
func TestPostgresErrorsAreRedacted(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t, 50)
	for _, raw := range []string{
		strings.Replace(srv.URL, pgtest.Password, pgtest.Password+"-wrong", 1),
		strings.Replace(srv.URL, "/"+pgtest.Database, "/nosuchdb", 1),
		"postgres://loadgen:" + pgtest.Password + "@127.0.0.1:1/greenlang?connect_timeout=2",
	} {
		db, err := ParseDB(raw)
		require.NoError(t, err)
		_, err = db.Query("")(context.Background())
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), pgtest.Password, "error: %v", err)
		assert.NotContains(t, db.Display, pgtest.Password)
	}
	// The size of a database that does not exist is an error, not 0.
	db, err := ParseDB(srv.URL)
	require.NoError(t, err)
	_, err = db.Query("nosuchdb")(context.Background())
	require.Error(t, err)
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@db:5432/greenlang", "postgres://u:xxxxx@db:5432/greenlang"},
		{"postgresql://u:s3cret@db/greenlang?sslmode=require", "postgresql://u:xxxxx@db/greenlang?sslmode=require"},
		{"postgres://u@db/greenlang?password=s3cret&sslmode=disable", "postgres://u@db/greenlang?password=xxxxx&sslmode=disable"},
		{"host=db user=u password=s3cret dbname=greenlang", "host=db user=u password=xxxxx dbname=greenlang"},
		{"host=db password='s3 cret' dbname=greenlang", "host=db password=xxxxx dbname=greenlang"},
		{"cannot parse `postgres://u:s3cret@db:x/g`: bad port", "cannot parse `postgres://u:xxxxx@db:x/g`: bad port"},
		{"postgres://db/greenlang", "postgres://db/greenlang"},
	} {
		got := Redact(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.NotContains(t, got, "s3cret")
	}
	_, err := ParseDB("postgres://u:s3cret@db:notaport/greenlang")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}
