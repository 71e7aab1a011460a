package sqlgen_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
	"github.com/cachectl/cachectl/sqlgen"
)

// forInstalls runs f as a parallel subtest per Django install (bookworm's
// 3.2, and trixie's 4.2 and sid's 5.2 when scripts/fetch-django.sh
// unpacked them), with the Options that reproduce that release's text.
func forInstalls(t *testing.T, f func(t *testing.T, in djangotest.Install, o sqlgen.Options)) {
	t.Helper()
	for _, in := range djangotest.Installs(t) {
		o := sqlgen.Options{Django32: strings.HasPrefix(in.Upstream(), "3.")}
		t.Run(in.Suite, func(t *testing.T) {
			t.Parallel()
			f(t, in, o)
		})
	}
}

// Where the tests find their servers and Python. The addresses are the
// machine's own PostgreSQL (trust auth) and MariaDB (root, no password).
const (
	pythonBin = djangotest.Python // Debian's, with python3-django 3.2
	pgAdmin   = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5"
	myAdmin   = "root@tcp(127.0.0.1:3306)/?timeout=5s"
)

// requirePython checks that Debian's python3 running the Django install
// imports django and the named modules (psycopg2, MySQLdb).
func requirePython(t testing.TB, in djangotest.Install, modules ...string) {
	t.Helper()
	if err := in.Imports(append([]string{"django"}, modules...)...); err != nil {
		testserver.Missing(t, err.Error())
	}
}

// probe runs testdata/django_probe.py under a Django install in mode with
// settings (DATABASES and CACHES) and returns its stdout. The probe fails
// when the Django that runs is not the install's.
func probe(t *testing.T, in djangotest.Install, mode string, settings any, stdin string) string {
	t.Helper()
	js, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "django_probe.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pythonBin, script, mode)
	cmd.Dir = t.TempDir()
	cmd.Env = append(in.Env(), "SQLGEN_SETTINGS="+string(js), "PYTHONDONTWRITEBYTECODE=1", "SQLGEN_DJANGO="+in.Upstream())
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("django_probe.py %s: %v\n%s", mode, err, stderr.String())
	}
	return stdout.String()
}

// scratch is a throw-away database on a real server.
type scratch struct {
	name string
	db   *sql.DB
}

// scratchDB creates the database cachectl_sqlgen_<random> on the machine's
// PostgreSQL or MariaDB, opens it, and drops it when the test ends.
func scratchDB(t *testing.T, vendor string) scratch {
	t.Helper()
	driver, admin := "pgx", pgAdmin
	if vendor == "mysql" {
		driver, admin = "mysql", myAdmin
	}
	adm, err := sql.Open(driver, admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := adm.PingContext(ctx); err != nil {
		adm.Close()
		testserver.Missing(t, fmt.Sprintf("%s is not reachable (%v)", vendor, err))
	}
	name := fmt.Sprintf("cachectl_sqlgen_%d", rand.IntN(1<<30))
	if _, err := adm.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adm.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	dsn := "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
	if vendor == "mysql" {
		dsn = "root@tcp(127.0.0.1:3306)/" + name
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		drop := "DROP DATABASE IF EXISTS " + name
		if vendor != "mysql" {
			drop += " WITH (FORCE)"
		}
		if _, err := adm.Exec(drop); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		adm.Close()
	})
	return scratch{name: name, db: db}
}

// djangoDB is the DATABASES["default"] entry for a scratch database.
func djangoDB(vendor, name string) map[string]any {
	if vendor == "mysql" {
		return map[string]any{"ENGINE": "django.db.backends.mysql", "NAME": name, "USER": "root", "HOST": "127.0.0.1", "PORT": "3306"}
	}
	return map[string]any{"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": "postgres", "HOST": "127.0.0.1", "PORT": "5432"}
}
