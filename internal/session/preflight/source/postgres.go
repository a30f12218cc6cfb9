package source

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/greenlang/loadgen/internal/session/preflight"
)

// DBTimeout bounds connecting to PostgreSQL and the queries.
const DBTimeout = 10 * time.Second

// DB is a PostgreSQL address (a postgres:// URL or a key=value DSN, as psql
// and pgx take them). Its password never leaves it: Display and every
// error it returns are redacted.
type DB struct {
	cfg *pgx.ConnConfig
	// Display is the address with its password replaced by xxxxx.
	Display  string
	password string
}

// ParseDB parses a database address; the error is redacted.
func ParseDB(raw string) (DB, error) {
	display := Redact(raw)
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), raw, display)
		return DB{}, errors.New(Redact(msg))
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > DBTimeout {
		cfg.ConnectTimeout = DBTimeout
	}
	return DB{cfg: cfg, Display: display, password: cfg.Password}, nil
}

var (
	urlPassword = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/?#@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)
)

// Redact replaces every password in s (a URL's user:password@, a password=
// keyword or query parameter) with xxxxx.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		s = u.Redacted()
	}
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	return kvPassword.ReplaceAllString(s, "${1}xxxxx")
}

// scrub redacts an error's message, and the password itself wherever it
// appears.
func (d DB) scrub(err error) error {
	msg := Redact(err.Error())
	if d.password != "" {
		msg = strings.ReplaceAll(msg, d.password, "xxxxx")
	}
	return errors.New(msg)
}

// Query connects and reads max_connections (SHOW max_connections, as the
// guide's psql does) and the size of database dbName (pg_database_size; ""
// = the database connected to).
func (d DB) Query(dbName string) func(context.Context) (preflight.Database, error) {
	return func(ctx context.Context) (preflight.Database, error) {
		ctx, cancel := context.WithTimeout(ctx, DBTimeout)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, d.cfg)
		if err != nil {
			return preflight.Database{}, d.scrub(err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		var out preflight.Database
		var maxConn string
		if err := conn.QueryRow(ctx, "SHOW max_connections").Scan(&maxConn); err != nil {
			return out, d.scrub(fmt.Errorf("SHOW max_connections: %w", err))
		}
		if out.MaxConnections, err = strconv.Atoi(strings.TrimSpace(maxConn)); err != nil {
			return out, fmt.Errorf("SHOW max_connections answered %q", maxConn)
		}
		if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&out.Version); err != nil {
			return out, d.scrub(fmt.Errorf("SHOW server_version: %w", err))
		}
		if dbName == "" {
			err = conn.QueryRow(ctx, "SELECT current_database(), pg_database_size(current_database())").Scan(&out.Name, &out.SizeBytes)
		} else {
			out.Name = dbName
			err = conn.QueryRow(ctx, "SELECT pg_database_size($1::name)", dbName).Scan(&out.SizeBytes)
		}
		if err != nil {
			return out, d.scrub(fmt.Errorf("pg_database_size: %w", err))
		}
		return out, nil
	}
}
