package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
			Flags: keyFlags(&cli.BoolFlag{Name: "final", Usage: "also print the final backend key"}),
			Action: func(c *cli.Context) error {
				if c.IsSet("version") && !c.Bool("final") {
					// The fragment key holds no VERSION; only --final's does.
					return usagef("make-fragment-key: --version shapes only the key --final prints; add --final")
				}
				err := action(cmdMakeFragmentKey)(c)
				// Without --final the cache does not shape the key: no cache
				// needs to be selected (the Django version comes from
				// --django-version, or the default).
				if errors.Is(err, errNoCache) && !c.Bool("final") {
					a, aerr := args(c, 1, -1, "NAME [VARY...]")
					if aerr != nil {
						return aerr
					}
					k, kerr := fragmentKey(a, c.String("django-version"))
					if kerr == nil {
						fmt.Fprintln(c.App.Writer, k)
					}
					return kerr
				}
				return err
			},
		},
		{
			Name: "delete-fragment", Usage: "invalidate a {% cache %} template fragment", ArgsUsage: "NAME [VARY...]",
			Description: "Deletes the fragment's key. Unless the Django version is pinned (--django-version or\n" +
				"django_version), every known hashing scheme is tried (Django <=3.0, 3.1-6.0, 6.1+) and the\n" +
				"command says which key it removed. Exit 1 when no scheme's key was present.",
			Flags: keyFlags(
				&cli.BoolFlag{Name: "stdin", Usage: "read one vary list per line (a JSON array, or tab-separated values) and delete each fragment"},
				&cli.BoolFlag{Name: "check", Usage: "only report whether the fragment is cached, and near misses when it is not"}),
			Action: actionMany(cmdDeleteFragment),
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

// fragmentKey is the fragment key of NAME [VARY...] (a) with the scheme
// of Django version v ("" for the default).
func fragmentKey(a []string, v string) (string, error) {
	if v == "" {
		v = backends.DefaultDjangoVersion
	}
	s, err := keyfunc.FragmentSchemeFor(v)
	if err != nil {
		return "", backends.Configf("%v", err)
	}
	return keyfunc.FragmentKey(s, a[0], a[1:]), nil
}

func cmdMakeFragmentKey(e *env) error {
	a, err := args(e.c, 1, -1, "NAME [VARY...]")
	if err != nil {
		return err
	}
	fk, err := fragmentKey(a, e.cfg.Settings.DjangoVersion)
	if err != nil {
		return err
	}
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
		switch {
		case e.c.Bool("check"):
			return usagef("delete-fragment: --check reports on one fragment, given as NAME [VARY...]; it does not go with --stdin")
		case len(a) > 1:
			return usagef("delete-fragment: with --stdin the vary lists come from stdin; give only NAME (got %d VARY argument(s))", len(a)-1)
		}
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

// deleteFragmentsFromStdin invalidates many fragments in batches, one
// batch per hashing scheme so the summary can say which scheme matched.
func deleteFragmentsFromStdin(e *env, name string) error {
	b, err := e.backend()
	if err != nil {
		return err
	}
	schemes, _, err := e.fragmentSchemes()
	if err != nil {
		return err
	}
	lines, deleted := 0, 0
	batches := map[keyfunc.FragmentScheme][]string{}
	perScheme := map[keyfunc.FragmentScheme]int{}
	flush := func(s keyfunc.FragmentScheme) error {
		batch := batches[s]
		if len(batch) == 0 {
			return nil
		}
		n, err := backends.DeleteMany(e.ctx, b, batch)
		if n > 0 {
			deleted += n
			perScheme[s] += n
		}
		batches[s] = batch[:0]
		return err
	}
	err = e.keySource([]string{"-"}, func(line string) error {
		var vary []string
		if strings.HasPrefix(strings.TrimSpace(line), "[") {
			raw, err := decodeVaryLine(line)
			if err != nil {
				return usagef("--stdin: line %d is not a JSON array: %v", lines+1, err)
			}
			for _, v := range raw {
				vary = append(vary, pyStr(v))
			}
		} else {
			vary = strings.Split(line, "\t")
		}
		lines++
		keys, of, err := e.fragmentFinalKeys(name, vary)
		if err != nil {
			return err
		}
		for _, k := range keys {
			s := of[k]
			batches[s] = append(batches[s], k)
			if len(batches[s]) >= batchSize {
				if err := flush(s); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, s := range schemes {
		if err == nil {
			err = flush(s)
		}
	}
	var by []string
	for _, s := range schemes {
		if n := perScheme[s]; n > 0 {
			by = append(by, fmt.Sprintf("%d with the %s scheme", n, schemeName(s)))
		}
	}
	detail := ""
	if len(by) > 0 {
		detail = " (" + strings.Join(by, ", ") + ")"
	}
	err = e.stopCause(err)
	fmt.Fprintf(e.errw, "delete-fragment: %d vary list(s) read, %d cached fragment(s) deleted%s%s\n", lines, deleted, detail, stopNote(err))
	if err == nil && deleted == 0 {
		return miss("") // nothing was cached (or nothing was read)
	}
	return err
}

// pyStr is str() of a JSON value (decoded with UseNumber) as Python's
// json.loads gives it to the template: 1 is the int 1, 1.0 and 1e3 are
// floats ("1.0", "1000.0"), lists and dicts print their items' repr().
// (Not pickle.FromJSON and pickle.Repr: that JSON reads {"$py": ...}
// objects as tagged Python types, which json.loads does not.)
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	pyRepr(&b, v)
	return b.String()
}

func pyRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(keyfunc.PyRepr(x))
	case json.Number:
		lit := x.String()
		if lit == nanLiteral {
			b.WriteString("nan")
		} else if strings.ContainsAny(lit, ".eE") {
			f, _ := strconv.ParseFloat(lit, 64) // out of range: ±Inf, as Python's float()
			b.WriteString(keyfunc.PyFloatRepr(f))
		} else if lit == "-0" {
			b.WriteString("0")
		} else {
			b.WriteString(lit) // JSON integers are already Python's int text
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, e)
		}
		b.WriteByte(']')
	case orderedObject:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(keyfunc.PyRepr(kv.key))
			b.WriteString(": ")
			pyRepr(b, kv.val)
		}
		b.WriteByte('}')
	}
}

// orderedObject is a JSON object with its members in document order (a
// Python dict keeps insertion order; a repeated key keeps its first
// position and its last value, as json.loads does).
type orderedObject []struct {
	key string
	val any
}

// nanLiteral stands for a bare NaN in a vary line: a number no one writes,
// which pyRepr prints as nan.
const nanLiteral = "-0.0e-7777777777777"

// pyConstants rewrites the NaN, Infinity and -Infinity that Python's
// json.loads accepts outside strings (encoding/json does not) as JSON
// numbers that read back as they do in Python: ±1e999999 (±inf) and
// nanLiteral.
func pyConstants(line string) string {
	if !strings.ContainsAny(line, "NI") {
		return line
	}
	var b strings.Builder
	inString, escaped := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case strings.HasPrefix(line[i:], "NaN"):
			b.WriteString(nanLiteral)
			i += len("NaN") - 1
			continue
		case strings.HasPrefix(line[i:], "Infinity"):
			b.WriteString("1e999999")
			i += len("Infinity") - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// decodeVaryLine reads one --stdin line that is a JSON array, as Python's
// json.loads reads it (NaN and ±Infinity included).
func decodeVaryLine(line string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(pyConstants(line)))
	dec.UseNumber()
	v, err := decodeJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the array")
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not an array")
	}
	return arr, nil
}

func decodeJSONValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := t.(type) {
	case json.Delim:
		switch d {
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		case '{':
			var obj orderedObject
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				replaced := false
				for i := range obj {
					if obj[i].key == k {
						obj[i].val, replaced = v, true
					}
				}
				if !replaced {
					obj = append(obj, struct {
						key string
						val any
					}{k, v})
				}
			}
			_, err := dec.Token()
			return obj, err
		}
		return nil, fmt.Errorf("unexpected %v", d)
	}
	return t, nil
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
