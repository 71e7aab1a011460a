package selector_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cachectl/cachectl/backends/memcached/selector"
)

func TestSplitLocation(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{""}},
		{"one", "127.0.0.1:11211", []string{"127.0.0.1:11211"}},
		{"both separators", "a:1;b:2,c:3", []string{"a:1", "b:2", "c:3"}},
		{"whitespace kept", "a:1, b:2", []string{"a:1", " b:2"}},
		{"trailing separator", "a:1,", []string{"a:1", ""}},
		{"only separators", ";;", []string{"", "", ""}},
		{"socket", "unix:/tmp/a.sock;unix:/tmp/b.sock", []string{"unix:/tmp/a.sock", "unix:/tmp/b.sock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := selector.SplitLocation(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitLocation(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func tcp(host string, port int, addr, node string) selector.Server {
	return selector.Server{Network: "tcp", Addr: addr, Host: host, Port: port, Weight: 1, NodeName: node}
}

func unix(path, node string) selector.Server {
	return selector.Server{Network: "unix", Addr: path, Weight: 1, NodeName: node}
}

func weighted(s selector.Server, w int) selector.Server {
	s.Weight = w
	return s
}

// TestParseServers pins each client's reading of one LOCATION entry. The
// accepted cases were checked against pymemcache 3.5.2
// (normalize_server_spec), pylibmc 1.6.3 (translate_server_spec after
// Django's "unix:" strip), python-memcached 1.58 (_Host) and urllib's
// SplitResult as bmemcached uses it. Entries the library accepts but could
// never reach (host ":" from pymemcache's "::1", port 0, python-memcached's
// "/path" as a host name) are errors here.
func TestParseServers(t *testing.T) {
	tests := []struct {
		name    string
		client  selector.Client
		spec    string
		want    selector.Server
		wantErr bool
	}{
		// pymemcache: normalize_server_spec, node "host:port" or the path.
		{"pm default port", selector.PyMemcache, "127.0.0.1", tcp("127.0.0.1", 11211, "127.0.0.1:11211", "127.0.0.1:11211"), false},
		{"pm port", selector.PyMemcache, "127.0.0.1:21212", tcp("127.0.0.1", 21212, "127.0.0.1:21212", "127.0.0.1:21212"), false},
		{"pm v6 no port", selector.PyMemcache, "[::1]", tcp("::1", 11211, "[::1]:11211", "::1:11211"), false},
		{"pm v6 port", selector.PyMemcache, "[::1]:11212", tcp("::1", 11212, "[::1]:11212", "::1:11212"), false},
		{"pm bare v6", selector.PyMemcache, "::1", selector.Server{}, true},
		{"pm leading space kept", selector.PyMemcache, " b:2", tcp(" b", 2, " b:2", " b:2"), false},
		{"pm int() strips the port", selector.PyMemcache, "b:2 ", tcp("b", 2, "b:2", "b:2"), false},
		{"pm int() sign", selector.PyMemcache, "h:+12", tcp("h", 12, "h:12", "h:12"), false},
		{"pm int() underscore", selector.PyMemcache, "h:1_0", tcp("h", 10, "h:10", "h:10"), false},
		{"pm empty port", selector.PyMemcache, "h:", selector.Server{}, true},
		{"pm bad port", selector.PyMemcache, "h:abc", selector.Server{}, true},
		{"pm port 0", selector.PyMemcache, "h:0", selector.Server{}, true},
		{"pm port too big", selector.PyMemcache, "h:70000", selector.Server{}, true},
		{"pm empty", selector.PyMemcache, "", selector.Server{}, true},
		{"pm no host", selector.PyMemcache, ":11211", selector.Server{}, true},
		{"pm weight is a host colon", selector.PyMemcache, "h:1:2", selector.Server{}, true},
		{"pm unix prefix", selector.PyMemcache, "unix:/tmp/s", unix("/tmp/s", "/tmp/s"), false},
		{"pm bare path", selector.PyMemcache, "/tmp/s", unix("/tmp/s", "/tmp/s"), false},
		{"pm relative socket", selector.PyMemcache, "unix:rel", unix("rel", "rel"), false},
		{"pm empty socket", selector.PyMemcache, "unix:", selector.Server{}, true},

		// pylibmc: ketama prefix as node name, host:port:weight.
		{"lm default port", selector.PyLibMC, "127.0.0.1", tcp("127.0.0.1", 11211, "127.0.0.1:11211", "127.0.0.1"), false},
		{"lm port", selector.PyLibMCKetama, "127.0.0.1:21212", tcp("127.0.0.1", 21212, "127.0.0.1:21212", "127.0.0.1:21212"), false},
		{"lm weight", selector.PyLibMCKetama, "127.0.0.1:21212:3", weighted(tcp("127.0.0.1", 21212, "127.0.0.1:21212", "127.0.0.1:21212"), 3), false},
		{"lm default port written", selector.PyLibMCKetamaWeighted, "127.0.0.1:11211:2", weighted(tcp("127.0.0.1", 11211, "127.0.0.1:11211", "127.0.0.1"), 2), false},
		{"lm weight 0", selector.PyLibMC, "h:1:0", weighted(tcp("h", 1, "h:1", "h:1"), 0), false},
		{"lm v6", selector.PyLibMCKetama, "[::1]:22122:3", weighted(tcp("::1", 22122, "[::1]:22122", "::1:22122"), 3), false},
		{"lm v6 no port", selector.PyLibMC, "[::1]", tcp("::1", 11211, "[::1]:11211", "::1"), false},
		{"lm crc like pylibmc", selector.PyLibMCCRC, "[::1]:22122:3", weighted(tcp("::1", 22122, "[::1]:22122", "::1:22122"), 3), false},
		{"lm port 0 is 11211", selector.PyLibMC, "h:0", tcp("h", 11211, "h:11211", "h"), false},
		{"lm empty host is localhost", selector.PyLibMC, ":11211", tcp("localhost", 11211, "localhost:11211", "localhost"), false},
		{"lm empty is localhost", selector.PyLibMC, "", tcp("localhost", 11211, "localhost:11211", "localhost"), false},
		{"lm int() port", selector.PyLibMC, "b:2 ", tcp("b", 2, "b:2", "b:2"), false},
		{"lm unix prefix stripped by Django", selector.PyLibMC, "unix:/tmp/s", unix("/tmp/s", "/tmp/s:0"), false},
		{"lm bare path", selector.PyLibMCKetama, "/tmp/s", unix("/tmp/s", "/tmp/s:0"), false},
		{"lm unix prefix then a host", selector.PyLibMC, "unix:rel", tcp("rel", 11211, "rel:11211", "rel"), false},
		{"lm two weights", selector.PyLibMC, "h:1:2:3", selector.Server{}, true},
		{"lm bare v6", selector.PyLibMC, "::1", selector.Server{}, true},
		{"lm udp", selector.PyLibMC, "udp:h:1", selector.Server{}, true},
		{"lm junk after ]", selector.PyLibMC, "[::1]x", selector.Server{}, true},
		{"lm negative weight", selector.PyLibMC, "h:1:-1", selector.Server{}, true},
		{"lm port too big", selector.PyLibMC, "h:70000", selector.Server{}, true},

		// python-memcached: _Host, node str(_Host).
		{"py default port", selector.PythonMemcached, "127.0.0.1", tcp("127.0.0.1", 11211, "127.0.0.1:11211", "inet:127.0.0.1:11211"), false},
		{"py inet", selector.PythonMemcached, "inet:h:5", tcp("h", 5, "h:5", "inet:h:5"), false},
		{"py inet6", selector.PythonMemcached, "inet6:[::1]:5", tcp("::1", 5, "[::1]:5", "inet6:[::1]:5"), false},
		{"py inet6 default port", selector.PythonMemcached, "inet6:[::1]", tcp("::1", 11211, "[::1]:11211", "inet6:[::1]:11211"), false},
		{"py unix", selector.PythonMemcached, "unix:/tmp/s", unix("/tmp/s", "unix:/tmp/s"), false},
		{"py $ before final newline", selector.PythonMemcached, "h:1\n", tcp("h", 1, "h:1", "inet:h:1"), false},
		{"py unix path stops at final newline", selector.PythonMemcached, "unix:/p\n", unix("/p", "unix:/p"), false},
		{"py leading space kept", selector.PythonMemcached, " b:2", tcp(" b", 2, " b:2", "inet: b:2"), false},
		{"py bare path is a host name", selector.PythonMemcached, "/tmp/s", selector.Server{}, true},
		{"py brackets need inet6", selector.PythonMemcached, "[::1]:5", selector.Server{}, true},
		{"py trailing space", selector.PythonMemcached, "b:2 ", selector.Server{}, true},
		{"py no weights in strings", selector.PythonMemcached, "h:1:2", selector.Server{}, true},
		{"py empty", selector.PythonMemcached, "", selector.Server{}, true},
		{"py port 0", selector.PythonMemcached, "h:0", selector.Server{}, true},

		// bmemcached: Protocol.split_host_port, node = entry as written.
		{"bm ip", selector.BMemcached, "127.0.0.1", tcp("127.0.0.1", 11211, "127.0.0.1:11211", "127.0.0.1"), false},
		{"bm bare v6", selector.BMemcached, "::1", tcp("::1", 11211, "[::1]:11211", "::1"), false},
		{"bm v6 brackets", selector.BMemcached, "[::1]", tcp("::1", 11211, "[::1]:11211", "[::1]"), false},
		{"bm v6 port", selector.BMemcached, "[::1]:5", tcp("::1", 5, "[::1]:5", "[::1]:5"), false},
		{"bm host lower-cased", selector.BMemcached, "H.Example.COM:7", tcp("h.example.com", 7, "h.example.com:7", "H.Example.COM:7"), false},
		{"bm empty port", selector.BMemcached, "h:", tcp("h", 11211, "h:11211", "h:"), false},
		{"bm userinfo dropped", selector.BMemcached, "user@h:5", tcp("h", 5, "h:5", "user@h:5"), false},
		{"bm socket", selector.BMemcached, "/tmp/s", unix("/tmp/s", "/tmp/s"), false},
		{"bm brackets need an ip", selector.BMemcached, "[foo]:5", selector.Server{}, true},
		{"bm no unix prefix", selector.BMemcached, "unix:/tmp/s", selector.Server{}, true},
		{"bm port with colon", selector.BMemcached, "h:1:2", selector.Server{}, true},
		{"bm port too big", selector.BMemcached, "h:70000", selector.Server{}, true},
		{"bm port with space", selector.BMemcached, "h: 5", selector.Server{}, true},
		{"bm empty", selector.BMemcached, "", selector.Server{}, true},

		// gomemcache: ServerList.SetServers without the DNS lookup.
		{"go host port", selector.GoMemcache, "127.0.0.1:21211", tcp("127.0.0.1", 21211, "127.0.0.1:21211", "127.0.0.1:21211"), false},
		{"go v6", selector.GoMemcache, "[::1]:5", tcp("::1", 5, "[::1]:5", "[::1]:5"), false},
		{"go empty host", selector.GoMemcache, ":11211", tcp("", 11211, ":11211", ":11211"), false},
		{"go socket", selector.GoMemcache, "/tmp/s", unix("/tmp/s", "/tmp/s"), false},
		{"go needs a port", selector.GoMemcache, "127.0.0.1", selector.Server{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selector.ParseServers(tc.client, []string{tc.spec})
			if tc.wantErr {
				var se *selector.ServerError
				if !errors.As(err, &se) || !errors.Is(err, selector.ErrBadServer) || se.Spec != tc.spec || se.Client != tc.client {
					t.Fatalf("ParseServers(%v, %q) = %+v, %v; want a *ServerError for the entry", tc.client, tc.spec, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseServers(%v, %q): %v", tc.client, tc.spec, err)
			}
			tc.want.Spec = tc.spec
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("ParseServers(%v, %q) =\n %+v\nwant\n %+v", tc.client, tc.spec, got, tc.want)
			}
		})
	}
}

func TestParseServersList(t *testing.T) {
	tests := []struct {
		name    string
		client  selector.Client
		specs   []string
		wantErr error
	}{
		{"no servers", selector.PyMemcache, nil, selector.ErrNoServers},
		{"unknown client", selector.Client(0), []string{"h:1"}, selector.ErrUnknownClient},
		{"pylibmc mixes transports", selector.PyLibMC, []string{"/tmp/s", "h:1"}, selector.ErrBadServer},
		{"pylibmc crc mixes transports", selector.PyLibMCCRC, []string{"h:1", "/tmp/s"}, selector.ErrBadServer},
		{"pylibmc ketama mixes transports", selector.PyLibMCKetama, []string{"h:1", "unix:/tmp/s"}, selector.ErrBadServer},
		{"pymemcache may mix", selector.PyMemcache, []string{"/tmp/s", "h:1", "unix:/tmp/t"}, nil},
		{"second entry bad", selector.PythonMemcached, []string{"h:1", "h:x"}, selector.ErrBadServer},
		{"order kept", selector.BMemcached, []string{"b:2", "a:1", "/tmp/s"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selector.ParseServers(tc.client, tc.specs)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseServers(%v, %q) error = %v, want %v", tc.client, tc.specs, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			var specs []string
			for _, s := range got {
				specs = append(specs, s.Spec)
			}
			if !reflect.DeepEqual(specs, tc.specs) {
				t.Errorf("specs in order %q, want %q", specs, tc.specs)
			}
		})
	}
}

func TestClientNames(t *testing.T) {
	for _, c := range selector.Clients() {
		t.Run(c.String(), func(t *testing.T) {
			got, err := selector.ParseClient(c.String())
			if err != nil || got != c {
				t.Errorf("ParseClient(%q) = %v, %v", c.String(), got, err)
			}
		})
	}
	if _, err := selector.ParseClient("memcache"); !errors.Is(err, selector.ErrUnknownClient) {
		t.Errorf("ParseClient(memcache) error = %v, want ErrUnknownClient", err)
	}
}
