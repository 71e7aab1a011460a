package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// keyCommands mirror Django's low-level cache API.
func keyCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "get", Usage: "print the value of KEY (exit 1 on a miss)", ArgsUsage: "KEY",
			Description: "Reads KEY as Django's cache.get does. On a miss it prints nothing and exits 1,\n" +
				"unless --default is given, which is printed instead (exit 0).",
			Flags:  keyFlags(append(valueFormatFlags(), &cli.StringFlag{Name: "default", Usage: "print `V` on a miss and exit 0"})...),
			Action: action(cmdGet),
		},
		{
			Name: "set", Usage: "store VALUE under KEY", ArgsUsage: "KEY VALUE|-",
			Description: "Stores VALUE (a Python str unless --type says otherwise; - reads stdin) as Django's cache.set.",
			Flags:       keyFlags(timeoutFlag, typeFlag),
			Action:      action(cmdSet),
		},
		{
			Name: "add", Usage: "store VALUE only if KEY is absent or expired (exit 1 if not added)", ArgsUsage: "KEY VALUE|-",
			Flags:  keyFlags(timeoutFlag, typeFlag),
			Action: action(cmdAdd),
		},
		{
			Name: "get-or-set", Usage: "print KEY's value, storing VALUE first when it is missing", ArgsUsage: "KEY VALUE|-",
			Flags:  keyFlags(append(valueFormatFlags(), timeoutFlag, typeFlag)...),
			Action: action(cmdGetOrSet),
		},
		{
			Name: "delete", Usage: "delete KEY (exit 1 if it was not there)", ArgsUsage: "KEY",
			Flags: keyFlags(), Action: action(cmdDelete),
		},
		{
			Name: "touch", Usage: "set a new timeout on KEY (exit 1 if it is missing)", ArgsUsage: "KEY",
			Flags: keyFlags(timeoutFlag), Action: action(cmdTouch),
		},
		{
			Name: "has-key", Usage: "print true and exit 0 if KEY holds a live value, else false and exit 1", ArgsUsage: "KEY",
			Flags: keyFlags(), Action: action(cmdHasKey),
		},
		{
			Name: "incr", Usage: "add --delta to the number under KEY and print the result", ArgsUsage: "KEY",
			Description: "As Django's incr: native and atomic on memcached and Redis; elsewhere get and set,\n" +
				"which resets the expiry to the cache's TIMEOUT. A missing key exits 1.",
			Flags: keyFlags(deltaFlag), Action: action(func(e *env) error { return cmdIncr(e, 1) }),
		},
		{
			Name: "decr", Usage: "subtract --delta from the number under KEY and print the result", ArgsUsage: "KEY",
			Flags: keyFlags(deltaFlag), Action: action(func(e *env) error { return cmdIncr(e, -1) }),
		},
		{
			Name: "ttl", Usage: "print the seconds KEY has left, or none when it never expires (exit 1 on a miss)", ArgsUsage: "KEY",
			Flags: keyFlags(), Action: action(cmdTTL),
		},
		{
			Name: "make-key", Usage: "print the final backend key Django builds for KEY", ArgsUsage: "KEY",
			Description: "Applies KEY_PREFIX, VERSION and the key function, and warns (or, for memcached,\n" +
				"fails with exit 2) as Django's key validation would. Needs no server.",
			Flags: keyFlags(), Action: action(cmdMakeKey),
		},
	}
}

func cmdGet(e *env) error {
	a, err := args(e.c, 1, 1, "KEY")
	if err != nil {
		return err
	}
	f, err := format(e.c, "text", "json", "repr", "raw")
	if err != nil {
		return err
	}
	k, err := e.key(a[0])
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	missed := func(msg string) error {
		if e.c.IsSet("default") {
			// The default is a str, printed in the --format asked for.
			return writeValue(e.out, f, e.c.String("default"), []byte(e.c.String("default")))
		}
		return miss(msg)
	}
	ent, err := backends.GetEntry(e.ctx, b, k)
	if f == "raw" && errors.Is(err, backends.ErrDecode) && ent.Data != nil {
		// raw always shows the stored bytes, even when they do not decode.
		return writeValue(e.out, f, nil, ent.Data)
	}
	if errors.Is(err, backends.ErrCacheMiss) {
		return missed("")
	}
	if err != nil {
		return err
	}
	if f == "raw" {
		return writeValue(e.out, f, nil, ent.Data)
	}
	v, err := backends.Decode(b, k, ent)
	if errors.Is(err, backends.ErrCacheMiss) { // stored, but a miss to the site's client
		return missed(fmt.Sprintf("get: %q: %v", a[0], err))
	}
	if err != nil {
		return err
	}
	return writeValue(e.out, f, v, ent.Data)
}

// keyValueTimeout is the common preamble of set, add and get-or-set.
func keyValueTimeout(e *env) (string, pickle.Value, backends.Timeout, error) {
	a, err := args(e.c, 1, 2, "KEY VALUE|-")
	if err != nil {
		return "", nil, backends.Timeout{}, err
	}
	v, err := e.valueArg(a, 1)
	if err != nil {
		return "", nil, backends.Timeout{}, err
	}
	t, err := e.timeout()
	if err != nil {
		return "", nil, backends.Timeout{}, err
	}
	k, err := e.key(a[0])
	return k, v, t, err
}

func cmdSet(e *env) error {
	k, v, t, err := keyValueTimeout(e)
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	return backends.Set(e.ctx, b, k, v, t)
}

func cmdAdd(e *env) error {
	k, v, t, err := keyValueTimeout(e)
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	ok, err := backends.Add(e.ctx, b, k, v, t)
	if err != nil {
		return err
	}
	if !ok {
		return miss(fmt.Sprintf("not added: %q already holds a live value", e.c.Args().First()))
	}
	return nil
}

func cmdGetOrSet(e *env) error {
	f, err := format(e.c, "text", "json", "repr")
	if err != nil {
		return err
	}
	k, v, t, err := keyValueTimeout(e)
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	got, _, err := backends.GetOrSet(e.ctx, b, k, v, t)
	if err != nil {
		return err
	}
	return writeValue(e.out, f, got, nil)
}

// oneKey is the preamble of the commands taking exactly KEY.
func oneKey(e *env) (string, backends.Backend, error) {
	a, err := args(e.c, 1, 1, "KEY")
	if err != nil {
		return "", nil, err
	}
	k, err := e.key(a[0])
	if err != nil {
		return "", nil, err
	}
	b, err := e.backend()
	return k, b, err
}

func cmdDelete(e *env) error {
	k, b, err := oneKey(e)
	if err != nil {
		return err
	}
	ok, err := b.Delete(e.ctx, k)
	if err != nil {
		return err
	}
	if !ok {
		return miss(fmt.Sprintf("%q was not in the cache", e.c.Args().First()))
	}
	return nil
}

func cmdTouch(e *env) error {
	t, err := e.timeout()
	if err != nil {
		return err
	}
	k, b, err := oneKey(e)
	if err != nil {
		return err
	}
	ok, err := backends.Touch(e.ctx, b, k, t)
	if err != nil {
		return err
	}
	if !ok {
		return miss(fmt.Sprintf("%q is not in the cache", e.c.Args().First()))
	}
	return nil
}

func cmdHasKey(e *env) error {
	k, b, err := oneKey(e)
	if err != nil {
		return err
	}
	ok, err := backends.HasKey(e.ctx, b, k)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(e.out, "false")
		return miss("")
	}
	fmt.Fprintln(e.out, "true")
	return nil
}

func cmdIncr(e *env, sign int64) error {
	k, b, err := oneKey(e)
	if err != nil {
		return err
	}
	delta := e.c.Int64("delta")
	if sign < 0 {
		if delta == math.MinInt64 {
			return usagef("--delta out of range")
		}
		delta = -delta
	}
	v, err := backends.Incr(e.ctx, b, k, delta, e.cfg.Settings.Timeout)
	if errors.Is(err, backends.ErrCacheMiss) {
		return miss(fmt.Sprintf("key %q not found", e.c.Args().First()))
	}
	if err != nil {
		return err
	}
	return writeValue(e.out, "text", v, nil)
}

func cmdTTL(e *env) error {
	k, b, err := oneKey(e)
	if err != nil {
		return err
	}
	tl, ok := b.(backends.TTLer)
	if !ok {
		return fmt.Errorf("ttl: %w", backends.ErrUnsupported)
	}
	t, err := tl.TTL(e.ctx, k)
	if errors.Is(err, backends.ErrCacheMiss) {
		return miss("")
	}
	if err != nil {
		return err
	}
	if t.Forever {
		fmt.Fprintln(e.out, "none")
		return nil
	}
	fmt.Fprintln(e.out, ttlSeconds(t))
	return nil
}

// ttlSeconds is the whole seconds a key has left, rounded up, written out
// in full: a file cache's expiry is any float Django pickled (a timeout of
// 1e20 is stored as such), beyond an int64 of seconds.
func ttlSeconds(t backends.Timeout) json.Number {
	return json.Number(strconv.FormatFloat(math.Ceil(t.Seconds), 'f', 0, 64))
}

func cmdMakeKey(e *env) error {
	a, err := args(e.c, 1, 1, "KEY")
	if err != nil {
		return err
	}
	k, err := e.key(a[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(e.out, k)
	return nil
}
