package selector

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Server is one LOCATION entry as a client understands it.
type Server struct {
	Spec    string // the entry exactly as written
	Network string // "tcp" or "unix"
	Addr    string // dialable: "host:port" (IPv6 in brackets) or the socket path
	Host    string // TCP host without brackets; "" for a socket
	Port    int    // 0 for a socket
	Weight  int    // 1 unless the client reads a weight (pylibmc host:port:weight)
	// NodeName is the client's own name for the server: pymemcache's node
	// ("host:port" or the bare socket path), libmemcached's ketama point
	// prefix ("host" on port 11211, else "host:port"; "/path:0"),
	// python-memcached's str(_Host) ("inet:host:port", "inet6:[h]:port",
	// "unix:/path"), bmemcached's entry as written, gomemcache's "host:port"
	// (unresolved) or path.
	NodeName string
}

// String names the server the way the golden vectors do: "host:port" (the
// port always written) or "unix:/path".
func (s Server) String() string {
	if s.Network == "unix" {
		return "unix:" + s.Addr
	}
	return s.Addr
}

// SplitLocation splits a LOCATION string as Django does,
// re.split("[;,]", location): at every ';' and ',', keeping empty pieces
// and all whitespace, so "a:1, b:2," gives ["a:1", " b:2", ""].
func SplitLocation(s string) []string {
	out := []string{}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ';' || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// ParseServers parses LOCATION entries the way client (after Django) does,
// formats doc §7.1. It returns ErrNoServers for an empty list and a
// *ServerError naming the entry for one that the client would refuse or
// could never reach: an empty host (except pylibmc, where libmemcached
// uses "localhost"), a port outside 1..65535 (pylibmc's port 0 means
// 11211), a weight outside 0..65535, UDP, or a mix of socket and TCP
// entries for pylibmc.
func ParseServers(client Client, specs []string) ([]Server, error) {
	if !client.valid() {
		return nil, ErrUnknownClient
	}
	if len(specs) == 0 {
		return nil, ErrNoServers
	}
	out := make([]Server, 0, len(specs))
	for _, spec := range specs {
		var (
			s      Server
			reason string
		)
		switch client {
		case PyMemcache:
			s, reason = parsePyMemcache(spec)
		case PyLibMC, PyLibMCCRC, PyLibMCKetama, PyLibMCKetamaWeighted:
			s, reason = parsePyLibMC(spec)
		case PythonMemcached:
			s, reason = parsePythonMemcached(spec)
		case BMemcached:
			s, reason = parseBMemcached(spec)
		default:
			s, reason = parseGoMemcache(spec)
		}
		if reason == "" {
			reason = s.check(client)
		}
		if reason != "" {
			if at := strings.LastIndex(spec, "@"); at >= 0 {
				// user:password@host: the reason would quote the password
				// (as a port, say); say what is wrong without it.
				return nil, &ServerError{client, "xxxxx@" + spec[at+1:],
					"credentials (a user and password before @) in a server address are for SASL, read only by pylibmc with binary=1 and by django-bmemcached"}
			}
			return nil, &ServerError{client, spec, reason}
		}
		s.Spec = spec
		if s.Network == "tcp" {
			s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		}
		s.NodeName = nodeName(client, s)
		out = append(out, s)
	}
	if isLibmemcached(client) {
		for _, s := range out[1:] {
			if s.Network != out[0].Network {
				return nil, &ServerError{client, s.Spec, "pylibmc can't mix transport types (unix socket and tcp)"}
			}
		}
	}
	return out, nil
}

func isLibmemcached(c Client) bool {
	return c == PyLibMC || c == PyLibMCCRC || c == PyLibMCKetama || c == PyLibMCKetamaWeighted
}

// check holds the rules common to every client.
func (s Server) check(client Client) string {
	if s.Network == "unix" {
		if s.Addr == "" {
			return "empty unix socket path"
		}
		return ""
	}
	if s.Host == "" && client != GoMemcache {
		return "empty host"
	}
	if strings.Contains(s.Host, ":") {
		if _, err := netip.ParseAddr(s.Host); err != nil {
			return "host " + strconv.Quote(s.Host) + " has a ':' but is no IPv6 address (write [addr]:port)"
		}
	}
	if s.Port < 1 || s.Port > 65535 {
		return "bad port " + strconv.Itoa(s.Port) + ": outside 1..65535"
	}
	if s.Weight < 0 || s.Weight > 65535 {
		return "bad weight " + strconv.Itoa(s.Weight) + ": outside 0..65535"
	}
	return ""
}

// nodeName is the client's own name for s (see Server.NodeName). New
// derives the names it hashes the same way.
func nodeName(client Client, s Server) string {
	port := strconv.Itoa(s.Port)
	switch client {
	case PyMemcache:
		if s.Network == "unix" {
			return s.Addr
		}
		return s.Host + ":" + port
	case PyLibMC, PyLibMCCRC, PyLibMCKetama, PyLibMCKetamaWeighted:
		return ketamaPrefix(s)
	case PythonMemcached:
		switch {
		case s.Network == "unix":
			return "unix:" + s.Addr
		case strings.Contains(s.Host, ":"):
			return "inet6:[" + s.Host + "]:" + port
		}
		return "inet:" + s.Host + ":" + port
	case BMemcached:
		return s.Spec
	}
	if s.Network == "unix" {
		return s.Addr
	}
	return net.JoinHostPort(s.Host, port)
}

func unixServer(path string) Server {
	return Server{Network: "unix", Addr: path, Weight: 1}
}

// parsePyMemcache follows pymemcache's normalize_server_spec.
func parsePyMemcache(spec string) (Server, string) {
	if path, ok := strings.CutPrefix(spec, "unix:"); ok {
		return unixServer(path), ""
	}
	if strings.HasPrefix(spec, "/") {
		return unixServer(spec), ""
	}
	s := Server{Network: "tcp", Host: spec, Port: 11211, Weight: 1}
	if strings.Contains(spec, ":") && !strings.HasSuffix(spec, "]") {
		i := strings.LastIndexByte(spec, ':')
		port, ok := pyInt(spec[i+1:])
		if !ok {
			return s, "bad port " + strconv.Quote(spec[i+1:]) + ": not an integer"
		}
		s.Host, s.Port = spec[:i], port
	}
	if strings.HasPrefix(s.Host, "[") {
		s.Host = strings.Trim(s.Host, "[]")
	}
	return s, ""
}

// parsePyLibMC follows Django's PyLibMCCache.client_servers (a leading
// "unix:" is removed), pylibmc's translate_server_spec and libmemcached's
// memcached_server_add_with_weight (port 0 is 11211, an empty host is
// "localhost").
func parsePyLibMC(spec string) (Server, string) {
	rest := strings.TrimPrefix(spec, "unix:")
	if strings.HasPrefix(rest, "/") {
		return unixServer(rest), ""
	}
	if strings.HasPrefix(rest, "udp:") {
		return Server{}, "udp servers are not supported"
	}
	var addr, port string
	havePort := false
	switch {
	case strings.HasPrefix(rest, "["):
		if !strings.Contains(rest, "]") {
			return Server{}, "no ']' after '['"
		}
		if strings.HasSuffix(rest, "]") {
			addr = rest[1 : len(rest)-1]
			break
		}
		i := strings.LastIndex(rest[1:], "]:")
		if i < 0 {
			return Server{}, "no ':' after ']'"
		}
		addr, port, havePort = rest[1:1+i], rest[1+i+2:], true
	case strings.Contains(rest, ":"):
		addr, port, havePort = strings.Cut(rest, ":")
	default:
		addr = rest
	}
	s := Server{Network: "tcp", Host: addr, Port: 11211, Weight: 1}
	if havePort {
		p, w, haveWeight := strings.Cut(port, ":")
		n, ok := pyInt(p)
		if !ok {
			return s, "bad port " + strconv.Quote(p) + ": not an integer"
		}
		s.Port = n
		if haveWeight {
			if s.Weight, ok = pyInt(w); !ok {
				return s, "bad weight " + strconv.Quote(w) + ": not an integer"
			}
		}
	}
	if s.Port == 0 {
		s.Port = 11211
	}
	if s.Host == "" {
		s.Host = "localhost"
	}
	return s, ""
}

// python-memcached's _Host patterns, tried in this order. Python's '$'
// also matches before a final "\n"; parsePythonMemcached retries without
// it.
// They are compiled on first use.
var pythonMemcachedRE = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`^(?P<proto>unix):(?P<path>.*)$`),
		regexp.MustCompile(`^(?P<proto>inet6):\[(?P<host>[^\[\]]+)\](?::(?P<port>[0-9]+))?$`),
		regexp.MustCompile(`^(?P<proto>inet):(?P<host>[^:]+)(?::(?P<port>[0-9]+))?$`),
		regexp.MustCompile(`^(?P<host>[^:]+)(?::(?P<port>[0-9]+))?$`),
	}
})

// parsePythonMemcached follows python-memcached's _Host. Weights come
// only from (host, weight) tuples, which a LOCATION string cannot hold.
func parsePythonMemcached(spec string) (Server, string) {
	for _, re := range pythonMemcachedRE() {
		m := re.FindStringSubmatch(spec)
		if m == nil && strings.HasSuffix(spec, "\n") {
			m = re.FindStringSubmatch(spec[:len(spec)-1])
		}
		if m == nil {
			continue
		}
		group := func(name string) string {
			if i := re.SubexpIndex(name); i > 0 {
				return m[i]
			}
			return ""
		}
		if group("proto") == "unix" {
			return unixServer(group("path")), ""
		}
		s := Server{Network: "tcp", Host: group("host"), Port: 11211, Weight: 1}
		if strings.HasPrefix(s.Host, "/") && group("proto") == "" {
			return s, "python-memcached reads this as a host name, not a socket (write unix:" + s.Host + ")"
		}
		if p := group("port"); p != "" {
			n, ok := pyInt(p)
			if !ok {
				return s, "bad port " + strconv.Quote(p) + ": out of range"
			}
			s.Port = n
		}
		return s, ""
	}
	return Server{}, "python-memcached can't parse it (host[:port], inet:host[:port], inet6:[addr][:port] or unix:/path)"
}

// parseBMemcached follows python-binary-memcached's Protocol: "/path" is
// a socket; an IP address alone takes port 11211; "[ip]" with an optional
// ":port"; otherwise urllib's netloc rules (the host is lower-cased, an
// empty port is 11211).
func parseBMemcached(spec string) (Server, string) {
	if strings.HasPrefix(spec, "/") {
		return unixServer(spec), ""
	}
	s := Server{Network: "tcp", Port: 11211, Weight: 1}
	if _, err := netip.ParseAddr(spec); err == nil {
		s.Host = spec
		return s, ""
	}
	if strings.HasPrefix(spec, "[") {
		host, port, _ := strings.Cut(spec[1:], "]")
		if _, err := netip.ParseAddr(host); err != nil {
			return s, "not a valid IPv6 address in brackets"
		}
		s.Host = host
		if port != "" {
			n, ok := pyInt(strings.TrimLeft(port, ":"))
			if !ok {
				return s, "bad port " + strconv.Quote(port) + ": not an integer"
			}
			s.Port = n
		}
		return s, ""
	}
	if strings.HasPrefix(spec, "unix:") {
		return s, "bmemcached takes a socket as /path, without unix:"
	}
	hostinfo := spec[strings.LastIndexByte(spec, '@')+1:]
	if strings.ContainsAny(hostinfo, "[]") {
		return s, "brackets are only for [ipv6]:port"
	}
	host, port, _ := strings.Cut(hostinfo, ":")
	s.Host = strings.ToLower(host)
	if port != "" {
		n, ok := asciiInt(port)
		if !ok {
			return s, "bad port " + strconv.Quote(port) + ": not a number"
		}
		s.Port = n
	}
	return s, ""
}

// parseGoMemcache follows gomemcache's ServerList.SetServers without its
// DNS lookup: a spec with '/' is a socket, anything else must be
// host:port.
func parseGoMemcache(spec string) (Server, string) {
	if strings.Contains(spec, "/") {
		return unixServer(spec), ""
	}
	host, port, err := net.SplitHostPort(spec)
	if err != nil {
		return Server{}, "want host:port"
	}
	n, ok := asciiInt(port)
	if !ok {
		return Server{}, "bad port " + strconv.Quote(port) + ": not a number"
	}
	return Server{Network: "tcp", Host: host, Port: n, Weight: 1}, ""
}

// pyInt parses like Python's int(s) for the cases that matter here:
// surrounding whitespace, one optional sign, ASCII digits with single
// underscores between them. Values far beyond any port or weight are
// clamped so that range checks still fail.
func pyInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	n, ok := asciiInt(strings.ReplaceAll(s, "_", ""))
	if neg {
		n = -n
	}
	return n, ok
}

// asciiInt parses ASCII digits only, clamping huge values to 1<<30.
func asciiInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<30 {
			n = n*10 + int(c-'0')
		}
	}
	return min(n, 1<<30), true
}
