// Package redis is Django's RedisCache (4.0+) and django-redis over one
// go-redis transport; the registration picks the codec and timeout rules.
package redis

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

func init() {
	backends.Register(&backends.Info{
		Name:        "redis",
		Schemes:     []string{"redis", "rediss", "unix", "redis+sentinel", "redis+cluster"},
		DjangoPaths: []string{"django.core.cache.backends.redis.RedisCache"},
		Params:      params,
		Prepare:     prepare,
		Help:        "Django's RedisCache, or django-redis with ?backend=django-redis (redis://host:port/db)",
		Open: func(ctx context.Context, cfg *backends.Config) (backends.Backend, error) {
			return open(ctx, cfg, false)
		},
	})
	backends.Register(&backends.Info{
		Name:        "django-redis",
		DjangoPaths: []string{"django_redis.cache.RedisCache"},
		Params:      params,
		Prepare:     prepare,
		Help:        "django-redis (django_redis.cache.RedisCache)",
		Open:        func(ctx context.Context, cfg *backends.Config) (backends.Backend, error) { return open(ctx, cfg, true) },
	})
}

// Cache is a Redis cache: a leader for writes and optional read replicas.
type Cache struct {
	leader    goredis.UniversalClient
	replicas  []goredis.UniversalClient
	cluster   *goredis.ClusterClient
	eps       []endpoint
	loc       string // redacted, for messages
	djRedis   bool   // django-redis rules (PX milliseconds) instead of Django's (EX seconds)
	codec     backends.Codec
	keyPrefix string
	db        int
	aborters  []*aborter // one per endpoint
}

var (
	_ backends.Backend        = (*Cache)(nil)
	_ backends.Adder          = (*Cache)(nil)
	_ backends.Toucher        = (*Cache)(nil)
	_ backends.HasKeyer       = (*Cache)(nil)
	_ backends.Incrementer    = (*Cache)(nil)
	_ backends.TTLer          = (*Cache)(nil)
	_ backends.MultiGetter    = (*Cache)(nil)
	_ backends.MultiSetter    = (*Cache)(nil)
	_ backends.MultiDeleter   = (*Cache)(nil)
	_ backends.Clearer        = (*Cache)(nil)
	_ backends.ClearDescriber = (*Cache)(nil)
	_ backends.KeyNameLister  = (*Cache)(nil)
	_ backends.Lister         = (*Cache)(nil)
	_ backends.Statter        = (*Cache)(nil)
	_ backends.OptionStatter  = (*Cache)(nil)
	_ backends.Pinger         = (*Cache)(nil)
	_ backends.Describer      = (*Cache)(nil)
	_ backends.BulkLaner      = (*Cache)(nil)
	_ backends.KeyEstimator   = (*Cache)(nil)
)

func open(_ context.Context, cfg *backends.Config, djRedis bool) (backends.Backend, error) {
	p := cfg.Params
	switch p["backend"] {
	case "":
		// Django's RedisCache has no Sentinel support: a sentinel URL is
		// django-redis' SentinelClient, with its encoding (protocol 4, PX).
		if cfg.Scheme == "redis+sentinel" {
			djRedis = true
		}
	case "django":
	case "django-redis", "django_redis":
		djRedis = true
	default:
		return nil, backends.Configf("backend must be django or django-redis, not %q", p["backend"])
	}
	if cc := p["client_class"]; cc != "" && !djRedis {
		return nil, backends.Configf("client_class is a django-redis option: add backend=django-redis")
	} else if cc != "" {
		switch cc {
		case "django_redis.client.DefaultClient", "django_redis.client.default.DefaultClient",
			"django_redis.client.SentinelClient", "django_redis.client.sentinel.SentinelClient":
		default:
			// ShardClient spreads keys over servers by its own hash ring,
			// HerdClient wraps every value: neither is implemented.
			return nil, backends.Configf("django-redis CLIENT_CLASS %s is not supported (only DefaultClient and SentinelClient)", cc)
		}
	}
	codec, err := newCodec(p, djRedis)
	if err != nil {
		return nil, err
	}
	eps, err := parseEndpoints(cfg, djRedis)
	if err != nil {
		return nil, err
	}
	var shown []string
	for _, ep := range eps {
		if len(shown) == 0 || shown[len(shown)-1] != ep.display {
			shown = append(shown, ep.display)
		}
	}
	c := &Cache{djRedis: djRedis, codec: codec, keyPrefix: cfg.Settings.KeyPrefix, eps: eps,
		loc: strings.Join(shown, ","), db: eps[0].db}
	for i, ep := range eps {
		ab := newAborter(ep.dialTimeout, ep.tls)
		c.aborters = append(c.aborters, ab)
		client, cluster := newClient(ep, ab)
		if i == 0 {
			c.leader, c.cluster = client, cluster
		} else {
			c.replicas = append(c.replicas, client)
		}
	}
	return c, nil
}

func newCodec(p map[string]string, djRedis bool) (backends.Codec, error) {
	if !djRedis {
		switch p["serializer"] {
		case "", "django.core.cache.backends.redis.RedisSerializer":
		default:
			return nil, backends.Configf("serializer %q: Django's RedisCache has only its own RedisSerializer; compressor and serializer are django-redis options: add backend=django-redis", p["serializer"])
		}
		if p["compressor"] != "" || p["pickle_version"] != "" {
			return nil, backends.Configf("compressor and serializer are django-redis options (pickle_version too): add backend=django-redis")
		}
		return djangoCodec{}, nil
	}
	c := djangoRedisCodec{serializer: "pickle", protocol: 4, comp: compressors["identity"]}
	switch s := p["serializer"]; s {
	case "", "pickle", "django_redis.serializers.pickle.PickleSerializer":
	case "json", "django_redis.serializers.json.JSONSerializer":
		c.serializer = "json"
	case "msgpack", "django_redis.serializers.msgpack.MSGPackSerializer":
		c.serializer = "msgpack"
	default:
		return nil, backends.Configf("serializer must be pickle, json or msgpack (django-redis' own serializers), not %q", s)
	}
	if s := p["compressor"]; s != "" {
		name, ok := compressorPaths[s]
		if !ok {
			name = s
		}
		comp, ok := compressors[name]
		if !ok {
			return nil, backends.Configf("compressor must be zlib, gzip, lzma, lz4, zstd or identity (django-redis' own compressors), not %q", s)
		}
		c.comp = comp
	}
	if s := p["pickle_version"]; s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n > 5 {
			return nil, backends.Configf("pickle_version must be at most 5 (HIGHEST_PROTOCOL), not %q", s)
		}
		if n < 0 {
			n = 5 // pickle.dumps treats a negative protocol as HIGHEST_PROTOCOL
		}
		c.protocol = n
	}
	return c, nil
}

// compressorPaths are django-redis' COMPRESSOR dotted paths.
var compressorPaths = map[string]string{
	"django_redis.compressors.identity.IdentityCompressor": "identity",
	"django_redis.compressors.zlib.ZlibCompressor":         "zlib",
	"django_redis.compressors.gzip.GzipCompressor":         "gzip",
	"django_redis.compressors.lzma.LzmaCompressor":         "lzma",
	"django_redis.compressors.lz4.Lz4Compressor":           "lz4",
	"django_redis.compressors.zstd.ZStdCompressor":         "zstd",
}

// reader is where reads go: a random replica when there are any, as
// Django and django-redis choose, else the leader.
func (c *Cache) reader() goredis.UniversalClient {
	if len(c.replicas) == 0 {
		return c.leader
	}
	return c.replicas[rand.IntN(len(c.replicas))]
}

// isNil reports a nil reply (a miss). go-redis' failover client also
// wraps the sentinels' nil answer for an unknown master name, which is no
// miss at all.
func isNil(err error) bool {
	return errors.Is(err, goredis.Nil) && !strings.Contains(err.Error(), "sentinel")
}

// fail translates a go-redis error at the boundary: a nil reply is a miss,
// anything else names the location and says what went wrong in words.
func (c *Cache) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if isNil(err) {
		return backends.ErrCacheMiss
	}
	msg := err.Error()
	var cerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var ierr x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case strings.Contains(msg, "all sentinels specified") && errors.Is(err, goredis.Nil):
		err = fmt.Errorf("the sentinels know no master named %q (check the service name)", c.eps[0].service)
	case strings.Contains(msg, "AUTH <password> called without"):
		// redisPyAuth's refusal (go-redis reports the server's words alone).
		err = fmt.Errorf("authentication failed: the URL gives a password and the server has none configured, "+
			"where redis-py, and so Django, fails every call; drop the password (%s)", msg)
	case strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "invalid password") ||
		strings.Contains(msg, "invalid username-password"):
		err = fmt.Errorf("authentication failed: %s", msg)
	case strings.HasPrefix(msg, "NOPERM"):
		err = fmt.Errorf("permission denied by the server's ACL: %s", msg)
	case strings.HasPrefix(msg, "READONLY"):
		err = fmt.Errorf("the server is a read-only replica (writes must go to the leader, the first URL): %s", msg)
	case strings.HasPrefix(msg, "MOVED") || strings.HasPrefix(msg, "ASK ") || strings.Contains(msg, "CLUSTERDOWN"):
		if c.cluster != nil {
			err = fmt.Errorf("the cluster is not ready: %s", msg)
		} else {
			err = fmt.Errorf("the server is a Redis Cluster node: use a redis+cluster:// URL (%s)", msg)
		}
	case strings.Contains(msg, "SELECT is not allowed in cluster mode"):
		err = fmt.Errorf("the server is a Redis Cluster node, which has only db 0: use a redis+cluster:// URL (%s)", msg)
	case strings.Contains(msg, "DB index is out of range"):
		err = fmt.Errorf("db %d does not exist on the server (see its databases setting): %s", c.db, msg)
	case strings.HasPrefix(msg, "LOADING"):
		err = fmt.Errorf("the server is still loading its data set: %s", msg)
	case errors.As(err, &cerr) || errors.As(err, &herr) || errors.As(err, &ierr) || strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		err = fmt.Errorf("TLS failure: %s", msg)
	case backends.IsTimeout(err):
		if !errors.As(err, new(*backends.StallError)) {
			// go-redis dials in the background and returns the call's
			// own context error: say what the wait was for.
			for _, ab := range c.aborters {
				if reason := ab.stalled(); reason != "" {
					err = &backends.StallError{Reason: reason, Err: err}
					break
				}
			}
		}
		err = fmt.Errorf("timed out: %w", err)
	case c.eps[0].tls != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE)):
		// TLS 1.3 servers refuse a missing client certificate after the
		// client has finished its handshake: the refusal arrives as a reset.
		err = fmt.Errorf("TLS failure? the server closed the connection (does it require a client certificate? see ssl_certfile and ssl_keyfile): %w", err)
	}
	return backends.Unavailable(op, c.loc, err)
}

// expiry is what a write sends for Django's timeout: forever is "no EX/PX"
// (PERSIST for touch); del is "store nothing", a zero or negative expiry;
// n is the expiry in the client's unit: seconds for Django's RedisCache
// (EX, EXPIRE: max(0, int(timeout))), milliseconds for django-redis (PX,
// PEXPIRE: int(timeout * 1000)). It is an int64 and not a time.Duration,
// which ends at 2^63 ns (292 years), far short of the expiries Redis keeps.
type expiry struct {
	n            int64
	forever, del bool
	// unsendable is set when n does not fit 64 bits (a django-redis
	// timeout below -2^63 ms): set and add delete without sending it,
	// touch cannot send it.
	unsendable error
}

// expiry maps Django's timeout to what each client sends. An expiry that
// Redis refuses (one past 2^63-1 ms after the Unix epoch: "invalid expire
// time") is an error before anything is sent. Django's call fails on the
// server's reply, and its RedisCache set_many only after the MULTI has run
// the MSET: the values stay, never expiring.
func (c *Cache) expiry(t backends.Timeout) (expiry, error) {
	if t.Forever {
		return expiry{forever: true}, nil
	}
	// n stays a float until it is known to fit: Python's int has no bound.
	n, msPer := math.Trunc(t.Seconds*1000), 1.0 // int(timeout * 1000)
	if !c.djRedis {
		n, msPer = math.Max(0, math.Trunc(t.Seconds)), 1000 // max(0, int(timeout))
	}
	switch {
	case math.IsNaN(n):
		return expiry{}, backends.Configf("timeout %v is not a number", t.Seconds)
	case n <= 0:
		if n < math.MinInt64 {
			return expiry{del: true, unsendable: backends.Configf("timeout %g is beyond what Redis accepts: "+
				"PEXPIRE takes a 64-bit number of milliseconds (Django's touch fails with \"value is not an integer or out of range\")", t.Seconds)}, nil
		}
		return expiry{n: int64(n), del: true}, nil
	case n*msPer < math.MaxInt64: // 2^63 as a float64
		e := expiry{n: int64(n)}
		if e.n*int64(msPer) <= math.MaxInt64-time.Now().UnixMilli() {
			return e, nil
		}
	}
	return expiry{}, backends.Configf("timeout %g is beyond what Redis accepts: its expiries end 2^63-1 ms after the Unix epoch "+
		"(Django's call fails with \"invalid expire time\"); use none to never expire", t.Seconds)
}

// setCmd is SET key value [EX n | PX n] [NX], as redis-py sends Django's
// set(ex=n, nx=…) and django-redis' set(px=n, nx=…); its reply is false
// when NX found the key.
func (c *Cache) setCmd(ctx context.Context, key string, data []byte, e expiry, nx bool) *goredis.BoolCmd {
	args := make([]any, 3, 6)
	args[0], args[1], args[2] = "set", key, data
	if !e.forever {
		if c.djRedis {
			args = append(args, "px", e.n)
		} else {
			args = append(args, "ex", e.n)
		}
	}
	if nx {
		args = append(args, "nx")
	}
	return goredis.NewBoolCmd(ctx, args...)
}

// expireCmd is EXPIRE key n (Django) or PEXPIRE key n (django-redis).
func (c *Cache) expireCmd(ctx context.Context, key string, e expiry) *goredis.BoolCmd {
	if c.djRedis {
		return goredis.NewBoolCmd(ctx, "pexpire", key, e.n)
	}
	return goredis.NewBoolCmd(ctx, "expire", key, e.n)
}

// run sends cmd on the leader; cmd holds the reply.
func (c *Cache) run(ctx context.Context, cmd goredis.Cmder) error {
	c.leader.Process(ctx, cmd)
	return cmd.Err()
}

// Get reads a key from a replica (or the leader).
func (c *Cache) Get(ctx context.Context, key string) (backends.Entry, error) {
	return c.getFrom(ctx, c.reader(), key)
}

func (c *Cache) getFrom(ctx context.Context, client goredis.UniversalClient, key string) (backends.Entry, error) {
	b, err := client.Get(ctx, key).Bytes()
	if err != nil {
		if isWrongType(err) {
			// A list, hash, set… that another program keeps in the db: no
			// value Django's cache could have stored (exit 4, and a walk
			// such as scan-audit goes on past it).
			return backends.Entry{}, &backends.DecodeError{Key: key, Err: fmt.Errorf("the key holds another Redis type than a string (%s): not a value Django's cache stores", err)}
		}
		return backends.Entry{}, c.fail("get", err)
	}
	return backends.Entry{Data: b}, nil
}

// Set is SET with EX (Django) or PX (django-redis), plain SET for None,
// and DEL for a zero or negative timeout.
func (c *Cache) Set(ctx context.Context, key string, e backends.Entry, t backends.Timeout) error {
	x, err := c.expiry(t)
	if err != nil {
		return err
	}
	if x.del {
		return c.fail("set", c.leader.Del(ctx, key).Err())
	}
	// Forever: no EX/PX, which clears any TTL, as Django's plain SET does.
	return c.fail("set", c.run(ctx, c.setCmd(ctx, key, e.Data, x, false)))
}

// Add is SET NX with the client's timeout rules.
func (c *Cache) Add(ctx context.Context, key string, e backends.Entry, t backends.Timeout) (bool, error) {
	x, err := c.expiry(t)
	if err != nil {
		return false, err
	}
	if x.del {
		if c.djRedis {
			// django-redis writes nothing and reports whether the key was absent.
			n, err := c.leader.Exists(ctx, key).Result()
			return n == 0, c.fail("add", err)
		}
		cmd := c.setCmd(ctx, key, e.Data, expiry{forever: true}, true) // SET k v NX
		if err := c.run(ctx, cmd); err != nil || !cmd.Val() {
			return false, c.fail("add", err)
		}
		return true, c.fail("add", c.leader.Del(ctx, key).Err())
	}
	cmd := c.setCmd(ctx, key, e.Data, x, true)
	err = c.run(ctx, cmd)
	return cmd.Val(), c.fail("add", err)
}

// Touch is EXPIRE/PEXPIRE, or PERSIST for None.
func (c *Cache) Touch(ctx context.Context, key string, t backends.Timeout) (bool, error) {
	if t.Forever {
		// PERSIST answers 0 for a key that has no TTL too, where Django
		// returns False; the Toucher contract is "false when missing", so
		// EXISTS goes with it, in one MULTI.
		var exists *goredis.IntCmd
		_, err := c.leader.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			exists = p.Exists(ctx, key)
			p.Persist(ctx, key)
			return nil
		})
		if err != nil {
			return false, c.fail("touch", err)
		}
		return exists.Val() == 1, nil
	}
	x, err := c.expiry(t)
	if err == nil {
		err = x.unsendable
	}
	if err != nil {
		return false, err
	}
	cmd := c.expireCmd(ctx, key, x) // EXPIRE k 0 and a negative PEXPIRE delete, as Django's do
	err = c.run(ctx, cmd)
	return cmd.Val(), c.fail("touch", err)
}

// HasKey is EXISTS on a replica (or the leader).
func (c *Cache) HasKey(ctx context.Context, key string) (bool, error) {
	n, err := c.reader().Exists(ctx, key).Result()
	return n == 1, c.fail("has_key", err)
}

// incrScript is built (and hashed) on first use rather than at start.
var incrScript = sync.OnceValue(func() *goredis.Script {
	return goredis.NewScript(`
if redis.call("exists", KEYS[1]) == 1 then
  return redis.call("incrby", KEYS[1], ARGV[1])
end
return false`)
})

// Incr is EXISTS + INCRBY (Django), or django-redis' atomic script with its
// fallback to get, add and set keeping the TTL for non-integer values.
func (c *Cache) Incr(ctx context.Context, key string, delta int64) (pickle.Value, error) {
	var n int64
	var err error
	if c.djRedis {
		n, err = incrScript().Run(ctx, c.leader, []string{key}, delta).Int64()
	} else {
		var exists int64
		exists, err = c.leader.Exists(ctx, key).Result()
		if err == nil && exists == 0 {
			return nil, backends.ErrCacheMiss
		}
		if err == nil {
			n, err = c.leader.IncrBy(ctx, key, delta).Result()
		}
	}
	if err == nil {
		return n, nil
	}
	if isNil(err) {
		return nil, backends.ErrCacheMiss
	}
	if !strings.Contains(err.Error(), "not an integer") && !strings.Contains(err.Error(), "overflow") {
		return nil, c.fail("incr", err)
	}
	if !c.djRedis {
		return nil, fmt.Errorf("incr %q: %w (%s)", key, backends.ErrNotInteger, err)
	}
	// django-redis: value = get + delta; set with the remaining TTL, all
	// on the write connection.
	e, gerr := c.getFrom(ctx, c.leader, key)
	if gerr != nil {
		return nil, gerr
	}
	v, derr := c.codec.Decode(e)
	if derr != nil {
		return nil, &backends.DecodeError{Key: key, Err: derr}
	}
	nv, aerr := backends.AddNumber(v, delta)
	if aerr != nil {
		return nil, aerr
	}
	rem, terr := c.TTL(ctx, key)
	if terr != nil {
		return nil, terr
	}
	ne, eerr := c.codec.Encode(nv)
	if eerr != nil {
		return nil, eerr
	}
	if err := c.Set(ctx, key, ne, rem); err != nil {
		return nil, err
	}
	return nv, nil
}

// TTL is PTTL: -1 never expires, -2 missing.
func (c *Cache) TTL(ctx context.Context, key string) (backends.Timeout, error) {
	cmd := pttlCmd(ctx, key)
	if err := c.run(ctx, cmd); err != nil {
		return backends.Timeout{}, c.fail("ttl", err)
	}
	switch ms := cmd.Val(); {
	case ms == -2:
		return backends.Timeout{}, backends.ErrCacheMiss
	case ms < 0:
		return backends.Timeout{Forever: true}, nil
	default:
		return backends.Timeout{Seconds: float64(ms) / 1000}, nil
	}
}

// expiresAt is now plus a PTTL of ms milliseconds, which may be more than
// a time.Duration holds.
func expiresAt(now time.Time, ms int64) time.Time {
	if ms < math.MaxInt64/int64(time.Millisecond) {
		return now.Add(time.Duration(ms) * time.Millisecond)
	}
	return time.UnixMilli(now.UnixMilli() + ms) // Redis keeps no expiry past 2^63-1 ms
}

// pttlCmd is PTTL read as the integer it is: go-redis' PTTL makes a
// time.Duration of it, which wraps past 2^63 ns (292 years), and a key
// Django stored with a longer timeout would read as never expiring.
func pttlCmd(ctx context.Context, key string) *goredis.IntCmd {
	return goredis.NewIntCmd(ctx, "pttl", key)
}

// Delete is DEL.
func (c *Cache) Delete(ctx context.Context, key string) (bool, error) {
	n, err := c.leader.Del(ctx, key).Result()
	return n > 0, c.fail("delete", err)
}

// GetMany is MGET (a pipeline of GETs on a cluster, whose keys span slots).
func (c *Cache) GetMany(ctx context.Context, keys []string) (map[string]backends.Entry, error) {
	out := make(map[string]backends.Entry, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if c.cluster != nil {
		pipe := c.cluster.Pipeline()
		cmds := make([]*goredis.StringCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.Get(ctx, k)
		}
		pipe.Exec(ctx)
		for i, cmd := range cmds {
			b, err := cmd.Bytes()
			if errors.Is(err, goredis.Nil) || isWrongType(err) {
				// A key of another type (a list, a hash…) is left out, as
				// MGET answers nil for it on a single server and Django's
				// get_many then leaves it out: one GET's WRONGTYPE is no
				// failure of the batch.
				continue
			}
			if err != nil {
				return out, c.fail("get_many", err)
			}
			out[keys[i]] = backends.Entry{Data: b}
		}
		return out, nil
	}
	vals, err := c.reader().MGet(ctx, keys...).Result()
	if err != nil {
		return out, c.fail("get_many", err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[keys[i]] = backends.Entry{Data: []byte(s)}
		}
	}
	return out, nil
}

// VersionMoveSkipsNone: django-redis' incr_version refuses a stored None
// as "not found"; Django's RedisCache (BaseCache's) moves it.
func (c *Cache) VersionMoveSkipsNone() bool { return c.djRedis }

// BulkLanes lets two bulk pipelines be in flight, on two pooled
// connections: Redis works on one while the client writes the other or
// reads its replies. (go-redis clients are safe for concurrent use.)
func (c *Cache) BulkLanes() int { return 2 }

// SetMany pipelines the writes: Django's MSET + EXPIREs, or django-redis'
// individual SETs with PX.
func (c *Cache) SetMany(ctx context.Context, items []backends.Item, t backends.Timeout) ([]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	x, err := c.expiry(t)
	if err != nil {
		return keysOfItems(items), err
	}
	// One batch is one MULTI … EXEC, as Django's and django-redis' set_many
	// send it (redis-py pipelines are transactions by default): a batch is
	// stored whole or not at all, so an MSET never stays without its
	// EXPIREs. A cluster has no cross-slot transactions: plain pipeline.
	var pipe goredis.Pipeliner
	if c.cluster == nil {
		pipe = c.leader.TxPipeline()
	} else {
		pipe = c.leader.Pipeline()
	}
	switch {
	case !c.djRedis && c.cluster == nil:
		pairs := make([]any, 0, 2*len(items))
		for _, it := range items {
			pairs = append(pairs, it.Key, it.Entry.Data)
		}
		pipe.MSet(ctx, pairs...)
		if !x.forever {
			for _, it := range items {
				pipe.Process(ctx, c.expireCmd(ctx, it.Key, x)) // 0 expires at once, as Django's EXPIRE k 0 does
			}
		}
	default:
		for _, it := range items {
			if x.del {
				pipe.Del(ctx, it.Key)
			} else {
				pipe.Process(ctx, c.setCmd(ctx, it.Key, it.Entry.Data, x, false))
			}
		}
	}
	cmds, err := pipe.Exec(ctx)
	if err == nil {
		return nil, nil
	}
	// Report exactly the keys whose write failed: for a pipeline of SETs each
	// command has its own result; Django's MSET is all or nothing.
	var failed []string
	if len(cmds) == len(items) && (c.djRedis || c.cluster != nil) {
		for i, cmd := range cmds {
			if cmd.Err() != nil {
				failed = append(failed, items[i].Key)
			}
		}
	} else {
		failed = keysOfItems(items)
	}
	return failed, c.fail("set_many", queuedCause(err, cmds))
}

// queuedCause is a refused transaction's reason: the server answers EXEC
// with EXECABORT when it refused a command while queueing it (NOPERM from
// an ACL, say), and that refusal is kept on the command.
func queuedCause(err error, cmds []goredis.Cmder) error {
	if !strings.HasPrefix(err.Error(), "EXECABORT") {
		return err
	}
	for _, cmd := range cmds {
		if e := cmd.Err(); e != nil && isReply(e) && !strings.HasPrefix(e.Error(), "EXECABORT") {
			return fmt.Errorf("%w (so the whole batch was discarded: %v)", e, err)
		}
	}
	return err
}

func keysOfItems(items []backends.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}

// batch is how many commands one pipeline carries in bulk operations.
const batch = 1000

// DeleteMany pipelines UNLINKs, one per key (so cluster slots never clash),
// a batch at a time, and counts the keys that existed.
func (c *Cache) DeleteMany(ctx context.Context, keys []string) (int, error) {
	n := 0
	for start := 0; start < len(keys); start += batch {
		if err := ctx.Err(); err != nil {
			return n, &backends.CutShortError{Attempted: start, Err: err} // the rest never sent
		}
		chunk := keys[start:min(start+batch, len(keys))]
		pipe := c.leader.Pipeline()
		var cmds []*goredis.IntCmd
		if c.cluster == nil {
			// One UNLINK of the whole batch, as Django's delete_many sends
			// one DEL of all its keys: a single command to parse and run.
			cmds = append(cmds, pipe.Unlink(ctx, chunk...))
		} else {
			// A cluster refuses a multi-key command across hash slots.
			for _, k := range chunk {
				cmds = append(cmds, pipe.Unlink(ctx, k))
			}
		}
		// A batch once sent is waited for even after an interrupt, so
		// the count is what the server deleted, at most inFlightTimeout
		// (the interrupt aborts the other calls once it is done, see
		// abort.go).
		fctx, cancel := inFlight(ctx, min(c.eps[0].readTimeout, inFlightTimeout))
		_, err := pipe.Exec(fctx)
		cancel()
		for _, cmd := range cmds {
			n += int(cmd.Val())
		}
		if err != nil {
			return n, c.fail("delete_many", err)
		}
	}
	return n, nil
}

// inFlightTimeout bounds the wait for a delete-many batch already sent
// when the command is interrupted.
const inFlightTimeout = 5 * time.Second

// flushTimeout bounds one FLUSHDB when no --deadline was given: flushing
// millions of keys takes longer than an ordinary command may.
const flushTimeout = 10 * time.Minute

// slow returns client with per-command socket timeouts long enough for
// FLUSHDB; the context still bounds it.
func (c *Cache) slow(client goredis.UniversalClient) goredis.UniversalClient {
	if cl, ok := client.(*goredis.Client); ok && c.eps[0].readTimeout < flushTimeout {
		return cl.WithTimeout(flushTimeout)
	}
	return client
}

// Clear is FLUSHDB on the leader (every primary of a cluster), as Django
// and django-redis do: the whole logical database, whatever the prefix.
func (c *Cache) Clear(ctx context.Context) error {
	if c.cluster != nil {
		return c.fail("clear", c.cluster.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			return c.slow(n).FlushDB(ctx).Err()
		}))
	}
	return c.fail("clear", c.slow(c.leader).FlushDB(ctx).Err())
}

// DescribeClear says what FLUSHDB would remove, counted by DBSIZE.
func (c *Cache) DescribeClear(ctx context.Context) (backends.ClearPlan, error) {
	n, err := c.leader.DBSize(ctx).Result()
	if err != nil {
		return backends.ClearPlan{}, c.fail("dbsize", err)
	}
	where := fmt.Sprintf("db %d on %s", c.db, c.loc)
	if c.cluster != nil {
		where = "every primary of the cluster " + c.loc
	}
	return backends.ClearPlan{
		Ask:  fmt.Sprintf("FLUSHDB %s: %d key(s), including keys outside KEY_PREFIX %q", where, n, c.keyPrefix),
		Done: func(int) string { return fmt.Sprintf("%s flushed (FLUSHDB): %d key(s) removed", where, n) },
	}, nil
}

// EstimateKeys is DBSIZE (summed over the primaries of a cluster): every
// key of the logical database, so for a narrower glob an upper bound.
func (c *Cache) EstimateKeys(ctx context.Context, glob string) (backends.Estimate, error) {
	n, err := c.leader.DBSize(ctx).Result()
	if err != nil {
		return backends.UnknownEstimate, c.fail("dbsize", err)
	}
	return backends.Estimate{N: n, UpperBound: glob != "" && glob != "*"}, nil
}

// List walks SCAN MATCH glob with COUNT 1000 (never KEYS), streaming, with
// the TTL (PTTL) and size (STRLEN) of each key from one pipeline per batch.
func (c *Cache) List(ctx context.Context, glob string, fn func(backends.KeyInfo) error) error {
	return c.scan(ctx, glob, true, fn)
}

// ListKeyNames is List without the details: SCAN alone, a third of the
// commands, for callers that need only the names (pattern deletes,
// keys --quiet).
func (c *Cache) ListKeyNames(ctx context.Context, glob string, fn func(key string) error) error {
	return c.scan(ctx, glob, false, func(ki backends.KeyInfo) error { return fn(ki.Key) })
}

// isReply reports an error the server answered for one command (such as
// WRONGTYPE from STRLEN on a hash), as opposed to a failed connection.
func isReply(err error) bool {
	var rerr goredis.Error
	return errors.As(err, &rerr)
}

// isWrongType reports the server's WRONGTYPE answer: the key holds a
// list, a hash, a set… where a string was asked for.
func isWrongType(err error) bool {
	return err != nil && isReply(err) && strings.HasPrefix(err.Error(), "WRONGTYPE")
}

// scanPage is one SCAN reply.
type scanPage struct {
	keys []string
	next uint64
	err  error
}

// scanWindow is how many of the keys a SCAN walk handed out last it
// remembers, to drop the ones SCAN returns again.
const scanWindow = 10 * batch

// recentKeys is a walk's memory of the last keys it handed out (at most
// its capacity, repeats included): a sliding window, not a set of every
// key, so a walk over millions of keys stays small.
type recentKeys struct {
	count map[string]int // how often each key is in ring
	ring  []string       // grows up to max: a short walk allocates little
	max   int
	next  int // the oldest entry once ring is full
}

func newRecentKeys(n int) *recentKeys {
	return &recentKeys{count: map[string]int{}, max: n}
}

// fresh reports whether key is not among the remembered keys, and
// remembers it as the newest one.
func (r *recentKeys) fresh(key string) bool {
	seen := r.count[key] > 0
	if len(r.ring) < r.max {
		r.ring = append(r.ring, key)
	} else {
		old := r.ring[r.next]
		if r.count[old]--; r.count[old] == 0 {
			delete(r.count, old)
		}
		r.ring[r.next] = key
		r.next = (r.next + 1) % len(r.ring)
	}
	r.count[key]++
	return !seen
}

// walkPages walks SCAN from cursor 0 back to 0 through page, and calls
// each with the keys of every page that it has not handed out already.
// The next page is asked for, in a goroutine, while each handles this
// one; a walk that stops early (each or page failed) waits for that
// prefetch before it returns.
//
// SCAN may return a key more than once (when the table shrinks during
// the walk: a pattern delete's own deletes do that), and a repeat would
// be counted, listed or deleted twice. A repeated key is one still there
// when SCAN ran again, so a repeat follows its first time closely: in a
// pattern delete, the keys not yet deleted are the current page and the
// batch being filled (500 keys). walkPages drops every key among the last
// scanWindow keys it handed out: exact whenever a repeat comes within
// scanWindow keys, in memory bounded by scanWindow whatever the number
// of keys.
func walkPages(page func(cursor uint64) ([]string, uint64, error), each func(keys []string) error) error {
	var pending chan scanPage
	defer func() {
		if pending != nil {
			<-pending
		}
	}()
	fetch := func(cursor uint64) chan scanPage {
		ch := make(chan scanPage, 1)
		go func() {
			keys, next, err := page(cursor)
			ch <- scanPage{keys, next, err}
		}()
		return ch
	}
	recent := newRecentKeys(scanWindow)
	pending = fetch(0)
	for {
		p := <-pending
		pending = nil
		if p.err != nil {
			return p.err
		}
		if p.next != 0 {
			pending = fetch(p.next)
		}
		keys := p.keys[:0]
		for _, k := range p.keys {
			if recent.fresh(k) {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			if err := each(keys); err != nil {
				return err
			}
		}
		if pending == nil {
			return nil
		}
	}
}

// scan walks SCAN MATCH glob COUNT 1000 on the leader (every primary of a
// cluster). The next page is asked for, on another pooled connection, while
// fn handles the keys of this one: a pattern delete's UNLINK pipelines and
// the following SCAN overlap, and the commands sent are the same. A walk
// that stops early has asked for at most one page it does not read. A key
// SCAN returns again soon after is handed to fn once (see walkPages).
func (c *Cache) scan(ctx context.Context, glob string, details bool, fn func(backends.KeyInfo) error) error {
	if glob == "" {
		glob = "*"
	}
	glob = backends.RedisGlob(glob)
	walk := func(ctx context.Context, node goredis.UniversalClient) error {
		// A walk that stops early waits for its prefetch, one SCAN, rather
		// than cancelling it: cancelling a call aborts every connection of
		// the client (see abort.go), which would cut off calls that run
		// alongside (another master's walk). The command's interrupt still
		// aborts the prefetch at once.
		page := func(cursor uint64) ([]string, uint64, error) {
			keys, next, err := node.Scan(ctx, cursor, glob, batch).Result()
			return keys, next, c.fail("scan", err)
		}
		return walkPages(page, func(keys []string) error {
			var ttls []*goredis.IntCmd
			var sizes []*goredis.IntCmd
			var now time.Time
			if details {
				pipe := node.Pipeline()
				ttls = make([]*goredis.IntCmd, len(keys))
				sizes = make([]*goredis.IntCmd, len(keys))
				for i, k := range keys {
					ttls[i] = pttlCmd(ctx, k)
					pipe.Process(ctx, ttls[i])
					sizes[i] = pipe.StrLen(ctx, k)
				}
				if _, err := pipe.Exec(ctx); err != nil && !isReply(err) {
					return c.fail("scan", err)
				}
				now = time.Now()
			}
			for i, k := range keys {
				ki := backends.KeyInfo{Key: k, Size: -1}
				if details {
					if ms, err := ttls[i].Result(); err == nil {
						switch {
						case ms == -2:
							continue // deleted meanwhile
						case ms < 0:
							ki.Forever = true
						default:
							ki.Expires = expiresAt(now, ms)
						}
					}
					if n, err := sizes[i].Result(); err == nil {
						ki.Size = n
					}
				}
				if err := fn(ki); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if c.cluster != nil {
		// The primaries are walked at once, but fn is called for one key at
		// a time (callers append to batches without locks), and once it
		// fails every walk stops with its error.
		var mu sync.Mutex
		var stopped error
		each := fn
		fn = func(ki backends.KeyInfo) error {
			mu.Lock()
			defer mu.Unlock()
			if stopped != nil {
				return stopped
			}
			if err := each(ki); err != nil {
				stopped = err
				return err
			}
			return nil
		}
		return c.cluster.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error { return walk(ctx, n) })
	}
	return walk(ctx, c.leader)
}

// Ping checks the leader (every node of a cluster) and every replica.
func (c *Cache) Ping(ctx context.Context) error {
	var err error
	if c.cluster != nil {
		err = c.cluster.ForEachShard(ctx, func(ctx context.Context, n *goredis.Client) error { return n.Ping(ctx).Err() })
	} else {
		err = c.leader.Ping(ctx).Err()
	}
	if err != nil {
		return c.fail("ping", err)
	}
	for _, r := range c.replicas {
		if err := r.Ping(ctx).Err(); err != nil {
			return c.fail("ping", err)
		}
	}
	return nil
}

// Codec is RedisCache's or django-redis' encoding.
func (c *Cache) Codec() backends.Codec { return c.codec }

// Describe says which client and encoding were chosen, and where reads
// and writes go. It does not dial.
func (c *Cache) Describe() []backends.StatsField {
	client := "Django RedisCache"
	encoding := "int as decimal digits, else pickle protocol 5"
	if dr, ok := c.codec.(djangoRedisCodec); ok {
		client = "django-redis DefaultClient"
		if c.eps[0].kind == kindSentinel && len(c.eps) > 1 && c.eps[1].replicaOnly {
			client = "django-redis SentinelClient"
		}
		ser := dr.serializer
		if ser == "pickle" {
			ser = fmt.Sprintf("pickle protocol %d", dr.protocol)
		}
		encoding = "int as decimal digits, else " + ser
		if dr.comp.compress != nil {
			encoding += fmt.Sprintf(", %s above %d bytes", dr.comp.name, dr.comp.minLength)
		}
	}
	ep := c.eps[0]
	mode := map[string]string{kindTCP: "standalone", kindUnix: "standalone", kindSentinel: "sentinel", kindCluster: "cluster"}[ep.kind]
	out := []backends.StatsField{
		{Name: "django_backend", Value: map[bool]string{true: "django_redis.cache.RedisCache", false: "django.core.cache.backends.redis.RedisCache"}[c.djRedis]},
		{Name: "client", Value: client},
		{Name: "encoding", Value: encoding},
		{Name: "mode", Value: mode},
		{Name: "writes", Value: ep.shown()},
	}
	reads := ep.shown()
	if len(c.eps) > 1 {
		var rs []string
		for _, r := range c.eps[1:] {
			if r.replicaOnly {
				rs = append(rs, "a replica of "+r.service+" (from the sentinels)")
			} else {
				rs = append(rs, r.shown())
			}
		}
		reads = "one at random of: " + strings.Join(rs, ", ")
	}
	out = append(out, backends.StatsField{Name: "reads", Value: reads})
	if ep.kind == kindSentinel {
		out = append(out, backends.StatsField{Name: "sentinels", Value: strings.Join(ep.addrs, ",")},
			backends.StatsField{Name: "service", Value: ep.service})
	}
	if ep.kind != kindCluster {
		out = append(out, backends.StatsField{Name: "db", Value: ep.db})
	}
	if ep.tls != nil {
		out = append(out, backends.StatsField{Name: "tls", Value: ep.tlsDesc})
	}
	return out
}

// Close closes every client.
func (c *Cache) Close() error {
	errs := []error{c.leader.Close()}
	for _, r := range c.replicas {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// quietLogger drops go-redis' own log lines: cachectl reports errors once,
// on one line, through its own error path.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}

func init() { goredis.SetLogger(quietLogger{}) }
