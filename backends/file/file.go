// Package file is Django's FileBasedCache: one flat directory of
// <md5(final key)>.djcache files, each a pickled expiry followed by the
// zlib-compressed pickled value (formats doc §3.6).
package file

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

const suffix = ".djcache"

// maxFile bounds what one cache file may hold before inflating; Django
// itself has no limit, but a cache file larger than this is not a cache value.
const maxFile = 256 << 20

func init() {
	backends.Register(&backends.Info{
		Name:        "file",
		Schemes:     []string{"filecache", "file"},
		DjangoPaths: []string{"django.core.cache.backends.filebased.FileBasedCache"},
		Help:        "Django's FileBasedCache: a directory of .djcache files (filecache:///abs/dir)",
		Open:        open,
	})
}

func open(_ context.Context, cfg *backends.Config) (backends.Backend, error) {
	if len(cfg.Locations) != 1 || cfg.Locations[0] == "" {
		return nil, backends.Configf("the file cache needs one directory, e.g. filecache:///var/tmp/django_cache")
	}
	dir := cfg.Locations[0]
	if cfg.Scheme != "" {
		// filecache:///abs/dir gives "/abs/dir"; filecache://relative is refused
		// because Django makes LOCATION absolute against its own working directory.
		if !strings.HasPrefix(dir, "/") {
			return nil, backends.Configf("the file cache URL needs an absolute path: filecache:///abs/dir, not %q", dir)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, backends.Configf("file cache directory %q: %v", dir, err)
	}
	return &Cache{Dir: abs, MaxEntries: cfg.Settings.MaxEntries, CullFrequency: cfg.Settings.CullFrequency,
		now: time.Now}, nil
}

// New opens a file cache on dir with Django's culling settings.
func New(dir string, maxEntries, cullFrequency int) *Cache {
	return &Cache{Dir: dir, MaxEntries: maxEntries, CullFrequency: cullFrequency, now: time.Now}
}

// Cache is a FileBasedCache directory.
type Cache struct {
	Dir           string
	MaxEntries    int
	CullFrequency int
	now           func() time.Time

	// files is SetMany's count of cache files, carried from one call to the
	// next (filesKnown) so that a bulk write into a large directory far
	// below MAX_ENTRIES need not list it for every batch; listedAt and
	// listCost are when the last listing ended and how long it took.
	mu         sync.Mutex
	files      int
	filesKnown atomic.Bool // false again after a Set: a file SetMany did not count
	listedAt   time.Time
	listCost   time.Duration
}

var (
	_ backends.Backend         = (*Cache)(nil)
	_ backends.Adder           = (*Cache)(nil)
	_ backends.Toucher         = (*Cache)(nil)
	_ backends.HasKeyer        = (*Cache)(nil)
	_ backends.TTLer           = (*Cache)(nil)
	_ backends.Clearer         = (*Cache)(nil)
	_ backends.MultiSetter     = (*Cache)(nil)
	_ backends.ClearDescriber  = (*Cache)(nil)
	_ backends.Statter         = (*Cache)(nil)
	_ backends.Pinger          = (*Cache)(nil)
	_ backends.KeyEstimator    = (*Cache)(nil)
	_ backends.ProgressClearer = (*Cache)(nil)
	_ backends.ProgressStatter = (*Cache)(nil)
)

// FileName is the file Django uses for a final key.
func FileName(key string) string {
	sum := md5.Sum([]byte(key))
	return hex.EncodeToString(sum[:]) + suffix
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, FileName(key)) }

func (c *Cache) fail(op string, err error) error {
	return backends.Unavailable(op, c.Dir, err)
}

// header is a parsed cache file.
type header struct {
	forever bool
	expires float64 // Unix time, when !forever
	bodyOff int     // where the zlib stream starts
}

// parseHeader reads the pickled expiry at the start of data. An empty file
// counts as expiry 0 (expired), as Django's EOFError handling does.
func parseHeader(data []byte) (header, error) {
	if len(data) == 0 {
		return header{expires: 0}, nil
	}
	v, n, err := pickle.DecodePrefix(data)
	if err != nil {
		return header{}, fmt.Errorf("%w: bad expiry header: %w", backends.ErrDecode, err)
	}
	switch e := v.(type) {
	case pickle.None:
		return header{forever: true, bodyOff: n}, nil
	case float64:
		return header{expires: e, bodyOff: n}, nil
	case int64:
		return header{expires: float64(e), bodyOff: n}, nil
	}
	return header{}, fmt.Errorf("%w: expiry header is %T, not a float or None", backends.ErrDecode, v)
}

// Unix times of the first and last second RFC 3339 (and Python's
// datetime) can write: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const (
	minStamp = -62135596800
	maxStamp = 253402300799
)

// expiryStamp writes a pickled expiry (Unix time) in RFC 3339, in UTC.
// Django pickles time.time() + timeout whatever the timeout, so the float
// may lie beyond the years 1 to 9999 (a timeout of 1e20), and beyond what
// a time.Duration or an int64 of nanoseconds holds: such an expiry is
// said to be after (or before) the last (first) date that can be written.
func expiryStamp(f float64) string {
	sec := math.Floor(f)
	switch {
	case sec > maxStamp:
		return "after " + time.Unix(maxStamp, 0).UTC().Format(time.RFC3339)
	case sec < minStamp:
		return "before " + time.Unix(minStamp, 0).UTC().Format(time.RFC3339)
	}
	return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339)
}

func (c *Cache) nowUnix() float64 { return float64(c.now().UnixNano()) / 1e9 }

func (h header) expired(now float64) bool { return !h.forever && h.expires < now }

// readFile reads a whole cache file; os.ErrNotExist maps to a miss.
func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile+1))
}

// Get reads key, deleting it when expired, as Django does (not in a
// read-only run, backends.ReadOnly).
func (c *Cache) Get(ctx context.Context, key string) (backends.Entry, error) {
	p := c.path(key)
	data, err := readFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return backends.Entry{}, backends.ErrCacheMiss
	}
	if err != nil {
		return backends.Entry{}, c.fail("get", err)
	}
	if len(data) > maxFile {
		return backends.Entry{}, fmt.Errorf("%w: cache file %s is larger than %d bytes", backends.ErrDecode, p, maxFile)
	}
	h, err := parseHeader(data)
	if err != nil {
		// The whole file stays reachable for get --format raw.
		return backends.Entry{Data: data}, &backends.DecodeError{Key: key, Err: err}
	}
	if h.expired(c.nowUnix()) {
		if !backends.IsReadOnly(ctx) {
			os.Remove(p) // as Django's get
		}
		return backends.Entry{}, backends.ErrCacheMiss
	}
	body, err := pickle.Inflate(data[h.bodyOff:], pickle.DefaultLimits.MaxInput)
	if err != nil {
		return backends.Entry{Data: data}, &backends.DecodeError{Key: key, Err: fmt.Errorf("%w: %w", backends.ErrDecode, err)}
	}
	return backends.Entry{Data: body}, nil
}

// expiryPickle is Django's pickle.dumps(expiry): None or time()+timeout.
// A timeout of 0 is stored as -1 (already expired), as get_backend_timeout does.
func (c *Cache) expiryPickle(t backends.Timeout) ([]byte, error) {
	if t.Forever {
		return pickle.Encode(pickle.None{})
	}
	secs := t.Seconds
	if secs == 0 {
		secs = -1
	}
	return pickle.Encode(c.nowUnix() + secs)
}

func (c *Cache) content(e backends.Entry, t backends.Timeout) ([]byte, error) {
	head, err := c.expiryPickle(t)
	if err != nil {
		return nil, err
	}
	return append(head, pickle.Deflate(e.Data)...), nil
}

// Set writes a temp file in the cache directory and renames it over the
// final name, so a concurrent Django reader never sees a partial file. It
// culls first, as Django does.
func (c *Cache) Set(ctx context.Context, key string, e backends.Entry, t backends.Timeout) error {
	c.filesKnown.Store(false) // SetMany's count may miss this file: it lists again
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return c.fail("set", err)
	}
	if _, err := c.cull(ctx); err != nil {
		return err
	}
	data, err := c.content(e, t)
	if err != nil {
		return err
	}
	return c.writeAtomic(c.path(key), data)
}

// SetMany stores items as that many Sets would, culling where Django's set
// would, without listing the directory for every item. Django's _cull lists
// it before every set, which makes a bulk load into a large cache quadratic
// (5,000 sets into an empty directory with a MAX_ENTRIES of 1,000,000 took
// 8.8 s; 20,000 did not end within 30 s). Here the number of cache files is
// counted by a listing and kept as the items are written (a new file adds
// one, an overwrite none), and carried to the next call (the bulk commands
// send 500 items a call). The directory is listed again after every cull,
// at every call once the count comes within a tenth of MAX_ENTRIES (plus
// the call's items), where a set could cross it, and whenever ten times the
// last listing's duration has passed since it: a small directory is listed
// at every call, one of a million files (0.4 s to list) every few seconds,
// so listing never takes more than about a tenth of the time. Files another
// process adds are counted at the next listing: below the last tenth of
// MAX_ENTRIES a cull can come a little later than Django's would (as two
// Django processes race too); within it, at the same item. An interruption
// stops before the next item; the items not written are returned as failed.
func (c *Cache) SetMany(ctx context.Context, items []backends.Item, t backends.Timeout) ([]string, error) {
	rest := func(i int) []string {
		out := make([]string, 0, len(items)-i)
		for _, it := range items[i:] {
			out = append(out, it.Key)
		}
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	count, known := c.files, c.filesKnown.Swap(false) // false until this call ends well
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return rest(0), c.fail("set", err)
	}
	near := c.MaxEntries - c.MaxEntries/10 - len(items)
	culled := false // the first item's cull is done
	if !known || count >= near || time.Since(c.listedAt) > 10*c.listCost {
		var err error
		if c.MaxEntries <= cullListingMax {
			// The first item's cull lists the directory anyway: its
			// listing is the count too, so a directory already at
			// MAX_ENTRIES is not listed twice.
			count, err = c.timedListing(ctx, c.cull)
			culled = true
		} else {
			count, err = c.timedListing(ctx, c.Count)
		}
		if err != nil {
			return rest(0), err
		}
	}
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return rest(i), err
		}
		if count >= c.MaxEntries && !(i == 0 && culled) {
			var err error
			if count, err = c.cull(ctx); err != nil { // its listing counts afresh
				return rest(i), err
			}
			c.listedAt = time.Now()
		}
		data, err := c.content(it.Entry, t)
		if err != nil {
			return rest(i), err
		}
		final := c.path(it.Key)
		_, statErr := os.Lstat(final)
		if err := c.writeAtomic(final, data); err != nil {
			return rest(i), err
		}
		if statErr != nil {
			count++ // a new file; an overwrite leaves the count as it was
		}
	}
	c.files = count
	c.filesKnown.Store(true)
	return nil, nil
}

// cullListingMax is the largest MAX_ENTRIES for which SetMany counts the
// files with cull's listing, which keeps up to MAX_ENTRIES+1 names (some
// 6 MB at this size); above it, a count that keeps none.
const cullListingMax = 100_000

// timedListing runs list (Count, or cull), the count of cache files
// SetMany goes on from, noting when it ended and how long it took.
func (c *Cache) timedListing(ctx context.Context, list func(context.Context) (int, error)) (int, error) {
	start := time.Now()
	n, err := list(ctx)
	c.listedAt = time.Now()
	c.listCost = c.listedAt.Sub(start)
	return n, err
}

func (c *Cache) writeAtomic(final string, data []byte) error {
	tmp, err := os.CreateTemp(c.Dir, "tmp")
	if err != nil {
		return c.fail("set", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return c.fail("set", err)
	}
	if err := tmp.Close(); err != nil {
		return c.fail("set", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return c.fail("set", err)
	}
	ok = true
	return nil
}

// Add is has_key then set, as in Django (not atomic there either).
func (c *Cache) Add(ctx context.Context, key string, e backends.Entry, t backends.Timeout) (bool, error) {
	has, err := c.HasKey(ctx, key)
	if err != nil || has {
		return false, err
	}
	return true, c.Set(ctx, key, e, t)
}

// HasKey checks expiry, deleting an expired file.
func (c *Cache) HasKey(ctx context.Context, key string) (bool, error) {
	p := c.path(key)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, c.fail("has_key", err)
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, c.fail("has_key", err)
	}
	h, err := parseHeader(buf[:n])
	if err != nil {
		return false, &backends.DecodeError{Key: key, Err: err}
	}
	if h.expired(c.nowUnix()) {
		if !backends.IsReadOnly(ctx) {
			os.Remove(p)
		}
		return false, nil
	}
	return true, nil
}

// TTL reads the expiry of key.
func (c *Cache) TTL(ctx context.Context, key string) (backends.Timeout, error) {
	data, err := readFile(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return backends.Timeout{}, backends.ErrCacheMiss
	}
	if err != nil {
		return backends.Timeout{}, c.fail("ttl", err)
	}
	h, err := parseHeader(data)
	if err != nil {
		return backends.Timeout{}, &backends.DecodeError{Key: key, Err: err}
	}
	now := c.nowUnix()
	if h.expired(now) {
		os.Remove(c.path(key))
		return backends.Timeout{}, backends.ErrCacheMiss
	}
	if h.forever {
		return backends.Timeout{Forever: true}, nil
	}
	return backends.Timeout{Seconds: h.expires - now}, nil
}

// Touch rewrites the expiry in place under an exclusive flock, without
// truncating, exactly as Django's touch does.
func (c *Cache) Touch(_ context.Context, key string, t backends.Timeout) (bool, error) {
	p := c.path(key)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, c.fail("touch", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return false, c.fail("touch", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return false, c.fail("touch", err)
	}
	h, err := parseHeader(data)
	if err != nil {
		return false, &backends.DecodeError{Key: key, Err: err}
	}
	if h.expired(c.nowUnix()) {
		f.Close()
		os.Remove(p)
		return false, nil
	}
	body, err := pickle.Inflate(data[h.bodyOff:], pickle.DefaultLimits.MaxInput)
	if err != nil {
		return false, &backends.DecodeError{Key: key, Err: err}
	}
	out, err := c.content(backends.Entry{Data: body}, t)
	if err != nil {
		return false, err
	}
	if _, err := f.WriteAt(out, 0); err != nil {
		return false, c.fail("touch", err)
	}
	return true, nil
}

// Delete removes the file of key.
func (c *Cache) Delete(_ context.Context, key string) (bool, error) {
	err := os.Remove(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, c.fail("delete", err)
	}
	return true, nil
}

// walk streams the names of cache files in batches, never holding the whole
// directory listing in memory.
func (c *Cache) walk(ctx context.Context, fn func(name string) error) error {
	d, err := os.Open(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return c.fail("list", err)
	}
	defer d.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if strings.HasSuffix(n, suffix) {
				if err := fn(n); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return c.fail("list", err)
		}
	}
}

// parallel runs fn over every cache file name with a few workers.
func (c *Cache) parallel(ctx context.Context, fn func(name string) error) error {
	workers := runtime.NumCPU() * 4
	names := make(chan string, 1024)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range names {
				if err := fn(n); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	err := c.walk(ctx, func(n string) error { names <- n; return nil })
	close(names)
	wg.Wait()
	if err != nil {
		return err
	}
	return firstErr
}

// Count returns the number of cache files.
func (c *Cache) Count(ctx context.Context) (int, error) {
	n := 0
	err := c.walk(ctx, func(string) error { n++; return nil })
	return n, err
}

// Clear deletes every .djcache file (temp files are left, as in Django).
func (c *Cache) Clear(ctx context.Context) error {
	_, err := c.ClearProgress(ctx, nil)
	return err
}

// ClearProgress is Clear calling progress(1) after each file it removes
// (from several goroutines) and returning how many it removed. Once ctx
// is done no further file is removed.
func (c *Cache) ClearProgress(ctx context.Context, progress func(n int)) (int, error) {
	var removed atomic.Int64
	err := c.parallel(ctx, func(n string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := os.Remove(filepath.Join(c.Dir, n))
		switch {
		case err == nil:
			removed.Add(1)
			if progress != nil {
				progress(1)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return c.fail("clear", err)
		}
		return nil
	})
	return int(removed.Load()), err
}

// EstimateKeys counts the cache files (names only, no file is opened):
// the keys a clear or stats walks. The file names are hashes, so for any
// narrower glob the count is an upper bound.
func (c *Cache) EstimateKeys(ctx context.Context, glob string) (backends.Estimate, error) {
	n, err := c.Count(ctx)
	if err != nil {
		return backends.UnknownEstimate, err
	}
	return backends.Estimate{N: int64(n), UpperBound: glob != "" && glob != "*"}, nil
}

// DescribeClear says how many files clear would delete.
func (c *Cache) DescribeClear(ctx context.Context) (backends.ClearPlan, error) {
	n, err := c.Count(ctx)
	if err != nil {
		return backends.ClearPlan{}, err
	}
	return backends.ClearPlan{
		Total: &backends.Estimate{N: int64(n)},
		Ask:   fmt.Sprintf("delete %d .djcache file(s) in %s", n, c.Dir),
		Done: func(removed int) string {
			if removed < 0 {
				removed = n
			}
			return fmt.Sprintf("%d .djcache file(s) removed from %s", removed, c.Dir)
		},
	}, nil
}

// cull applies MAX_ENTRIES/CULL_FREQUENCY before a write, as Django does:
// at count >= MAX_ENTRIES, delete a random int(count/CULL_FREQUENCY) files,
// or everything when CULL_FREQUENCY is 0. It returns the number of cache
// files its listing found, less those it removed.
func (c *Cache) cull(ctx context.Context) (left int, err error) {
	// Reservoir-sample while streaming so 100k files need not be held.
	count := 0
	var names []string
	if err := c.walk(ctx, func(n string) error {
		count++
		if count <= c.MaxEntries+1 {
			names = append(names, n)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if count < c.MaxEntries {
		return count, nil
	}
	if c.CullFrequency == 0 {
		return 0, c.Clear(ctx)
	}
	k := count / c.CullFrequency
	if count > len(names) {
		// Too many files to have kept every name: list again, sampling k of them.
		names = names[:0]
		seen := 0
		if err := c.walk(ctx, func(n string) error {
			seen++
			if len(names) < k {
				names = append(names, n)
			} else if j := rand.IntN(seen); j < k {
				names[j] = n
			}
			return nil
		}); err != nil {
			return 0, err
		}
		count = seen
	} else {
		rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		if k < len(names) {
			names = names[:k]
		}
	}
	for i, n := range names {
		if err := os.Remove(filepath.Join(c.Dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return count - i, c.fail("cull", err)
		}
	}
	return count - len(names), nil
}

// Stats walks the directory in parallel and reads only each file's header.
func (c *Cache) Stats(ctx context.Context) ([]backends.StatsSection, error) {
	return c.StatsProgress(ctx, nil)
}

// StatsProgress is Stats calling progress(1) after each file it reads
// (from several goroutines).
func (c *Cache) StatsProgress(ctx context.Context, progress func(n int)) ([]backends.StatsSection, error) {
	var (
		mu                    sync.Mutex
		entries, expired, bad int
		forever               int
		size                  int64
		oldest, newest        = math.Inf(1), math.Inf(-1)
	)
	now := c.nowUnix()
	err := c.parallel(ctx, func(n string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if progress != nil {
			defer progress(1)
		}
		f, err := os.Open(filepath.Join(c.Dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			// Listed but not readable (Django writes its files 0600, and
			// this user is not their owner): an entry all the same, and
			// unreadable, not left out of the count.
			mu.Lock()
			defer mu.Unlock()
			entries++
			bad++
			if st, err := os.Lstat(filepath.Join(c.Dir, n)); err == nil {
				size += st.Size()
			}
			return nil
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil
		}
		buf := make([]byte, 64)
		k, _ := io.ReadFull(f, buf)
		h, herr := parseHeader(buf[:k])
		mu.Lock()
		defer mu.Unlock()
		entries++
		size += st.Size()
		switch {
		case herr != nil:
			bad++
		case h.forever:
			forever++
		case h.expired(now):
			expired++
		default:
			oldest = math.Min(oldest, h.expires)
			newest = math.Max(newest, h.expires)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	fields := []backends.StatsField{
		{Name: "directory", Value: c.Dir},
		{Name: "entries", Value: entries},
		{Name: "bytes", Value: size},
		{Name: "expired_entries", Value: expired},
		{Name: "never_expiring_entries", Value: forever},
		{Name: "unreadable_entries", Value: bad},
		{Name: "max_entries", Value: c.MaxEntries},
		{Name: "cull_frequency", Value: c.CullFrequency},
	}
	stamp := func(f float64) any {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil
		}
		return expiryStamp(f)
	}
	fields = append(fields,
		backends.StatsField{Name: "oldest_expiry", Value: stamp(oldest)},
		backends.StatsField{Name: "newest_expiry", Value: stamp(newest)})
	return []backends.StatsSection{{Name: "file", Fields: fields}}, nil
}

// PingNote is what ping adds to its "ok": a directory that does not exist
// yet is fine for Django, which makes it at the first write, but may be a
// mistyped path.
func (c *Cache) PingNote() string {
	if _, err := os.Stat(c.Dir); errors.Is(err, fs.ErrNotExist) {
		return "the directory does not exist yet; Django creates it at the first write"
	}
	return ""
}

// Ping checks the directory is there (or can be made) and writable.
func (c *Cache) Ping(context.Context) error {
	st, err := os.Stat(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(c.Dir)
		if _, perr := os.Stat(parent); perr != nil {
			return c.fail("ping", fmt.Errorf("directory does not exist and neither does its parent %s", parent))
		}
		return nil
	}
	if err != nil {
		return c.fail("ping", err)
	}
	if !st.IsDir() {
		return c.fail("ping", errors.New("not a directory"))
	}
	if err := syscall.Access(c.Dir, 0x2|0x1); err != nil {
		return c.fail("ping", fmt.Errorf("directory is not writable: %w", err))
	}
	return nil
}

// Codec pickles values; the zlib layer is this transport's.
func (c *Cache) Codec() backends.Codec { return backends.PickleCodec{} }

// Close does nothing.
func (c *Cache) Close() error { return nil }
