package commands

import (
	"context"
	"encoding/json"

	"errors"
	"fmt"
	"golang.org/x/term"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/keyfunc"
)

// env is what an Action needs: the resolved cache, a lazily opened
// backend, the streams and the command's context (bounded by --deadline).
type env struct {
	c      *cli.Context
	ctx    context.Context
	cfg    *backends.Config
	b      backends.Backend
	out    io.Writer
	errw   io.Writer
	cancel context.CancelFunc
	ver    *int // --version, looked up once: urfave/cli's IsSet is slow for bulk loops
}

// newEnv resolves the cache configuration without dialing anything. many
// is set for the commands of actionMany.
func newEnv(c *cli.Context, many bool) (*env, error) {
	cfg, err := resolveConfig(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Context
	var cancel context.CancelFunc = func() {}
	d, explicit := defaultDeadline, c.IsSet("deadline") // IsSet: the flag or CACHECTL_DEADLINE
	if explicit {
		d = c.Duration("deadline")
		if d < 0 {
			return nil, usagef("--deadline must be a duration such as 2s or 1m, or 0 for no bound (not %s)", d)
		}
	}
	if d > 0 {
		cfg.Deadline = d // the base of every backend's socket timeouts
		if explicit || !many {
			ctx, cancel = context.WithTimeout(ctx, d)
		}
	}
	if c.Bool("dry-run") {
		// Nothing may change: reads leave expired entries where Django's
		// read would delete them (file and database caches).
		ctx = backends.ReadOnly(ctx)
	}
	return &env{c: c, ctx: ctx, cfg: cfg, out: c.App.Writer, errw: c.App.ErrWriter, cancel: cancel}, nil
}

// fromEnv names the first of the environment variables that holds v (a
// flag's value that came from there rather than the command line), or "".
func fromEnv(v string, names ...string) string {
	for _, name := range names {
		if v != "" && os.Getenv(name) == v {
			return name
		}
	}
	return ""
}

// defaultDeadline bounds a command when --deadline is not given.
var defaultDeadline = 30 * time.Second

// envURLAgainstFlags refuses a cache URL from the environment (CACHE_URL,
// CACHECTL_CACHE) when the command line picks a cache of a config file
// with --alias, or gives --config for a cache that reads nothing from it
// (only a dbcache:// URL takes DATABASES from there): the URL would win
// without a word, and a clear would flush another cache than the one named.
func envURLAgainstFlags(c *cli.Context, url, path string, cfg *backends.Config) error {
	env := fromEnv(url, "CACHECTL_CACHE", "CACHE_URL")
	if env == "" {
		return nil
	}
	given := ""
	switch {
	case c.IsSet("alias") && fromEnv(c.String("alias"), "CACHECTL_ALIAS") == "":
		given = "--alias " + c.String("alias")
	case c.IsSet("config") && fromEnv(path, "CACHECTL_CONFIG") == "" && cfg.Info.Name != "db":
		given = "--config " + path
	}
	if given == "" {
		return nil
	}
	return usagef("%s selects a cache of the config file, but %s in the environment selects %s and would win: unset %s, or give the cache with -C", given, env, backends.Redact(url), env)
}

// errNoCache: neither --cache nor a config file selects a cache.
var errNoCache = backends.Configf("no cache selected: give --cache URL (or CACHECTL_CACHE), or --config FILE (or ./cachectl.json)")

// resolveConfig picks the cache: --cache URL first, then the config file.
func resolveConfig(c *cli.Context) (*backends.Config, error) {
	var cfg *backends.Config
	url := c.String("cache")
	path := c.String("config")
	switch {
	case url != "":
		var err error
		cfg, err = backends.ParseURL(url)
		if err != nil {
			return nil, err
		}
		if err := envURLAgainstFlags(c, url, path, cfg); err != nil {
			return nil, err
		}
		if backends.Redact(url) != url && !strings.Contains(url, ":@") && fromEnv(url, "CACHECTL_CACHE", "CACHE_URL") == "" {
			alt := "password_file= or CACHECTL_CACHE"
			if strings.Contains(cfg.Info.Name, "redis") {
				alt = "password_file=, REDISCLI_AUTH or CACHECTL_CACHE" // REDISCLI_AUTH is redis-cli's
			}
			fmt.Fprintln(c.App.ErrWriter, "cachectl: warning: a password on the command line is visible to other users (ps); use "+alt)
		}
		if path != "" || fileExists("cachectl.json") {
			// DATABASES may still come from the config file.
			if f, err := loadConfigFile(path, c.App.ErrWriter); err == nil && f != nil {
				cfg.Databases = f.Databases
			}
		}
	default:
		f, err := loadConfigFile(path, c.App.ErrWriter)
		if err != nil {
			return nil, err
		}
		if f == nil {
			return nil, errNoCache
		}
		cfg, err = f.Cache(c.String("alias"))
		if err != nil {
			return nil, err
		}
	}
	if v := c.String("django-version"); v != "" {
		cfg.Settings.DjangoVersion = v
	}
	if db := c.String("database"); db != "" && cfg.Info.Name == "db" {
		envDB := fromEnv(db, "CACHECTL_DATABASE", "DATABASE_URL") != ""
		// A database URL (sqlite://, postgres://, ...) is its own database.
		named := cfg.Params["database"] != "" || slices.Contains([]string{"sqlite", "postgres", "postgresql", "pgsql", "mysql", "mariadb"}, cfg.Scheme)
		switch {
		case !named:
			cfg.Params["database"] = db
		case !envDB && cfg.Params["database"] != db:
			// --database would be ignored; a DATABASE_URL in the
			// environment still gives way to the cache's own.
			return nil, usagef("--database %s, but the cache names its database already: give one of them", backends.Redact(db))
		}
	}
	if ca := c.String("tls-ca"); ca != "" && strings.Contains(cfg.Info.Name, "redis") && cfg.Params["tls_ca"] == "" {
		cfg.Params["tls_ca"] = ca
	}
	if c.Bool("tls-insecure") && strings.Contains(cfg.Info.Name, "redis") {
		cfg.Params["ssl_cert_reqs"] = "none"
	}
	if cfg.Settings.KeyFunction != "newcache" {
		for _, name := range []string{"flavor", "hash"} {
			if cfg.Explicit(name) {
				fmt.Fprintf(c.App.ErrWriter, "cachectl: warning: %s has no effect: it is django-newcache's, read with key_function=newcache (or a newcache:// URL)\n", name)
			}
		}
	}
	// A user with an empty password (user:@host) on a terminal: ask for it.
	if cfg.Params["password"] == "" && cfg.Params["password_file"] == "" && strings.Contains(url, ":@") && isTerminal(c.App.Reader) {
		if f, ok := c.App.Reader.(*os.File); ok {
			fmt.Fprint(c.App.ErrWriter, "Password: ")
			pw, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(c.App.ErrWriter)
			if err != nil {
				return nil, usagef("reading the password: %v", err)
			}
			cfg.Params["password"] = string(pw)
		}
	}
	if pw := os.Getenv("REDISCLI_AUTH"); pw != "" && cfg.Params["password"] == "" && strings.Contains(cfg.Info.Name, "redis") {
		cfg.Params["password"] = pw
	}
	return cfg, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadConfigFile loads path, or ./cachectl.json when path is empty and the
// file exists; it returns nil, nil when there is none.
func loadConfigFile(path string, errw io.Writer) (*backends.File, error) {
	if path == "" {
		if !fileExists("cachectl.json") {
			return nil, nil
		}
		path = "cachectl.json"
	}
	f, err := backends.LoadFile(path)
	if err != nil {
		return nil, err
	}
	for _, k := range f.Unknown {
		fmt.Fprintf(errw, "cachectl: warning: %s: unknown top-level key %q ignored (cachectl reads %s)\n", path, k, strings.Join(backends.TopLevelKeys(), ", "))
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o004 != 0 && fileHasSecret(path) {
		fmt.Fprintf(errw, "cachectl: warning: %s holds passwords and is readable by every user (chmod 600 %s)\n", path, path)
	}
	return f, nil
}

// fileHasSecret reports whether a config file mentions a non-empty password.
func fileHasSecret(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	return hasSecret(doc)
}

// backend opens the cache on first use.
func (e *env) backend() (backends.Backend, error) {
	if e.b != nil {
		return e.b, nil
	}
	b, err := backends.Open(e.ctx, e.cfg)
	if err != nil {
		return nil, err
	}
	printWarnings(e.errw, e.cfg)
	e.b = b
	return b, nil
}

// printWarnings prints what opening cfg's backend found worth saying.
func printWarnings(w io.Writer, cfg *backends.Config) {
	for _, msg := range cfg.Warnings {
		fmt.Fprintf(w, "cachectl: warning: %s\n", backends.Redact(msg))
	}
}

// close releases the backend and the deadline.
func (e *env) close() {
	if e.b != nil {
		e.b.Close()
	}
	e.cancel()
}

// keyVersion is the --version flag when set, else the cache's VERSION.
func (e *env) keyVersion() int {
	if e.ver == nil {
		v := e.cfg.Settings.Version
		if e.c.IsSet("version") {
			v = e.c.Int("version")
		}
		e.ver = &v
	}
	return *e.ver
}

// makeKey builds the final key for user key at version, validating it as
// the site's client would: an error for memcached, a warning elsewhere.
func (e *env) makeKey(key string, version int) (string, error) {
	s := e.cfg.Settings
	var final string
	if s.KeyFunction == "newcache" {
		k, err := keyfunc.NewcacheKey(s.Flavor, version, key, s.Hash)
		if err != nil {
			return "", err
		}
		final = k
	} else {
		final = keyfunc.MakeKey(s.KeyPrefix, version, key)
	}
	if e.cfg.Info.StrictKeys {
		if err := keyfunc.ValidateMemcached(final); err != nil {
			return "", err
		}
		return final, nil
	}
	for _, w := range keyfunc.DjangoWarnings(final) {
		fmt.Fprintf(e.errw, "cachectl: warning: %s\n", w)
	}
	return final, nil
}

// key is makeKey at the command's version.
func (e *env) key(userKey string) (string, error) { return e.makeKey(userKey, e.keyVersion()) }

// timeout is --timeout when given, else the cache's TIMEOUT.
func (e *env) timeout() (backends.Timeout, error) {
	if e.c.IsSet("timeout") {
		return backends.ParseTimeout(e.c.String("timeout"))
	}
	return e.cfg.Settings.Timeout, nil
}

// action wraps an Action body with env setup and cleanup. The command as
// a whole is bounded by --deadline, 30 s by default.
func action(fn func(e *env) error) cli.ActionFunc { return envAction(fn, false) }

// actionMany is action for the commands whose work grows with the input or
// the cache: they stream from stdin, or walk over every key or file. The
// default deadline does not bound them as a whole (a million keys, or a
// producer that takes its time on stdin, may well need more than 30 s);
// each network operation is still bounded by the socket timeouts it sets,
// and an explicit --deadline or CACHECTL_DEADLINE bounds them like any
// command.
func actionMany(fn func(e *env) error) cli.ActionFunc { return envAction(fn, true) }

func envAction(fn func(e *env) error, many bool) cli.ActionFunc {
	return func(c *cli.Context) error {
		e, err := newEnv(c, many)
		if err != nil {
			return err
		}
		defer e.close()
		err = fn(e)
		var u *usageError
		if errors.As(err, &u) {
			// Every usage line names its command, once.
			if path := commandPath(c); path != "" && !strings.HasPrefix(u.msg, path+":") {
				u.msg = path + ": " + u.msg
			}
		}
		return e.stopCause(err)
	}
}

// deadlineSlack is how long before the context's deadline a timeout error
// still counts as the deadline: a socket deadline set to the same instant
// can fire a moment before the context's timer.
const deadlineSlack = 20 * time.Millisecond

// deadlineError is a command stopped by --deadline: whatever failed at
// that moment (a socket timeout, a read cut short) is its cause. It is
// context.DeadlineExceeded for errors.Is, so summaries are marked
// "(--deadline reached)"; its line is "--deadline reached" (exit 3).
type deadlineError struct{ cause error }

func (d *deadlineError) Error() string {
	if d.cause == nil || d.cause == context.DeadlineExceeded {
		return context.DeadlineExceeded.Error()
	}
	return d.cause.Error()
}
func (d *deadlineError) Unwrap() error        { return d.cause }
func (d *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// atDeadline reports whether err came at or after the deadline of the
// command's context (or, for a timeout, just before it).
func (e *env) atDeadline(err error) bool {
	if err == nil || e.ctx == nil {
		return false
	}
	if errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, ok := e.ctx.Deadline()
	if !ok {
		return false
	}
	left := time.Until(dl)
	return left <= 0 || (left < deadlineSlack && backends.IsTimeout(err))
}

// stopCause is the error a command ends with: an interruption is
// context.Canceled; an error at the deadline a deadlineError; a result
// (a miss) or a usage error stays what it is.
func (e *env) stopCause(err error) error {
	if err == nil {
		return nil
	}
	var (
		f  *falseResult
		u  *usageError
		r  *refusedError
		de *deadlineError
	)
	switch {
	case errors.As(err, &f), errors.As(err, &u), errors.As(err, &r), errors.As(err, &de):
		return err
	case errors.Is(err, context.Canceled), e.ctx != nil && errors.Is(e.ctx.Err(), context.Canceled):
		return context.Canceled
	case e.atDeadline(err):
		return &deadlineError{cause: err}
	}
	return err
}

// args checks the positional argument count and rejects stray flags.
func args(c *cli.Context, min, max int, usage string) ([]string, error) {
	a := c.Args().Slice()
	if len(a) < min || (max >= 0 && len(a) > max) {
		name := commandPath(c)
		if max == 0 && len(a) > 0 {
			return nil, usagef("%s: takes no arguments (got %q)", name, a[0])
		}
		return nil, usagef("%s: usage: cachectl %s %s", name, name, usage)
	}
	return a, nil
}

// commandPath is the command's name with its parents' ("sessions list").
func commandPath(c *cli.Context) string {
	var names []string
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.Command.Name != "" && cc.Command.Name != c.App.Name { // not the app itself
			names = append([]string{cc.Command.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}
