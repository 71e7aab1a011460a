package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
)

// dumpSettings is the only Python cachectl runs: it imports the project's
// settings module (as Django would) and writes CACHES, DATABASES, the
// Django version and where Django was imported from, as JSON, to the file
// CACHECTL_SETTINGS_DUMP names: not to stdout, where a settings module may
// print what it likes. Values JSON cannot hold (callables, paths) are
// written as their dotted path or text. Any exception, or a settings
// module that exits, is written there too, as {"error": "Type: message"}.
const dumpSettings = `
import json, os, sys
def default(o):
    mod, name = getattr(o, "__module__", None), getattr(o, "__qualname__", None)
    if mod and name:
        return mod + "." + name
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)
def write(text):
    with open(os.environ["CACHECTL_SETTINGS_DUMP"], "w") as f:
        f.write(text)
try:
    sys.path.insert(0, os.getcwd())
    import django
    from django.conf import settings
    doc = {"CACHES": settings.CACHES, "DATABASES": getattr(settings, "DATABASES", {}),
           "DJANGO_VERSION": django.get_version(), "DJANGO_FILE": django.__file__}
    text = json.dumps(doc, default=default)
except BaseException as e:
    write(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
    sys.exit(1)
write(text)
`

// settingsDump is what dumpSettings prints. CACHES and DATABASES stay as
// Python wrote them: their key order (the alias order) and number
// literals go to the file unchanged.
type settingsDump struct {
	Caches        json.RawMessage `json:"CACHES"`
	Databases     json.RawMessage `json:"DATABASES"`
	DjangoVersion string          `json:"DJANGO_VERSION"`
	DjangoFile    string          `json:"DJANGO_FILE,omitempty"`
	Error         string          `json:"error,omitempty"` // why the settings could not be read
}

// importedFile is the config file config import writes.
type importedFile struct {
	DjangoVersion string          `json:"DJANGO_VERSION"`
	Caches        json.RawMessage `json:"CACHES"`
	Databases     json.RawMessage `json:"DATABASES"`
}

// debianDjangoVersion is the dpkg version of the package that installed
// the Django module at file ("3:3.2.25-0+deb12u7"), or "" when dpkg does
// not know the file or the package holds another release than
// django.get_version() reports. Debian's security updates change page keys
// (bookworm's deb12u7 hashes absent Vary headers with a marker) without
// changing Django's own version.
func debianDjangoVersion(file, upstream string) string {
	if file == "" {
		return ""
	}
	if real, err := filepath.EvalSymlinks(file); err == nil {
		file = real
	}
	out, err := exec.Command("dpkg-query", "-S", file).Output()
	if err != nil {
		return ""
	}
	pkg, _, ok := strings.Cut(strings.TrimSpace(string(out)), ":")
	if !ok || strings.ContainsAny(pkg, ", \n") {
		return ""
	}
	ver, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(ver))
	// "3:3.2.25-0+deb12u7" holds upstream "3.2.25" between epoch and revision.
	rest := v
	if _, after, ok := strings.Cut(rest, ":"); ok {
		rest = after
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		rest = rest[:i]
	}
	if rest != upstream || backends.CheckDjangoVersion(v) != nil {
		return ""
	}
	return v
}

func configImportCommand() *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "write cachectl.json from a Django project's settings (runs its Python once)",
		Description: "Runs PYTHON with DJANGO_SETTINGS_MODULE=SETTINGS in the current directory, reads\n" +
			"settings.CACHES and settings.DATABASES and writes them (plus the Django version) to\n" +
			"--output as JSON; --alias then selects caches as caches[alias] does. The Django version is\n" +
			"recorded as Debian's package version when dpkg installed that Django (Debian's security\n" +
			"updates change page keys). The file is written\n" +
			"with mode 0600 because it may hold passwords. An existing file is kept unless --force.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "settings", Required: true, Usage: "the settings `MODULE`, e.g. mysite.settings"},
			&cli.StringFlag{Name: "python", Value: "python3", Usage: "the project's Python interpreter `PATH`"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "cachectl.json", Usage: "config `FILE` to write"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing file"},
		},
		Action: cmdConfigImport,
	}
}

func cmdConfigImport(c *cli.Context) error {
	out := c.String("output")
	if _, err := os.Stat(out); err == nil && !c.Bool("force") {
		return &refusedError{msg: fmt.Sprintf("%s exists; use --force to overwrite it", out)}
	}
	dumpDir, err := os.MkdirTemp("", "cachectl-settings-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dumpDir)
	dumpPath := filepath.Join(dumpDir, "settings.json")
	cmd := exec.CommandContext(c.Context, c.String("python"), "-c", dumpSettings)
	cmd.Env = append(os.Environ(), "DJANGO_SETTINGS_MODULE="+c.String("settings"), "CACHECTL_SETTINGS_DUMP="+dumpPath)
	var output bytes.Buffer // what the settings module prints, and Python's own errors
	cmd.Stdout, cmd.Stderr = &output, &output
	runErr := cmd.Run()
	text, _ := os.ReadFile(dumpPath)
	var dump settingsDump
	jsonErr := json.Unmarshal(text, &dump)
	if runErr != nil || dump.Error != "" || jsonErr != nil {
		why := dump.Error
		switch {
		case why != "":
		case len(text) == 0 && runErr != nil:
			// No dump at all: Python did not run ("exec: …: no such file
			// or directory"), or died before the script could say why.
			why = runErr.Error()
			if lines := strings.Split(strings.TrimSpace(output.String()), "\n"); lines[len(lines)-1] != "" {
				why = strings.TrimSpace(lines[len(lines)-1])
			}
		default:
			why = fmt.Sprintf("the settings dump is not JSON: %v", jsonErr)
		}
		return backends.Configf("reading settings %s with %s failed: %s", c.String("settings"), c.String("python"), why)
	}
	var caches map[string]any
	if err := json.Unmarshal(dump.Caches, &caches); err != nil {
		return backends.Configf("settings.CACHES is not a dict: %v", err)
	}
	var databases any
	if err := json.Unmarshal(dump.Databases, &databases); err != nil {
		return backends.Configf("settings.DATABASES is not JSON: %v", err)
	}
	version := dump.DjangoVersion
	if deb := debianDjangoVersion(dump.DjangoFile, version); deb != "" {
		version = deb
	}
	data, err := json.MarshalIndent(importedFile{DjangoVersion: version, Caches: dump.Caches, Databases: dump.Databases}, "", "  ")
	if err != nil {
		return err
	}
	if err := writePrivateFile(out, append(data, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: %d cache(s), Django %s\n", out, len(caches), version)
	if hasSecret(caches) || hasSecret(databases) {
		fmt.Fprintf(c.App.ErrWriter, "cachectl: warning: %s holds passwords; it was written with mode 0600, keep it out of version control\n", out)
	}
	return nil
}

// writePrivateFile writes data to path with mode 0600 through a temporary
// file beside it (same directory, so the rename cannot cross file
// systems), so no partial file is ever left at path.
func writePrivateFile(path string, data []byte) error {
	fail := func(err error) error { return backends.Configf("cannot write %s: %v", path, err) }
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cachectl-import-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// hasSecret reports whether a settings tree holds a non-empty password.
func hasSecret(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if backends.IsSecretOption(k) {
				if s, ok := sub.(string); !ok || s != "" {
					return true
				}
			}
			if hasSecret(sub) {
				return true
			}
		}
	case []any:
		for _, sub := range x {
			if hasSecret(sub) {
				return true
			}
		}
	case string:
		return backends.Redact(x) != x
	}
	return false
}
