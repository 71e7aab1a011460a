package db

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	_ "github.com/mattn/go-sqlite3"    // SQLite driver

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/sqlgen"
)

// dbTarget is a database to open: dialect, driver and DSN.
type dbTarget struct {
	dialect sqlgen.Dialect
	driver  string
	dsn     string
	display string // redacted, for messages
}

// targetFromURL reads dj-database-url forms: sqlite:///abs/path.db,
// postgres://u:p@h:5432/db, mysql://u:p@h:3306/db (mariadb:// too).
func targetFromURL(raw string, timeout time.Duration) (dbTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return dbTarget{}, backends.Configf("invalid database URL %q: it needs a scheme (sqlite://, postgres://, mysql://)", backends.Redact(raw))
	}
	rest, query, _ := strings.Cut(rest, "?")
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		if rest == ":memory:" || rest == "" || rest == "/:memory:" {
			return dbTarget{}, backends.Configf("an in-memory SQLite database lives inside one process: a cache there cannot be reached from outside")
		}
		return sqliteTarget(rest)
	case "postgres", "postgresql", "pgsql":
		u, err := url.Parse("postgres://" + rest)
		if err != nil {
			return dbTarget{}, backends.Configf("invalid PostgreSQL URL %q: %v", backends.Redact(raw), err)
		}
		q, _ := url.ParseQuery(query)
		if q.Get("connect_timeout") == "" {
			q.Set("connect_timeout", strconv.Itoa(int(max(timeout.Seconds(), 1))))
		}
		u.RawQuery = q.Encode()
		return dbTarget{dialect: sqlgen.PostgreSQL, driver: "pgx", dsn: u.String(), display: backends.Redact(raw)}, nil
	case "mysql", "mariadb", "mysql2":
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return dbTarget{}, backends.Configf("invalid MySQL URL %q: %v", backends.Redact(raw), err)
		}
		pw, _ := u.User.Password()
		t, err := mysqlTarget(u.User.Username(), pw, u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), timeout, backends.Redact(raw))
		if err != nil {
			return t, err
		}
		q, _ := url.ParseQuery(query)
		return mysqlQuery(t, q)
	}
	return dbTarget{}, backends.Configf("unsupported database URL scheme %q (use sqlite://, postgres:// or mysql://)", scheme)
}

func sqliteTarget(path string) (dbTarget, error) {
	if !strings.HasPrefix(path, "/") {
		return dbTarget{}, backends.Configf("the SQLite database needs an absolute path: sqlite:///abs/path.db")
	}
	// Wait for Django's writers instead of failing with "database is locked";
	// take write locks when a transaction starts.
	dsn := "file:" + path + "?_busy_timeout=10000&_txlock=immediate"
	return dbTarget{dialect: sqlgen.SQLite, driver: "sqlite3", dsn: dsn, display: "sqlite://" + path}, nil
}

func mysqlTarget(user, pass, host, port, name string, timeout time.Duration, display string) (dbTarget, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "3306"
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pass, "tcp", net.JoinHostPort(host, port), name
	c.Timeout, c.ReadTimeout, c.WriteTimeout = timeout, timeout, timeout
	c.Params = map[string]string{"time_zone": "'+00:00'"}
	return dbTarget{dialect: sqlgen.MySQL, driver: "mysql", dsn: c.FormatDSN(), display: display}, nil
}

// mysqlQuery applies a MySQL URL's connect_timeout (seconds) and sslmode,
// read with libpq's meanings as dj-database-url users write them: disable
// and allow are plaintext; prefer tries TLS and falls back; require uses TLS
// without checking the certificate; verify-ca and verify-full check it and
// the name (go-sql-driver has no chain-only check, so verify-ca is checked
// as strictly as verify-full). A server without TLS then refuses require.
func mysqlQuery(t dbTarget, q url.Values) (dbTarget, error) {
	c, err := mysql.ParseDSN(t.dsn)
	if err != nil {
		return t, backends.Configf("MySQL settings: %v", err)
	}
	if v := q.Get("connect_timeout"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || !(n > 0) || n > 1e6 {
			return t, backends.Configf("connect_timeout must be a positive number of seconds, not %q", v)
		}
		c.Timeout = time.Duration(n * float64(time.Second))
	}
	switch v := q.Get("sslmode"); v {
	case "", "disable", "allow":
	case "prefer":
		c.TLSConfig = "preferred"
	case "require":
		c.TLSConfig = "skip-verify"
	case "verify-ca", "verify-full":
		c.TLSConfig = "true"
	default:
		return t, backends.Configf("sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not %q", v)
	}
	t.dsn = c.FormatDSN()
	return t, nil
}

// targetFromSettings reads one DATABASES entry in Django's form.
func targetFromSettings(alias string, d map[string]any, timeout time.Duration) (dbTarget, error) {
	str := func(k string) string {
		switch v := d[k].(type) {
		case string:
			return v
		case json.Number:
			return backends.NumberText(v)
		}
		return ""
	}
	engine := str("ENGINE")
	switch {
	case strings.HasSuffix(engine, "sqlite3"):
		name, err := filepath.Abs(str("NAME")) // Django resolves NAME against its working directory
		if err != nil || str("NAME") == "" || str("NAME") == ":memory:" {
			return dbTarget{}, backends.Configf("DATABASES[%q] NAME must be a SQLite file", alias)
		}
		return sqliteTarget(name)
	case strings.Contains(engine, "postgresql"):
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(orDefault(str("HOST"), "127.0.0.1"), orDefault(str("PORT"), "5432")), Path: "/" + str("NAME")}
		if str("USER") != "" {
			u.User = url.UserPassword(str("USER"), str("PASSWORD"))
		}
		return targetFromURL(u.String(), timeout)
	case strings.Contains(engine, "mysql"):
		return mysqlTarget(str("USER"), str("PASSWORD"), str("HOST"), str("PORT"), str("NAME"), timeout, "mysql database "+alias)
	}
	return dbTarget{}, backends.Configf("DATABASES[%q] ENGINE %q is not supported (sqlite3, postgresql, mysql)", alias, engine)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (t dbTarget) open() (*sql.DB, error) {
	db, err := sql.Open(t.driver, t.dsn)
	if err != nil {
		return nil, backends.Configf("database %s: %v", t.display, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	return db, nil
}

var _ = fmt.Sprint
