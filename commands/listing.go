package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
)

func listCommands() []*cli.Command {
	allVersions := &cli.BoolFlag{Name: "all-versions", Usage: "match keys of every VERSION, not only the current one"}
	return []*cli.Command{
		{
			Name: "keys", Usage: "list the keys matching GLOB (backends that can list keys)", ArgsUsage: "[GLOB]",
			Description: "GLOB matches the user key (after KEY_PREFIX and VERSION), shell style: * ? [abc].\n" +
				"Streams: a table for people, JSON Lines with --format json, bare keys with --quiet.",
			Flags: append(keyFlags(allVersions, &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print bare keys only"},
				&cli.BoolFlag{Name: "raw-keys", Usage: "match GLOB against the stored keys, ignoring KEY_PREFIX/VERSION"}),
				reportFormatFlags()...),
			Action: actionMany(cmdKeys),
		},
		{
			Name: "delete-pattern", Usage: "delete every key matching GLOB (asks, or needs --yes)", ArgsUsage: "GLOB",
			Flags: keyFlags(allVersions, yesFlag, dryRun, keepGoing,
				&cli.IntFlag{Name: "rate", Usage: "delete at most `N` keys per second (0 = no limit)"}),
			Action: actionMany(cmdDeletePattern),
		},
	}
}

// escapeGlob escapes glob metacharacters in a literal, as django-redis'
// make_pattern does for the prefix and version.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[':
			b.WriteString("[" + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// finalGlob turns a user-key glob into a glob over stored keys.
func (e *env) finalGlob(glob string) (string, error) {
	// Flags the glob would otherwise silently drop.
	switch raw, all, ver := e.c.Bool("raw-keys"), e.c.Bool("all-versions"), e.c.IsSet("version"); {
	case raw && (all || ver):
		return "", usagef("--raw-keys matches GLOB against stored keys as they are (prefix and version included); it takes no --all-versions or --version")
	case all && ver:
		return "", usagef("--all-versions takes every VERSION; it takes no --version")
	}
	if e.c.Bool("raw-keys") {
		return glob, nil
	}
	s := e.cfg.Settings
	if s.KeyFunction == "newcache" {
		return "", usagef("keys are hashed by the newcache key function and cannot be matched; use --raw-keys")
	}
	ver := escapeGlob(strconv.Itoa(e.keyVersion()))
	if e.c.Bool("all-versions") {
		ver = "*"
	}
	return escapeGlob(s.KeyPrefix) + ":" + ver + ":" + glob, nil
}

// userKey reverses the key function for display: prefix:version:key.
func (e *env) userKey(final string) (key string, version string, ok bool) {
	p := e.cfg.Settings.KeyPrefix + ":"
	if !strings.HasPrefix(final, p) {
		return final, "", false
	}
	ver, rest, found := strings.Cut(final[len(p):], ":")
	if !found {
		return final, "", false
	}
	return rest, ver, true
}

// listArg turns an optional [GLOB] argument into a glob over stored keys
// and the backend's Lister.
func (e *env) listArg(a []string) (string, backends.Lister, error) {
	glob := "*"
	if len(a) == 1 {
		glob = a[0]
	}
	fg, err := e.finalGlob(glob)
	if err != nil {
		return "", nil, err
	}
	l, err := e.lister()
	return fg, l, err
}

func (e *env) lister() (backends.Lister, error) {
	b, err := e.backend()
	if err != nil {
		return nil, err
	}
	l, ok := b.(backends.Lister)
	if !ok {
		return nil, fmt.Errorf("listing keys: %w (%s keeps no listable key names)", backends.ErrUnsupported, e.cfg.Info.Name)
	}
	return l, nil
}

func cmdKeys(e *env) error {
	a, err := args(e.c, 0, 1, "[GLOB]")
	if err != nil {
		return err
	}
	f, err := format(e.c, "table", "json")
	if err != nil {
		return err
	}
	if e.c.Bool("quiet") && f == "json" {
		return usagef("keys: --quiet prints bare names; it takes no --json (or --format json)")
	}
	fg, l, err := e.listArg(a)
	if err != nil {
		return err
	}
	prog := e.newProgress("listing")
	toTerminal := isTerminal(e.out) // before shareTerminal wraps e.out
	e.shareTerminal(prog, listing)
	e.estimateKeys(prog, fg)
	defer prog.finish()
	quiet := e.c.Bool("quiet")
	if quiet {
		l = backends.NamesOnly(l) // no expiry or size to print
	}
	header := false
	n, unsafe := 0, 0
	defer func() {
		if unsafe > 0 {
			fmt.Fprintf(e.errw, "cachectl: warning: %d key(s) left out: they hold a line break (or end in a carriage return), so a bare line would not read back as the key; --json lists them\n", unsafe)
		}
	}()
	err = l.List(e.ctx, fg, func(ki backends.KeyInfo) error {
		n++
		prog.add(1)
		user, ver, ok := e.userKey(ki.Key)
		if e.c.Bool("raw-keys") || !ok {
			user = ki.Key
		}
		exp := "-"
		if ki.Forever {
			exp = "never"
		} else if !ki.Expires.IsZero() {
			exp = ki.Expires.UTC().Format(time.RFC3339)
		}
		switch {
		case quiet:
			if !lineSafe(user) {
				unsafe++ // printed, it would read back as other keys
				return nil
			}
			if toTerminal {
				user = shownKey(user) // no escape sequence reaches the terminal
			}
			fmt.Fprintln(e.out, user)
		case f == "json":
			// Every member always there: null for a key outside KEY_PREFIX
			// (no version to read) or a size the backend does not report.
			doc := map[string]any{"key": user, "stored_key": ki.Key, "version": nil, "expires": nil, "size": nil}
			if ver != "" {
				if v, err := strconv.Atoi(ver); err == nil {
					doc["version"] = v
				}
			}
			if !ki.Expires.IsZero() {
				doc["expires"] = ki.Expires.UTC().Format(time.RFC3339)
			}
			doc["never_expires"] = ki.Forever
			if ki.Size >= 0 {
				doc["size"] = ki.Size
			}
			return writeJSON(e.out, doc)
		default:
			if !header {
				fmt.Fprintf(e.out, "%-40s  %-7s  %-20s  %s\n", "KEY", "VERSION", "EXPIRES", "SIZE")
				header = true
			}
			size := "-"
			if ki.Size >= 0 {
				size = strconv.FormatInt(ki.Size, 10)
			}
			fmt.Fprintf(e.out, "%-40s  %-7s  %-20s  %s\n", shownKey(user), ver, exp, size)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return miss("")
	}
	return nil
}

// deleteMatching walks glob and deletes in batches; it prints a summary.
func (e *env) deleteMatching(glob, what string) error {
	return e.deleteMatchingFunc(glob, what, nil)
}

// deleteMatchingFunc is deleteMatching for the listed keys that keep also
// accepts (every key when keep is nil).
func (e *env) deleteMatchingFunc(glob, what string, keep func(stored string) bool) error {
	if e.c.Int("rate") < 0 {
		return usagef("--rate must be a number of keys per second, 0 for no limit (not %d)", e.c.Int("rate"))
	}
	l, err := e.lister()
	if err != nil {
		return err
	}
	l = backends.NamesOnly(l)
	dry := e.c.Bool("dry-run")
	if !dry {
		if err := e.confirm(what); err != nil {
			return err
		}
	}
	b, _ := e.backend()
	matched, deleted, failed := 0, 0, 0
	var lastErr error
	var batch []string
	rate := 0
	if e.c.IsSet("rate") {
		rate = e.c.Int("rate")
	}
	prog := e.newProgress("deleting")
	if !dry {
		e.estimateKeys(prog, glob)
	}
	start := time.Now()
	// started: a listing page came back (a key was listed), so the summary
	// has something to say; before that, an error (a refused connection,
	// a wrong password) or an interruption is reported alone.
	// notAttempted: keys listed but never sent for deletion.
	started, notAttempted := false, 0
	toTerminal := isTerminal(e.out)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := e.ctx.Err(); err != nil && !dry {
			notAttempted += len(batch)
			batch = batch[:0]
			return err
		}
		if dry {
			for _, k := range batch {
				if toTerminal || !lineSafe(k) {
					k = shownKey(k) // piped, a listed key reads back as itself
				}
				fmt.Fprintln(e.out, k)
			}
			batch = batch[:0]
			return nil
		}
		n, err := backends.DeleteMany(e.ctx, b, batch)
		if n < 0 {
			n = len(batch)
		}
		deleted += n
		prog.add(len(batch))
		if err != nil {
			switch cs := (*backends.CutShortError)(nil); {
			case errors.As(err, &cs):
				// Interrupted part way: the rest was never sent. What was
				// sent was answered (a key not deleted there was absent),
				// unless a reply did not come (a timeout): then its outcome
				// is unknown, counted failed.
				notAttempted += len(batch) - cs.Attempted
				if !errors.Is(err, context.Canceled) {
					failed += max(cs.Attempted-n, 0)
				}
			case errors.Is(err, context.Canceled):
				// Interrupted (SIGINT) with the batch answered: nothing
				// failed. Not a timeout: a batch whose answer did not come
				// by --deadline (or its in-flight bound) has an unknown
				// outcome, and is counted failed.
			default:
				failed += len(batch) - n
			}
			batch = batch[:0]
			if !e.c.Bool("keep-going") || e.ctx.Err() != nil {
				return err
			}
			lastErr = err
			return nil
		}
		batch = batch[:0]
		if rate > 0 {
			// Sleep until the rate is respected.
			want := time.Duration(float64(deleted) / float64(rate) * float64(time.Second))
			if d := want - time.Since(start); d > 0 {
				select {
				case <-time.After(d):
				case <-e.ctx.Done():
					return e.ctx.Err()
				}
			}
		}
		return nil
	}
	err = l.List(e.ctx, glob, func(ki backends.KeyInfo) error {
		started = true
		if keep != nil && !keep(ki.Key) {
			return nil
		}
		matched++
		batch = append(batch, ki.Key)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if err != nil && errors.Is(err, backends.ErrCacheMiss) {
		err = nil
	}
	if err == nil {
		err = flush()
	} else if !dry {
		notAttempted += len(batch) // listed, the listing then failed or was interrupted
	}
	err = e.stopCause(err)
	prog.finish()
	if started || err == nil {
		tail := ""
		if notAttempted > 0 {
			tail = fmt.Sprintf(", %d not attempted", notAttempted)
		}
		tail += stopNote(err)
		if dry {
			fmt.Fprintf(e.errw, "dry run: %d key(s) match, nothing deleted%s\n", matched, tail)
		} else {
			fmt.Fprintf(e.errw, "matched %d, deleted %d, failed %d%s\n", matched, deleted, failed, tail)
		}
	}
	if err == nil && lastErr != nil {
		err = lastErr // --keep-going: exit non-zero when anything failed
	}
	return err
}

func cmdDeletePattern(e *env) error {
	a, err := args(e.c, 1, 1, "GLOB")
	if err != nil {
		return err
	}
	fg, err := e.finalGlob(a[0])
	if err != nil {
		return err
	}
	return e.deleteMatching(fg, fmt.Sprintf("delete every key matching %q from %s", fg, e.location()))
}
