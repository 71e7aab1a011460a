package commands

import (
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/backends/pickle"
)

// maxStdinValue bounds a value read from stdin.
const maxStdinValue = 64 << 20

// readValueArg returns the text of a VALUE argument; "-" reads stdin.
func (e *env) readValueArg(arg string, typ string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	data, err := io.ReadAll(io.LimitReader(e.c.App.Reader, maxStdinValue+1))
	if err != nil {
		return "", usagef("reading the value from stdin: %v", err)
	}
	if len(data) > maxStdinValue {
		return "", usagef("the value on stdin is larger than %d bytes", maxStdinValue)
	}
	s := string(data)
	if typ != "bytes" {
		// One trailing newline is the shell's, not the value's.
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	}
	return s, nil
}

// parseValue turns VALUE text into a Python value according to --type.
func parseValue(s, typ string) (pickle.Value, error) {
	switch typ {
	case "str", "":
		return s, nil
	case "bytes":
		return []byte(s), nil
	case "int":
		t := strings.TrimSpace(s)
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n, nil
		}
		n, ok := new(big.Int).SetString(t, 10)
		if !ok {
			return nil, usagef("--type int: %q is not an integer", s)
		}
		return n, nil
	case "float":
		f, err := pickle.ParsePyFloat(strings.TrimSpace(s))
		if err != nil {
			return nil, usagef("--type float: %q is not a number", s)
		}
		return f, nil
	case "bool":
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
		return nil, usagef("--type bool: %q is not true or false", s)
	case "none":
		return pickle.None{}, nil
	case "json":
		v, err := pickle.FromJSON([]byte(s))
		if err != nil {
			return nil, usagef("--type json: %v", err)
		}
		return v, nil
	}
	return nil, usagef("unknown --type %q (choose str, int, float, bool, none, json, bytes)", typ)
}

// valueArg reads and parses the VALUE argument of set/add/get-or-set.
func (e *env) valueArg(a []string, idx int) (pickle.Value, error) {
	typ := e.c.String("type")
	if idx >= len(a) {
		if typ == "none" {
			return pickle.None{}, nil
		}
		return nil, usagef("%s: missing VALUE (use - to read it from stdin)", e.c.Command.Name)
	}
	s, err := e.readValueArg(a[idx], typ)
	if err != nil {
		return nil, err
	}
	return parseValue(s, typ)
}
