package memcached

// django-bmemcached / python-binary-memcached: memcached's binary protocol
// with SASL PLAIN authentication, replicating every write to every server
// and reading the first hit in LOCATION order. No maintained Go client
// speaks binary+SASL, so this small client is written by hand from the
// protocol's documentation.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/memcached/selector"
	"github.com/cachectl/cachectl/backends/pickle"
)

func init() {
	backends.Register(&backends.Info{Name: "bmemcached", Schemes: []string{"bmemcached"},
		DjangoPaths: []string{"django_bmemcached.memcached.BMemcached"},
		Params:      []string{"username", "password", "password_file"}, StrictKeys: true,
		Help: "django-bmemcached: binary protocol with SASL, replicated to every server (bmemcached://user:pass@host:port)",
		Open: func(_ context.Context, cfg *backends.Config) (backends.Backend, error) {
			return openBinary(cfg, selector.BMemcached, "")
		}})
}

const (
	opGet       = 0x00
	opSet       = 0x01
	opAdd       = 0x02
	opDelete    = 0x04
	opIncrement = 0x05
	opDecrement = 0x06
	opFlush     = 0x08
	opVersion   = 0x0b
	opStat      = 0x10
	opTouch     = 0x1c
	opSASLAuth  = 0x21

	statusOK        = 0x00
	statusNotFound  = 0x01
	statusExists    = 0x02
	statusNotStored = 0x05
	statusNonNum    = 0x06
	statusAuth      = 0x20
)

type binServer struct {
	s    selector.Server
	mu   sync.Mutex
	conn net.Conn
}

// BCache is a replicating binary-protocol cluster.
type BCache struct {
	servers    []*binServer
	user, pass string
	timeout    time.Duration
	codec      codec
	// sel shards keys (pylibmc in binary mode), or, as a
	// selector.Replicator, sends every write to every server and reads
	// take the first hit (python-binary-memcached's ReplicatingClient).
	sel      selector.Selector
	sharding string
}

var (
	_ backends.Backend        = (*BCache)(nil)
	_ backends.Adder          = (*BCache)(nil)
	_ backends.MultiSetter    = (*BCache)(nil)
	_ backends.Toucher        = (*BCache)(nil)
	_ backends.Incrementer    = (*BCache)(nil)
	_ backends.Clearer        = (*BCache)(nil)
	_ backends.ClearDescriber = (*BCache)(nil)
	_ backends.Statter        = (*BCache)(nil)
	_ backends.Pinger         = (*BCache)(nil)
)

// openBinaryPyLibMC is PyLibMCCache with OPTIONS binary=True (and SASL
// username/password): libmemcached's sharding and pylibmc's flags over
// the binary protocol.
func openBinaryPyLibMC(cfg *backends.Config) (backends.Backend, error) {
	client, sharding, err := pylibmcSelector(cfg.Params)
	if err != nil {
		return nil, err
	}
	b, err := openBinary(cfg, client, sharding)
	if err != nil {
		return nil, err
	}
	b.codec = codec{client: PyLibMC, protocol: 5}
	if cfg.Params["newcache"] != "" {
		b.codec.setNewcache(cfg)
	}
	return b, nil
}

// openBinary parses LOCATION as client does (user:pass@ taken off first)
// and builds its selector: selector.BMemcached replicates.
func openBinary(cfg *backends.Config, client selector.Client, sharding string) (*BCache, error) {
	pass, err := backends.Password(cfg)
	if err != nil {
		return nil, err
	}
	user := cfg.Params["username"]
	var locations []string
	for _, l := range cfg.Locations {
		if i := strings.LastIndex(l, "@"); i >= 0 {
			u, p, _ := strings.Cut(l[:i], ":")
			var err error
			if user, err = url.PathUnescape(u); err != nil {
				return nil, backends.Configf("bad user name in bmemcached URL")
			}
			if p != "" {
				if pass, err = url.PathUnescape(p); err != nil {
					return nil, backends.Configf("bad password in bmemcached URL")
				}
			}
			l = l[i+1:]
		}
		locations = append(locations, l)
	}
	servers, sel, err := newSelector(client, locations)
	if err != nil {
		return nil, err
	}
	timeout := opTimeout(cfg)
	b := &BCache{user: user, pass: pass, timeout: timeout, codec: codec{client: BMemcached, protocol: 0},
		sel: sel, sharding: describeSharding(client, sharding, servers)}
	for _, s := range servers {
		b.servers = append(b.servers, &binServer{s: s})
	}
	return b, nil
}

// bExptime is Django's memcached timeout as bmemcached sends it: a negative
// time (Django's "expire now" for a timeout of 0) becomes 0xfffffffe, which
// memcached reads as an absolute time in 2106, so such items never expire.
func bExptime(t backends.Timeout) uint32 {
	e := exptime(t)
	if e < 0 {
		return 0xfffffffe
	}
	return uint32(e)
}

// exptime32 is what this client sends: bmemcached's mapping, or for
// pylibmc libmemcached's plain cast, where -1 becomes 0xffffffff (a time in
// 2106: in binary mode an "expire now" item never expires).
func (b *BCache) exptime32(t backends.Timeout) uint32 {
	if b.codec.newcache {
		return uint32(b.codec.newcacheExp(t, true)) // pylibmc under newcache
	}
	if b.codec.client == PyLibMC {
		return uint32(exptime(t))
	}
	return bExptime(t)
}

// targets are the servers an operation on key goes to, in the order a
// read tries them.
func (b *BCache) targets(key string) []*binServer {
	if _, ok := b.sel.(selector.Replicator); ok {
		return b.servers // a replicating client uses every server, in LOCATION order
	}
	return []*binServer{b.servers[b.sel.Pick(key)]}
}

type response struct {
	status uint16
	extras []byte
	key    []byte
	value  []byte
}

// do sends one request and reads its response, connecting (and
// authenticating) first when needed.
func (b *BCache) do(ctx context.Context, bs *binServer, op byte, key string, extras, value []byte) (response, error) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if err := b.connect(ctx, bs); err != nil {
		return response{}, err
	}
	stop := guard(ctx, bs.conn, b.timeout)
	r, err := roundTrip(bs.conn, op, key, extras, value)
	stop()
	if err != nil {
		bs.drop()
		return response{}, ctxCause(ctx, err)
	}
	if r.status == statusAuth {
		return r, fmt.Errorf("authentication required or failed (give user:pass@ in the URL)")
	}
	return r, nil
}

// connect dials bs and authenticates with SASL PLAIN when a user is set.
// The caller holds bs.mu.
func (b *BCache) connect(ctx context.Context, bs *binServer) error {
	if bs.conn != nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d := net.Dialer{Timeout: b.timeout}
	c, err := d.DialContext(ctx, bs.s.Network, bs.s.Addr)
	if err != nil {
		return ctxCause(ctx, err)
	}
	bs.conn = c
	if b.user == "" {
		return nil
	}
	stop := guard(ctx, c, b.timeout)
	r, err := roundTrip(c, opSASLAuth, "PLAIN", nil, []byte("\x00"+b.user+"\x00"+b.pass))
	stop()
	if err != nil {
		bs.drop()
		return ctxCause(ctx, err)
	}
	switch r.status {
	case statusOK:
	case 0x81: // unknown command: a memcached started without -S
		bs.drop()
		return fmt.Errorf("authentication failed: the server does not take SASL (unknown command); it needs memcached -S, or the URL no user name")
	default:
		bs.drop()
		return fmt.Errorf("authentication failed (SASL PLAIN status 0x%02x)", r.status)
	}
	return nil
}

func (bs *binServer) drop() {
	if bs.conn != nil {
		bs.conn.Close()
		bs.conn = nil
	}
}

// guard bounds the I/O on c by timeout and ctx's deadline, and makes a
// cancelled ctx interrupt it. Call the returned stop when done.
func guard(ctx context.Context, c net.Conn, timeout time.Duration) (stop func() bool) {
	dl := time.Now().Add(timeout)
	if cdl, ok := ctx.Deadline(); ok && cdl.Before(dl) {
		dl = cdl
	}
	c.SetDeadline(dl)
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

func roundTrip(c net.Conn, op byte, key string, extras, value []byte) (response, error) {
	body := len(extras) + len(key) + len(value)
	buf := make([]byte, 24, 24+body)
	buf[0], buf[1] = 0x80, op
	binary.BigEndian.PutUint16(buf[2:], uint16(len(key)))
	buf[4] = byte(len(extras))
	binary.BigEndian.PutUint32(buf[8:], uint32(body))
	buf = append(append(append(buf, extras...), key...), value...)
	if _, err := c.Write(buf); err != nil {
		return response{}, err
	}
	return readResponse(c)
}

func readResponse(c net.Conn) (response, error) {
	var h [24]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return response{}, err
	}
	if h[0] != 0x81 {
		return response{}, fmt.Errorf("not a binary-protocol reply (magic 0x%02x)", h[0])
	}
	kl, el := int(binary.BigEndian.Uint16(h[2:])), int(h[4])
	bl := int(binary.BigEndian.Uint32(h[8:]))
	if bl > 128<<20 || kl+el > bl {
		return response{}, fmt.Errorf("bad reply length %d", bl)
	}
	body := make([]byte, bl)
	if _, err := io.ReadFull(c, body); err != nil {
		return response{}, err
	}
	return response{status: binary.BigEndian.Uint16(h[6:]), extras: body[:el], key: body[el : el+kl], value: body[el+kl:]}, nil
}

// fail names the server in an error, leaving context errors as they are.
func (b *BCache) fail(op string, bs *binServer, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return backends.Unavailable(op, bs.s.String(), err)
}

func statusError(r response) error {
	return fmt.Errorf("server status 0x%02x: %s", r.status, r.value)
}

// Get returns the first hit in LOCATION order.
func (b *BCache) Get(ctx context.Context, key string) (backends.Entry, error) {
	var firstErr error
	for _, bs := range b.targets(key) {
		r, err := b.do(ctx, bs, opGet, key, nil, nil)
		if err != nil {
			if ctx.Err() != nil {
				return backends.Entry{}, ctx.Err()
			}
			if firstErr == nil {
				firstErr = b.fail("get", bs, err)
			}
			continue
		}
		if r.status == statusOK && len(r.extras) >= 4 {
			return backends.Entry{Data: r.value, Flags: binary.BigEndian.Uint32(r.extras)}, nil
		}
	}
	if firstErr != nil {
		return backends.Entry{}, firstErr
	}
	return backends.Entry{}, backends.ErrCacheMiss
}

// all runs op on the servers that hold key (every server when
// replicating, or for an empty key). It returns the responses of the
// servers that answered and an error naming each server that did not:
// a dead replica does not stop the write to the others.
func (b *BCache) all(ctx context.Context, opName string, op byte, key string, extras, value []byte) ([]response, []*binServer, error) {
	servers := b.servers
	if key != "" {
		servers = b.targets(key)
	}
	out := make([]response, 0, len(servers))
	ok := make([]*binServer, 0, len(servers))
	var errs []error
	for _, bs := range servers {
		r, err := b.do(ctx, bs, op, key, extras, value)
		if err != nil {
			if ctx.Err() != nil {
				return out, ok, ctx.Err()
			}
			errs = append(errs, b.fail(opName, bs, err))
			continue
		}
		out = append(out, r)
		ok = append(ok, bs)
	}
	return out, ok, errors.Join(errs...)
}

func storeExtras(flags, exp uint32) []byte {
	x := make([]byte, 8)
	binary.BigEndian.PutUint32(x, flags)
	binary.BigEndian.PutUint32(x[4:], exp)
	return x
}

// Set writes to every server.
func (b *BCache) Set(ctx context.Context, key string, e backends.Entry, t backends.Timeout) error {
	return b.set(ctx, key, e, b.exptime32(t))
}

// SetMany is one set after another (backends.SetEach), with the expiry of the client's set_many: django-newcache's leaves out
// the herd grace its set adds.
func (b *BCache) SetMany(ctx context.Context, items []backends.Item, t backends.Timeout) ([]string, error) {
	exp := b.exptime32(t)
	if b.codec.newcache {
		exp = uint32(b.codec.newcacheExp(t, false))
	}
	return backends.SetEach(items, func(it backends.Item) error { return b.set(ctx, it.Key, it.Entry, exp) })
}

func (b *BCache) set(ctx context.Context, key string, e backends.Entry, exp uint32) error {
	rs, ok, err := b.all(ctx, "set", opSet, key, storeExtras(e.Flags, exp), e.Data)
	errs := []error{err}
	for i, r := range rs {
		if r.status != statusOK {
			errs = append(errs, b.fail("set", ok[i], statusError(r)))
		}
	}
	return errors.Join(errs...)
}

// Add adds on every server; true when any server stored it.
func (b *BCache) Add(ctx context.Context, key string, e backends.Entry, t backends.Timeout) (bool, error) {
	rs, _, err := b.all(ctx, "add", opAdd, key, storeExtras(e.Flags, b.exptime32(t)), e.Data)
	ok := false
	for _, r := range rs {
		ok = ok || r.status == statusOK
	}
	return ok, err
}

// Delete deletes on every server; true when any had it.
func (b *BCache) Delete(ctx context.Context, key string) (bool, error) {
	rs, _, err := b.all(ctx, "delete", opDelete, key, nil, nil)
	ok := false
	for _, r := range rs {
		ok = ok || r.status == statusOK
	}
	return ok, err
}

// Touch touches on every server.
func (b *BCache) Touch(ctx context.Context, key string, t backends.Timeout) (bool, error) {
	x := make([]byte, 4)
	binary.BigEndian.PutUint32(x, b.exptime32(t))
	rs, _, err := b.all(ctx, "touch", opTouch, key, x, nil)
	ok := false
	for _, r := range rs {
		ok = ok || r.status == statusOK
	}
	return ok, err
}

// Incr is the binary incr/decr with initial 0 and an expiry of 1000000 s,
// as python-binary-memcached sends it: a missing key is created as 0 and 0
// is returned, not an error (unlike Django's other backends).
func (b *BCache) Incr(ctx context.Context, key string, delta int64) (pickle.Value, error) {
	op := byte(opIncrement)
	if delta < 0 {
		op, delta = opDecrement, -delta
	}
	x := make([]byte, 20)
	binary.BigEndian.PutUint64(x, uint64(delta))
	binary.BigEndian.PutUint32(x[16:], 1000000)
	if b.codec.client == PyLibMC {
		binary.BigEndian.PutUint32(x[16:], 0xffffffff) // libmemcached: never create a missing key
	}
	rs, ok, err := b.all(ctx, "incr", op, key, x, nil)
	if err != nil {
		return nil, err
	}
	var n uint64
	for i, r := range rs {
		switch r.status {
		case statusOK:
			if len(r.value) == 8 {
				n = binary.BigEndian.Uint64(r.value)
			}
		case statusNotFound:
			return nil, backends.ErrCacheMiss
		case statusNonNum:
			return nil, fmt.Errorf("incr %q: %w", key, backends.ErrNotInteger)
		default:
			return nil, b.fail("incr", ok[i], statusError(r))
		}
	}
	if n > math.MaxInt64 {
		return pickle.Value(new(big.Int).SetUint64(n)), nil
	}
	return int64(n), nil
}

// Clear flushes every server.
func (b *BCache) Clear(ctx context.Context) error {
	_, _, err := b.all(ctx, "flush", opFlush, "", nil, nil)
	return err
}

// DescribeClear names the servers.
func (b *BCache) DescribeClear(context.Context) (backends.ClearPlan, error) {
	names := make([]string, len(b.servers))
	for i, bs := range b.servers {
		names[i] = bs.s.String()
	}
	list := strings.Join(names, ", ")
	return backends.ClearPlan{
		Ask:  fmt.Sprintf("flush every item on %d server(s) (%s), not only this cache's keys", len(names), list),
		Done: func(int) string { return fmt.Sprintf("every item flushed on %d server(s) (%s)", len(names), list) },
	}, nil
}

// Stats asks every server for its statistics (one stat request, answered
// by a response per statistic and an empty-key terminator), and adds the
// total.
func (b *BCache) Stats(ctx context.Context) ([]backends.StatsSection, error) {
	var secs []backends.StatsSection
	for _, bs := range b.servers {
		m, err := b.stats(ctx, bs)
		if err != nil {
			return nil, b.fail("stats", bs, err)
		}
		secs = append(secs, statsSection(bs.s.String(), m))
	}
	return append(secs, totalSection(secs)), nil
}

func (b *BCache) stats(ctx context.Context, bs *binServer) (map[string]string, error) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if err := b.connect(ctx, bs); err != nil {
		return nil, err
	}
	stop := guard(ctx, bs.conn, b.timeout)
	defer stop()
	hdr := make([]byte, 24)
	hdr[0], hdr[1] = 0x80, opStat
	if _, err := bs.conn.Write(hdr); err != nil {
		bs.drop()
		return nil, ctxCause(ctx, err)
	}
	m := map[string]string{}
	for {
		r, err := readResponse(bs.conn)
		if err != nil {
			bs.drop()
			return nil, ctxCause(ctx, err)
		}
		if r.status != statusOK {
			bs.drop()
			return nil, statusError(r)
		}
		if len(r.key) == 0 {
			return m, nil
		}
		m[string(r.key)] = string(r.value)
	}
}

// Ping asks every server for its version.
func (b *BCache) Ping(ctx context.Context) error {
	_, _, err := b.all(ctx, "ping", opVersion, "", nil, nil)
	return err
}

// Codec is python-binary-memcached's flags (str 0, bytes 16, zlib over 128 bytes).
func (b *BCache) Codec() backends.Codec { return b.codec }

// Close closes the connections.
func (b *BCache) Close() error {
	var errs []error
	for _, bs := range b.servers {
		if bs.conn != nil {
			errs = append(errs, bs.conn.Close())
		}
	}
	return errors.Join(errs...)
}

// Describe says which client and distribution were chosen.
func (b *BCache) Describe() []backends.StatsField {
	if b.codec.client == PyLibMC {
		out := []backends.StatsField{{Name: "client", Value: "pylibmc (binary protocol)"}, {Name: "sharding", Value: b.sharding},
			{Name: "sasl", Value: b.user != ""}}
		if b.codec.herd {
			out = append(out, backends.StatsField{Name: "newcache", Value: "herd packing true"})
		}
		return out
	}
	return []backends.StatsField{{Name: "client", Value: "python-binary-memcached"}, {Name: "sharding", Value: "none: writes to every server, reads the first hit"},
		{Name: "sasl", Value: b.user != ""}}
}
