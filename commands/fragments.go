package commands

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/keyfunc"
)

// fragmentCommands handle {% cache %} template fragments.
func fragmentCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "make-fragment-key", Usage: "print the key of a {% cache %} template fragment", ArgsUsage: "NAME [VARY...]",
			Description: "Computes make_template_fragment_key(NAME, [VARY...]) with the scheme of the site's Django\n" +
				"version (--django-version or django_version; default " + backends.DefaultDjangoVersion + "). --final also prints the\n" +
				"backend key after KEY_PREFIX, VERSION and the key function. Needs no server.",
			Flags:  keyFlags(&cli.BoolFlag{Name: "final", Usage: "also print the final backend key"}),
			Action: action(cmdMakeFragmentKey),
		},
		{
			Name: "delete-fragment", Usage: "invalidate a {% cache %} template fragment", ArgsUsage: "NAME [VARY...]",
			Description: "Deletes the fragment's key. Unless the Django version is pinned (--django-version or\n" +
				"django_version), every known hashing scheme is tried (Django <=3.0, 3.1-6.0, 6.1+) and the\n" +
				"command says which key it removed. Exit 1 when no scheme's key was present.",
			Flags: keyFlags(
				&cli.BoolFlag{Name: "stdin", Usage: "read one vary list per line (a JSON array, or tab-separated values) and delete each fragment"},
				&cli.BoolFlag{Name: "check", Usage: "only report whether the fragment is cached, and near misses when it is not"}),
			Action: action(cmdDeleteFragment),
		},
	}
}

func schemeName(s keyfunc.FragmentScheme) string {
	switch s {
	case keyfunc.FragmentLegacy:
		return "Django <=3.0"
	case keyfunc.FragmentColon:
		return "Django 3.1-6.0"
	case keyfunc.FragmentNetstring:
		return "Django 6.1+"
	}
	return "unknown"
}

// fragmentSchemes is the pinned scheme, or every scheme (newest first).
func (e *env) fragmentSchemes() ([]keyfunc.FragmentScheme, bool, error) {
	if v := e.cfg.Settings.DjangoVersion; v != "" {
		s, err := keyfunc.FragmentSchemeFor(v)
		if err != nil {
			return nil, false, backends.Configf("%v", err)
		}
		return []keyfunc.FragmentScheme{s}, true, nil
	}
	return []keyfunc.FragmentScheme{keyfunc.FragmentNetstring, keyfunc.FragmentColon, keyfunc.FragmentLegacy}, false, nil
}

func cmdMakeFragmentKey(e *env) error {
	a, err := args(e.c, 1, -1, "NAME [VARY...]")
	if err != nil {
		return err
	}
	v := e.cfg.Settings.DjangoVersion
	if v == "" {
		v = backends.DefaultDjangoVersion
	}
	s, err := keyfunc.FragmentSchemeFor(v)
	if err != nil {
		return backends.Configf("%v", err)
	}
	fk := keyfunc.FragmentKey(s, a[0], a[1:])
	fmt.Fprintln(e.out, fk)
	if e.c.Bool("final") {
		final, err := e.key(fk)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.out, final)
	}
	return nil
}

func cmdDeleteFragment(e *env) error {
	a, err := args(e.c, 1, -1, "NAME [VARY...]")
	if err != nil {
		return err
	}
	if e.c.Bool("stdin") {
		return deleteFragmentsFromStdin(e, a[0])
	}
	if e.c.Bool("check") {
		return checkFragment(e, a[0], a[1:])
	}
	schemes, _, err := e.fragmentSchemes()
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	var tried []string
	found := false
	seen := map[string]bool{}
	for _, s := range schemes {
		fk := keyfunc.FragmentKey(s, a[0], a[1:])
		if seen[fk] {
			continue
		}
		seen[fk] = true
		final, err := e.key(fk)
		if err != nil {
			return err
		}
		ok, err := b.Delete(e.ctx, final)
		if err != nil {
			return err
		}
		tried = append(tried, fk)
		if ok {
			found = true
			fmt.Fprintf(e.out, "deleted %s (%s scheme)\n", fk, schemeName(s))
		}
	}
	if !found {
		return miss("no fragment key was present (tried " + strings.Join(tried, ", ") + ")")
	}
	return nil
}

// fragmentFinalKeys are the final keys of a fragment under every scheme
// tried (deduplicated), with the scheme of each.
func (e *env) fragmentFinalKeys(name string, vary []string) ([]string, map[string]keyfunc.FragmentScheme, error) {
	schemes, _, err := e.fragmentSchemes()
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	of := map[string]keyfunc.FragmentScheme{}
	for _, s := range schemes {
		final, err := e.key(keyfunc.FragmentKey(s, name, vary))
		if err != nil {
			return nil, nil, err
		}
		if _, dup := of[final]; !dup {
			keys = append(keys, final)
			of[final] = s
		}
	}
	return keys, of, nil
}

// deleteFragmentsFromStdin invalidates many fragments in batches.
func deleteFragmentsFromStdin(e *env, name string) error {
	b, err := e.backend()
	if err != nil {
		return err
	}
	lines, deleted := 0, 0
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := backends.DeleteMany(e.ctx, b, batch)
		if n > 0 {
			deleted += n
		}
		batch = batch[:0]
		return err
	}
	err = e.keySource([]string{"-"}, func(line string) error {
		var vary []string
		if strings.HasPrefix(strings.TrimSpace(line), "[") {
			var raw []any
			if err := json.Unmarshal([]byte(line), &raw); err != nil {
				return usagef("--stdin: line %d is not a JSON array: %v", lines+1, err)
			}
			for _, v := range raw {
				vary = append(vary, pyStr(v))
			}
		} else {
			vary = strings.Split(line, "\t")
		}
		lines++
		keys, _, err := e.fragmentFinalKeys(name, vary)
		if err != nil {
			return err
		}
		batch = append(batch, keys...)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	fmt.Fprintf(e.errw, "delete-fragment: %d vary list(s) read, %d cached fragment(s) deleted\n", lines, deleted)
	return err
}

// pyStr is str() of a JSON value as the template would resolve it.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkFragment reports presence, and near misses operators really hit:
// the name written with quotes in the template, another VERSION, another
// KEY_PREFIX (on backends that list keys).
func checkFragment(e *env, name string, vary []string) error {
	b, err := e.backend()
	if err != nil {
		return err
	}
	keys, of, err := e.fragmentFinalKeys(name, vary)
	if err != nil {
		return err
	}
	for _, k := range keys {
		ok, err := backends.HasKey(e.ctx, b, k)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(e.out, "cached: %s (%s scheme)\n", k, schemeName(of[k]))
			return nil
		}
	}
	fmt.Fprintf(e.out, "not cached (tried %s)\n", strings.Join(keys, ", "))
	var near []string
	for _, quoted := range []string{`"` + name + `"`, "'" + name + "'"} {
		qk, _, err := e.fragmentFinalKeys(quoted, vary)
		if err != nil {
			return err
		}
		for _, k := range qk {
			if ok, _ := backends.HasKey(e.ctx, b, k); ok {
				near = append(near, k+" (the name is quoted in the template)")
			}
		}
	}
	v := e.keyVersion()
	// Other versions: every version from 1 to a few past the current one.
	for other := 1; other <= v+5; other++ {
		if other == v {
			continue
		}
		for _, s := range keyfunc.AllFragmentSchemes() {
			k, err := e.makeKey(keyfunc.FragmentKey(s, name, vary), other)
			if err != nil {
				return err
			}
			if ok, _ := backends.HasKey(e.ctx, b, k); ok {
				near = append(near, fmt.Sprintf("%s (VERSION %d)", k, other))
			}
		}
	}
	if l, ok := b.(backends.Lister); ok {
		for _, s := range keyfunc.AllFragmentSchemes() {
			fk := keyfunc.FragmentKey(s, name, vary)
			backends.NamesOnly(l).List(e.ctx, "*:*:"+escapeGlob(fk), func(ki backends.KeyInfo) error {
				if !strings.HasPrefix(ki.Key, e.cfg.Settings.KeyPrefix+":") {
					near = append(near, ki.Key+" (another KEY_PREFIX)")
				}
				return nil
			})
		}
	}
	for _, n := range near {
		fmt.Fprintf(e.out, "near miss: %s\n", n)
	}
	return miss("")
}
