// Package backends defines the interface every cache backend implements, the
// registry that maps URL schemes and Django BACKEND paths to implementations,
// and the fallbacks (ops.go) that give every backend Django's full API.
//
// Keys given to a Backend are final keys: KEY_PREFIX, VERSION and the key
// function have already been applied by the caller (see package keyfunc).
package backends

import (
	"context"
	"time"

	"github.com/cachectl/cachectl/backends/pickle"
)

// Entry is a stored value exactly as the backend keeps it, before decoding.
type Entry struct {
	// Data is the stored bytes (for the file cache: the pickled value, already
	// inflated; for the database cache: the pickle, already base64-decoded).
	Data []byte
	// Flags are memcached item flags; zero elsewhere.
	Flags uint32
}

// Timeout is Django's timeout argument once DEFAULT_TIMEOUT has been replaced
// by the cache's TIMEOUT: Forever is Python None; otherwise Seconds, where 0
// means "do not cache" and a negative number means "already expired".
type Timeout struct {
	Forever bool
	Seconds float64
}

// Codec turns Python values into Entries and back, the way the site's Django
// client does for this backend.
type Codec interface {
	Encode(v pickle.Value) (Entry, error)
	// Decode returns an error wrapping ErrDecode when the bytes are not a
	// value this client could have written.
	Decode(e Entry) (pickle.Value, error)
}

// TimedCodec is a Codec whose stored form depends on the write's timeout:
// django-newcache's herd tuple carries a deadline computed from it.
// backends.Encode uses it when the codec has it.
type TimedCodec interface {
	EncodeTimed(v pickle.Value, t Timeout) (Entry, error)
}

// Backend is what every cache can do, the dummy cache included.
type Backend interface {
	// Get returns the entry stored under key, or ErrCacheMiss when there is
	// none or it has expired (expired entries are removed where Django does).
	Get(ctx context.Context, key string) (Entry, error)
	// Set stores e under key with Django's timeout semantics: a zero or
	// negative timeout leaves no live entry behind.
	Set(ctx context.Context, key string, e Entry, t Timeout) error
	// Delete removes key and reports whether it was there. A missing key is
	// not an error.
	Delete(ctx context.Context, key string) (bool, error)
	// Codec is the value codec of the Django client this backend mimics.
	Codec() Codec
	// Close releases connections. It is safe to call once.
	Close() error
}

// Adder stores only when the key is absent or expired (Django's add).
type Adder interface {
	Add(ctx context.Context, key string, e Entry, t Timeout) (bool, error)
}

// Toucher changes the expiry of a live key; false when the key is missing.
type Toucher interface {
	Touch(ctx context.Context, key string, t Timeout) (bool, error)
}

// HasKeyer answers Django's has_key natively.
type HasKeyer interface {
	HasKey(ctx context.Context, key string) (bool, error)
}

// Incrementer increments natively and atomically. It returns ErrCacheMiss
// for a missing key and an error wrapping ErrNotInteger when the stored
// value cannot be incremented by the server, so that ops can fall back.
type Incrementer interface {
	Incr(ctx context.Context, key string, delta int64) (pickle.Value, error)
}

// TTLer reports the remaining lifetime of a key: Forever, or Seconds left.
// It returns ErrCacheMiss for a missing key.
type TTLer interface {
	TTL(ctx context.Context, key string) (Timeout, error)
}

// MultiGetter fetches many keys in as few round trips as possible. Missing
// keys are absent from the result.
type MultiGetter interface {
	GetMany(ctx context.Context, keys []string) (map[string]Entry, error)
}

// Item is one key and entry of a bulk write.
type Item struct {
	Key   string
	Entry Entry
}

// MultiSetter stores many entries, returning the keys that failed.
type MultiSetter interface {
	SetMany(ctx context.Context, items []Item, t Timeout) (failed []string, err error)
}

// BulkLaner is implemented by backends whose bulk calls (GetMany,
// SetMany) may run from several goroutines at once, each on a connection
// of its own. BulkLanes says how many calls are worth having in flight: a
// single-threaded server such as Redis idles while a client waits for one
// pipeline's replies, unless another pipeline is already queued.
type BulkLaner interface {
	BulkLanes() int
}

// MultiDeleter deletes many keys, returning how many were removed (or -1
// when the backend cannot tell).
type MultiDeleter interface {
	DeleteMany(ctx context.Context, keys []string) (int, error)
}

// Clearer removes everything Django's clear removes.
type Clearer interface {
	Clear(ctx context.Context) error
}

// ClearDescriber says, for a confirmation prompt, what Clear would remove.
type ClearDescriber interface {
	DescribeClear(ctx context.Context) (ClearPlan, error)
}

// ClearPlan is what a clear will do, said before (Ask, e.g. "delete 40
// .djcache file(s) in DIR") and after it is done (Done(n), n being how many
// entries the clear reported removing, -1 when it reports none).
type ClearPlan struct {
	Ask  string
	Done func(n int) string
	// Total is what the description counted or estimated, when it did: the
	// progress total of the clear, so that nothing is counted twice.
	Total *Estimate
}

// Pinger checks that the cache answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// KeyInfo is one listed key.
type KeyInfo struct {
	Key     string    // final key as stored
	Expires time.Time // zero when it never expires or is unknown
	Forever bool      // true when known never to expire
	Size    int64     // stored size in bytes, -1 when unknown
}

// Lister walks the stored keys whose final key matches glob ("" = all),
// calling fn for each. Walking stops at the first error fn returns.
type Lister interface {
	List(ctx context.Context, glob string, fn func(KeyInfo) error) error
}

// KeyNameLister walks the stored keys whose final key matches glob ("" =
// all) as Lister does, but reports only their names: a backend that pays
// for each key's expiry or size (Redis: a PTTL and a STRLEN per key) skips
// that work. Use it through ListKeys or NamesOnly.
type KeyNameLister interface {
	ListKeyNames(ctx context.Context, glob string, fn func(key string) error) error
}

// StatsSection is one group of statistics (a server, or the total).
type StatsSection struct {
	Name   string
	Fields []StatsField
}

// StatsField is one named statistic. Value is a string, a number, a bool or
// nil (unknown).
type StatsField struct {
	Name  string
	Value any
}

// Statter reports statistics. Counts that would need a full read of a
// large cache may be estimated (from the vendor's statistics or a sample);
// the report then says so beside the number.
type Statter interface {
	Stats(ctx context.Context) ([]StatsSection, error)
}

// StatsOptions asks a Statter for more than its default report.
type StatsOptions struct {
	// Exact counts what the default report estimates, reading as much of
	// the cache as that takes (a whole table, a whole keyspace).
	Exact bool
}

// OptionStatter is a Statter that takes StatsOptions; use it through
// backends.Stats.
type OptionStatter interface {
	StatsWith(ctx context.Context, o StatsOptions) ([]StatsSection, error)
}

// Pruner deletes expired entries in batches (the cleanup Django never runs
// on its own) and returns how many went.
type Pruner interface {
	PruneExpired(ctx context.Context, batch int, progress func(n int)) (int, error)
}

// Estimate is a cheap guess, made without walking the entries, at how
// many entries a long operation will touch; progress shows it as a total.
type Estimate struct {
	// N is the guess; negative when unknown.
	N int64
	// Approximate: N comes from statistics (the planner's row count), not
	// from a count.
	Approximate bool
	// UpperBound: N counts more than the operation may touch (DBSIZE for
	// a pattern counts every key of the database).
	UpperBound bool
}

// UnknownEstimate is the Estimate of a backend that cannot tell cheaply.
var UnknownEstimate = Estimate{N: -1}

// Known reports whether e holds a guess.
func (e Estimate) Known() bool { return e.N >= 0 }

// KeyEstimator guesses cheaply how many stored keys match glob ("" = all):
// DBSIZE, memcached's curr_items, the vendor's row estimate, the number of
// cache files. It must not walk the keys.
type KeyEstimator interface {
	EstimateKeys(ctx context.Context, glob string) (Estimate, error)
}

// ExpiredCounter counts the expired entries PruneExpired would delete
// (a count over an index, not a walk).
type ExpiredCounter interface {
	CountExpired(ctx context.Context) (int64, error)
}

// ProgressClearer is a Clearer that removes entries one by one (the file
// cache) and reports them: progress(n) after n more went, possibly from
// several goroutines at once. It returns how many went, also when it
// stops early (interrupted or failed).
type ProgressClearer interface {
	ClearProgress(ctx context.Context, progress func(n int)) (int, error)
}

// ProgressStatter is a Statter that reads entries one by one (the file
// cache) and reports them: progress(n) after n more were read, possibly
// from several goroutines at once.
type ProgressStatter interface {
	StatsProgress(ctx context.Context, progress func(n int)) ([]StatsSection, error)
}

// TableCreator creates the cache table as Django's createcachetable does.
// It returns the statements (run, or only printed when dryRun) and whether
// the table already existed (then nothing is run).
type TableCreator interface {
	CreateTable(ctx context.Context, dryRun bool) (stmts []string, existed bool, err error)
}

// Describer tells which client, sharding and value encoding were chosen
// (shown by config show). It must not dial.
type Describer interface {
	Describe() []StatsField
}

// VersionMoveSkipsNone is a backend whose client's incr_version reads a
// stored None as a missing key and leaves it where it is (django-redis
// gets the value and refuses None with "Key not found"; Django's own
// BaseCache moves it).
type VersionMoveSkipsNone interface{ VersionMoveSkipsNone() bool }
