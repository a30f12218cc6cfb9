// Package pgtest starts a real PostgreSQL server for tests: initdb into a
// temporary directory, the server on 127.0.0.1 at a free port with the
// max_connections asked for, password authentication over TCP, and a
// database "greenlang"; stopped and removed when the test ends. As root
// (initdb refuses to run as root) the server runs as the postgres user
// through runuser. Without PostgreSQL the test is skipped, unless CI is
// set: there a missing PostgreSQL fails the test (the Makefile's
// `postgresql` target installs Debian's package).
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// User and Password are the server's superuser and its password; Password
// is distinctive, so that a test can assert it never appears in output.
const (
	User     = "loadgen"
	Password = "pgtest-Pa55word-never-printed"
	Database = "greenlang"
)

// Server is a running PostgreSQL.
type Server struct {
	// URL connects to Database as User with Password over TCP.
	URL  string
	Port int
}

// binDir finds initdb and pg_ctl: on PATH, else Debian's
// /usr/lib/postgresql/<version>/bin (the newest).
func binDir() (string, bool) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), true
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], true
		}
	}
	return "", false
}

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL is needed in CI: "+format, args...)
	}
	t.Skipf("PostgreSQL not available (CI unset): "+format, args...)
}

// Start starts a server with the given max_connections and waits until it
// accepts connections; it is stopped (immediate shutdown) and its directory
// removed when t ends.
func Start(t *testing.T, maxConnections int) Server {
	t.Helper()
	bin, ok := binDir()
	if !ok {
		unavailable(t, "no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
	}
	// As root, everything runs as postgres, which must own the directory.
	var wrap []string
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "running as root and there is no postgres user to run the server as")
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			unavailable(t, "running as root and there is no runuser")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		wrap = []string{runuser, "-u", "postgres", "--"}
	}
	dir, err := os.MkdirTemp("", "loadgen-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	data, pwfile, logfile := filepath.Join(dir, "data"), filepath.Join(dir, "pw"), filepath.Join(dir, "log")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		for _, p := range []string{dir, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				unavailable(t, "cannot hand %s to the postgres user: %v", p, err)
			}
		}
	}
	run := func(timeout time.Duration, name string, args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		argv := append(append(append([]string{}, wrap...), filepath.Join(bin, name)), args...)
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", name, err, out)
		}
		return nil
	}
	if err := run(2*time.Minute, "initdb", "-D", data, "-U", User, "--pwfile", pwfile,
		"--auth-local", "trust", "--auth-host", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale", "C"); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c max_connections=%d -c unix_socket_directories='%s' -c fsync=off -c shared_buffers=16MB",
		port, maxConnections, dir)
	if err := run(time.Minute, "pg_ctl", "-D", data, "-o", opts, "-l", logfile, "-w", "-t", "50", "start"); err != nil {
		log, _ := os.ReadFile(logfile)
		t.Fatalf("%v\nserver log:\n%s", err, log)
	}
	t.Cleanup(func() {
		if err := run(time.Minute, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			t.Logf("stopping PostgreSQL: %v", err)
		}
	})

	base := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/", User, Password, port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base+"postgres")
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+Database); err != nil {
		t.Fatalf("CREATE DATABASE: %v", err)
	}
	return Server{URL: base + Database, Port: port}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
