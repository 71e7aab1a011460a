package commands

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// batchSize is how many keys go to the backend per bulk call: large enough
// to amortise round trips, small enough to keep memory flat (see
// docs/performance.md).
const batchSize = 500

func bulkCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "get-many", Usage: "print one JSON object of the KEYs present", ArgsUsage: "KEY...|-",
			Description: "Fetches the keys in batches (multi-get where the backend has it). Missing keys are left\n" +
				"out, as Django's get_many does. --format repr prints a Python dict instead. - reads keys from stdin.",
			Flags:  keyFlags(valueFormatFlags()...),
			Action: action(cmdGetMany),
		},
		{
			Name: "set-many", Usage: "store many values from JSON lines or one JSON object", ArgsUsage: "-|FILE",
			Description: "Input: JSON lines {\"key\": K, \"value\": V} or a single JSON object {K: V, ...}, from stdin (-)\n" +
				"or FILE. Values are JSON (objects become dicts; tagged forms such as {\"$py\": \"bytes\", ...} are\n" +
				"understood, see docs/value-formats.md). Streams in batches; prints a summary on stderr and the\n" +
				"keys that failed on stdout (exit 3 if any failed).",
			Flags:  keyFlags(timeoutFlag, keepGoingFlag),
			Action: action(cmdSetMany),
		},
		{
			Name: "delete-many", Usage: "delete the given KEYs (- reads keys from stdin, one per line)", ArgsUsage: "KEY...|-",
			Flags:  keyFlags(dryRun, keepGoing),
			Action: action(cmdDeleteMany),
		},
	}
}

// keySource yields user keys from the arguments, or stdin lines for "-".
func (e *env) keySource(a []string, fn func(string) error) error {
	if len(a) == 1 && a[0] == "-" {
		sc := bufio.NewScanner(e.c.App.Reader)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			if line == "" {
				continue
			}
			if err := fn(line); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return usagef("reading keys from stdin: %v", err)
		}
		return nil
	}
	for _, k := range a {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// batcher collects distinct final keys, each with the user key it came
// from (the last one, when two user keys give the same final key), and
// flushes them in batches. users[i] belongs to finals[i]; flush owns both
// slices.
type batcher struct {
	finals []string
	users  []string
	index  map[string]int // position of each final key in the current batch
	flush  func(finals, users []string) error
}

func newBatcher(flush func(finals, users []string) error) *batcher {
	return &batcher{index: make(map[string]int, batchSize), flush: flush}
}

func (bt *batcher) add(final, user string) error {
	if i, dup := bt.index[final]; dup {
		bt.users[i] = user
		return nil
	}
	if bt.finals == nil {
		bt.finals, bt.users = make([]string, 0, batchSize), make([]string, 0, batchSize)
	}
	bt.index[final] = len(bt.finals)
	bt.finals = append(bt.finals, final)
	bt.users = append(bt.users, user)
	if len(bt.finals) >= batchSize {
		return bt.done()
	}
	return nil
}

func (bt *batcher) done() error {
	if len(bt.finals) == 0 {
		return nil
	}
	err := bt.flush(bt.finals, bt.users)
	bt.finals, bt.users = nil, nil
	clear(bt.index) // the map keeps its room for the next batch
	return err
}

func cmdGetMany(e *env) error {
	a, err := args(e.c, 1, -1, "KEY...|-")
	if err != nil {
		return err
	}
	f, err := format(e.c, "text", "json", "repr")
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	defer lessGC()()
	w := bufio.NewWriterSize(e.out, 64<<10)
	defer w.Flush()
	opening, sep, kv, closing := "{", ", ", ": ", "}\n"
	if f != "repr" {
		sep, kv = ",", ":"
	}
	io.WriteString(w, opening)
	// A goroutine reads the keys and starts each batch's fetch in a
	// goroutine of its own, at most lanes at a time, while this one decodes
	// and writes the batches in input order: the network, the server and
	// the CPU work overlap.
	type fetched struct {
		finals, users []string
		got           map[string]backends.Entry
		err           error
	}
	lanes := backends.BulkLanes(b)
	results := make(chan chan fetched, lanes) // in input order
	inFlight := make(chan struct{}, lanes)
	stop := make(chan struct{})
	go func() {
		defer close(results)
		bt := newBatcher(func(finals, users []string) error {
			select {
			case inFlight <- struct{}{}:
			case <-stop:
				return context.Canceled
			}
			r := make(chan fetched, 1)
			go func() {
				got, err := backends.GetMany(e.ctx, b, finals)
				<-inFlight
				r <- fetched{finals, users, got, err}
			}()
			select {
			case results <- r:
			case <-stop:
				return context.Canceled
			}
			return nil
		})
		err := e.keySource(a, func(user string) error {
			fk, err := e.key(user)
			if err != nil {
				return err
			}
			return bt.add(fk, user)
		})
		if err == nil {
			err = bt.done()
		}
		if err != nil {
			r := make(chan fetched, 1)
			r <- fetched{err: err}
			select {
			case results <- r:
			case <-stop:
			}
		}
	}()
	defer close(stop)
	var vb bytes.Buffer
	enc := json.NewEncoder(&vb)
	enc.SetEscapeHTML(false)
	n := 0
	for next := range results {
		r := <-next
		if r.err != nil {
			return r.err
		}
		for i, fk := range r.finals {
			ent, ok := r.got[fk]
			if !ok {
				continue
			}
			v, err := backends.Decode(b, fk, ent)
			if err != nil {
				return err
			}
			if n > 0 {
				io.WriteString(w, sep)
			}
			n++
			user := r.users[i]
			if f == "repr" {
				io.WriteString(w, pickle.Repr(user)+kv+pickle.Repr(v))
				continue
			}
			if !writePlainJSONString(w, user) {
				vb.Reset()
				enc.Encode(user)
				w.Write(bytes.TrimRight(vb.Bytes(), "\n"))
			}
			io.WriteString(w, kv)
			if s, ok := v.(string); ok && writePlainJSONString(w, s) {
				continue
			}
			vb.Reset()
			if err := enc.Encode(pickle.ToJSON(v)); err != nil {
				return err
			}
			w.Write(bytes.TrimRight(vb.Bytes(), "\n"))
		}
	}
	io.WriteString(w, closing)
	return nil
}

// lessGC lets the heap grow to three times what is live before a
// collection (GOGC=200) for the rest of a bulk command, and returns the
// function that restores the setting. A bulk command's live heap is a few
// batches, so this costs a few MiB and saves about a tenth of its
// instructions (bench/instructions.sh). A GOGC in the environment wins.
func lessGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {} // the user's setting stands
	}
	old := debug.SetGCPercent(200)
	return func() { debug.SetGCPercent(old) }
}

// writePlainJSONString writes s as a JSON string when s is printable
// ASCII without quotes or backslashes, which encoding/json (HTML escaping
// off) writes unchanged between quotes; it reports false, writing nothing,
// for any other s.
func writePlainJSONString(w *bufio.Writer, s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	w.WriteByte('"')
	w.WriteString(s)
	w.WriteByte('"')
	return true
}

func cmdSetMany(e *env) error {
	a, err := args(e.c, 1, 1, "-|FILE")
	if err != nil {
		return err
	}
	t, err := e.timeout()
	if err != nil {
		return err
	}
	var in io.Reader = e.c.App.Reader
	prog := e.newProgress("set-many")
	if a[0] != "-" {
		fh, err := os.Open(a[0])
		if err != nil {
			return usagef("set-many: %v", err)
		}
		defer fh.Close()
		in = fh
		prog.total, prog.estimated = estimateLines(fh)
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	defer lessGC()()
	// Parsing and encoding overlap with the network: each batch is written
	// by a goroutine of its own while the next is being prepared, with up
	// to lanes batches in flight on separate connections. Batches start in
	// input order, so what is stored when a batch fails is still the input
	// up to about that batch (the failed and skipped keys come after it).
	stored, failed, skipped := 0, 0, 0
	var lastErr error
	var mu sync.Mutex // the counters, lastErr, prog and e.out, shared by the writers
	var stopped atomic.Bool
	keepGoing := e.c.Bool("keep-going")
	write := func(items []backends.Item) {
		if stopped.Load() {
			mu.Lock()
			skipped += len(items)
			mu.Unlock()
			return
		}
		bad, err := backends.SetMany(e.ctx, b, items, t)
		mu.Lock()
		defer mu.Unlock()
		prog.add(len(items))
		for _, k := range bad {
			fmt.Fprintln(e.out, k)
		}
		failed += len(bad)
		stored += len(items) - len(bad)
		if err != nil {
			lastErr = err
			// Without --keep-going the rest of the input is still read and
			// counted as skipped, so the summary accounts for every key.
			if e.ctx.Err() != nil || !keepGoing {
				stopped.Store(true)
			}
		}
	}
	lanes := backends.BulkLanes(b)
	// Key hashes of the batches being written: a batch that repeats a key of
	// one of them waits until everything in flight is written, so the
	// writes of a repeated key reach the server in input order and the last
	// one wins. (A slow batch can stay in flight while many later ones
	// pass it; two keys with equal hashes only cost that wait.)
	type batch struct {
		items []backends.Item
		keys  map[uint64]struct{} // nil with one lane
	}
	var flyingMu sync.Mutex
	flying := map[*batch]struct{}{}
	work := make(chan *batch) // a batch is taken by an idle writer
	var inFlight, writers sync.WaitGroup
	for range lanes {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for bt := range work {
				write(bt.items)
				flyingMu.Lock()
				delete(flying, bt)
				flyingMu.Unlock()
				inFlight.Done()
			}
		}()
	}
	seed := maphash.MakeSeed()
	send := func(items []backends.Item) {
		bt := &batch{items: items}
		if lanes > 1 {
			bt.keys = make(map[uint64]struct{}, len(items))
			for _, it := range items {
				bt.keys[maphash.String(seed, it.Key)] = struct{}{}
			}
			flyingMu.Lock()
			repeats := false
		check:
			for other := range flying {
				for h := range bt.keys {
					if _, ok := other.keys[h]; ok {
						repeats = true
						break check
					}
				}
			}
			flyingMu.Unlock()
			if repeats {
				inFlight.Wait()
			}
			flyingMu.Lock()
			flying[bt] = struct{}{}
			flyingMu.Unlock()
		}
		inFlight.Add(1)
		work <- bt
	}
	items := make([]backends.Item, 0, batchSize)
	err = readPairs(in, func(key string, raw json.RawMessage) error {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		v, err := pickle.FromJSON(raw)
		if err != nil {
			return usagef("set-many: value of %q: %v", key, err)
		}
		fk, err := e.key(key)
		if err != nil {
			return err
		}
		ent, err := b.Codec().Encode(v)
		if err != nil {
			return fmt.Errorf("set-many: cannot encode the value of %q: %w", key, err)
		}
		items = append(items, backends.Item{Key: fk, Entry: ent})
		if len(items) >= batchSize {
			send(items)
			items = make([]backends.Item, 0, batchSize)
		}
		return nil
	})
	if cerr := e.ctx.Err(); cerr != nil {
		err = cerr // an interruption, not bad input (exit 130)
	}
	if len(items) > 0 {
		send(items)
	}
	close(work)
	writers.Wait()
	prog.finish()
	fmt.Fprintf(e.errw, "set-many: %d stored, %d failed, %d skipped\n", stored, failed, skipped)
	if err != nil {
		return err
	}
	if failed > 0 || skipped > 0 {
		if lastErr != nil {
			return lastErr
		}
		return fmt.Errorf("set-many: %d key(s) could not be stored: %w", failed, backends.ErrUnavailable)
	}
	return nil
}

// estimateLines guesses a file's line count from its size and the mean
// length of its first lines (the progress total is labelled an estimate).
func estimateLines(f *os.File) (int, bool) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, false
	}
	buf := make([]byte, 64<<10)
	n, _ := f.ReadAt(buf, 0)
	lines := bytes.Count(buf[:n], []byte("\n"))
	if lines == 0 {
		return 0, false
	}
	if int64(n) >= st.Size() {
		return lines, false
	}
	return int(st.Size() * int64(lines) / int64(n)), true
}

// readPairs streams (key, raw JSON value) pairs from JSON lines of
// {"key": K, "value": V} or from one JSON object {K: V, ...}.
func readPairs(r io.Reader, fn func(string, json.RawMessage) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	if isJSONLines(br) {
		return readLines(br, fn)
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return usagef("set-many: invalid JSON input: %v", err)
		}
		if tok != json.Delim('{') {
			return usagef("set-many: expected a JSON object, found %v", tok)
		}
		// Read the object's members, deciding on the way whether it is a
		// {"key":..,"value":..} line or a whole mapping.
		var pending []string
		var raws []json.RawMessage
		mapping := false
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return usagef("set-many: invalid JSON input: %v", err)
			}
			name, _ := kt.(string)
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return usagef("set-many: invalid JSON input: %v", err)
			}
			if mapping {
				if err := fn(name, raw); err != nil {
					return err
				}
				continue
			}
			pending, raws = append(pending, name), append(raws, raw)
			if name != "key" && name != "value" {
				mapping = true
				for i := range pending {
					if err := fn(pending[i], raws[i]); err != nil {
						return err
					}
				}
			}
		}
		if _, err := dec.Token(); err != nil { // closing brace
			return usagef("set-many: invalid JSON input: %v", err)
		}
		if mapping {
			continue
		}
		var key string
		var val json.RawMessage
		haveKey, haveVal := false, false
		for i, n := range pending {
			if n == "key" {
				if err := json.Unmarshal(raws[i], &key); err != nil {
					return usagef("set-many: \"key\" must be a string")
				}
				haveKey = true
			} else {
				val, haveVal = raws[i], true
			}
		}
		if !haveKey || !haveVal {
			return usagef("set-many: each line needs \"key\" and \"value\"")
		}
		if err := fn(key, val); err != nil {
			return err
		}
	}
}

// isJSONLines peeks at the first line: a {"key": .., "value": ..} object
// alone on it means JSON lines, read a line at a time (the fast path).
func isJSONLines(br *bufio.Reader) bool {
	head, _ := br.Peek(64 << 10)
	head = bytes.TrimLeft(head, " \t\r\n")
	line, _, _ := bytes.Cut(head, []byte("\n"))
	var m map[string]json.RawMessage
	if json.Unmarshal(line, &m) != nil || len(m) != 2 {
		return false
	}
	_, k := m["key"]
	_, v := m["value"]
	return k && v
}

// fastLine reads the common shape {"key": "<plain text>", "value": <JSON>}
// without encoding/json (the bulk of set-many's CPU otherwise); anything
// else — escapes, other member order, odd spacing — returns ok=false and
// goes through encoding/json. The value is checked by the caller's decoder.
func fastLine(line []byte) (key string, raw json.RawMessage, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte(`{"key":`))
	if !found {
		return "", nil, false
	}
	rest = bytes.TrimLeft(rest, " ")
	if len(rest) == 0 || rest[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return "", nil, false
	}
	k := rest[1 : 1+end]
	for _, c := range k {
		if c == '\\' || c < 0x20 {
			return "", nil, false
		}
	}
	if !utf8.Valid(k) {
		return "", nil, false
	}
	rest = bytes.TrimLeft(rest[2+end:], " ")
	rest, found = bytes.CutPrefix(rest, []byte(`,`))
	if !found {
		return "", nil, false
	}
	rest = bytes.TrimLeft(rest, " ")
	rest, found = bytes.CutPrefix(rest, []byte(`"value":`))
	if !found || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return "", nil, false
	}
	v := bytes.TrimSpace(rest[:len(rest)-1])
	if _, plain := pickle.PlainJSONString(v); !plain && !json.Valid(v) {
		return "", nil, false
	}
	return string(k), v, true
}

type jsonLine struct {
	Key   *string         `json:"key"`
	Value json.RawMessage `json:"value"`
}

func readLines(br *bufio.Reader, fn func(string, json.RawMessage) error) error {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<16), maxStdinValue)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if key, raw, ok := fastLine(line); ok {
			if err := fn(key, raw); err != nil {
				return err
			}
			continue
		}
		var l jsonLine
		if err := json.Unmarshal(line, &l); err != nil {
			return usagef("set-many: line %d: invalid JSON: %v", n, err)
		}
		if l.Key == nil || l.Value == nil {
			return usagef("set-many: each line needs \"key\" and \"value\"")
		}
		if err := fn(*l.Key, l.Value); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return usagef("set-many: reading the input: %v", err)
	}
	return nil
}

func cmdDeleteMany(e *env) error {
	a, err := args(e.c, 1, -1, "KEY...|-")
	if err != nil {
		return err
	}
	var b backends.Backend
	if !e.c.Bool("dry-run") {
		if b, err = e.backend(); err != nil {
			return err
		}
	}
	requested, deleted, failedBatches := 0, 0, 0
	var lastErr error
	unknown := false
	bt := newBatcher(func(finals, _ []string) error {
		requested += len(finals)
		if b == nil {
			for _, fk := range finals {
				fmt.Fprintln(e.out, fk)
			}
			return nil
		}
		n, err := backends.DeleteMany(e.ctx, b, finals)
		if n < 0 {
			unknown = true
		} else {
			deleted += n
		}
		if err != nil && e.c.Bool("keep-going") && e.ctx.Err() == nil {
			failedBatches++
			lastErr = err
			return nil
		}
		return err
	})
	err = e.keySource(a, func(user string) error {
		fk, err := e.key(user)
		if err != nil {
			return err
		}
		return bt.add(fk, user)
	})
	if err == nil {
		err = bt.done()
	}
	switch {
	case b == nil:
		fmt.Fprintf(e.errw, "delete-many: dry run, would delete %d key(s)\n", requested)
	case unknown:
		fmt.Fprintf(e.errw, "delete-many: %d key(s) requested\n", requested)
	default:
		fmt.Fprintf(e.errw, "delete-many: %d of %d key(s) deleted\n", deleted, requested)
	}
	if failedBatches > 0 {
		fmt.Fprintf(e.errw, "delete-many: %d batch(es) failed\n", failedBatches)
	}
	if err == nil {
		err = lastErr
	}
	return err
}
