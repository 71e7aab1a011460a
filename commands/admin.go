package commands

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
)

func adminCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "clear", Usage: "remove everything Django's cache.clear() removes (asks, or needs --yes)",
			Description: "Without --prefix this is Django's clear: memcached flush_all on every server, Redis FLUSHDB,\n" +
				"DELETE FROM the table, every .djcache file. --prefix deletes only this cache's KEY_PREFIX keys\n" +
				"(backends that can list keys). On a terminal it asks; otherwise it needs --yes. --dry-run says\n" +
				"what would be removed.",
			Flags: []cli.Flag{yesFlag, dryRun,
				&cli.BoolFlag{Name: "prefix", Usage: "delete only keys under this cache's KEY_PREFIX (every version)"},
				&cli.IntFlag{Name: "rate", Usage: "with --prefix: delete at most `N` keys per second"}},
			Action: actionMany(cmdClear),
		},
		{
			Name: "stats", Usage: "print statistics of the cache (per server and in total)",
			Flags: append(reportFormatFlags(), &cli.BoolFlag{Name: "exact",
				Usage: "count what is otherwise estimated (database rows, Redis keys under KEY_PREFIX), reading the whole table or keyspace"}),
			Action: actionMany(cmdStats),
		},
		{
			Name: "ping", Usage: "check that the cache answers (exit 3 if not)",
			Action: action(cmdPing),
		},
		{
			Name: "config", Usage: "inspect the resolved configuration",
			Subcommands: []*cli.Command{{
				Name: "show", Usage: "print the resolved cache (passwords masked)",
				Flags: reportFormatFlags(), Action: action(cmdConfigShow),
			}, configImportCommand()},
		},
	}
}

// location is the cache's redacted location for messages.
func (e *env) location() string {
	if e.cfg.URL != "" {
		return e.cfg.Info.Name + " " + backends.Redact(e.cfg.URL)
	}
	return e.cfg.Info.Name + " " + backends.Redact(strings.Join(e.cfg.Locations, ";"))
}

func cmdClear(e *env) error {
	if _, err := args(e.c, 0, 0, ""); err != nil {
		return err
	}
	if e.c.IsSet("rate") && !e.c.Bool("prefix") {
		// A whole clear is one call (FLUSHDB, flush_all, DELETE, the directory): nothing to pace.
		return usagef("clear: --rate needs --prefix (a whole clear is one call to the backend)")
	}
	if e.c.Bool("prefix") {
		s := e.cfg.Settings
		if s.KeyFunction == "newcache" {
			glob := escapeGlob(s.Flavor) + "-*"
			return e.deleteMatching(glob, fmt.Sprintf("delete every key matching %q from %s", glob, e.location()))
		}
		glob := escapeGlob(s.KeyPrefix) + ":*"
		return e.deleteMatching(glob, fmt.Sprintf("delete every key under KEY_PREFIX %q (%s) from %s", s.KeyPrefix, glob, e.location()))
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	loc := e.location()
	plan := backends.ClearPlan{Ask: "clear " + loc, Done: func(int) string { return loc }}
	if d, ok := b.(backends.ClearDescriber); ok {
		if plan, err = d.DescribeClear(e.ctx); err != nil {
			return err
		}
	}
	what := plan.Ask
	if e.c.Bool("dry-run") {
		fmt.Fprintf(e.out, "dry run: would %s\n", what)
		return nil
	}
	if _, ok := b.(backends.Clearer); !ok {
		return backends.Clear(e.ctx, b)
	}
	if err := e.confirm(what); err != nil {
		return err
	}
	prog := e.newProgress("clearing")
	r := prog.report()
	if plan.Total != nil && r.Estimate != nil { // counted for the prompt already
		r.Estimate(*plan.Total)
		r.Estimate = nil
	}
	n, err := backends.ClearProgress(e.ctx, b, r)
	prog.finish()
	if err != nil {
		err = e.stopCause(err)
		if n >= 0 { // the partial summary: what went before it stopped
			fmt.Fprintf(e.errw, "clear: %d %sentries removed%s\n", n, prog.of(), stopNote(err))
		}
		return err
	}
	fmt.Fprintf(e.errw, "cleared: %s\n", plan.Done(n))
	return nil
}

func cmdStats(e *env) error {
	if _, err := args(e.c, 0, 0, ""); err != nil {
		return err
	}
	f, err := format(e.c, "table", "json")
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	prog := e.newProgress("reading")
	secs, err := backends.Stats(e.ctx, b, backends.StatsOptions{Exact: e.c.Bool("exact")}, prog.report())
	prog.finish()
	if err != nil {
		return err
	}
	return writeStats(e.out, f, secs)
}

func cmdPing(e *env) error {
	if _, err := args(e.c, 0, 0, ""); err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	if err := backends.Ping(e.ctx, b); err != nil {
		return err
	}
	note := ""
	if n, ok := b.(interface{ PingNote() string }); ok && n.PingNote() != "" {
		note = " (" + n.PingNote() + ")"
	}
	fmt.Fprintf(e.out, "ok: %s%s\n", e.location(), note)
	return nil
}

// maskOptions copies options with secret values masked.
func maskOptions(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if backends.IsSecretOption(k) {
			out[k] = "xxxxx"
		} else {
			out[k] = maskValue(v)
		}
	}
	return out
}

// maskValue masks the secrets inside one option value: nested objects and
// lists, URLs in strings, and JSON text (a parameter such as
// connection_pool_kwargs or sentinel_kwargs arrives as a JSON string),
// which is re-encoded only when it held a secret.
func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return maskOptions(x)
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = maskValue(it)
		}
		return out
	case string:
		if t := strings.TrimSpace(x); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			dec := json.NewDecoder(strings.NewReader(t))
			dec.UseNumber() // numbers stay as written
			var doc any
			if dec.Decode(&doc) == nil {
				masked := maskValue(doc)
				if reflect.DeepEqual(masked, doc) {
					return x
				}
				var b strings.Builder
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				if enc.Encode(masked) == nil {
					return strings.TrimSuffix(b.String(), "\n")
				}
			}
		}
		return backends.Redact(x)
	}
	return v
}

func cmdConfigShow(e *env) error {
	f, err := format(e.c, "table", "json")
	if err != nil {
		return err
	}
	s := e.cfg.Settings
	dv, pinned := s.DjangoVersion, true
	if dv == "" {
		dv, pinned = backends.DefaultDjangoVersion, false
	}
	locs := make([]string, len(e.cfg.Locations))
	for i, l := range e.cfg.Locations {
		locs[i] = backends.Redact(l)
	}
	params := map[string]any{}
	for k, v := range e.cfg.Params {
		params[k] = v
	}
	doc := map[string]any{
		"alias":                 e.cfg.Alias,
		"backend":               e.cfg.Info.Name,
		"django_backend":        strings.Join(e.cfg.Info.DjangoPaths, ", "),
		"url":                   backends.Redact(e.cfg.URL),
		"locations":             locs,
		"key_prefix":            s.KeyPrefix,
		"version":               s.Version,
		"timeout":               s.Timeout.String(),
		"key_function":          s.KeyFunction,
		"max_entries":           s.MaxEntries,
		"cull_frequency":        s.CullFrequency,
		"django_version":        dv,
		"django_version_pinned": pinned,
		"params":                maskOptions(params),
	}
	if s.KeyFunction == "newcache" {
		doc["flavor"], doc["hash"] = s.Flavor, s.Hash
	}
	if e.cfg.Options != nil {
		doc["options"] = maskOptions(e.cfg.Options)
	}
	if e.cfg.Database != "" {
		doc["database"] = e.cfg.Database
	}
	// What the backend chose (client, sharding, flags); opening dials
	// nothing. A configuration the backend refuses is shown as far as it
	// was resolved, and the command then fails as every other would.
	b, openErr := e.backend()
	if openErr == nil {
		if d, ok := b.(backends.Describer); ok {
			for _, f := range d.Describe() {
				doc[f.Name] = f.Value
			}
		}
	}
	if f == "json" {
		if s.Timeout.Forever { // as Django's TIMEOUT: None or a number of seconds
			doc["timeout"] = nil
		} else {
			doc["timeout"] = s.Timeout.Seconds
		}
		if err := writeJSONIndent(e.out, doc); err != nil {
			return err
		}
		return openErr
	}
	names := make([]string, 0, len(doc))
	for k := range doc {
		names = append(names, k)
	}
	sort.Strings(names)
	var rows [][]string
	for _, k := range names {
		v := doc[k]
		var text string
		switch x := v.(type) {
		case []string:
			text = strings.Join(x, "; ")
		case map[string]any:
			if len(x) == 0 {
				continue
			}
			var b strings.Builder
			writeJSON(&b, x)
			text = strings.TrimSpace(b.String())
		default:
			text = fmt.Sprint(v)
		}
		rows = append(rows, []string{k, text})
	}
	writeTable(e.out, []string{"SETTING", "VALUE"}, rows)
	return openErr
}
