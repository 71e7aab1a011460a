// Package selector decides which memcached server of a Django LOCATION
// holds a key, exactly as each Python client that Django can use decides
// it (formats doc §3.4 and §7.1, shared/vectors/README-server-selection.md).
//
// It is pure: nothing here dials, resolves a name or reads the clock. The
// algorithms are written from the published facts of pymemcache,
// libmemcached (pylibmc) and python-memcached; NewGomemcacheSelector plugs
// any of them into gomemcache's memcache.NewFromSelector, which is how
// cachectl shards (STYLE §4: sharding is a selector and nothing else).
package selector

import (
	"errors"
	"fmt"
	"strconv"
)

// Client is the memcached client library whose server choice is mirrored.
// The zero Client is not a client: New and ParseServers reject it.
type Client int

const (
	// PyMemcache is Django's PyMemcacheCache: pymemcache.HashClient,
	// rendezvous hashing with murmur3_32 over node "host:port" or the socket
	// path.
	PyMemcache Client = iota + 1
	// PyLibMC is Django's PyLibMCCache with default behaviors: libmemcached
	// modula, one_at_a_time(key) % n.
	PyLibMC
	// PyLibMCCRC is PyLibMCCache with behaviors {"hash": "crc"}, which is
	// also django-newcache's default CACHE_BEHAVIORS: libmemcached modula
	// over libhashkit's crc32, ((crc32 >> 16) & 0x7fff) % n (python-memcached's
	// hash without its "or 1").
	PyLibMCCRC
	// PyLibMCKetama is PyLibMCCache with behaviors {"ketama": True}: a
	// continuum of 100 one_at_a_time points per server. Any weight above 1
	// switches it to the weighted (MD5) continuum, keeping the one_at_a_time
	// key hash, as libmemcached does.
	PyLibMCKetama
	// PyLibMCKetamaWeighted is PyLibMCCache with behaviors
	// {"ketama_weighted": True}: weighted MD5 continuum and MD5 key hash.
	PyLibMCKetamaWeighted
	// PythonMemcached is Django's MemcachedCache (python-memcached, removed
	// in Django 4.1): (crc32 >> 16) & 0x7fff (or 1) over weight buckets.
	PythonMemcached
	// BMemcached is django-bmemcached: bmemcached.Client replicates, so
	// there is no sharding. Reads start at server 0; writes go to every
	// server (see Replicator).
	BMemcached
	// GoMemcache is gomemcache's default ServerList, crc32(key) % n. No
	// Django client picks like this; it is here for contrast.
	GoMemcache
)

var clientNames = map[Client]string{
	PyMemcache:            "pymemcache",
	PyLibMC:               "pylibmc",
	PyLibMCCRC:            "pylibmc-crc",
	PyLibMCKetama:         "pylibmc-ketama",
	PyLibMCKetamaWeighted: "pylibmc-ketama-weighted",
	PythonMemcached:       "python-memcached",
	BMemcached:            "bmemcached",
	GoMemcache:            "gomemcache",
}

// Clients lists every Client in declaration order.
func Clients() []Client {
	return []Client{PyMemcache, PyLibMC, PyLibMCCRC, PyLibMCKetama, PyLibMCKetamaWeighted, PythonMemcached, BMemcached, GoMemcache}
}

// String is the client's name as the golden vectors write it, for example
// "pylibmc-ketama".
func (c Client) String() string {
	if n, ok := clientNames[c]; ok {
		return n
	}
	return "Client(" + strconv.Itoa(int(c)) + ")"
}

func (c Client) valid() bool {
	_, ok := clientNames[c]
	return ok
}

// ParseClient is the inverse of Client.String.
func ParseClient(name string) (Client, error) {
	for c, n := range clientNames {
		if n == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownClient, name)
}

var (
	// ErrNoServers is returned when a LOCATION names no server.
	ErrNoServers = errors.New("selector: no memcached servers")
	// ErrBadServer is wrapped by every *ServerError.
	ErrBadServer = errors.New("selector: bad memcached server")
	// ErrUnknownClient is returned for a Client that is not one of the
	// constants, or a name ParseClient does not know.
	ErrUnknownClient = errors.New("selector: unknown memcached client")
)

// ServerError says why one LOCATION entry cannot be used with a client.
type ServerError struct {
	Client Client
	Spec   string // the entry as written
	Reason string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("selector: %s server %q: %s", e.Client, e.Spec, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadServer) true.
func (e *ServerError) Unwrap() error { return ErrBadServer }

// Selector picks the server that holds a key. Pick returns an index into
// the servers the Selector was built from. Every Selector from New is
// immutable and safe for concurrent use.
type Selector interface {
	Pick(key string) int
}

// LivePicker is implemented by the selectors whose client moves a key
// when its server is dead, mirroring that client:
//   - python-memcached rehashes, h = cmemcache_hash(str(h) + str(i)), and
//     tries at most 10 servers in all;
//   - pymemcache drops dead nodes from the rendezvous set (it does so only
//     after retry_attempts failures; the caller decides when that is);
//   - bmemcached reads from the first live server in LOCATION order.
//
// dead reports whether the server at an index is dead; ok is false when
// the client would find no server. libmemcached (pylibmc) and gomemcache
// do not move keys by default, so their selectors do not implement it.
type LivePicker interface {
	PickLive(key string, dead func(index int) bool) (index int, ok bool)
}

// Replicator is implemented by the bmemcached selector: a write goes to
// every server, in LOCATION order, and Pick gives the first server a read
// tries.
type Replicator interface {
	All() []int
}

// New builds client's selector over servers (usually from ParseServers).
// Node names are derived from Network, Host, Port and Addr, so hand-made
// Servers work too; Weight counts only for python-memcached and the
// pylibmc ketama clients, and must not be negative.
func New(client Client, servers []Server) (Selector, error) {
	if !client.valid() {
		return nil, fmt.Errorf("%w: %v", ErrUnknownClient, client)
	}
	if len(servers) == 0 {
		return nil, ErrNoServers
	}
	for _, s := range servers {
		if s.Network != "tcp" && s.Network != "unix" {
			return nil, &ServerError{client, s.Spec, fmt.Sprintf("network %q is neither tcp nor unix", s.Network)}
		}
		if s.Weight < 0 {
			return nil, &ServerError{client, s.Spec, "negative weight"}
		}
	}
	switch client {
	case PyMemcache:
		return newRendezvous(servers), nil
	case PyLibMC:
		return modula(len(servers)), nil
	case PyLibMCCRC:
		return crcModulaLib(len(servers)), nil
	case PyLibMCKetama:
		return newKetama(client, servers, anyWeightAbove1(servers), false)
	case PyLibMCKetamaWeighted:
		return newKetama(client, servers, true, true)
	case PythonMemcached:
		return newBuckets(servers)
	case BMemcached:
		return replicating(len(servers)), nil
	default: // GoMemcache
		return crcModula(len(servers)), nil
	}
}

func anyWeightAbove1(servers []Server) bool {
	for _, s := range servers {
		if s.Weight > 1 {
			return true
		}
	}
	return false
}

// replicating is bmemcached's ReplicatingClient: no sharding.
type replicating int

func (replicating) Pick(string) int { return 0 }

func (r replicating) All() []int {
	all := make([]int, int(r))
	for i := range all {
		all[i] = i
	}
	return all
}

func (r replicating) PickLive(_ string, dead func(int) bool) (int, bool) {
	for i := 0; i < int(r); i++ {
		if !dead(i) {
			return i, true
		}
	}
	return -1, false
}
