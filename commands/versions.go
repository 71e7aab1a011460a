package commands

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
)

// versionCommands are Django's incr_version and decr_version.
func versionCommands() []*cli.Command {
	desc := func(verb, django string) string {
		return "Moves KEY's value from version V (--version, default the cache's VERSION) to V" + verb + "delta and\n" +
			"deletes the old version, as Django's " + django + " does. Unlike Django, the remaining\n" +
			"expiry is kept when the backend can report it (Django re-sets with the default TIMEOUT).\n" +
			"Prints the new version; a missing key exits 1."
	}
	return []*cli.Command{
		{Name: "incr-version", Usage: "move KEYs to the next key version", ArgsUsage: "KEY...|--stdin", Description: desc("+", "incr_version"),
			Flags: keyFlags(deltaFlag, stdinKeysFlag), Action: actionMany(func(e *env) error { return cmdIncrVersion(e, 1) })},
		{Name: "decr-version", Usage: "move KEYs to the previous key version", ArgsUsage: "KEY...|--stdin", Description: desc("-", "decr_version"),
			Flags: keyFlags(deltaFlag, stdinKeysFlag), Action: actionMany(func(e *env) error { return cmdIncrVersion(e, -1) })},
		{Name: "purge-version", Usage: "delete every key of an old VERSION (backends that list keys)", ArgsUsage: "N",
			Description: "After a site-wide VERSION bump the old keys are never read again; purge-version N deletes\n" +
				"the keys stored under version N and KEY_PREFIX, in batches, with a summary. Asks on a\n" +
				"terminal, otherwise needs --yes; --dry-run lists them.",
			Flags:  []cli.Flag{yesFlag, dryRun, &cli.IntFlag{Name: "rate", Usage: "delete at most `N` keys per second"}},
			Action: actionMany(cmdPurgeVersion)},
	}
}

// maxNamedMissing bounds the missing keys incr-version names one by one.
const maxNamedMissing = 20

var stdinKeysFlag = &cli.BoolFlag{Name: "stdin", Usage: "read the keys from stdin, one per line"}

func cmdIncrVersion(e *env, sign int) error {
	min := 1
	if e.c.Bool("stdin") {
		min = 0
	}
	a, err := args(e.c, min, -1, "KEY...|--stdin")
	if err != nil {
		return err
	}
	if a, err = stdinArgs(a, e.c.Bool("stdin"), "KEY", "keys"); err != nil {
		return err
	}
	if e.c.Int64("delta") == 0 {
		// Django's incr_version(delta=0) sets the key at its own version and
		// then deletes it: the value is lost.
		return usagef("--delta 0 would move each key onto its own version and then delete it; give a non-zero --delta")
	}
	v := e.keyVersion()
	// Python's int has no bound; cachectl's versions are 64-bit.
	delta := new(big.Int).Mul(big.NewInt(int64(sign)), big.NewInt(e.c.Int64("delta"))) // -(-2^63) fits here
	next := new(big.Int).Add(delta, big.NewInt(int64(v)))
	if !next.IsInt64() {
		return usagef("version %d and delta %s give %s, beyond the 64-bit versions cachectl handles", v, delta, next)
	}
	nv := int(next.Int64())
	b, err := e.backend()
	if err != nil {
		return err
	}
	moved, missing := 0, 0
	var lastMissing string
	multi := len(a) > 1 || e.c.Bool("stdin") // name each missing key, then a summary
	err = e.keySource(a, func(key string) error {
		oldKey, err := e.makeKey(key, v)
		if err != nil {
			return err
		}
		newKey, err := e.makeKey(key, nv)
		if err != nil {
			return err
		}
		err = backends.IncrVersion(e.ctx, b, oldKey, newKey, e.cfg.Settings.Timeout)
		if errors.Is(err, backends.ErrCacheMiss) {
			missing++
			lastMissing = key
			if multi && missing <= maxNamedMissing {
				fmt.Fprintf(e.errw, "cachectl: %s: not found at version %d\n", key, v)
			}
			return nil
		}
		if err == nil {
			moved++
		}
		return err
	})
	if err != nil {
		err = e.stopCause(err)
		if multi && (moved > 0 || missing > 0 || errors.Is(err, context.Canceled)) {
			// The partial summary: what was done before it stopped.
			fmt.Fprintf(e.errw, "%d key(s) moved from version %d to version %d, %d not found%s\n", moved, v, nv, missing, stopNote(err))
		}
		return err
	}
	if missing > maxNamedMissing && multi {
		fmt.Fprintf(e.errw, "cachectl: … and %d more key(s) not found\n", missing-maxNamedMissing)
	}
	if multi {
		fmt.Fprintf(e.errw, "%d key(s) moved from version %d to version %d, %d not found\n", moved, v, nv, missing)
	}
	if moved == 0 {
		if multi {
			return miss("") // each missing key is named above, then the summary
		}
		return miss(fmt.Sprintf("key %q not found at version %d", lastMissing, v))
	}
	fmt.Fprintln(e.out, nv)
	return nil
}

func cmdPurgeVersion(e *env) error {
	a, err := args(e.c, 1, 1, "N")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(a[0])
	if err != nil {
		return usagef("purge-version: %q is not a version number", a[0])
	}
	if e.cfg.Settings.KeyFunction == "newcache" {
		return usagef("purge-version: newcache keys hide their version in a hash; match FLAVOR-N-* with delete-pattern --raw-keys")
	}
	glob := escapeGlob(e.cfg.Settings.KeyPrefix) + ":" + strconv.Itoa(n) + ":*"
	if n == e.cfg.Settings.Version {
		fmt.Fprintf(e.errw, "cachectl: warning: version %d is the cache's current VERSION\n", n)
	}
	return e.deleteMatching(glob, fmt.Sprintf("delete every key of VERSION %d under KEY_PREFIX %q from %s", n, e.cfg.Settings.KeyPrefix, e.location()))
}
