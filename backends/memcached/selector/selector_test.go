package selector_test

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/cachectl/cachectl/backends/memcached/selector"
)

func mustParse(t testing.TB, c selector.Client, specs ...string) []selector.Server {
	t.Helper()
	servers, err := selector.ParseServers(c, specs)
	if err != nil {
		t.Fatal(err)
	}
	return servers
}

func mustNew(t testing.TB, c selector.Client, servers []selector.Server) selector.Selector {
	t.Helper()
	sel, err := selector.New(c, servers)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

var three = []string{"127.0.0.1:21211", "127.0.0.1:21212", "127.0.0.1:21213"}

// deadKeys were hashed by the real libraries (python-memcached 1.58
// _get_server with _Host.connect stubbed; pymemcache 3.5.2 RendezvousHash
// over the live nodes) for the dead sets below.
var deadKeys = []string{
	":1:a", ":1:session.abc", ":1:café", "raw-key-1", "日本語", strings.Repeat("x", 200),
	":1:views.decorators.cache.cache_page..GET.abc.d41d8cd98f00b204e9800998ecf8427e.en-us.UTC",
}

func TestPickLive(t *testing.T) {
	tests := []struct {
		name    string
		client  selector.Client
		weights []int // nil: as parsed
		dead    []int
		want    []int // per deadKeys; -1: the client finds no server
	}{
		{"python-memcached all live", selector.PythonMemcached, nil, nil, []int{2, 2, 2, 1, 0, 2, 0}},
		{"python-memcached 1 dead", selector.PythonMemcached, nil, []int{1}, []int{2, 2, 2, 0, 0, 2, 0}},
		{"python-memcached 0 and 2 dead", selector.PythonMemcached, nil, []int{0, 2}, []int{1, 1, 1, 1, 1, 1, 1}},
		{"python-memcached all dead", selector.PythonMemcached, nil, []int{0, 1, 2}, []int{-1, -1, -1, -1, -1, -1, -1}},
		{"python-memcached weights 1/2/3", selector.PythonMemcached, []int{1, 2, 3}, nil, []int{2, 1, 2, 2, 2, 2, 2}},
		{"python-memcached weights 1/2/3, 1 dead", selector.PythonMemcached, []int{1, 2, 3}, []int{1}, []int{2, 0, 2, 2, 2, 2, 2}},
		{"python-memcached weights 1/2/3, 0 and 2 dead", selector.PythonMemcached, []int{1, 2, 3}, []int{0, 2}, []int{1, 1, 1, 1, 1, 1, 1}},
		{"pymemcache all live", selector.PyMemcache, nil, nil, []int{1, 0, 1, 1, 2, 0, 1}},
		{"pymemcache 1 dead", selector.PyMemcache, nil, []int{1}, []int{2, 0, 2, 2, 2, 0, 0}},
		{"pymemcache 0 and 2 dead", selector.PyMemcache, nil, []int{0, 2}, []int{1, 1, 1, 1, 1, 1, 1}},
		{"pymemcache all dead", selector.PyMemcache, nil, []int{0, 1, 2}, []int{-1, -1, -1, -1, -1, -1, -1}},
		{"bmemcached all live", selector.BMemcached, nil, nil, []int{0, 0, 0, 0, 0, 0, 0}},
		{"bmemcached 0 dead", selector.BMemcached, nil, []int{0}, []int{1, 1, 1, 1, 1, 1, 1}},
		{"bmemcached all dead", selector.BMemcached, nil, []int{0, 1, 2}, []int{-1, -1, -1, -1, -1, -1, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			servers := mustParse(t, tc.client, three...)
			for i, w := range tc.weights {
				servers[i].Weight = w
			}
			lp, ok := mustNew(t, tc.client, servers).(selector.LivePicker)
			if !ok {
				t.Fatalf("%v selector is no LivePicker", tc.client)
			}
			dead := func(i int) bool {
				for _, d := range tc.dead {
					if d == i {
						return true
					}
				}
				return false
			}
			var got []int
			for _, k := range deadKeys {
				i, ok := lp.PickLive(k, dead)
				if ok != (i >= 0) {
					t.Errorf("PickLive(%q) = %d, %v: ok must say whether the index is real", k, i, ok)
				}
				got = append(got, i)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PickLive = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPythonMemcachedGivesUp: python-memcached tries 10 servers, then
// returns no server even though one is live ("k11" was found with the real
// client: 10 rehashes all land on the dead servers 0 and 2).
func TestPythonMemcachedGivesUp(t *testing.T) {
	lp := mustNew(t, selector.PythonMemcached, mustParse(t, selector.PythonMemcached, three...)).(selector.LivePicker)
	deadBut1 := func(i int) bool { return i != 1 }
	if i, ok := lp.PickLive("k11", deadBut1); ok {
		t.Errorf("PickLive(k11) = %d, true; python-memcached gives up", i)
	}
	if i, ok := lp.PickLive("k10", deadBut1); !ok || i != 1 {
		t.Errorf("PickLive(k10) = %d, %v; want 1, true", i, ok)
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		client     selector.Client
		live, repl bool
	}{
		{selector.PyMemcache, true, false},
		{selector.PyLibMC, false, false},
		{selector.PyLibMCCRC, false, false},
		{selector.PyLibMCKetama, false, false},
		{selector.PyLibMCKetamaWeighted, false, false},
		{selector.PythonMemcached, true, false},
		{selector.BMemcached, true, true},
		{selector.GoMemcache, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.client.String(), func(t *testing.T) {
			sel := mustNew(t, tc.client, mustParse(t, tc.client, three...))
			_, live := sel.(selector.LivePicker)
			_, repl := sel.(selector.Replicator)
			if live != tc.live || repl != tc.repl {
				t.Errorf("LivePicker %v, Replicator %v; want %v, %v", live, repl, tc.live, tc.repl)
			}
		})
	}
}

func TestBMemcachedReplicates(t *testing.T) {
	servers := mustParse(t, selector.BMemcached, "127.0.0.1:21211", "/tmp/mc.sock", "[::1]:21213")
	sel := mustNew(t, selector.BMemcached, servers)
	for _, k := range deadKeys {
		if i := sel.Pick(k); i != 0 {
			t.Errorf("Pick(%q) = %d, want 0 (reads start at the first server)", k, i)
		}
	}
	if got := sel.(selector.Replicator).All(); !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("All() = %v, want [0 1 2]", got)
	}
}

// TestOneServer: with one server every client picks it.
func TestOneServer(t *testing.T) {
	for _, c := range selector.Clients() {
		t.Run(c.String(), func(t *testing.T) {
			sel := mustNew(t, c, mustParse(t, c, "127.0.0.1:21211"))
			for _, k := range deadKeys {
				if i := sel.Pick(k); i != 0 {
					t.Errorf("Pick(%q) = %d, want 0", k, i)
				}
			}
		})
	}
}

// TestPyMemcacheSameNode: pymemcache keys its clients by node name, so
// "127.0.0.1" and "127.0.0.1:11211" are one node; the first index wins.
func TestPyMemcacheSameNode(t *testing.T) {
	servers := mustParse(t, selector.PyMemcache, "127.0.0.1", "127.0.0.1:21212", "127.0.0.1:11211")
	one := mustNew(t, selector.PyMemcache, servers[:2])
	both := mustNew(t, selector.PyMemcache, servers)
	for i := range 500 {
		k := fmt.Sprintf(":1:key-%d", i)
		if a, b := one.Pick(k), both.Pick(k); a != b {
			t.Fatalf("Pick(%q) = %d with the duplicate, %d without", k, b, a)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tcpServer := selector.Server{Spec: "h:1", Network: "tcp", Addr: "h:1", Host: "h", Port: 1, Weight: 1}
	zero := tcpServer
	zero.Weight = 0
	negative := tcpServer
	negative.Weight = -1
	huge := tcpServer
	huge.Weight = 1 << 40
	udp := tcpServer
	udp.Network = "udp"
	tests := []struct {
		name    string
		client  selector.Client
		servers []selector.Server
		wantErr error
	}{
		{"no servers", selector.PyMemcache, nil, selector.ErrNoServers},
		{"unknown client", selector.Client(99), []selector.Server{tcpServer}, selector.ErrUnknownClient},
		{"negative weight", selector.PythonMemcached, []selector.Server{negative}, selector.ErrBadServer},
		{"bad network", selector.PyLibMC, []selector.Server{udp}, selector.ErrBadServer},
		{"python-memcached no buckets", selector.PythonMemcached, []selector.Server{zero, zero}, selector.ErrBadServer},
		{"weighted ketama no weight", selector.PyLibMCKetamaWeighted, []selector.Server{zero, zero}, selector.ErrBadServer},
		{"python-memcached weight 0 beside 1", selector.PythonMemcached, []selector.Server{zero, tcpServer}, nil},
		{"weighted ketama weight 0 beside 1", selector.PyLibMCKetamaWeighted, []selector.Server{zero, tcpServer}, nil},
		{"ketama ignores weight 0", selector.PyLibMCKetama, []selector.Server{zero, zero}, nil},
		{"python-memcached huge weight costs no memory", selector.PythonMemcached, []selector.Server{tcpServer, huge}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := selector.New(tc.client, tc.servers)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("New error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestZeroWeightGetsNothing: a weight-0 server holds no bucket
// (python-memcached) and no continuum point (weighted ketama).
func TestZeroWeightGetsNothing(t *testing.T) {
	for _, c := range []selector.Client{selector.PythonMemcached, selector.PyLibMCKetamaWeighted} {
		t.Run(c.String(), func(t *testing.T) {
			servers := mustParse(t, c, three...)
			servers[1].Weight = 0
			sel := mustNew(t, c, servers)
			for i := range 1000 {
				if got := sel.Pick(fmt.Sprintf(":1:k%d", i)); got == 1 {
					t.Fatalf("key %d went to the weight-0 server", i)
				}
			}
		})
	}
}

func TestNetAddr(t *testing.T) {
	tests := []struct {
		name, spec   string
		client       selector.Client
		network, str string
		wantType     any
	}{
		{"ipv4", "127.0.0.1:21211", selector.PyMemcache, "tcp", "127.0.0.1:21211", &net.TCPAddr{}},
		{"ipv6", "[::1]:21211", selector.PyMemcache, "tcp", "[::1]:21211", &net.TCPAddr{}},
		{"default port", "127.0.0.1", selector.PyLibMCKetama, "tcp", "127.0.0.1:11211", &net.TCPAddr{}},
		{"host name kept", "memcached.internal:11211", selector.PyMemcache, "tcp", "memcached.internal:11211", nil},
		{"socket", "unix:/run/mc.sock", selector.PyMemcache, "unix", "/run/mc.sock", &net.UnixAddr{}},
		{"socket pylibmc", "/run/mc.sock", selector.PyLibMC, "unix", "/run/mc.sock", &net.UnixAddr{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mustParse(t, tc.client, tc.spec)[0].NetAddr()
			if a.Network() != tc.network || a.String() != tc.str {
				t.Errorf("NetAddr() = %s %s, want %s %s", a.Network(), a, tc.network, tc.str)
			}
			switch tc.wantType.(type) {
			case *net.TCPAddr:
				if _, ok := a.(*net.TCPAddr); !ok {
					t.Errorf("NetAddr() is %T, want *net.TCPAddr", a)
				}
			case *net.UnixAddr:
				if _, ok := a.(*net.UnixAddr); !ok {
					t.Errorf("NetAddr() is %T, want *net.UnixAddr", a)
				}
			default:
				if _, ok := a.(*net.TCPAddr); ok {
					t.Errorf("NetAddr() of a host name is a *net.TCPAddr: it must not be resolved")
				}
			}
		})
	}
}

func TestGomemcacheSelector(t *testing.T) {
	specs := []string{"unix:/run/a.sock", "127.0.0.1:21212", "memcached.internal:21213"}
	servers := mustParse(t, selector.PyMemcache, specs...)
	ss := selector.NewGomemcacheSelector(mustNew(t, selector.PyMemcache, servers), servers)

	var each []string
	if err := ss.Each(func(a net.Addr) error { each = append(each, a.Network()+" "+a.String()); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"unix /run/a.sock", "tcp 127.0.0.1:21212", "tcp memcached.internal:21213"}
	if !reflect.DeepEqual(each, want) {
		t.Errorf("Each visited %q, want %q", each, want)
	}

	stop := errors.New("stop")
	n := 0
	if err := ss.Each(func(net.Addr) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Each with an error: %v after %d calls, want stop after 1", err, n)
	}

	empty := selector.NewGomemcacheSelector(nil, nil)
	if _, err := empty.PickServer("k"); !errors.Is(err, memcache.ErrNoServers) {
		t.Errorf("PickServer with no servers: %v, want memcache.ErrNoServers", err)
	}

	// A selector built for more servers than the adapter got.
	short := selector.NewGomemcacheSelector(mustNew(t, selector.BMemcached, servers), nil)
	if _, err := short.PickServer("k"); err == nil {
		t.Error("PickServer with no addresses: no error")
	}
}

// TestGomemcacheSelectorConcurrent runs PickServer and Each from many
// goroutines; run with -race.
func TestGomemcacheSelectorConcurrent(t *testing.T) {
	for _, c := range selector.Clients() {
		servers := mustParse(t, c, three...)
		sel := mustNew(t, c, servers)
		ss := selector.NewGomemcacheSelector(sel, servers)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					k := fmt.Sprintf(":1:g%d-%d", g, i)
					a, err := ss.PickServer(k)
					if err != nil || a.String() != servers[sel.Pick(k)].Addr {
						t.Errorf("%v PickServer(%q) = %v, %v", c, k, a, err)
						return
					}
					_ = ss.Each(func(net.Addr) error { return nil })
				}
			}()
		}
		wg.Wait()
	}
}

// TestGoMemcacheMatchesServerList compares the GoMemcache client with
// gomemcache's own ServerList, keys over 256 bytes included (it hashes
// only the first 256). IP addresses keep ServerList from needing DNS.
func TestGoMemcacheMatchesServerList(t *testing.T) {
	for _, specs := range [][]string{three, {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4", "127.0.0.1:5"}} {
		var sl memcache.ServerList
		if err := sl.SetServers(specs...); err != nil {
			t.Fatal(err)
		}
		servers := mustParse(t, selector.GoMemcache, specs...)
		ss := selector.NewGomemcacheSelector(mustNew(t, selector.GoMemcache, servers), servers)
		for i := range 2000 {
			k := fmt.Sprintf("key-%d-%s", i, strings.Repeat("é", i%200))
			want, err := sl.PickServer(k)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ss.PickServer(k)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("key %d (%d bytes): got %s, ServerList %s", i, len(k), got, want)
			}
		}
	}
}
