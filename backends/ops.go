package backends

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/cachectl/cachectl/backends/pickle"
)

// This file holds the fallbacks: each function uses the backend's native
// capability when it has one, and otherwise Django's generic BaseCache
// algorithm built on the core interface.

// readRetries are the pauses before retrying an idempotent read that
// failed to reach the server; writes are never retried.
var readRetries = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond}

// retryRead runs fn again (twice at most, with backoff) while it fails
// with ErrUnavailable and the context has time left; not after a wait
// that got no answer (a StallError), which would only wait again.
func retryRead(ctx context.Context, fn func() error) error {
	err := fn()
	for _, pause := range readRetries {
		if err == nil || !errors.Is(err, ErrUnavailable) || ctx.Err() != nil || errors.As(err, new(*StallError)) {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pause {
			return err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return err
		}
		err = fn()
	}
	return err
}

// GetEntry reads key's stored entry, retrying unreachable servers.
func GetEntry(ctx context.Context, b Backend, key string) (Entry, error) {
	var e Entry
	err := retryRead(ctx, func() error {
		var err error
		e, err = b.Get(ctx, key)
		return err
	})
	return e, err
}

// Get returns the decoded value of key.
func Get(ctx context.Context, b Backend, key string) (pickle.Value, error) {
	e, err := GetEntry(ctx, b, key)
	if err != nil {
		return nil, err
	}
	return decode(b, key, e)
}

func decode(b Backend, key string, e Entry) (pickle.Value, error) {
	v, err := b.Codec().Decode(e)
	if errors.As(err, new(*StaleError)) {
		return nil, err // a miss to the site's client, not a value it cannot read
	}
	if err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	return v, nil
}

// Encode encodes v for a write with timeout t: Codec().Encode, or
// EncodeTimed when the codec's bytes depend on the timeout.
func Encode(c Codec, v pickle.Value, t Timeout) (Entry, error) {
	if tc, ok := c.(TimedCodec); ok {
		return tc.EncodeTimed(v, t)
	}
	return c.Encode(v)
}

// Set encodes v and stores it.
func Set(ctx context.Context, b Backend, key string, v pickle.Value, t Timeout) error {
	e, err := Encode(b.Codec(), v, t)
	if err != nil {
		return &EncodeError{Key: key, Err: err}
	}
	return b.Set(ctx, key, e, t)
}

// Add stores v only when key is absent: native, else has_key then set as
// Django's file cache does.
func Add(ctx context.Context, b Backend, key string, v pickle.Value, t Timeout) (bool, error) {
	e, err := Encode(b.Codec(), v, t)
	if err != nil {
		return false, &EncodeError{Key: key, Err: err}
	}
	if a, ok := b.(Adder); ok {
		return a.Add(ctx, key, e, t)
	}
	has, err := HasKey(ctx, b, key)
	if err != nil || has {
		return false, err
	}
	return true, b.Set(ctx, key, e, t)
}

// HasKey reports whether key holds a live value.
func HasKey(ctx context.Context, b Backend, key string) (bool, error) {
	if h, ok := b.(HasKeyer); ok {
		var has bool
		err := retryRead(ctx, func() error {
			var err error
			has, err = h.HasKey(ctx, key)
			return err
		})
		return has, err
	}
	_, err := b.Get(ctx, key)
	if errors.Is(err, ErrCacheMiss) {
		return false, nil
	}
	return err == nil, err
}

// Touch sets a new expiry on a live key.
func Touch(ctx context.Context, b Backend, key string, t Timeout) (bool, error) {
	if tc, ok := b.(Toucher); ok {
		return tc.Touch(ctx, key, t)
	}
	return false, fmt.Errorf("touch: %w", ErrUnsupported)
}

// GetOrSet is Django's get_or_set: get; on a miss add the default, then
// read again in case another writer won. It returns the value and whether it
// was already there.
func GetOrSet(ctx context.Context, b Backend, key string, v pickle.Value, t Timeout) (pickle.Value, bool, error) {
	got, err := Get(ctx, b, key)
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, ErrCacheMiss) {
		return nil, false, err
	}
	if _, err := Add(ctx, b, key, v, t); err != nil {
		return nil, false, err
	}
	got, err = Get(ctx, b, key)
	if errors.Is(err, ErrCacheMiss) {
		return v, false, nil
	}
	return got, false, err
}

// Incr adds delta to the number stored under key and returns the new value.
// A missing key is ErrCacheMiss. Without a native increment it is Django's
// generic get-and-set, which re-sets the value with the default timeout.
func Incr(ctx context.Context, b Backend, key string, delta int64, def Timeout) (pickle.Value, error) {
	if in, ok := b.(Incrementer); ok {
		return in.Incr(ctx, key, delta)
	}
	v, err := Get(ctx, b, key)
	if err != nil {
		return nil, err
	}
	nv, err := AddNumber(v, delta)
	if err != nil {
		return nil, fmt.Errorf("incr %q: %w", key, err)
	}
	if err := Set(ctx, b, key, nv, def); err != nil {
		return nil, err
	}
	return nv, nil
}

// AddNumber is Python's value + delta for the numeric types a cache holds.
func AddNumber(v pickle.Value, delta int64) (pickle.Value, error) {
	switch n := v.(type) {
	case bool:
		if n {
			return addInt(1, delta), nil
		}
		return addInt(0, delta), nil
	case int64:
		return addInt(n, delta), nil
	case *big.Int:
		return normInt(new(big.Int).Add(n, big.NewInt(delta))), nil
	case float64:
		return n + float64(delta), nil
	case pickle.Decimal:
		s, err := pickle.DecimalAddInt(n.Text, big.NewInt(delta))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotInteger, err)
		}
		return pickle.Decimal{Text: s}, nil
	}
	return nil, fmt.Errorf("%w: cannot add a number to %T", ErrNotInteger, v)
}

func addInt(a, d int64) pickle.Value {
	if (d > 0 && a > math.MaxInt64-d) || (d < 0 && a < math.MinInt64-d) {
		return normInt(new(big.Int).Add(big.NewInt(a), big.NewInt(d)))
	}
	return a + d
}

func normInt(b *big.Int) pickle.Value {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// IncrVersion moves the value of oldKey to newKey and deletes oldKey, as
// Django's incr_version does, except that the remaining expiry is kept when
// the backend can report it (Django re-sets with the default timeout).
func IncrVersion(ctx context.Context, b Backend, oldKey, newKey string, def Timeout) error {
	e, err := b.Get(ctx, oldKey)
	if err != nil {
		return err
	}
	if s, ok := b.(VersionMoveSkipsNone); ok && s.VersionMoveSkipsNone() {
		if v, err := b.Codec().Decode(e); err == nil && (v == nil || v == pickle.None{}) {
			return ErrCacheMiss // django-redis: "Key not found", and the key stays
		}
	}
	t := def
	if tl, ok := b.(TTLer); ok {
		rem, err := tl.TTL(ctx, oldKey)
		switch {
		case err == nil:
			t = rem
		case errors.Is(err, ErrCacheMiss):
			return err
		case !errors.Is(err, ErrUnsupported):
			return err
		}
	}
	if err := b.Set(ctx, newKey, e, t); err != nil {
		return err
	}
	// Once the new version is written, the old one is deleted even when
	// an interrupt comes in between: the move is not left half done (the
	// value under both versions). Bounded like a batch already sent.
	dctx, cancel := InFlight(ctx, 10*time.Second)
	defer cancel()
	if _, err = b.Delete(dctx, oldKey); err != nil {
		// Django's incr_version leaves the same two copies; say so.
		return fmt.Errorf("%w (the value is stored under %q too: the old version could not be deleted)", err, newKey)
	}
	return nil
}

// GetMany fetches keys; missing ones are absent from the result.
func GetMany(ctx context.Context, b Backend, keys []string) (map[string]Entry, error) {
	if m, ok := b.(MultiGetter); ok {
		var out map[string]Entry
		err := retryRead(ctx, func() error {
			var err error
			out, err = m.GetMany(ctx, keys)
			return err
		})
		return out, err
	}
	out := make(map[string]Entry, len(keys))
	for _, k := range keys {
		e, err := b.Get(ctx, k)
		if errors.Is(err, ErrCacheMiss) {
			continue
		}
		if err != nil {
			return out, err
		}
		out[k] = e
	}
	return out, nil
}

// Decode decodes an entry fetched from b under key.
func Decode(b Backend, key string, e Entry) (pickle.Value, error) { return decode(b, key, e) }

// SetMany stores items and returns the keys that failed.
func SetMany(ctx context.Context, b Backend, items []Item, t Timeout) ([]string, error) {
	if m, ok := b.(MultiSetter); ok {
		return m.SetMany(ctx, items, t)
	}
	return SetEach(items, func(it Item) error { return b.Set(ctx, it.Key, it.Entry, t) })
}

// SetEach stores items one after another with set: the first failure
// stops it, and that key and the rest are returned as failed.
func SetEach(items []Item, set func(Item) error) ([]string, error) {
	for i, it := range items {
		if err := set(it); err != nil {
			failed := make([]string, 0, len(items)-i)
			for _, rest := range items[i:] {
				failed = append(failed, rest.Key)
			}
			return failed, err
		}
	}
	return nil, nil
}

// DeleteMany deletes keys and returns how many were removed (-1: unknown).
func DeleteMany(ctx context.Context, b Backend, keys []string) (int, error) {
	if m, ok := b.(MultiDeleter); ok {
		return m.DeleteMany(ctx, keys)
	}
	n := 0
	for i, k := range keys {
		// No delete starts after an interruption; one already started is
		// finished (bounded by the backend's own operation timeout), so
		// the count is what the cache did.
		if err := ctx.Err(); err != nil {
			return n, &CutShortError{Attempted: i, Err: err} // the rest never sent
		}
		ok, err := b.Delete(context.WithoutCancel(ctx), k)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

type readOnlyKey struct{}

// ReadOnly marks ctx for a run that must change nothing (--dry-run):
// backends whose reads delete the expired entries they find, as Django's
// do (the file and database caches), leave them there.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// IsReadOnly reports a context marked by ReadOnly.
func IsReadOnly(ctx context.Context) bool { return ctx.Value(readOnlyKey{}) != nil }

// InFlight is the context for a call already sent that must run to its
// end even when ctx is cancelled (a batch whose count must be what the
// server did): ctx's values without its cancellation, bounded by d.
func InFlight(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// Progress receives a long operation's progress from the functions below.
// The zero value ignores it.
type Progress struct {
	// Estimate, when set, asks for a cheap total before the work starts
	// and receives it (UnknownEstimate when the backend cannot tell). Leave
	// it nil when nobody watches, so no estimate is made.
	Estimate func(Estimate)
	// Done is told n more entries were done; it may be called from
	// several goroutines at once.
	Done func(n int)
}

func (p Progress) estimate(e func() Estimate) {
	if p.Estimate != nil {
		p.Estimate(e())
	}
}

// estimateTimeout bounds an estimate: it is only for a progress total and
// never delays the work by more than this.
const estimateTimeout = time.Second

// EstimateKeys is b's cheap guess at how many stored keys match glob. It
// never fails: the guess is UnknownEstimate when b cannot tell, or when
// asking fails or takes longer than estimateTimeout.
func EstimateKeys(ctx context.Context, b Backend, glob string) Estimate {
	k, ok := b.(KeyEstimator)
	if !ok {
		return UnknownEstimate
	}
	ctx, cancel := context.WithTimeout(ctx, estimateTimeout)
	defer cancel()
	e, err := k.EstimateKeys(ctx, glob)
	if err != nil || !e.Known() {
		return UnknownEstimate
	}
	return e
}

// EstimateExpired is the number of expired entries PruneExpired would
// delete, counted where b can count them cheaply; UnknownEstimate
// otherwise (or when counting fails or is slow).
func EstimateExpired(ctx context.Context, b Backend) Estimate {
	c, ok := b.(ExpiredCounter)
	if !ok {
		return UnknownEstimate
	}
	ctx, cancel := context.WithTimeout(ctx, estimateTimeout)
	defer cancel()
	n, err := c.CountExpired(ctx)
	if err != nil || n < 0 {
		return UnknownEstimate
	}
	return Estimate{N: n}
}

// ClearProgress is Clear reporting to p where the backend removes entries
// one by one (then with the number of entries as the estimate); it
// returns how many entries went, also when it stops early, or -1 when the
// backend clears in one step and cannot tell (FLUSHDB, flush_all, DELETE).
func ClearProgress(ctx context.Context, b Backend, p Progress) (int, error) {
	pc, ok := b.(ProgressClearer)
	if !ok {
		return -1, Clear(ctx, b)
	}
	p.estimate(func() Estimate { return EstimateKeys(ctx, b, "") })
	return pc.ClearProgress(ctx, p.Done)
}

// PruneExpired deletes b's expired entries in batches, reporting to p with
// the expired count as the estimate, and returns how many went.
func PruneExpired(ctx context.Context, b Backend, batch int, p Progress) (int, error) {
	pr, ok := b.(Pruner)
	if !ok {
		return 0, fmt.Errorf("prune-expired: %w (only database caches keep expired rows around)", ErrUnsupported)
	}
	p.estimate(func() Estimate { return EstimateExpired(ctx, b) })
	return pr.PruneExpired(ctx, batch, p.Done)
}

// Clear removes what Django's clear removes.
func Clear(ctx context.Context, b Backend) error {
	if c, ok := b.(Clearer); ok {
		return c.Clear(ctx)
	}
	return fmt.Errorf("clear: %w", ErrUnsupported)
}

// Stats reports b's statistics: with the options o where b takes them
// (OptionStatter), else its default report; a backend that reads entries
// one by one (ProgressStatter, the file cache) reports to p, with the
// number of entries as the estimate.
func Stats(ctx context.Context, b Backend, o StatsOptions, p Progress) ([]StatsSection, error) {
	if ps, ok := b.(ProgressStatter); ok {
		p.estimate(func() Estimate { return EstimateKeys(ctx, b, "") })
		return ps.StatsProgress(ctx, p.Done)
	}
	if s, ok := b.(OptionStatter); ok {
		return s.StatsWith(ctx, o)
	}
	if s, ok := b.(Statter); ok {
		return s.Stats(ctx)
	}
	return nil, fmt.Errorf("stats: %w", ErrUnsupported)
}

// Ping checks the cache answers; backends without a Pinger do a Get.
func Ping(ctx context.Context, b Backend) error {
	if p, ok := b.(Pinger); ok {
		return p.Ping(ctx)
	}
	_, err := b.Get(ctx, ":cachectl:ping")
	if errors.Is(err, ErrCacheMiss) {
		return nil
	}
	return err
}

// BulkLanes is how many bulk calls may be in flight on b at once: 1 unless
// b implements BulkLaner.
func BulkLanes(b Backend) int {
	if c, ok := b.(BulkLaner); ok && c.BulkLanes() > 1 {
		return c.BulkLanes()
	}
	return 1
}

// ListKeys walks the stored keys matching glob, names only: natively when b
// is a KeyNameLister, else through its List. Walking stops at the first
// error fn returns. A backend that can list neither way is ErrUnsupported.
func ListKeys(ctx context.Context, b Backend, glob string, fn func(key string) error) error {
	if kl, ok := b.(KeyNameLister); ok {
		return kl.ListKeyNames(ctx, glob, fn)
	}
	if l, ok := b.(Lister); ok {
		return l.List(ctx, glob, func(ki KeyInfo) error { return fn(ki.Key) })
	}
	return fmt.Errorf("listing keys: %w", ErrUnsupported)
}

// NamesOnly is l for callers that read only KeyInfo.Key: when l is also a
// KeyNameLister, the Lister it returns walks names only and reports each key
// with an unknown expiry and size (Size -1); otherwise it is l itself.
func NamesOnly(l Lister) Lister {
	if kl, ok := l.(KeyNameLister); ok {
		return namesOnly{kl}
	}
	return l
}

type namesOnly struct{ kl KeyNameLister }

func (n namesOnly) List(ctx context.Context, glob string, fn func(KeyInfo) error) error {
	return n.kl.ListKeyNames(ctx, glob, func(key string) error { return fn(KeyInfo{Key: key, Size: -1}) })
}
