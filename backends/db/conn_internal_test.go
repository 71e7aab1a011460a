package db

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/cachectl/cachectl/backends"
)

// TestTargetFromURLRefusesBadValues: a parameter value the driver would
// refuse only when it connects (exit 3) is a configuration error (exit 2)
// before any connection, for a URL and a DATABASES entry alike. No server
// is needed: nothing is dialled.
func TestTargetFromURLRefusesBadValues(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"postgres://u@127.0.0.1:1/db?sslmode=bogus", `sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not "bogus"`},
		{"postgresql://u@127.0.0.1:1/db?sslmode=REQUIRE", `not "REQUIRE"`}, // libpq's words are lower-case
		{"postgres://u@127.0.0.1:1/db?connect_timeout=soon", "invalid connect_timeout"},
		{"postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "/nonexistent/ca.pem"},
		{"postgres://u@127.0.0.1:1/db?target_session_attrs=any-old", "target_session_attrs"},
		{"mysql://u@127.0.0.1:1/db?sslmode=bogus", `sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not "bogus"`},
		{"mysql://u@127.0.0.1:1/db?sslmode=VERIFY_CA", `not "VERIFY_CA"`}, // the URL takes libpq's words; OPTIONS take ssl_mode
	} {
		_, err := targetFromURL(tc.url, time.Second)
		if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("targetFromURL(%q) = %v, want a configuration error containing %q", tc.url, err, tc.want)
		}
	}
	for _, mode := range pgSSLModes {
		if _, err := targetFromURL("postgres://u@127.0.0.1:1/db?sslmode="+mode, time.Second); err != nil {
			t.Errorf("postgres sslmode=%s: %v", mode, err)
		}
		if _, err := targetFromURL("mysql://u@127.0.0.1:1/db?sslmode="+mode, time.Second); err != nil {
			t.Errorf("mysql sslmode=%s: %v", mode, err)
		}
	}
	_, err := targetFromSettings("default", map[string]any{"ENGINE": "django.db.backends.postgresql", "NAME": "db",
		"OPTIONS": map[string]any{"sslmode": "bogus"}}, time.Second, t.Logf)
	if !errors.Is(err, backends.ErrConfig) || !strings.Contains(err.Error(), `not "bogus"`) {
		t.Errorf("DATABASES OPTIONS sslmode=bogus: %v, want a configuration error", err)
	}
}

// TestTargetFromURLPasswords: the userinfo is read as dj-database-url
// reads it (urllib: to the last "@", any character but "/?#" in the
// password), reaches the driver intact, and an error never shows it.
func TestTargetFromURLPasswords(t *testing.T) {
	pw := `pa ss@"x<y>`
	enc := strings.NewReplacer("@", "%40").Replace(pw) // the "@" may be written as it is too
	for _, raw := range []string{"postgres://u:" + pw + "@127.0.0.1:5432/db", "postgres://u:" + enc + "@127.0.0.1:5432/db"} {
		tg, err := targetFromURL(raw, time.Second)
		if err != nil {
			t.Fatalf("targetFromURL(%q): %v", raw, err)
		}
		c, err := pgx.ParseConfig(tg.dsn)
		if err != nil || c.Password != pw || c.User != "u" || c.Host != "127.0.0.1" || c.Database != "db" {
			t.Errorf("PostgreSQL DSN %q: %+v %v, want password %q", tg.dsn, c, err, pw)
		}
		if tg.display != "postgres://u:xxxxx@127.0.0.1:5432/db" {
			t.Errorf("display = %q", tg.display)
		}
	}
	tg, err := targetFromURL("mysql://u:"+pw+"@127.0.0.1:3306/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := mysql.ParseDSN(tg.dsn); err != nil || c.Passwd != pw || c.Addr != "127.0.0.1:3306" {
		t.Errorf("MySQL DSN: %+v %v, want password %q", c, err, pw)
	}
	for _, raw := range []string{"postgres://u:pa ss@bad host:5432/db", "mysql://u:pa ss@bad host/db",
		"postgres://u:pa ss@127.0.0.1:99999/db", "postgres://u:pa/ss@127.0.0.1/db"} {
		_, err := targetFromURL(raw, time.Second)
		if !errors.Is(err, backends.ErrConfig) || strings.Contains(err.Error(), "pa ss") || strings.Contains(err.Error(), ":pa") ||
			!strings.Contains(err.Error(), "u:xxxxx@") {
			t.Errorf("targetFromURL(%q) = %v, want a configuration error with the password masked", raw, err)
		}
	}
}
