package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// Inspection and cache-poisoning checks.

// unsafeGlobals are callables whose presence in a cached pickle means the
// value would run code when Django unpickles it.
// builtins.getattr is not on it: Python pickles an Enum member as
// getattr(TheEnum, "NAME"), and a getattr whose result is then called is
// a computed callable, reported as such.
var unsafeGlobals = []string{
	"os.system", "os.popen", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "posix.", "nt.", "subprocess.",
	"builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__", "builtins.open", "builtins.setattr",
	"commands.", "pty.", "socket.", "importlib.", "imp.", "runpy.", "code.", "timeit.", "cProfile.", "profile.",
	"pdb.", "bdb.", "pydoc.", "doctest.", "multiprocessing.",
	"pickle.loads", "_pickle.loads", "marshal.loads", "shutil.", "ctypes.", "webbrowser.", "sys.", "types.FunctionType",
	"types.CodeType", "operator.attrgetter", "operator.methodcaller", "functools.partial", "_operator.attrgetter",
	"_operator.methodcaller", "_functools.partial", "builtins.globals", "builtins.vars", "builtins.breakpoint",
	"builtins.input", "builtins.delattr", "io.open", "_io.open", "dill.", "cloudpickle.",
}

// unsafePath reports whether the global mod.name is on the unsafe list,
// under any of the paths it reaches: mod.name and each of its leading
// parts (builtins.eval.__call__ is builtins.eval's), and, for a dotted
// name (protocol 4 resolves it attribute by attribute), each run of its
// parts on its own, with a leading underscore dropped — a module another
// module imported is an attribute of it, so uuid.os.system and
// tempfile._os.system are os.system.
func unsafePath(mod, name string) (string, bool) {
	parts := strings.Split(name, ".")
	for j := 1; j <= len(parts); j++ {
		if p := mod + "." + strings.Join(parts[:j], "."); onUnsafeList(p) {
			return mod + "." + name, true
		}
	}
	norm := make([]string, len(parts))
	for i, p := range parts {
		if !strings.HasPrefix(p, "__") {
			p = strings.TrimPrefix(p, "_")
		}
		norm[i] = p
	}
	for i := 0; i < len(norm); i++ {
		for j := i + 2; j <= len(norm); j++ { // a module and an attribute at least
			if onUnsafeList(strings.Join(norm[i:j], ".")) {
				return mod + "." + name, true
			}
		}
	}
	return "", false
}

func onUnsafeList(path string) bool {
	for _, u := range unsafeGlobals {
		prefix := strings.HasSuffix(u, ".") || u == "os.exec" || u == "os.spawn" || u == "os.posix_spawn"
		if path == u || (prefix && strings.HasPrefix(path, u)) {
			return true
		}
	}
	return false
}

// computedCallable is reported for a call whose callable was itself
// computed (e.g. getattr(module, name)(...)): no name can vouch for it.
const computedCallable = "(a call of a computed callable)"

// auditFindings lists the unsafe class and function paths that decoding
// v referenced (refs, from pickle.Trace: what the pickle named or called,
// kept in v or not) or that v holds, each once, and computedCallable for
// a call of a callable the pickle computed.
func auditFindings(v pickle.Value, refs *pickle.Refs) []string {
	found := []string{}
	dup := map[string]bool{}
	seen := map[any]bool{}
	var walk func(v pickle.Value, depth int)
	add := func(f string) {
		if !dup[f] {
			dup[f] = true
			found = append(found, f)
		}
	}
	check := func(mod, name string) {
		if p, ok := unsafePath(mod, name); ok {
			add(p)
		}
	}
	if refs != nil {
		for _, g := range refs.Globals {
			check(g.Module, g.Name)
		}
		if refs.Computed > 0 {
			add(computedCallable)
		}
	}
	walk = func(v pickle.Value, depth int) {
		if depth > pickle.DefaultLimits.MaxDepth || len(found) > 100 {
			return
		}
		switch x := v.(type) {
		case pickle.Global:
			check(x.Module, x.Name)
		case *pickle.Object:
			if seen[x] {
				return
			}
			seen[x] = true
			if x.Computed() {
				// The callable was computed by the pickle itself (a REDUCE
				// of something other than a global): no name vouches for it.
				add(computedCallable)
			} else {
				check(x.Module, x.Name)
			}
			// Func is the expression that produced the callable or class
			// (e.g. builtins.getattr(...)): what it references counts too.
			walk(x.Func, depth+1)
			walk(x.Args, depth+1)
			walk(x.Kwargs, depth+1)
			walk(x.State, depth+1)
			for _, it := range x.ListItems {
				walk(it, depth+1)
			}
			for _, it := range x.DictItems {
				walk(it.Key, depth+1)
				walk(it.Value, depth+1)
			}
		case *pickle.List:
			if seen[x] {
				return
			}
			seen[x] = true
			for _, it := range x.Items {
				walk(it, depth+1)
			}
		case pickle.Tuple:
			for _, it := range x {
				walk(it, depth+1)
			}
		case *pickle.Dict:
			if seen[x] {
				return
			}
			seen[x] = true
			for _, it := range x.Items {
				walk(it.Key, depth+1)
				walk(it.Value, depth+1)
			}
		case *pickle.Set:
			for _, it := range x.Items {
				walk(it, depth+1)
			}
		case pickle.FrozenSet:
			for _, it := range x.Items {
				walk(it, depth+1)
			}
		}
	}
	walk(v, 0)
	return found
}

// auditError is a poisoned value: exit 6 (a failed precondition).
func auditError(key string, found []string) error {
	return &refusedError{msg: fmt.Sprintf("audit: %q references unsafe callables: %s", key, strings.Join(found, ", "))}
}

func inspectCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "inspect", Usage: "show everything about KEY: final key, server, raw size, flags, TTL, decoded value", ArgsUsage: "KEY",
			Description: "--audit also checks the pickle for references to callables that would run code when Django\n" +
				"unpickles it (os.system, subprocess.*, builtins.eval/exec, posix.*, ...) and exits 6 when it\n" +
				"finds one: a cache-poisoning check. Decoding never runs anything.",
			Flags:  keyFlags(append(reportFormatFlags(), &cli.BoolFlag{Name: "audit", Usage: "exit 6 when the pickle references unsafe callables"})...),
			Action: action(cmdInspect),
		},
		{
			Name: "scan-audit", Usage: "audit every listed key's pickle for unsafe callables (backends that list keys)", ArgsUsage: "[GLOB]",
			Flags:  keyFlags(&cli.BoolFlag{Name: "all-versions", Usage: "every VERSION"}, &cli.BoolFlag{Name: "raw-keys", Usage: "match GLOB against stored keys"}),
			Action: actionMany(cmdScanAudit),
		},
	}
}

func cmdInspect(e *env) error {
	a, err := args(e.c, 1, 1, "KEY")
	if err != nil {
		return err
	}
	f, err := format(e.c, "table", "json")
	if err != nil {
		return err
	}
	k, b, err := oneKey(e)
	if err != nil {
		return err
	}
	doc := map[string]any{"key": a[0], "final_key": k, "backend": e.cfg.Info.Name}
	if d, ok := b.(interface{ ServerFor(string) string }); ok {
		doc["server"] = d.ServerFor(k)
	}
	ent, err := b.Get(e.ctx, k)
	if errors.Is(err, backends.ErrCacheMiss) {
		return miss(fmt.Sprintf("%q is not in the cache", a[0]))
	}
	if err != nil && !errors.Is(err, backends.ErrDecode) {
		return err
	}
	doc["raw_size"] = len(ent.Data)
	doc["flags"] = ent.Flags
	if tl, ok := b.(backends.TTLer); ok {
		if t, err := tl.TTL(e.ctx, k); err == nil {
			if t.Forever {
				doc["ttl"] = "none"
			} else {
				doc["ttl"] = ttlSeconds(t)
			}
		}
	}
	// An error left here is the backend's: it could not read what it
	// stored (a value column that is not base64), and that is the reason.
	var v pickle.Value
	derr := err
	var refs *pickle.Refs
	if err == nil {
		refs = pickle.Trace(func() { v, derr = backends.Decode(b, k, ent) })
	}
	if st := (*backends.StaleError)(nil); errors.As(derr, &st) {
		// Stored and shown, with why the site reads it as a miss.
		v, derr = st.Value, nil
		doc["stale"] = st.Reason
	}
	// What the pickle named or called counts even when it does not decode
	// to the end: Python has run it up to there.
	found := auditFindings(v, refs)
	if derr != nil {
		doc["decode_error"] = derr.Error()
		if len(found) > 0 {
			doc["unsafe_references"] = found
		}
	} else {
		doc["type"] = pickle.TypeName(v)
		doc["value"] = pickle.ToJSON(v)
		doc["repr"] = pickle.Repr(v)
		doc["unsafe_references"] = found
	}
	if f == "json" {
		writeJSONIndent(e.out, doc)
	} else {
		var rows [][]string
		for _, name := range []string{"key", "final_key", "backend", "server", "raw_size", "flags", "ttl", "type", "repr", "stale", "decode_error", "unsafe_references"} {
			if v, ok := doc[name]; ok {
				rows = append(rows, []string{name, fmt.Sprint(v)})
			}
		}
		writeTable(e.out, []string{"FIELD", "VALUE"}, rows)
	}
	if e.c.Bool("audit") && len(found) > 0 {
		return auditError(a[0], found)
	}
	return derr
}

func cmdScanAudit(e *env) error {
	a, err := args(e.c, 0, 1, "[GLOB]")
	if err != nil {
		return err
	}
	fg, l, err := e.listArg(a)
	if err != nil {
		return err
	}
	b, _ := e.backend()
	scanned, bad, undecodable := 0, 0, 0
	err = backends.NamesOnly(l).List(e.ctx, fg, func(ki backends.KeyInfo) error {
		var v pickle.Value
		var err error
		refs := pickle.Trace(func() { v, err = backends.Get(e.ctx, b, ki.Key) })
		if st := (*backends.StaleError)(nil); errors.As(err, &st) {
			// A miss to the site's client, but one it unpickled to find
			// out (newcache's herd deadline): audited as inspect does.
			v, err = st.Value, nil
		}
		switch {
		case errors.Is(err, backends.ErrCacheMiss):
			return nil
		case errors.Is(err, backends.ErrDecode):
			undecodable++
			why := err.Error()
			if de := (*backends.DecodeError)(nil); errors.As(err, &de) {
				why = de.Reason() // the line names the key already
			}
			fmt.Fprintf(e.out, "undecodable: %s: %s\n", shownKey(ki.Key), why)
			// Python runs a pickle up to where it fails: what it named or
			// called by then counts.
			if found := auditFindings(nil, refs); len(found) > 0 {
				bad++
				fmt.Fprintf(e.out, "unsafe: %s: %s\n", shownKey(ki.Key), strings.Join(found, ", "))
			}
			return nil
		case err != nil:
			return err
		}
		scanned++
		if found := auditFindings(v, refs); len(found) > 0 {
			bad++
			fmt.Fprintf(e.out, "unsafe: %s: %s\n", shownKey(ki.Key), strings.Join(found, ", "))
		}
		return nil
	})
	fmt.Fprintf(e.errw, "scan-audit: %d value(s) checked, %d unsafe, %d undecodable\n", scanned, bad, undecodable)
	if err != nil {
		return err
	}
	if bad > 0 {
		return &refusedError{msg: fmt.Sprintf("scan-audit: %d value(s) reference unsafe callables", bad)}
	}
	return nil
}
