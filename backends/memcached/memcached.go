// Package memcached is Django's memcached backends (PyMemcacheCache,
// PyLibMCCache, MemcachedCache) over gomemcache with each Python client's
// server selection and value flags.
package memcached

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/memcached/selector"
	"github.com/cachectl/cachectl/backends/pickle"
)

func init() {
	params := []string{"client", "ketama", "ketama_weighted", "behaviors", "binary", "username", "password", "password_file"}
	for _, r := range []struct {
		name, help string
		schemes    []string
		paths      []string
		client     Client
		prepare    func(*backends.Config) error
	}{
		{"pymemcache", "Django's PyMemcacheCache (pymemcache://host:port;host:port); the legacy CACHE_BACKEND form memcached://host:port/ means python-memcached",
			[]string{"pymemcache", "memcached"}, []string{"django.core.cache.backends.memcached.PyMemcacheCache"}, PyMemcache, prepareLegacy},
		{"pylibmc", "Django's PyLibMCCache (pylibmc://host:port;host:port, ?ketama=1, ?binary=1 with username/password for SASL)", []string{"pylibmc"},
			[]string{"django.core.cache.backends.memcached.PyLibMCCache"}, PyLibMC, nil},
		{"python-memcached", "Django's deprecated MemcachedCache (memcache://host:port;host:port)", []string{"memcache"},
			[]string{"django.core.cache.backends.memcached.MemcachedCache", "django.core.cache.backends.memcached.CacheClass"}, PythonMemcached, nil},
		{"newcache", "django-newcache (newcache://host:port/?binary=true): FLAVOR-VERSION-hash keys, herd-packed values", []string{"newcache"},
			[]string{"newcache.CacheClass"}, PythonMemcached, prepareNewcache},
	} {
		r := r
		backends.Register(&backends.Info{Name: r.name, Schemes: r.schemes, DjangoPaths: r.paths, Params: append(params, "herd"),
			StrictKeys: true, Help: r.help, Prepare: r.prepare,
			Open: func(ctx context.Context, cfg *backends.Config) (backends.Backend, error) { return open(cfg, r.client) }})
	}
}

// prepareLegacy reads Django 1.2's CACHE_BACKEND form memcached://h:p;h:p/
// (the trailing slash), which meant python-memcached, not pymemcache.
func prepareLegacy(cfg *backends.Config) error {
	if cfg.Scheme == "memcached" && len(cfg.Locations) == 1 && strings.HasSuffix(cfg.Locations[0], "/") {
		cfg.Locations[0] = strings.TrimSuffix(cfg.Locations[0], "/")
		if cfg.Params["client"] == "" {
			cfg.Params["client"] = "python-memcached"
		}
		cfg.Params["legacy"] = "CACHE_BACKEND memcached:// (Django <= 1.2)"
	}
	return nil
}

// prepareNewcache applies django-newcache's key function; with
// binary=true (or client=pylibmc) it used pylibmc with hash "crc".
func prepareNewcache(cfg *backends.Config) error {
	if len(cfg.Locations) == 1 {
		cfg.Locations[0] = strings.TrimSuffix(cfg.Locations[0], "/")
	}
	if !cfg.Explicit("key_function") {
		cfg.Settings.KeyFunction = "newcache"
	}
	if cfg.Params["client"] == "" {
		cfg.Params["client"] = "python-memcached"
		if truthy(cfg.Params["binary"]) {
			cfg.Params["client"] = "pylibmc"
		}
	}
	cfg.Params["newcache"] = "1"
	return nil
}

// Cache is a memcached cluster as one Python client sees it.
type Cache struct {
	client   Client
	servers  []selector.Server
	sel      selector.Selector
	sharding string
	mc       *memcache.Client
	codec    codec
	timeout  time.Duration
	legacy   string
	pool     connPool // idle text-protocol connections, per server index
}

var (
	_ backends.Backend        = (*Cache)(nil)
	_ backends.Adder          = (*Cache)(nil)
	_ backends.Toucher        = (*Cache)(nil)
	_ backends.Incrementer    = (*Cache)(nil)
	_ backends.TTLer          = (*Cache)(nil)
	_ backends.MultiGetter    = (*Cache)(nil)
	_ backends.MultiSetter    = (*Cache)(nil)
	_ backends.MultiDeleter   = (*Cache)(nil)
	_ backends.Clearer        = (*Cache)(nil)
	_ backends.ClearDescriber = (*Cache)(nil)
	_ backends.Lister         = (*Cache)(nil)
	_ backends.Statter        = (*Cache)(nil)
	_ backends.Pinger         = (*Cache)(nil)
	_ backends.KeyEstimator   = (*Cache)(nil)
	_ backends.BulkLaner      = (*Cache)(nil)
)

// BulkLanes: two bulk calls in flight, each on connections of its own (the
// pool keeps up to maxIdlePerServer per server), so a server is sent the
// next batch while the client reads and decodes the replies of the last.
func (c *Cache) BulkLanes() int { return 2 }

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func open(cfg *backends.Config, client Client) (backends.Backend, error) {
	switch cfg.Params["client"] {
	case "":
	case "pymemcache":
		client = PyMemcache
	case "pylibmc":
		client = PyLibMC
	case "python-memcached", "memcache":
		client = PythonMemcached
	default:
		return nil, backends.Configf("client must be pymemcache, pylibmc or python-memcached, not %q", cfg.Params["client"])
	}
	if client != PyLibMC {
		for _, name := range []string{"ketama", "ketama_weighted", "behaviors", "binary", "username", "password", "password_file"} {
			if cfg.Params[name] != "" && (name != "binary" || cfg.Params["newcache"] == "") { // newcache's binary chose the client
				cfg.Warn("%s has no effect with %s: only pylibmc reads it (client=pylibmc, or a pylibmc:// URL)", name, clientNames[client])
			}
		}
	}
	if cfg.Params["herd"] != "" && cfg.Params["newcache"] == "" {
		cfg.Warn("herd has no effect: it is django-newcache's (a newcache:// URL)")
	}
	if client == PyLibMC && (truthy(cfg.Params["binary"]) || cfg.Params["username"] != "") {
		return openBinaryPyLibMC(cfg)
	}
	sc := map[Client]selector.Client{PyMemcache: selector.PyMemcache, PythonMemcached: selector.PythonMemcached}[client]
	var sharding string
	if client == PyLibMC {
		var err error
		if sc, sharding, err = pylibmcSelector(cfg.Params); err != nil {
			return nil, err
		}
	}
	servers, sel, err := newSelector(sc, cfg.Locations)
	if err != nil {
		return nil, err
	}
	timeout := opTimeout(cfg)
	mc := memcache.NewFromSelector(selector.NewGomemcacheSelector(sel, servers))
	mc.Timeout = timeout
	mc.MaxIdleConns = 4
	c := &Cache{client: client, servers: servers, sel: sel, sharding: describeSharding(sc, sharding, servers), mc: mc,
		codec: codec{client: client, protocol: 5}, timeout: timeout, legacy: cfg.Params["legacy"]}
	if cfg.Params["newcache"] != "" {
		c.codec.setNewcache(cfg)
	}
	return c, nil
}

// newSelector parses LOCATION as client does (each string split on ';'
// and ',' as Django splits it) and builds its selector.
func newSelector(client selector.Client, locations []string) ([]selector.Server, selector.Selector, error) {
	var specs []string
	for _, l := range locations {
		specs = append(specs, selector.SplitLocation(l)...)
	}
	servers, err := selector.ParseServers(client, specs)
	if err != nil {
		return nil, nil, backends.Configf("%v", err)
	}
	sel, err := selector.New(client, servers)
	if err != nil {
		return nil, nil, backends.Configf("%v", err)
	}
	return servers, sel, nil
}

// newcacheSharding names django-newcache's default CACHE_BEHAVIORS.
const newcacheSharding = "modula (crc, newcache's default behaviours)"

// pylibmcSelector reads libmemcached's key distribution from ?ketama=1,
// ?ketama_weighted=1 and OPTIONS {"behaviors": {...}} (which arrives as
// JSON text); see selector.PyLibMCBehaviors for what is reproduced.
// Behaviours that would move keys in ways cachectl does not reproduce are
// refused rather than silently sharding differently. django-newcache sets
// its CACHE_BEHAVIORS, {"hash": "crc"} unless others are given; sharding
// then says so.
func pylibmcSelector(p map[string]string) (client selector.Client, sharding string, err error) {
	var bh map[string]any
	if raw := p["behaviors"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &bh); err != nil {
			return 0, "", backends.Configf("pylibmc behaviors must be an object, not %s", raw)
		}
	}
	if bh == nil {
		bh = map[string]any{}
	}
	if truthy(p["ketama"]) {
		bh["ketama"] = true
	}
	if truthy(p["ketama_weighted"]) {
		bh["ketama_weighted"] = true
	}
	if p["newcache"] != "" && len(bh) == 0 {
		bh["hash"], sharding = "crc", newcacheSharding
	}
	if client, err = selector.PyLibMCBehaviors(bh); err != nil {
		return 0, "", backends.Configf("%v", err)
	}
	return client, sharding, nil
}

// describeSharding is config show's "sharding": "one server", the
// description given, or the client's.
func describeSharding(client selector.Client, given string, servers []selector.Server) string {
	switch {
	case len(servers) == 1:
		return "one server"
	case given != "":
		return given
	}
	return client.Sharding()
}

// opTimeout bounds each socket operation: the command's deadline, at most
// 5 s (the commands layer always sets one: --deadline, 30 s by default);
// 1 s for a Config opened without a deadline. gomemcache has no per-call
// context, so this is what keeps a silent server from hanging a command.
func opTimeout(cfg *backends.Config) time.Duration {
	switch t := cfg.Deadline; {
	case t <= 0:
		return time.Second
	case t > 5*time.Second:
		return 5 * time.Second
	default:
		return t
	}
}

var clientNames = map[Client]string{PyMemcache: "pymemcache", PyLibMC: "pylibmc", PythonMemcached: "python-memcached", BMemcached: "python-binary-memcached"}

// Describe says which client, sharding and flags were chosen.
func (c *Cache) Describe() []backends.StatsField {
	out := []backends.StatsField{{Name: "client", Value: clientNames[c.client]}, {Name: "sharding", Value: c.sharding},
		{Name: "flags", Value: map[Client]string{PyMemcache: "str 16, int 2, bytes 0, pickle 1", PythonMemcached: "str 16, int 2, bytes 0, pickle 1",
			PyLibMC: "str 16, int 4, bool 2, bytes 0, pickle 1"}[c.client]}}
	if c.legacy != "" {
		out = append(out, backends.StatsField{Name: "legacy", Value: c.legacy + ": python-memcached chosen; ?client= overrides"})
	}
	if c.codec.newcache {
		out = append(out, backends.StatsField{Name: "newcache", Value: fmt.Sprintf("herd packing %v", c.codec.herd)})
	}
	return out
}

func (c *Cache) server(key string) selector.Server { return c.servers[c.pick(key)] }

// pick is the index of the server holding key. Every client puts every key
// on the only server there is, so one server skips the hashing (pymemcache's
// murmur3 over each key was a twentieth of a set-many's client CPU).
func (c *Cache) pick(key string) int {
	if len(c.servers) == 1 {
		return 0
	}
	return c.sel.Pick(key)
}

// ServerFor names the server holding key (shown by inspect).
func (c *Cache) ServerFor(key string) string { return c.server(key).String() }

// fail translates gomemcache and socket errors, naming the server.
func (c *Cache) fail(op string, s selector.Server, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, memcache.ErrCacheMiss):
		return backends.ErrCacheMiss
	case errors.Is(err, context.Canceled):
		return err
	}
	// A passed deadline still names the server (and unwraps to it).
	return backends.Unavailable(op, s.String(), err)
}

// exptime is Django's BaseMemcachedCache.get_backend_timeout: None → 0
// (never), int(t) == 0 → -1 (expired at once), > 30 days → absolute.
func exptime(t backends.Timeout) int32 {
	if t.Forever {
		return 0
	}
	// Clamped while still a float: converting one beyond an int64 (a
	// timeout of 1e20 or -1e20) gives an undefined value, and a number
	// below -2^31 wrapped into int32 could come out positive.
	s := math.Trunc(t.Seconds)
	if s == 0 {
		s = -1
	}
	if s > 2592000 {
		s += float64(time.Now().Unix())
	}
	return int32(max(min(s, math.MaxInt32), math.MinInt32))
}

// exp maps Django's timeout to memcached's exptime for a set, add or
// touch; django-newcache has its own rules (codec.newcacheExp).
func (c *Cache) exp(t backends.Timeout) int32 {
	if c.codec.newcache {
		return c.codec.newcacheExp(t, true)
	}
	return exptime(t)
}

// Get reads one item. python-memcached reads a stored None as a miss.
func (c *Cache) Get(ctx context.Context, key string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	it, err := c.mc.Get(key)
	if err != nil {
		return backends.Entry{}, c.fail("get", c.server(key), err)
	}
	e := backends.Entry{Data: it.Value, Flags: it.Flags}
	if c.client == PythonMemcached && c.storedNone(e) {
		return backends.Entry{}, backends.ErrCacheMiss
	}
	return e, nil
}

func (c *Cache) storedNone(e backends.Entry) bool {
	// Any pickle of None is a few bytes; larger items are not decoded here.
	if e.Flags != flagPickle || len(e.Data) > 16 {
		return false
	}
	v, err := pickle.Decode(e.Data)
	_, isNone := v.(pickle.None)
	return err == nil && isNone
}

// Set stores; when the server refuses, the key is deleted so that a stale
// value cannot survive (Django's memcached set).
func (c *Cache) Set(ctx context.Context, key string, e backends.Entry, t backends.Timeout) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.mc.Set(&memcache.Item{Key: key, Value: e.Data, Flags: e.Flags, Expiration: c.exp(t)})
	if err != nil {
		if serverRefused(err) {
			// As Django: a value the server would not store (over its item
			// size) must not leave the old one readable. Not after a
			// timeout or a failed connection, where the client raises and
			// Django deletes nothing (that delete would wait again, past
			// --deadline).
			c.mc.Delete(key)
		}
		return c.fail("set", c.server(key), err)
	}
	return nil
}

// serverRefused reports a write the server answered with a refusal
// (NOT_STORED, SERVER_ERROR …) rather than a failure to reach it.
func serverRefused(err error) bool {
	return errors.Is(err, memcache.ErrNotStored) || strings.Contains(err.Error(), "unexpected response line")
}

// Add is memcached's add.
func (c *Cache) Add(ctx context.Context, key string, e backends.Entry, t backends.Timeout) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err := c.mc.Add(&memcache.Item{Key: key, Value: e.Data, Flags: e.Flags, Expiration: c.exp(t)})
	if errors.Is(err, memcache.ErrNotStored) {
		return false, nil
	}
	return err == nil, c.fail("add", c.server(key), err)
}

// Delete is memcached's delete.
func (c *Cache) Delete(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err := c.mc.Delete(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return false, nil
	}
	return err == nil, c.fail("delete", c.server(key), err)
}

// Touch is memcached's touch; PyLibMCCache deletes on a timeout of 0.
func (c *Cache) Touch(ctx context.Context, key string, t backends.Timeout) (bool, error) {
	if c.client == PyLibMC && !t.Forever && t.Seconds == 0 {
		return c.Delete(ctx, key)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err := c.mc.Touch(key, c.exp(t))
	if errors.Is(err, memcache.ErrCacheMiss) {
		return false, nil
	}
	return err == nil, c.fail("touch", c.server(key), err)
}

// Incr is memcached's incr, or decr for a negative delta (it floors at 0).
func (c *Cache) Incr(ctx context.Context, key string, delta int64) (pickle.Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var n uint64
	var err error
	if delta >= 0 {
		n, err = c.mc.Increment(key, uint64(delta))
	} else {
		n, err = c.mc.Decrement(key, uint64(-delta))
	}
	if err != nil {
		if errors.Is(err, memcache.ErrCacheMiss) {
			return nil, backends.ErrCacheMiss
		}
		if strings.Contains(err.Error(), "non-numeric") {
			return nil, fmt.Errorf("incr %q: %w (%v)", key, backends.ErrNotInteger, err)
		}
		return nil, c.fail("incr", c.server(key), err)
	}
	if n > math.MaxInt64 {
		return pickle.Value(new(big.Int).SetUint64(n)), nil
	}
	return int64(n), nil
}

// GetMany sends one "get k1 k2 ..." per server (what gomemcache's GetMulti
// and Django's get_many send) on the kept connections of the bulk pool,
// the servers at once. Written on conn rather than through GetMulti, which
// resets the socket deadline for every line it reads and builds a map of
// items per batch: together a third of a get-many's CPU. A server that
// fails (or an interruption) loses only its own keys: the others' entries
// are returned with the joined errors.
func (c *Cache) GetMany(ctx context.Context, keys []string) (map[string]backends.Entry, error) {
	out := make(map[string]backends.Entry, len(keys))
	if err := ctx.Err(); err != nil {
		return out, err
	}
	groups := c.byServer(keys)
	idx := nonEmpty(groups)
	// One server's group is read on this goroutine, with no lock; several
	// are read at once, their hits stored under a mutex (merging maps of
	// their own afterwards would cost a second insert per hit).
	var mu sync.Mutex
	fetch := func(i int, add func(key string, e backends.Entry)) error {
		_, err := c.use(ctx, i, func(cn *conn) error {
			return cn.getMulti(groups[i], func(key string, e backends.Entry) {
				if c.client == PythonMemcached && c.storedNone(e) {
					return
				}
				add(key, e)
			})
		})
		if err != nil {
			return c.fail("get_many", c.servers[i], ctxCause(ctx, err))
		}
		return nil
	}
	if len(idx) == 1 {
		return out, fetch(idx[0], func(key string, e backends.Entry) { out[key] = e })
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(idx))
	)
	for j, i := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[j] = fetch(i, func(key string, e backends.Entry) {
				mu.Lock()
				out[key] = e
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// byServer groups keys by server, indexed as c.servers.
func (c *Cache) byServer(keys []string) [][]string {
	return groupByServer(c, keys, func(k string) string { return k })
}

// groupByServer groups xs by the server of each one's key, indexed as
// c.servers (one server: xs itself, nothing hashed).
func groupByServer[T any](c *Cache, xs []T, key func(T) string) [][]T {
	if len(c.servers) == 1 {
		return [][]T{xs}
	}
	g := make([][]T, len(c.servers))
	for _, x := range xs {
		i := c.pick(key(x))
		g[i] = append(g[i], x)
	}
	return g
}

// use runs fn on a connection to server i: a kept one when there is one
// (run again on a new connection if the server had closed it unseen), else
// a new one. The connection is kept for the next call when fn succeeded.
// A failed dial is reported as ("connect", err).
func (c *Cache) use(ctx context.Context, i int, fn func(cn *conn) error) (op string, err error) {
	cn := c.pool.get(ctx, i)
	if cn != nil {
		err = fn(cn)
		if err == nil || !stale(cn, err) {
			c.pool.put(i, cn, err == nil)
			return "", err
		}
		cn.close()
	}
	cn, err = dialServer(ctx, c.servers[i], c.timeout)
	if err != nil {
		return "connect", err
	}
	err = fn(cn)
	c.pool.put(i, cn, err == nil)
	return "", err
}

// each runs fn against the servers idx at once, each on its own
// connection (kept for the next call), and joins the errors (each naming
// its server).
func (c *Cache) each(ctx context.Context, idx []int, fn func(i int, cn *conn) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(idx))
	for j, i := range idx {
		wg.Add(1)
		go func(j, i int) {
			defer wg.Done()
			s := c.servers[i]
			op, err := c.use(ctx, i, func(cn *conn) error { return fn(i, cn) })
			if op == "connect" {
				errs[j] = c.fail("connect", s, err)
				return
			}
			if err != nil {
				var se *backends.ServerError
				if !errors.As(err, &se) && !errors.Is(err, backends.ErrUnsupported) {
					err = c.fail("memcached", s, err)
				}
				errs[j] = err
			}
		}(j, i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Cache) allIdx() []int {
	idx := make([]int, len(c.servers))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// nonEmpty lists the servers (indexes into groups) that have something
// to do, in order.
func nonEmpty[T any](groups [][]T) []int {
	idx := make([]int, 0, len(groups))
	for i, g := range groups {
		if len(g) > 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// pipelineChunk is how many commands are written before their replies are
// read: enough to hide round trips, few enough that the replies never fill
// the socket buffers while we are still writing (which would deadlock).
const pipelineChunk = 256

// pipeline writes cmds in chunks, reading one reply line per command and
// passing it to reply. It checks ctx between chunks, so no chunk starts
// after an interrupt; a chunk already started is finished (its replies
// read, under the operation timeout, see conn.inFlight), since the server
// executes it anyway: what reply is told is what the server did.
func pipeline(ctx context.Context, cn *conn, n int, write func(i int), reply func(i int, line string)) error {
	for start := 0; start < n; start += pipelineChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+pipelineChunk, n)
		err := cn.inFlight(func() error {
			for i := start; i < end; i++ {
				write(i)
			}
			if err := cn.flush(); err != nil {
				return err
			}
			for i := start; i < end; i++ {
				line, err := cn.line()
				if err != nil {
					return err
				}
				reply(i, line)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SetMany pipelines "set" commands to each server. Keys not confirmed
// STORED (refused, or on a server that failed) are returned as failed.
func (c *Cache) SetMany(ctx context.Context, items []backends.Item, t backends.Timeout) ([]string, error) {
	exp := c.exp(t)
	if c.codec.newcache {
		exp = c.codec.newcacheExp(t, false) // set_many leaves out the herd grace
	}
	groups := groupByServer(c, items, func(it backends.Item) string { return it.Key })
	stored := make([][]bool, len(groups))
	for i, g := range groups {
		stored[i] = make([]bool, len(g))
	}
	idx := nonEmpty(groups)
	var reasonMu sync.Mutex
	reason := "" // the first refusal's reply, with its server
	err := c.each(ctx, idx, func(i int, cn *conn) error {
		g, ok := groups[i], stored[i]
		return pipeline(ctx, cn, len(g), func(j int) {
			it := g[j]
			// "set KEY FLAGS EXPTIME BYTES", appended in place (fmt's
			// Fprintf was a tenth of a million-key set-many's client CPU).
			b := append(cn.w.AvailableBuffer(), "set "...)
			b = append(b, it.Key...)
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(it.Entry.Flags), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(exp), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(len(it.Entry.Data)), 10)
			b = append(b, "\r\n"...)
			cn.w.Write(b)
			cn.w.Write(it.Entry.Data)
			cn.w.WriteString("\r\n")
		}, func(j int, line string) {
			ok[j] = line == "STORED"
			if !ok[j] {
				reasonMu.Lock()
				if reason == "" {
					reason = fmt.Sprintf("%s answered %q", c.servers[i], line)
				}
				reasonMu.Unlock()
			}
		})
	})
	var failed []string
	for _, i := range idx {
		for j, it := range groups[i] {
			if !stored[i][j] {
				failed = append(failed, it.Key)
			}
		}
	}
	if err == nil && reason != "" {
		err = &backends.NotStoredError{Reason: reason}
	}
	return failed, err
}

// DeleteMany pipelines "delete" commands per server and counts DELETED.
func (c *Cache) DeleteMany(ctx context.Context, keys []string) (int, error) {
	groups := c.byServer(keys)
	// Per server, each counted by its own goroutine alone: the keys
	// written out (a chunk is flushed as soon as it is written) and the
	// ones the server deleted.
	written, deleted := make([]int, len(groups)), make([]int, len(groups))
	err := c.each(ctx, nonEmpty(groups), func(i int, cn *conn) error {
		g := groups[i]
		return pipeline(ctx, cn, len(g), func(j int) {
			written[i]++
			cn.w.WriteString("delete ")
			cn.w.WriteString(g[j])
			cn.w.WriteString("\r\n")
		},
			func(_ int, line string) {
				if line == "DELETED" {
					deleted[i]++
				}
			})
	})
	n, sent := 0, 0
	for i := range groups {
		n, sent = n+deleted[i], sent+written[i]
	}
	if err != nil && ctx.Err() != nil && sent < len(keys) {
		// Interrupted between chunks: the keys of the chunks never
		// written were not attempted, which the summary says. A chunk
		// written counts as attempted even when its replies did not come:
		// the server may well have run it.
		return n, &backends.CutShortError{Attempted: sent, Err: err}
	}
	return n, err
}

// TTL asks the server with the meta command "mg <key> t" (memcached
// 1.6+), which gomemcache does not speak: the reply carries the remaining
// seconds, or t-1 for an item that never expires. Older servers answer
// ERROR, reported as ErrUnsupported.
func (c *Cache) TTL(ctx context.Context, key string) (backends.Timeout, error) {
	i := c.pick(key)
	s := c.servers[i]
	var line string
	_, err := c.use(ctx, i, func(cn *conn) error {
		if err := cn.send("mg %s t\r\n", key); err != nil {
			return err
		}
		var err error
		line, err = cn.line()
		return err
	})
	if err != nil {
		return backends.Timeout{}, c.fail("ttl", s, err)
	}
	return parseMetaTTL(s.String(), line)
}

// parseMetaTTL reads the reply to "mg <key> t": EN (miss), HD t<n> (hit),
// or an error line from a server without meta commands.
func parseMetaTTL(server, line string) (backends.Timeout, error) {
	if line == "EN" {
		return backends.Timeout{}, backends.ErrCacheMiss
	}
	if e := serverError(line); e != nil {
		return backends.Timeout{}, fmt.Errorf("ttl on %s needs memcached 1.6 or later (meta commands): %w (%v)", server, backends.ErrUnsupported, e)
	}
	f := strings.Fields(line)
	if len(f) > 0 && (f[0] == "HD" || f[0] == "OK" || f[0] == "VA") {
		for _, flag := range f[1:] {
			if !strings.HasPrefix(flag, "t") {
				continue
			}
			n, err := strconv.ParseInt(flag[1:], 10, 64)
			if err != nil {
				break
			}
			if n < 0 {
				return backends.Timeout{Forever: true}, nil
			}
			return backends.Timeout{Seconds: float64(n)}, nil
		}
	}
	return backends.Timeout{}, fmt.Errorf("ttl on %s: unexpected reply %q: %w", server, line, backends.ErrUnsupported)
}

func (c *Cache) serverNames() string {
	names := make([]string, len(c.servers))
	for i, s := range c.servers {
		names[i] = s.String()
	}
	return strings.Join(names, ", ")
}

// Clear is flush_all on every server, as Django's clear does.
func (c *Cache) Clear(ctx context.Context) error {
	var mu sync.Mutex
	var flushed []string
	err := c.each(ctx, c.allIdx(), func(i int, cn *conn) error {
		if err := cn.send("flush_all\r\n"); err != nil {
			return err
		}
		line, err := cn.line()
		if err != nil {
			return err
		}
		if line != "OK" {
			return fmt.Errorf("flush_all: %s", line)
		}
		mu.Lock()
		flushed = append(flushed, c.servers[i].String())
		mu.Unlock()
		return nil
	})
	if err != nil && len(flushed) > 0 {
		// Some servers were flushed all the same: say which.
		slices.Sort(flushed)
		return fmt.Errorf("%w (flushed all the same: %s)", err, strings.Join(flushed, ", "))
	}
	return err
}

// DescribeClear names every server that will be flushed.
func (c *Cache) DescribeClear(context.Context) (backends.ClearPlan, error) {
	return backends.ClearPlan{
		Ask: fmt.Sprintf("flush_all on %d server(s) (%s): every item on them goes, not only this cache's keys",
			len(c.servers), c.serverNames()),
		Done: func(int) string {
			return fmt.Sprintf("every item flushed (flush_all) on %d server(s) (%s)", len(c.servers), c.serverNames())
		},
	}, nil
}

// List walks "lru_crawler metadump" on every server, one at a time,
// and reports the keys matching glob.
func (c *Cache) List(ctx context.Context, glob string, fn func(backends.KeyInfo) error) error {
	for i, s := range c.servers {
		op, err := c.use(ctx, i, func(cn *conn) error { return c.listServer(ctx, cn, s, glob, fn) })
		if op == "connect" {
			return c.fail("list", s, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Cache) listServer(ctx context.Context, cn *conn, s selector.Server, glob string, fn func(backends.KeyInfo) error) error {
	// "metadump hash" walks the hash table (memcached 1.6.11+), which sees
	// every item; "metadump all" walks the LRUs and can miss items being
	// moved between them, so it is only the fallback for older servers.
	mode := "hash"
	for attempt := 0; ; attempt++ {
		if err := cn.send("lru_crawler metadump %s\r\n", mode); err != nil {
			return c.fail("list", s, err)
		}
		line, err := cn.line()
		if err != nil {
			return c.fail("list", s, err)
		}
		if strings.HasPrefix(line, "BUSY") && attempt < 20 {
			// Another crawl is running on this server: wait for it.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if mode == "hash" && strings.HasPrefix(line, "CLIENT_ERROR") {
			mode = "all"
			continue
		}
		if e := serverError(line); e != nil || strings.HasPrefix(line, "BUSY") {
			return fmt.Errorf("listing keys on %s needs memcached 1.4.31 or later with the LRU crawler (%s): %w", s.String(), line, backends.ErrUnsupported)
		}
		return c.handOn(ctx, cn, s, line, glob, fn)
	}
}

// handOn reads the rest of a metadump whose first line is first and
// passes the keys matching glob to fn. A goroutine reads the dump as fast
// as the server sends it into a keySpool, whatever fn does meanwhile (see
// metadump.go: an unread dump stalls the server's commands on other
// connections, the deletes of a pattern delete among them).
func (c *Cache) handOn(ctx context.Context, cn *conn, s selector.Server, first, glob string, fn func(backends.KeyInfo) error) error {
	sp := newKeySpool()
	defer sp.close()
	read := make(chan struct{})
	go func() {
		defer close(read)
		line := first
		// The crawler leaves out items past their exptime but dumps one
		// in its last second, which a get already misses (memcached expires
		// an item at its exptime): not listed either.
		now := time.Now().Unix()
		for line != "END" {
			if ki, ok := parseMetadump(line); ok && (ki.Forever || ki.Expires.Unix() > now) && (glob == "" || backends.MatchGlob(glob, ki.Key)) {
				sp.put(ki, line)
			}
			var err error
			if line, err = cn.line(); err != nil {
				sp.finish(c.fail("list", s, err))
				return
			}
		}
		sp.finish(nil)
	}()
	// abort stops the reader, closing cn (which is not kept after an
	// error), and waits for it: cn is not used after handOn returns.
	abort := func(err error) error {
		cn.c.Close()
		<-read
		return err
	}
	for {
		keys, err := sp.take()
		if err != nil {
			return abort(err)
		}
		if keys == nil {
			<-read
			return nil
		}
		for _, ki := range keys {
			if err := ctx.Err(); err != nil {
				return abort(c.fail("list", s, err))
			}
			if err := fn(ki); err != nil {
				return abort(err)
			}
		}
	}
}

// parseMetadump reads "key=<url-encoded> exp=<unix|-1> la=.. cas=.. fetch=.. cls=.. size=..".
func parseMetadump(line string) (backends.KeyInfo, bool) {
	ki := backends.KeyInfo{Size: -1}
	found := false
	for _, f := range strings.Fields(line) {
		name, val, _ := strings.Cut(f, "=")
		switch name {
		case "key":
			// memcached %-encodes every byte but [A-Za-z0-9._~-]; a
			// literal + is never written, so it is not read as a space.
			k, err := url.PathUnescape(val)
			if err != nil {
				return ki, false
			}
			ki.Key, found = k, true
		case "exp":
			n, _ := strconv.ParseInt(val, 10, 64)
			if n < 0 {
				ki.Forever = true
			} else {
				ki.Expires = time.Unix(n, 0)
			}
		case "size":
			ki.Size, _ = strconv.ParseInt(val, 10, 64)
		}
	}
	return ki, found
}

// EstimateKeys is curr_items summed over the servers: every item they
// hold, other sites' and expired ones included, so an upper bound of what
// lru_crawler metadump lists for any glob.
func (c *Cache) EstimateKeys(ctx context.Context, _ string) (backends.Estimate, error) {
	secs, err := c.Stats(ctx)
	if err != nil {
		return backends.UnknownEstimate, err
	}
	for _, f := range secs[len(secs)-1].Fields { // the total
		if n, ok := f.Value.(int64); ok && f.Name == "curr_items" {
			return backends.Estimate{N: n, UpperBound: true}, nil
		}
	}
	return backends.UnknownEstimate, nil
}

// Stats reports each server and the total.
func (c *Cache) Stats(ctx context.Context) ([]backends.StatsSection, error) {
	secs := make([]backends.StatsSection, len(c.servers))
	err := c.each(ctx, c.allIdx(), func(i int, cn *conn) error {
		if err := cn.send("stats\r\n"); err != nil {
			return err
		}
		m := map[string]string{}
		for {
			line, err := cn.line()
			if err != nil {
				return err
			}
			if line == "END" {
				break
			}
			if e := serverError(line); e != nil {
				return e
			}
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "STAT" {
				m[f[1]] = f[2]
			}
		}
		secs[i] = statsSection(c.servers[i].String(), m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(secs, totalSection(secs)), nil
}

// totalSection adds up the servers' counters; the hit ratio is computed
// from the summed hits and misses, not averaged.
func totalSection(secs []backends.StatsSection) backends.StatsSection {
	total := map[string]int64{}
	for _, sec := range secs {
		for _, f := range sec.Fields {
			if n, ok := f.Value.(int64); ok {
				total[f.Name] += n
			}
		}
	}
	tf := []backends.StatsField{{Name: "servers", Value: len(secs)}}
	for _, name := range []string{"curr_items", "bytes", "limit_maxbytes", "get_hits", "get_misses", "evictions", "curr_connections"} {
		tf = append(tf, backends.StatsField{Name: name, Value: total[name]})
	}
	tf = append(tf, backends.StatsField{Name: "hit_ratio", Value: hitRatio(float64(total["get_hits"]), float64(total["get_misses"]))})
	return backends.StatsSection{Name: "total", Fields: tf}
}

// hitRatio is get_hits / (get_hits + get_misses), nil before any get.
func hitRatio(hits, misses float64) any {
	if hits+misses > 0 {
		return hits / (hits + misses)
	}
	return nil
}

func statsSection(name string, m map[string]string) backends.StatsSection {
	num := func(k string) any {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil {
			return nil
		}
		return n
	}
	hits, _ := strconv.ParseFloat(m["get_hits"], 64)
	misses, _ := strconv.ParseFloat(m["get_misses"], 64)
	ratio := hitRatio(hits, misses)
	return backends.StatsSection{Name: name, Fields: []backends.StatsField{
		{Name: "version", Value: m["version"]},
		{Name: "uptime", Value: num("uptime")},
		{Name: "curr_items", Value: num("curr_items")},
		{Name: "bytes", Value: num("bytes")},
		{Name: "limit_maxbytes", Value: num("limit_maxbytes")},
		{Name: "get_hits", Value: num("get_hits")},
		{Name: "get_misses", Value: num("get_misses")},
		{Name: "hit_ratio", Value: ratio},
		{Name: "evictions", Value: num("evictions")},
		{Name: "curr_connections", Value: num("curr_connections")},
	}}
}

// Ping asks every server for its version.
func (c *Cache) Ping(ctx context.Context) error {
	return c.each(ctx, c.allIdx(), func(_ int, cn *conn) error {
		if err := cn.send("version\r\n"); err != nil {
			return err
		}
		line, err := cn.line()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "VERSION") {
			return fmt.Errorf("unexpected reply %q", line)
		}
		return nil
	})
}

// Codec is the client's flag encoding.
func (c *Cache) Codec() backends.Codec { return c.codec }

// Close releases the idle connections, gomemcache's and ours.
func (c *Cache) Close() error { return errors.Join(c.pool.close(), c.mc.Close()) }
