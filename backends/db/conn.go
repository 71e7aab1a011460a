package db

import (
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
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
	path    string // SQLite's file
	// unread are the query parameters of a sqlite:// URL, which no SQLite
	// connection reads (Open warns about them).
	unread []string
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
		t, err := sqliteTarget(rest)
		q, _ := url.ParseQuery(query)
		for k := range q {
			t.unread = append(t.unread, k)
		}
		return t, err
	case "postgres", "postgresql", "pgsql":
		// dj-database-url's urlsplit: any character in the password.
		u, err := backends.ParseServerURL("postgres://" + rest)
		if err != nil {
			return dbTarget{}, backends.Configf("invalid PostgreSQL URL %q: %v", backends.Redact(raw), err)
		}
		if p := u.Port(); p != "" {
			if err := backends.CheckPort(p, backends.Redact(raw)); err != nil {
				return dbTarget{}, err
			}
		}
		q, _ := url.ParseQuery(query)
		if q.Get("connect_timeout") == "" {
			q.Set("connect_timeout", strconv.Itoa(int(max(timeout.Seconds(), 1))))
		}
		u.RawQuery = q.Encode()
		t := dbTarget{dialect: sqlgen.PostgreSQL, driver: "pgx", dsn: u.String(), display: backends.Redact(raw)}
		return t, checkPostgres(t, q)
	case "mysql", "mariadb", "mysql2":
		u, err := backends.ParseServerURL("mysql://" + rest)
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

// pgSSLModes are libpq's sslmode values, which pgx takes too.
var pgSSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// checkPostgres refuses, as a configuration error (exit 2) before any
// connection, what pgx would refuse only when it connects: an sslmode
// that is none of libpq's, and any other parameter value pgx cannot read
// (connect_timeout=soon, an sslrootcert that does not exist…).
func checkPostgres(t dbTarget, q url.Values) error {
	if v := q.Get("sslmode"); v != "" && !slices.Contains(pgSSLModes, v) {
		return backends.Configf("sslmode must be %s, not %q (%s)", wordList(pgSSLModes), v, t.display)
	}
	if _, err := pgx.ParseConfig(t.dsn); err != nil {
		// pgx's text is "cannot parse `DSN`: why"; the DSN is said already.
		msg := err.Error()
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+3:]
		}
		return backends.Configf("invalid PostgreSQL URL %s: %s", t.display, msg)
	}
	return nil
}

// wordList is "a, b or c".
func wordList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func sqliteTarget(path string) (dbTarget, error) {
	if !strings.HasPrefix(path, "/") {
		return dbTarget{}, backends.Configf("the SQLite database needs an absolute path: sqlite:///abs/path.db")
	}
	// dj-database-url writes an absolute path with four slashes
	// (sqlite:////var/app/db.sqlite3); as a file: URI "//var/…" would name
	// a host.
	path = filepath.Clean(path)
	// Wait for Django's writers instead of failing with "database is locked";
	// take write locks when a transaction starts.
	// mode=rw: a mistyped path is an error, not a new empty database file
	// (createcachetable creates the file when it is missing).
	dsn := "file:" + path + "?mode=rw&_busy_timeout=10000&_txlock=immediate"
	return dbTarget{dialect: sqlgen.SQLite, driver: "sqlite3", dsn: dsn, display: "sqlite://" + path, path: path}, nil
}

func mysqlTarget(user, pass, host, port, name string, timeout time.Duration, display string) (dbTarget, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "3306"
	}
	if err := backends.CheckPort(port, display); err != nil {
		return dbTarget{}, err
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pass, "tcp", net.JoinHostPort(host, port), name
	c.Timeout, c.ReadTimeout, c.WriteTimeout = timeout, timeout, timeout
	c.Params = map[string]string{"time_zone": "'+00:00'"}
	// An UPDATE's row count is the rows it matched, as on PostgreSQL and
	// SQLite, not the rows it changed: set-many's UPDATE of a row already
	// holding that value and expiry (a never-expiring value set again)
	// counts 1, and no INSERT follows to hit the primary key.
	c.ClientFoundRows = true
	return dbTarget{dialect: sqlgen.MySQL, driver: "mysql", dsn: c.FormatDSN(), display: display}, nil
}

// mysqlQuery applies a MySQL URL's connect_timeout (seconds) and sslmode,
// read with libpq's meanings as dj-database-url users write them, through
// mysqlOptions with mysqlclient's words for the same modes: disable and
// allow are plaintext; prefer tries TLS and falls back; require uses TLS
// without checking the certificate; verify-ca checks it against the
// system's roots, verify-full the host name too. A server without TLS then
// refuses require and the verify modes.
func mysqlQuery(t dbTarget, q url.Values) (dbTarget, error) {
	opts := map[string]any{}
	if v := q.Get("connect_timeout"); v != "" {
		opts["connect_timeout"] = v
	}
	if v := q.Get("sslmode"); v != "" {
		if !slices.Contains(pgSSLModes, v) {
			return t, backends.Configf("sslmode must be %s, not %q (%s)", wordList(pgSSLModes), v, t.display)
		}
		opts["ssl_mode"] = map[string]string{"disable": "DISABLED", "allow": "DISABLED", "prefer": "PREFERRED",
			"require": "REQUIRED", "verify-ca": "VERIFY_CA", "verify-full": "VERIFY_IDENTITY"}[v]
	}
	return mysqlOptions(t, "the MySQL URL's", opts, nil)
}

// pgOptions are the DATABASES OPTIONS of a PostgreSQL entry that are
// read: libpq's connection keywords (Django hands OPTIONS to psycopg as
// such), passed to pgx as URL parameters. Django's own (isolation_level,
// server_side_binding, assume_role, pool) concern its sessions only.
var pgOptions = []string{"sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslsni", "connect_timeout",
	"application_name", "options", "target_session_attrs", "passfile", "service"}

// djangoPGOptions are Django's own OPTIONS for PostgreSQL, not libpq's.
var djangoPGOptions = []string{"isolation_level", "server_side_binding", "assume_role", "pool"}

// targetFromSettings reads one DATABASES entry in Django's form, and the
// OPTIONS that choose how it is reached (TLS, the connect timeout); warn
// gets the ones that are not read.
func targetFromSettings(alias string, d map[string]any, timeout time.Duration, warn func(format string, args ...any)) (dbTarget, error) {
	opts, _ := d["OPTIONS"].(map[string]any)
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
		q := url.Values{}
		for k, v := range opts {
			switch lk := strings.ToLower(k); {
			case slices.Contains(pgOptions, lk):
				if b, ok := v.(bool); ok { // libpq's boolean keywords (sslsni) take 1 and 0
					v = map[bool]string{true: "1", false: "0"}[b]
				}
				q.Set(lk, backends.OptionString(v))
			case !slices.Contains(djangoPGOptions, lk):
				warn("DATABASES[%q] OPTIONS %s is not read by cachectl (it reads %s)", alias, k, strings.Join(pgOptions, ", "))
			}
		}
		u.RawQuery = q.Encode()
		return targetFromURL(u.String(), timeout)
	case strings.Contains(engine, "mysql"):
		t, err := mysqlTarget(str("USER"), str("PASSWORD"), str("HOST"), str("PORT"), str("NAME"), timeout, "mysql database "+alias)
		if err != nil {
			return t, err
		}
		return mysqlOptions(t, fmt.Sprintf("DATABASES[%q] OPTIONS", alias), opts, warn)
	}
	return dbTarget{}, backends.Configf("DATABASES[%q] ENGINE %q is not supported (sqlite3, postgresql, mysql)", alias, engine)
}

// mysqlOptions applies mysqlclient's OPTIONS that choose how the server is
// reached: connect_timeout, ssl_mode (DISABLED, PREFERRED, REQUIRED,
// VERIFY_CA, VERIFY_IDENTITY) and ssl {"ca", "cert", "key"}. The
// certificate's chain is checked (against the CA given, else the system's
// roots) under VERIFY_CA or when a CA is given, the host name too only
// under VERIFY_IDENTITY; REQUIRED without a CA uses TLS unchecked. where
// names the settings in messages. Other options (charset, init_command,
// ...) shape Django's sessions only.
func mysqlOptions(t dbTarget, where string, opts map[string]any, warn func(format string, args ...any)) (dbTarget, error) {
	if len(opts) == 0 {
		return t, nil
	}
	c, err := mysql.ParseDSN(t.dsn)
	if err != nil {
		return t, backends.Configf("%s: %v", where, err)
	}
	if v, ok := opts["connect_timeout"]; ok {
		n, err := strconv.ParseFloat(backends.OptionString(v), 64)
		if err != nil || !(n > 0) || n > 1e6 {
			return t, backends.Configf("%s connect_timeout must be a positive number of seconds, not %v", where, v)
		}
		c.Timeout = time.Duration(n * float64(time.Second))
	}
	var conf *tls.Config
	if sslOpts, ok := opts["ssl"].(map[string]any); ok && len(sslOpts) > 0 {
		host, _, _ := net.SplitHostPort(c.Addr)
		conf = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
		for k, v := range sslOpts {
			switch k {
			case "ca":
				pem, err := os.ReadFile(backends.OptionString(v))
				if err != nil {
					return t, backends.Configf("%s ssl ca: %v", where, err)
				}
				conf.RootCAs = x509.NewCertPool()
				if !conf.RootCAs.AppendCertsFromPEM(pem) {
					return t, backends.Configf("%s ssl ca %s holds no PEM certificate", where, backends.OptionString(v))
				}
			case "cert", "key":
			default:
				warn("%s ssl %s is not read by cachectl (it reads ca, cert and key)", where, k)
			}
		}
		if sslOpts["cert"] != nil || sslOpts["key"] != nil {
			cert, key := backends.OptionString(sslOpts["cert"]), backends.OptionString(sslOpts["key"])
			if sslOpts["key"] == nil {
				key = cert // the key in the certificate's file, as libmysqlclient reads it
			}
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return t, backends.Configf("%s ssl cert/key: %v", where, err)
			}
			conf.Certificates = []tls.Certificate{pair}
		}
		if conf.RootCAs == nil {
			conf.InsecureSkipVerify = true // mysqlclient checks nothing without a CA
		}
	}
	// A CA checks the chain only (VERIFY_CA); VERIFY_IDENTITY adds the host
	// name. A server reached by its IP, or with a CN-only certificate
	// (MySQL's own generated ones), passes VERIFY_CA as with mysqlclient.
	chainOnly := func(conf *tls.Config) {
		roots := conf.RootCAs
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("tls: the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	mode := ""
	if v, ok := opts["ssl_mode"]; ok {
		mode = strings.ToUpper(backends.OptionString(v))
	}
	switch mode {
	case "", "PREFERRED", "REQUIRED":
		switch {
		case conf == nil && mode != "":
			c.TLSConfig = map[string]string{"PREFERRED": "preferred", "REQUIRED": "skip-verify"}[mode]
		case conf != nil && conf.RootCAs != nil:
			chainOnly(conf)
		}
		c.AllowFallbackToPlaintext = mode == "PREFERRED" // without it a registered config is mandatory
	case "DISABLED":
		conf = nil
	case "VERIFY_CA", "VERIFY_IDENTITY":
		switch {
		case conf == nil && mode == "VERIFY_CA":
			host, _, _ := net.SplitHostPort(c.Addr)
			conf = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
			chainOnly(conf) // the system's roots, no name
		case conf == nil:
			c.TLSConfig = "true" // the system's roots, with the name
		case conf.RootCAs == nil:
			return t, backends.Configf("%s ssl_mode %s needs ssl {\"ca\": ...} to check the certificate", where, mode)
		case mode == "VERIFY_CA":
			chainOnly(conf)
		}
	default:
		return t, backends.Configf("%s ssl_mode must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY, not %q", where, mode)
	}
	if conf != nil {
		name := "cachectl " + where
		if err := mysql.RegisterTLSConfig(name, conf); err != nil {
			return t, backends.Configf("%s TLS: %v", where, err)
		}
		c.TLSConfig = name
	}
	t.dsn = c.FormatDSN()
	return t, nil
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
