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
	"maps"
	"os"
	"runtime/debug"
	"slices"
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
			Flags:  keyFlags(documentFormatFlags()...),
			Action: actionMany(cmdGetMany),
		},
		{
			Name: "set-many", Usage: "store many values from JSON lines or one JSON object", ArgsUsage: "-|FILE",
			Description: "Input: JSON lines {\"key\": K, \"value\": V} or a single JSON object {K: V, ...}, from stdin (-)\n" +
				"or FILE. Values are JSON (objects become dicts; tagged forms such as {\"$py\": \"bytes\", ...} are\n" +
				"understood, see docs/value-formats.md). Streams in batches; prints a summary on stderr and the\n" +
				"keys that failed on stdout, as the input gave them (exit 3 if any failed).",
			Flags:  keyFlags(timeoutFlag, keepGoingFlag),
			Action: actionMany(cmdSetMany),
		},
		{
			Name: "delete-many", Usage: "delete the given KEYs (- reads keys from stdin, one per line)", ArgsUsage: "KEY...|-",
			Flags:  keyFlags(dryRun, keepGoing),
			Action: actionMany(cmdDeleteMany),
		},
	}
}

// dashAlone refuses "-" (the keys from stdin) beside KEY arguments, which
// read it as a key named "-" and never read stdin.
func dashAlone(a []string) error {
	if len(a) > 1 && slices.Contains(a, "-") {
		return usagef("- (the keys from stdin) goes alone, not beside KEY arguments")
	}
	return nil
}

// stdinArgs is the argument list of a command that reads stdin with
// --stdin (incr-version, invalidate-page): with the flag, no arguments and
// the key source reads stdin; without it, no "-", which would read stdin
// too (or be taken for a key named "-"). what names an argument, many
// several of them ("KEY", "keys").
func stdinArgs(a []string, stdin bool, what, many string) ([]string, error) {
	if stdin {
		if len(a) > 0 {
			return nil, usagef("with --stdin the %s come from stdin; give no %s arguments (got %d)", many, what, len(a))
		}
		return []string{"-"}, nil
	}
	if slices.Contains(a, "-") {
		return nil, usagef("- is not a %s here; --stdin reads them from stdin", what)
	}
	return a, nil
}

// keySource yields user keys from the arguments, or stdin lines for "-".
// Stdin is read through a cancelReader, so an interruption ends a wait for
// the next line at once (with the context's error).
// maxKeyLine is the longest line of a key list on stdin (a key is at
// most 250 bytes for memcached, and no backend stores megabyte keys).
const maxKeyLine = 1 << 20

func (e *env) keySource(a []string, fn func(string) error) error {
	if len(a) == 1 && a[0] == "-" {
		cr := newCancelReader(e.ctx, e.c.App.Reader)
		defer cr.stop()
		sc := bufio.NewScanner(cr)
		// Room for the line's "\r\n" too: a line of maxKeyLine bytes is
		// read, one byte more is refused (below, or by the scanner).
		sc.Buffer(make([]byte, 64<<10), maxKeyLine+2)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimRight(sc.Text(), "\r")
			if len(line) > maxKeyLine {
				return usagef("reading keys from stdin: line %d is longer than %d bytes, the longest key line read", n, maxKeyLine)
			}
			if line == "" {
				continue
			}
			if err := fn(line); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			if cerr := e.ctx.Err(); cerr != nil {
				return cerr
			}
			if errors.Is(err, bufio.ErrTooLong) {
				return usagef("reading keys from stdin: line %d is longer than %d bytes, the longest key line read", n+1, maxKeyLine)
			}
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

// keyCount is the progress total of a key list: exact for arguments, an
// estimate (or exact, when it could read it all) for a stdin redirected
// from a regular file, unknown (0) for a pipe or a terminal.
func (e *env) keyCount(a []string) (int, bool) {
	if len(a) == 1 && a[0] == "-" {
		if f, ok := e.c.App.Reader.(*os.File); ok {
			return estimateLines(f)
		}
		return 0, false
	}
	return len(a), false
}

// cancelReader reads r from a goroutine of its own and hands the data over
// in blocks, so that a Read waiting on a slow input (a stdin that stays
// open) returns as soon as ctx is done, with ctx's error, instead of when
// the next line arrives. At most two blocks are buffered.
type cancelReader struct {
	ctx  context.Context
	data chan readBlock
	free chan []byte
	done chan struct{} // closed by stop
	cur  readBlock
	off  int
	err  error
}

type readBlock struct {
	buf []byte // the whole buffer, handed back to free once consumed
	n   int
	err error
}

func newCancelReader(ctx context.Context, r io.Reader) *cancelReader {
	cr := &cancelReader{ctx: ctx, data: make(chan readBlock, 1), free: make(chan []byte, 2), done: make(chan struct{})}
	cr.free <- make([]byte, 64<<10)
	cr.free <- make([]byte, 64<<10)
	go cr.pump(r)
	return cr
}

// pump reads r until an error or EOF, or until stop or ctx ends it (a
// Read already waiting on r ends only when r returns).
func (cr *cancelReader) pump(r io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-cr.free:
		case <-cr.done:
			return
		case <-cr.ctx.Done():
			return
		}
		n, err := r.Read(buf)
		select {
		case cr.data <- readBlock{buf, n, err}:
		case <-cr.done:
			return
		case <-cr.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (cr *cancelReader) Read(p []byte) (int, error) {
	for cr.off >= cr.cur.n {
		if cr.err != nil {
			return 0, cr.err
		}
		if cr.cur.buf != nil {
			cr.free <- cr.cur.buf // never blocks: there are only two buffers
			cr.cur = readBlock{}
		}
		if err := cr.ctx.Err(); err != nil {
			cr.err = err
			return 0, err
		}
		select {
		case b := <-cr.data:
			cr.cur, cr.off, cr.err = b, 0, b.err
		case <-cr.ctx.Done():
			cr.err = cr.ctx.Err()
			return 0, cr.err
		}
	}
	n := copy(p, cr.cur.buf[cr.off:cr.cur.n])
	cr.off += n
	return n, nil
}

// stop ends the reading goroutine once its current Read returns.
func (cr *cancelReader) stop() { close(cr.done) }

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

// lanes runs the bulk calls of a command in goroutines of their own, at
// most n at a time (the backend's BulkLanes), so that the next batch is
// sent while the replies of the last are read and decoded.
type lanes struct {
	slots chan struct{}
	wg    sync.WaitGroup
}

func newLanes(n int) *lanes { return &lanes{slots: make(chan struct{}, max(n, 1))} }

// errLanesStopped: lanes.start gave up because its stop channel closed.
var errLanesStopped = errors.New("bulk lanes stopped")

// start waits for a free lane and runs fn in it. It gives up if ctx ends
// first (returning ctx's error: fn never ran) or stop is closed first
// (errLanesStopped; a nil stop never is).
func (l *lanes) start(ctx context.Context, stop <-chan struct{}, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err // select picks at random among ready cases: an ended ctx wins
	}
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errLanesStopped
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer func() { <-l.slots }()
		fn()
	}()
	return nil
}

// wait returns when every fn started has returned.
func (l *lanes) wait() { l.wg.Wait() }

func cmdGetMany(e *env) error {
	a, err := args(e.c, 1, -1, "KEY...|-")
	if err == nil {
		err = dashAlone(a)
	}
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
	prog := e.newProgress("get-many")
	e.shareTerminal(prog, document)
	prog.total, prog.estimated = e.keyCount(a)
	finish := sync.OnceFunc(prog.finish)
	defer finish()
	w := bufio.NewWriterSize(e.out, 64<<10)
	opening, sep, kv, closing := "{", ", ", ": ", "}\n"
	if f != "repr" {
		sep, kv = ",", ":"
	}
	// Stdout stays empty until the first batch is fetched; from then on it
	// is always a whole document, closed whatever ends the command (an
	// error, an interruption, --deadline), holding the keys found so far.
	opened := false
	open := func() {
		if !opened {
			io.WriteString(w, opening)
			opened = true
		}
	}
	defer func() {
		if opened {
			io.WriteString(w, closing)
		}
		w.Flush()
	}()
	// A goroutine reads the keys and starts each batch's fetch in a
	// goroutine of its own, at most lanes at a time, while this one decodes
	// and writes the batches in input order: the network, the server and
	// the CPU work overlap.
	type fetched struct {
		finals, users []string
		got           map[string]backends.Entry
		err           error
	}
	nLanes := backends.BulkLanes(b)
	results := make(chan chan fetched, nLanes) // in input order
	fetches := newLanes(nLanes)
	stop := make(chan struct{})
	notStarted := 0 // keys read whose fetch never started (the reader's; read once results is closed)
	go func() {
		defer close(results)
		bt := newBatcher(func(finals, users []string) error {
			if err := e.ctx.Err(); err != nil {
				notStarted += len(finals)
				return err
			}
			r := make(chan fetched, 1)
			if err := fetches.start(e.ctx, stop, func() {
				got, err := backends.GetMany(e.ctx, b, finals)
				r <- fetched{finals, users, got, err}
			}); err != nil {
				if err != errLanesStopped {
					notStarted += len(finals)
				}
				return err
			}
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
		} else {
			notStarted += len(bt.finals)
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
	n, asked, notFetched := 0, 0, 0
	var stopped error // the interruption (or --deadline) that ended the fetching
	for next := range results {
		r := <-next
		if stopped != nil {
			notFetched += len(r.finals) // drained: fetched too late or not at all
			continue
		}
		// A value that cannot be decoded ends the command, after the keys
		// before it (a backend may report it for the batch, beside the
		// entries it could read).
		var undecodable error
		badKey := ""
		if de := (*backends.DecodeError)(nil); r.err != nil && errors.As(r.err, &de) && e.ctx.Err() == nil {
			undecodable, badKey, r.err = r.err, de.Key, nil
		}
		if r.err != nil {
			if e.ctx.Err() == nil && !e.atDeadline(r.err) {
				return r.err
			}
			// Interrupted, or --deadline (a socket timeout may fire just
			// before the context's): what was fetched before stays a
			// valid document.
			stopped = e.stopCause(r.err)
			notFetched += len(r.finals)
			continue
		}
		open()
		for i, fk := range r.finals {
			if undecodable != nil && fk == badKey {
				return undecodable
			}
			ent, ok := r.got[fk]
			if !ok {
				continue
			}
			v, err := backends.Decode(b, fk, ent)
			if errors.Is(err, backends.ErrCacheMiss) {
				continue // stored, but a miss to the site's client (django-newcache's herd deadline)
			}
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
		if undecodable != nil {
			return undecodable
		}
		asked += len(r.finals)
		prog.add(len(r.finals))
	}
	if stopped == nil {
		open() // no key at all (an empty stdin): an empty document
	}
	if opened {
		io.WriteString(w, closing)
		opened = false
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if stopped != nil {
		finish()
		fmt.Fprintf(e.errw, "get-many: %d of %d key(s) found, %d not fetched%s\n", n, asked, notFetched+notStarted, stopNote(stopped))
		return stopped
	}
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
	}
	if fh, ok := in.(*os.File); ok {
		prog.total, prog.estimated = estimateLines(fh)
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	defer lessGC()()
	// Reading goes through a cancelReader: an interruption ends a wait on
	// a slow stdin at once.
	cr := newCancelReader(e.ctx, in)
	defer cr.stop()
	e.shareTerminal(prog, fewLines)
	out := e.out
	// Parsing and encoding overlap with the network: each batch is written
	// by a goroutine of its own while the next is being prepared, with up
	// to lanes batches in flight on separate connections. Batches start in
	// input order, so what is stored when a batch fails is still the input
	// up to about that batch (the failed and skipped keys come after it).
	stored, failed, skipped := 0, 0, 0
	var lastErr error
	reason := ""      // why keys were refused, when the backend said
	var mu sync.Mutex // the counters, lastErr, reason, prog and out, shared by the writers
	var stopped atomic.Bool
	keepGoing := e.c.Bool("keep-going")
	// A batch: the items to store and the user key of each (what the
	// failed keys are listed as, so they can be given again).
	type batch struct {
		items  []backends.Item
		users  []string
		keys   map[uint64]struct{} // nil with one lane
		hashes []uint64            // the keys' hashes, to look up in other batches' keys
	}
	write := func(bt *batch) {
		// A batch not yet begun when an earlier one failed (without
		// --keep-going) or the command was interrupted is skipped: never
		// attempted, so neither stored nor failed.
		if stopped.Load() || e.ctx.Err() != nil {
			mu.Lock()
			skipped += len(bt.items)
			mu.Unlock()
			return
		}
		bad, err := backends.SetMany(e.ctx, b, bt.items, t)
		mu.Lock()
		defer mu.Unlock()
		prog.add(len(bt.items))
		for _, k := range failedUserKeys(bad, bt.items, bt.users) {
			fmt.Fprintln(out, k)
		}
		failed += len(bad)
		stored += len(bt.items) - len(bad)
		var ns *backends.NotStoredError
		if errors.As(err, &ns) {
			// Keys refused one by one (a value too large): the batch
			// itself went through, so the command goes on.
			if reason == "" {
				reason = ns.Reason
			}
			err = nil
		}
		if err != nil {
			lastErr = err
			// Without --keep-going the rest of the input is still read and
			// counted as skipped, so the summary accounts for every key.
			if e.ctx.Err() != nil || !keepGoing {
				stopped.Store(true)
			}
		}
	}
	nLanes := backends.BulkLanes(b)
	writers := newLanes(nLanes)
	// Key hashes of the batches being written: a batch that repeats a key of
	// one of them waits until everything in flight is written, so the
	// writes of a repeated key reach the server in input order and the last
	// one wins. (A slow batch can stay in flight while many later ones
	// pass it; two keys with equal hashes only cost that wait.)
	var flyingMu sync.Mutex
	flying := map[*batch]struct{}{}
	seed := maphash.MakeSeed()
	send := func(items []backends.Item, users []string) {
		bt := &batch{items: items, users: users}
		if nLanes > 1 {
			bt.keys = make(map[uint64]struct{}, len(items))
			bt.hashes = make([]uint64, len(items))
			for i, it := range items {
				h := maphash.String(seed, it.Key)
				bt.hashes[i] = h
				bt.keys[h] = struct{}{}
			}
			flyingMu.Lock()
			repeats := false
		check:
			for other := range flying {
				for _, h := range bt.hashes {
					if _, ok := other.keys[h]; ok {
						repeats = true
						break check
					}
				}
			}
			flyingMu.Unlock()
			if repeats {
				writers.wait()
			}
			flyingMu.Lock()
			flying[bt] = struct{}{}
			flyingMu.Unlock()
		}
		// A batch always starts: write counts it as skipped once the
		// command is stopping.
		writers.start(context.Background(), nil, func() {
			write(bt)
			flyingMu.Lock()
			delete(flying, bt)
			flyingMu.Unlock()
		})
	}
	items := make([]backends.Item, 0, batchSize)
	users := make([]string, 0, batchSize)
	err = readPairs(cr, func(key string, raw json.RawMessage) error {
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
		ent, err := backends.Encode(b.Codec(), v, t)
		if err != nil {
			return fmt.Errorf("set-many: %w", &backends.EncodeError{Key: key, Err: err})
		}
		items = append(items, backends.Item{Key: fk, Entry: ent})
		users = append(users, key)
		if len(items) >= batchSize {
			send(items, users)
			items, users = make([]backends.Item, 0, batchSize), make([]string, 0, batchSize)
		}
		return nil
	})
	if cerr := e.ctx.Err(); cerr != nil {
		err = cerr // an interruption, not bad input (exit 130)
	}
	switch {
	case len(items) == 0:
	case e.ctx.Err() != nil:
		// Read, but the interruption came first: never attempted.
		mu.Lock()
		skipped += len(items)
		mu.Unlock()
	default:
		send(items, users)
	}
	writers.wait()
	if err == nil && lastErr != nil && e.atDeadline(lastErr) {
		err = lastErr // a batch failed at --deadline: the summary says so
	}
	err = e.stopCause(err)
	prog.finish()
	fmt.Fprintf(e.errw, "set-many: %d stored, %d failed, %d skipped%s\n", stored, failed, skipped, stopNote(err))
	if err != nil {
		return err
	}
	if failed > 0 || skipped > 0 {
		if lastErr != nil {
			if keepGoing && failed > 0 {
				// The summary line says set-many already: the count and
				// the backend's reason (the server's reply) are enough.
				return fmt.Errorf("%d key(s) could not be stored: %w", failed, lastErr)
			}
			return lastErr
		}
		return notStored{failed, reason}
	}
	return nil
}

// notStored is the error of keys a backend reported not stored, with its
// reason when it gave one (exit 3).
type notStored struct {
	n      int
	reason string // the backend's reason, when it gave one
}

func (e notStored) Error() string {
	if e.reason != "" {
		return fmt.Sprintf("%d key(s) could not be stored: %s", e.n, e.reason)
	}
	return fmt.Sprintf("%d key(s) could not be stored (the backend gave no reason)", e.n)
}

func (e notStored) Unwrap() error { return backends.ErrUnavailable }

// failedUserKeys maps the final keys a SetMany reported failed back to the
// user keys of the batch, in the order reported.
func failedUserKeys(bad []string, items []backends.Item, users []string) []string {
	if len(bad) == 0 {
		return nil
	}
	if len(bad) == len(items) { // the whole batch, the usual failure
		same := true
		for i, k := range bad {
			if items[i].Key != k {
				same = false
				break
			}
		}
		if same {
			return users
		}
	}
	user := make(map[string]string, len(items))
	for i, it := range items {
		user[it.Key] = users[i]
	}
	out := make([]string, len(bad))
	for i, k := range bad {
		if u, ok := user[k]; ok {
			out[i] = u
		} else {
			out[i] = k // not a key of the batch (never expected): shown as the backend gave it
		}
	}
	return out
}

// estimateLines guesses the line count of the rest of a regular file (from
// its current offset: a redirected stdin may have been read already) from
// its size and the mean length of its first lines; the progress total is
// labelled an estimate unless the whole rest was sampled.
func estimateLines(f *os.File) (int, bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0, false
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || off >= st.Size() {
		return 0, false
	}
	size := st.Size() - off
	buf := make([]byte, 64<<10)
	n, _ := f.ReadAt(buf, off)
	lines := bytes.Count(buf[:n], []byte("\n"))
	if lines == 0 {
		return 0, false
	}
	if int64(n) >= size {
		return lines, false
	}
	return int(size * int64(lines) / int64(n)), true
}

// utf8Reader passes r's bytes on unchanged, once they are known to be
// UTF-8, and fails at the first sequence that is not. JSON text is UTF-8
// (Python's json.loads refuses other bytes), and encoding/json turns such
// bytes inside a string into U+FFFD: a key "\xff" was stored as another
// key, and two bad keys as the same one. A sequence a read cuts short is
// held back until the next read completes it.
type utf8Reader struct {
	r    io.Reader
	tail []byte // held back: an incomplete sequence at the end of the last read
	off  int64  // bytes passed on
	bad  error  // kept: a Peek that meets it must not make it go away
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	if u.bad != nil {
		return 0, u.bad
	}
	if len(p) <= len(u.tail) {
		return 0, io.ErrShortBuffer // bufio reads far more at a time
	}
	k := copy(p, u.tail)
	n, err := u.r.Read(p[k:])
	buf := p[:k+n]
	cut := len(buf)
	if err == nil {
		for j := len(buf) - 1; j >= 0 && j >= len(buf)-utf8.UTFMax; j-- {
			if utf8.RuneStart(buf[j]) {
				if !utf8.FullRune(buf[j:]) {
					cut = j
				}
				break
			}
		}
	}
	if !utf8.Valid(buf[:cut]) {
		at := 0
		for {
			r, size := utf8.DecodeRune(buf[at:cut])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		u.bad = fmt.Errorf("the input is not UTF-8 (byte %d); JSON text must be", u.off+int64(at)+1)
		return 0, u.bad
	}
	u.tail = append(u.tail[:0], buf[cut:]...)
	u.off += int64(cut)
	if cut == 0 && err == nil {
		return 0, nil
	}
	return cut, err
}

// readPairs streams (key, raw JSON value) pairs from JSON lines of
// {"key": K, "value": V} or from one JSON object {K: V, ...}.
func readPairs(r io.Reader, fn func(string, json.RawMessage) error) error {
	u := &utf8Reader{r: r}
	err := readPairsFrom(bufio.NewReaderSize(u, 1<<16), fn)
	var ue *usageError
	if u.bad != nil && errors.As(err, &ue) {
		// Whatever the parser made of the input cut short there, the
		// reason is the bytes.
		return usagef("set-many: %v", u.bad)
	}
	return err
}

func readPairsFrom(br *bufio.Reader, fn func(string, json.RawMessage) error) error {
	if isJSONLines(br) {
		return readLines(br, fn)
	}
	// The JSON decoder reads what the line reader cannot: objects spread
	// over lines, or one mapping. An object whose first member is "key" or
	// "value" is a line and holds those two only (a "timeout" beside them
	// is refused, never stored as a key of a mapping); any other object is
	// the mapping, streamed member by member, and comes alone.
	dec := json.NewDecoder(br)
	dec.UseNumber()
	lines, mapping := 0, false
	for n := 1; ; n++ {
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
		if mapping {
			return usagef("set-many: object %d follows a {K: V, ...} mapping: give JSON lines {\"key\": K, \"value\": V} or one mapping", n)
		}
		var key string
		var val json.RawMessage
		haveKey, haveVal := false, false
		for first := true; dec.More(); first = false {
			kt, err := dec.Token()
			if err != nil {
				return usagef("set-many: invalid JSON input: %v", err)
			}
			name, _ := kt.(string)
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return usagef("set-many: invalid JSON input: %v", err)
			}
			isLine := lines > 0 || haveKey || haveVal || (first && (name == "key" || name == "value"))
			switch {
			case !isLine:
				mapping = true
				if err := fn(name, raw); err != nil {
					return err
				}
			case name == "key" && !haveKey:
				if err := json.Unmarshal(raw, &key); err != nil {
					return usagef("set-many: object %d: \"key\" must be a string", n)
				}
				haveKey = true
			case name == "value" && !haveVal:
				val, haveVal = raw, true
			default:
				return usagef("set-many: object %d: a line holds \"key\" and \"value\" once each, not %q (nothing of it was stored)", n, name)
			}
		}
		if _, err := dec.Token(); err != nil { // closing brace
			return usagef("set-many: invalid JSON input: %v", err)
		}
		if mapping {
			continue
		}
		if !haveKey || !haveVal {
			if !haveKey && !haveVal && lines == 0 {
				mapping = true // {}: an empty mapping
				continue
			}
			return usagef("set-many: object %d: each line needs \"key\" and \"value\"", n)
		}
		lines++
		if err := fn(key, val); err != nil {
			return err
		}
	}
}

// isJSONLines looks at the first non-blank line: a {"key": .., "value": ..}
// object alone on it means JSON lines, read a line at a time (the fast
// path); anything else goes to the JSON decoder, which reads both forms.
// It waits for the first line only (or a full buffer, or EOF), never for
// more input than that: a slow stdin's first lines are stored while it
// stays open.
func isJSONLines(br *bufio.Reader) bool {
	var line []byte
	for {
		head, _ := br.Peek(br.Buffered()) // what is there, without reading
		head = bytes.TrimLeft(head, " \t\r\n")
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line = head[:i]
			break
		}
		if br.Buffered() == br.Size() {
			line = head // the whole input, or a line longer than the buffer
			break
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil { // one more read
			head, _ = br.Peek(br.Buffered())
			line = bytes.TrimLeft(head, " \t\r\n")
			break
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(line, &m) != nil || len(m) != 2 {
		return false
	}
	_, k := m["key"]
	_, v := m["value"]
	return k && v
}

// fastLine reads the common shape {"key": "<plain text>", "value": <JSON>}
// from a line of valid UTF-8
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
	// No UTF-8 check: readPairs' utf8Reader has refused any input that is
	// not UTF-8 before a line gets here.
	for _, c := range k {
		if c == '\\' || c < 0x20 {
			return "", nil, false
		}
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
	v := pickle.TrimJSONSpace(rest[:len(rest)-1])
	if _, plain := pickle.PlainJSONString(v); !plain && !json.Valid(v) {
		return "", nil, false
	}
	return string(k), v, true
}

func readLines(br *bufio.Reader, fn func(string, json.RawMessage) error) error {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<16), maxStdinValue)
	n := 0
	for sc.Scan() {
		n++
		line := pickle.TrimJSONSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if key, raw, ok := fastLine(line); ok {
			if err := fn(key, raw); err != nil {
				return err
			}
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return usagef("set-many: line %d: invalid JSON: %v", n, err)
		}
		for _, name := range slices.Sorted(maps.Keys(m)) {
			if name != "key" && name != "value" { // a "timeout" beside the value is refused, not dropped
				return usagef("set-many: line %d: a line holds \"key\" and \"value\" only, not %q", n, name)
			}
		}
		kraw, haveKey := m["key"]
		val, haveVal := m["value"]
		if !haveKey || !haveVal {
			return usagef("set-many: each line needs \"key\" and \"value\"")
		}
		var key string
		if err := json.Unmarshal(kraw, &key); err != nil {
			return usagef("set-many: line %d: \"key\" must be a string", n)
		}
		if err := fn(key, val); err != nil {
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
	if err == nil {
		err = dashAlone(a)
	}
	if err != nil {
		return err
	}
	var b backends.Backend
	prog := e.newProgress("delete-many") // stdout stays empty unless --dry-run, which shows none
	if !e.c.Bool("dry-run") {
		if b, err = e.backend(); err != nil {
			return err
		}
		prog.total, prog.estimated = e.keyCount(a)
	}
	finish := sync.OnceFunc(prog.finish)
	defer finish()
	// requested counts the keys of the batches sent to the backend;
	// notAttempted those read but never sent (an interruption, or an
	// earlier failure without --keep-going). Keys not read yet are in
	// neither.
	requested, deleted, failedBatches, notAttempted := 0, 0, 0, 0
	var lastErr error
	var failure error // the first failed batch's error (without --keep-going)
	unknown := false
	var mu sync.Mutex // the counters, lastErr and failure, shared by the lanes
	// run sends one batch, unless the command is stopping: interrupted, or
	// an earlier batch failed.
	run := func(finals []string) error {
		mu.Lock()
		err := e.ctx.Err()
		if err == nil {
			err = failure
		}
		if err != nil {
			notAttempted += len(finals)
			if failure == nil {
				failure = err // an interruption before the batch was sent ends the command too
			}
			mu.Unlock()
			return err
		}
		requested += len(finals)
		mu.Unlock()
		if b == nil {
			for _, fk := range finals {
				fmt.Fprintln(e.out, fk)
			}
			return nil
		}
		n, err := backends.DeleteMany(e.ctx, b, finals)
		mu.Lock()
		defer mu.Unlock()
		if n < 0 {
			unknown = true
		} else {
			deleted += n
		}
		if cs := (*backends.CutShortError)(nil); errors.As(err, &cs) {
			// Stopped part way: the rest of the batch was never sent.
			requested -= len(finals) - cs.Attempted
			notAttempted += len(finals) - cs.Attempted
		}
		prog.add(len(finals))
		if err != nil && e.c.Bool("keep-going") && e.ctx.Err() == nil {
			failedBatches++
			lastErr = err
			return nil
		}
		if err != nil && failure == nil {
			failure = err
		}
		return err
	}
	// With several bulk lanes (Redis, memcached) the next batch is sent
	// while the last one's replies come back. Deletes commute, so batches
	// may finish in any order; after a failure (without --keep-going) or
	// an interruption, batches not yet started are not attempted.
	nLanes := 1
	if b != nil {
		nLanes = backends.BulkLanes(b)
	}
	deletes := newLanes(nLanes)
	bt := newBatcher(func(finals, _ []string) error {
		if nLanes == 1 {
			return run(finals)
		}
		if err := deletes.start(e.ctx, nil, func() { run(finals) }); err != nil {
			mu.Lock()
			notAttempted += len(finals)
			mu.Unlock()
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		return failure // a batch failed in the background: stop reading
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
	} else {
		mu.Lock()
		notAttempted += len(bt.finals)
		mu.Unlock()
	}
	deletes.wait()
	if err == nil {
		err = failure // a batch that failed in the background
	}
	if cerr := e.ctx.Err(); cerr != nil && err != nil {
		err = cerr // a read or a batch cut short by the interruption
	}
	if err == nil && lastErr != nil && e.atDeadline(lastErr) {
		err = lastErr // a batch failed at --deadline (--keep-going)
	}
	err = e.stopCause(err)
	finish()
	tail := ""
	if notAttempted > 0 {
		tail = fmt.Sprintf(", %d not attempted", notAttempted)
	}
	tail += stopNote(err)
	switch {
	case b == nil:
		fmt.Fprintf(e.errw, "delete-many: dry run, would delete %d key(s)%s\n", requested, tail)
	case unknown:
		fmt.Fprintf(e.errw, "delete-many: %d key(s) requested%s\n", requested, tail)
	default:
		fmt.Fprintf(e.errw, "delete-many: %d of %d key(s) deleted%s\n", deleted, requested, tail)
	}
	if failedBatches > 0 {
		fmt.Fprintf(e.errw, "delete-many: %d batch(es) failed\n", failedBatches)
	}
	if err == nil {
		err = lastErr
	}
	return err
}
