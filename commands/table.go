package commands

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/sqlgen"
)

// Database cache administration: createcachetable and prune-expired.

func tableCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "createcachetable",
			Usage:     "create the table of every database cache, as Django's management command does",
			ArgsUsage: "[TABLE...]",
			Description: "Creates the cache table of every DatabaseCache in the config file (or of --cache), or the\n" +
				"TABLEs given. An existing table is left alone (exit 0). The statements run in one transaction\n" +
				"where the database can roll back DDL, so a failure leaves no half-made table.\n" +
				"--dry-run prints exactly the SQL Django's createcachetable --dry-run prints (it needs a\n" +
				"connection, to skip existing tables, as Django's does). --dialect prints the SQL for a vendor\n" +
				"with no connection at all (sqlite, postgresql, mysql, oracle): for DBAs who apply schema by hand.",
			Flags: []cli.Flag{
				dryRun,
				&cli.StringFlag{Name: "dialect", Usage: "print the SQL for `VENDOR` without connecting"},
				&cli.BoolFlag{Name: "django32", Usage: "with --dialect oracle: truncate long names as Django 3.2 does"},
			},
			Action: cmdCreateCacheTable,
		},
		{
			Name:  "prune-expired",
			Usage: "delete expired rows of a database cache in batches (Django never does this on its own)",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "batch", Value: 5000, Usage: "rows per DELETE, so the table is never locked for long (`N`)"},
			},
			Action: actionMany(cmdPruneExpired),
		},
	}
}

// tableTargets lists the caches createcachetable works on: the TABLEs
// given, in the database of the cache --cache or --alias selects (which
// must be a database cache), else of --database or the config file's
// DATABASES; without TABLEs, the selected cache, or every DatabaseCache of
// the config file.
func tableTargets(c *cli.Context) ([]*backends.Config, error) {
	selected := c.String("cache") != "" || c.IsSet("alias")
	if c.Args().Len() > 0 {
		var base *backends.Config
		var databases map[string]map[string]any
		if selected {
			cfg, err := resolveConfig(c)
			if err != nil {
				return nil, err
			}
			if !isDatabaseCache(cfg) {
				return nil, fmt.Errorf("createcachetable: %w (%s is not a database cache: TABLE goes to the database of the cache selected)", backends.ErrUnsupported, cfg.Info.Name)
			}
			base = cfg
		} else if c.String("database") == "" {
			f, err := loadConfigFile(c.String("config"), c.App.ErrWriter)
			if err != nil {
				return nil, err
			}
			if f != nil {
				databases = f.Databases
			}
		}
		var out []*backends.Config
		for _, t := range c.Args().Slice() {
			if base != nil {
				cfg := *base
				cfg.Params = maps.Clone(base.Params)
				cfg.Warnings = nil
				if cfg.Params["table"] != "" { // sqlite://…?table=, postgres://…?table=
					cfg.Params["table"] = t
				} else { // dbcache://TABLE, a config file's LOCATION
					cfg.Locations = []string{t}
				}
				out = append(out, &cfg)
				continue
			}
			cfg, err := backends.ParseURL("dbcache://" + t)
			if err != nil {
				return nil, err
			}
			cfg.Locations = []string{t}
			cfg.Databases = databases
			out = append(out, cfg)
		}
		return out, nil
	}
	if selected {
		cfg, err := resolveConfig(c)
		if err != nil {
			return nil, err
		}
		return []*backends.Config{cfg}, nil
	}
	f, err := loadConfigFile(c.String("config"), c.App.ErrWriter)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, backends.Configf("no cache selected: give TABLE, --cache URL or a config file with a DatabaseCache")
	}
	var out []*backends.Config
	for _, alias := range f.Aliases() {
		cfg, err := f.Cache(alias)
		if err != nil {
			return nil, err
		}
		if isDatabaseCache(cfg) {
			out = append(out, cfg)
		}
	}
	if len(out) == 0 {
		return nil, backends.Configf("the config file has no DatabaseCache")
	}
	return out, nil
}

func isDatabaseCache(cfg *backends.Config) bool {
	_, ok := cfg.Info.DjangoPathSet()["django.core.cache.backends.db.DatabaseCache"]
	return ok
}

// tableName is a database cache's table: ?table= of a database URL, else
// the LOCATION.
func tableName(cfg *backends.Config) string {
	if t := cfg.Params["table"]; t != "" {
		return t
	}
	if len(cfg.Locations) > 0 {
		return cfg.Locations[0]
	}
	return ""
}

func cmdCreateCacheTable(c *cli.Context) error {
	targets, err := tableTargets(c)
	if err != nil {
		return err
	}
	out := c.App.Writer
	// Only Oracle's SQL differs (Django 3.2 truncated long names there).
	errDjango32 := usagef("createcachetable: --django32 goes with --dialect oracle")
	if d := c.String("dialect"); d != "" {
		dialect, err := sqlgen.ParseDialect(d)
		if err != nil {
			return usagef("%v", err)
		}
		if c.Bool("django32") && dialect != sqlgen.Oracle {
			return errDjango32
		}
		for _, cfg := range targets {
			fmt.Fprint(out, sqlgen.DryRunText(dialect, tableName(cfg), sqlgen.Options{Django32: c.Bool("django32")}))
		}
		return nil
	}
	if c.Bool("django32") {
		return errDjango32
	}
	db := c.String("database")
	for _, cfg := range targets {
		if db != "" {
			cfg.Params["database"] = db
		}
		cfg.Deadline = rootDuration(c, "deadline")
		b, err := backends.Open(c.Context, cfg)
		if err != nil {
			return err
		}
		printWarnings(c.App.ErrWriter, cfg)
		tc, ok := b.(backends.TableCreator)
		if !ok {
			b.Close()
			return fmt.Errorf("createcachetable: %w (%s is not a database cache)", backends.ErrUnsupported, cfg.Info.Name)
		}
		stmts, existed, err := tc.CreateTable(c.Context, c.Bool("dry-run"))
		b.Close()
		switch {
		case err != nil:
			return err
		case existed:
			fmt.Fprintf(out, "Cache table '%s' already exists.\n", tableName(cfg))
		case c.Bool("dry-run"):
			for _, s := range stmts {
				fmt.Fprintln(out, s)
			}
		default:
			fmt.Fprintf(c.App.ErrWriter, "Cache table '%s' created.\n", tableName(cfg))
		}
	}
	return nil
}

func rootDuration(c *cli.Context, name string) time.Duration { return c.Duration(name) }

func cmdPruneExpired(e *env) error {
	if _, err := args(e.c, 0, 0, ""); err != nil {
		return err
	}
	if e.c.Int("batch") < 1 {
		return usagef("prune-expired: --batch is the rows per DELETE, at least 1 (not %d)", e.c.Int("batch"))
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	prog := e.newProgress("pruning")
	// The summary is printed once a batch came back (or the command
	// completed): a missing table or an unreachable database is reported
	// alone, not after "0 expired row(s) deleted".
	batches := 0
	rep := prog.report()
	done := rep.Done
	rep.Done = func(n int) { batches++; done(n) }
	n, err := backends.PruneExpired(e.ctx, b, e.c.Int("batch"), rep)
	prog.finish()
	err = e.stopCause(err)
	if err == nil || (batches > 0 && !errors.Is(err, backends.ErrUnsupported)) {
		fmt.Fprintf(e.errw, "prune-expired: %d expired row(s) deleted%s\n", n, stopNote(err))
	}
	return err
}
