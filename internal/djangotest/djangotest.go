// Package djangotest runs real Django (Debian's python3-django under
// /usr/bin/python3) from Go tests, for interoperability checks.
package djangotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/cachectl/cachectl/internal/testserver"
)

// Python is the interpreter that sees Debian's python3-* packages; a pyenv
// python3 on PATH does not.
const Python = "/usr/bin/python3"

// Require fails (CI=true) or skips unless /usr/bin/python3 can import each
// module (e.g. "django", "pymemcache").
func Require(t testing.TB, modules ...string) {
	t.Helper()
	for _, m := range append([]string{"django"}, modules...) {
		if importErr(os.Getenv("CACHECTL_DJANGO_PYTHONPATH"), m) != nil {
			testserver.Missing(t, fmt.Sprintf("Python module %s (Debian package python3-%s)", m, strings.ReplaceAll(m, "_", "-")))
		}
	}
}

// imports remembers, per PYTHONPATH and module, whether /usr/bin/python3
// imports it: the answer does not change while the tests run, and each
// question costs a Python start.
var imports sync.Map // pythonPath + "\x00" + module → error (nil: imports)

// importErr is nil if /usr/bin/python3 with pythonPath ("" for none)
// imports module, else the last line of Python's error.
func importErr(pythonPath, module string) error {
	k := pythonPath + "\x00" + module
	if v, ok := imports.Load(k); ok {
		err, _ := v.(error)
		return err
	}
	cmd := exec.Command(Python, "-c", "import "+module)
	cmd.Env = os.Environ()
	if pythonPath != "" {
		cmd.Env = append(cmd.Env, "PYTHONPATH="+pythonPath)
	}
	var err error
	if out, e := cmd.CombinedOutput(); e != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		err = errors.New(lines[len(lines)-1])
	}
	imports.Store(k, err)
	return err
}

func env() []string {
	e := os.Environ()
	if pp := os.Getenv("CACHECTL_DJANGO_PYTHONPATH"); pp != "" {
		e = append(e, "PYTHONPATH="+pp)
	}
	return e
}

// Prelude configures Django with the CACHES given as JSON in the CACHES
// environment variable and imports django.core.cache.caches.
const Prelude = `
import json, os, sys
import django
from django.conf import settings
settings.configure(CACHES=json.loads(os.environ["CACHES"]), USE_TZ=True, SECRET_KEY="x",
                   DATABASES=json.loads(os.environ.get("DATABASES", "{}")))
django.setup()
from django.core.cache import caches
`

// Run executes Prelude + script with CACHES (a Go value marshalled to JSON)
// and returns stdout. The script receives extra arguments in sys.argv[1:].
func Run(t testing.TB, caches any, script string, args ...string) string {
	t.Helper()
	return run(t, env(), caches, script, args...)
}

// Run is djangotest.Run under this install, without touching the
// environment of the test (so that parallel tests can use it).
func (in Install) Run(t testing.TB, caches any, script string, args ...string) string {
	t.Helper()
	return run(t, in.Env(), caches, script, args...)
}

func run(t testing.TB, env []string, caches any, script string, args ...string) string {
	t.Helper()
	cj, err := json.Marshal(caches)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Python, append([]string{"-c", Prelude + script}, args...)...)
	cmd.Env = append(env, "CACHES="+string(cj))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("django script failed: %v\nstderr:\n%s", err, errb.String())
	}
	return out.String()
}

// Install is one Django release the interop tests can run under
// /usr/bin/python3: bookworm's own, or one that scripts/fetch-django.sh
// unpacked from a newer Debian suite.
type Install struct {
	Suite   string // "bookworm", "trixie", "sid"
	Path    string // PYTHONPATH that puts it first ("" for bookworm's)
	Version string // the Debian package version, e.g. 3:5.2.18-2
}

// Env is the environment for a Python process that runs this install.
func (in Install) Env() []string {
	e := os.Environ()
	if in.Path != "" {
		e = append(e, "PYTHONPATH="+in.Path)
	}
	return e
}

// Upstream is the upstream release of the install's Debian version, as
// django.get_version() reports it: "3:5.2.18-2" gives "5.2.18".
func (in Install) Upstream() string { return Upstream(in.Version) }

// Upstream is the upstream part of a Debian version: no epoch, no Debian
// revision ("3:5.2.18-2" gives "5.2.18", "4.0.0-9" gives "4.0.0").
func Upstream(debian string) string {
	v := debian
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	return v
}

// Has reports whether the install itself ships a Python package (a
// directory such as "django_redis" under its Path); bookworm's install
// has what /usr/bin/python3 imports. A fetched suite without the package
// would fall back to bookworm's copy, which is not that suite's.
func (in Install) Has(pkg string) bool {
	if in.Path == "" {
		return importErr("", pkg) == nil
	}
	_, err := os.Stat(in.Path + "/" + pkg)
	return err == nil
}

// Package is the Debian package (e.g. "python3-pymemcache") whose copy
// a Python process running the install imports: the suite's own, when
// scripts/fetch-django.sh unpacked it there (listed in the suite's
// VERSIONS), else bookworm's. It returns that package's Debian version
// ("" if neither has it) and whether it is the suite's own.
func (in Install) Package(deb string) (version string, own bool) {
	if in.Path != "" {
		root := strings.TrimSuffix(in.Path, "/usr/lib/python3/dist-packages")
		if b, err := os.ReadFile(root + "/VERSIONS"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if name, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name == deb {
					return v, true
				}
			}
		}
	}
	v, _ := debVersion(deb)
	return v, false
}

var debVersions sync.Map // Debian package name → installed version ("" when not installed)

// debVersion is the installed version of a Debian package, asked of dpkg
// once per test binary.
func debVersion(deb string) (string, bool) {
	if v, ok := debVersions.Load(deb); ok {
		return v.(string), v != ""
	}
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", deb).Output()
	v := ""
	if err == nil {
		v = strings.TrimSpace(string(out))
	}
	debVersions.Store(deb, v)
	return v, v != ""
}

// Imports reports whether /usr/bin/python3 running the install imports
// the modules, and if not, why.
func (in Install) Imports(modules ...string) error {
	for _, m := range modules {
		if err := importErr(in.Path, m); err != nil {
			return fmt.Errorf("Python module %s under Django from %s: %w", m, in.Suite, err)
		}
	}
	return nil
}

// Use makes Run and Require in this test use the install.
func (in Install) Use(t testing.TB) { t.Setenv("CACHECTL_DJANGO_PYTHONPATH", in.Path) }

// EachInstall runs fn as a subtest per install (Installs), named by its
// suite, with the install in use.
func EachInstall(t *testing.T, fn func(t *testing.T, in Install)) {
	for _, in := range Installs(t) {
		t.Run(in.Suite, func(t *testing.T) {
			in.Use(t)
			fn(t, in)
		})
	}
}

// FetchedRoot is where scripts/fetch-django.sh unpacks newer suites.
const FetchedRoot = "/var/cache/cachectl-django"

// Installs lists bookworm's Django and the newer releases fetched beside
// it (trixie's 4.2, sid's 5.2). A suite that is missing fails the test in
// CI and is left out elsewhere; a suite that fetch-django.sh found
// unusable is left out with a log line that says why, and fails the test
// in CI unless the reason is a Django that needs a newer Python.
func Installs(t testing.TB) []Install {
	t.Helper()
	Require(t)
	ver, _ := debVersion("python3-django")
	out := []Install{{Suite: "bookworm", Version: ver}}
	for _, suite := range []string{"trixie", "sid"} {
		dir := FetchedRoot + "/" + suite
		if why, err := os.ReadFile(dir + ".unusable"); err == nil {
			// Only a Django that needs a newer Python than bookworm's is a
			// reason to leave the suite out in CI; a missing dependency is
			// a setup error.
			reason := strings.TrimSpace(string(why))
			if !strings.HasPrefix(reason, "python:") && os.Getenv("CI") == "true" {
				t.Fatalf("Django from Debian %s is unusable, which CI accepts only for a Django that needs a newer Python: %s", suite, reason)
			}
			t.Logf("Django from %s left out: %s", suite, reason)
			continue
		}
		v, err := os.ReadFile(dir + "/DJANGO_VERSION")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("Django from Debian %s is required in CI but missing (scripts/fetch-django.sh unpacks it)", suite)
			}
			t.Logf("Django from Debian %s left out: not unpacked (run scripts/fetch-django.sh)", suite)
			continue
		}
		out = append(out, Install{Suite: suite, Path: dir + "/usr/lib/python3/dist-packages", Version: strings.TrimSpace(string(v))})
	}
	return out
}
