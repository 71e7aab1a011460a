package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
)

// params are the query parameters (and lower-cased OPTIONS names) the Redis
// registrations accept. The redis-py connection keywords that change nothing
// cachectl does (pool size, keepalive, health checks…) are accepted so a
// LOCATION copied from settings.py works, and are otherwise ignored.
var params = []string{
	// cachectl's own
	"backend", "tls_ca", "password_file",
	// redis-py connection keywords (URL query or OPTIONS)
	"db", "password", "username", "socket_timeout", "socket_connect_timeout", "ssl", "ssl_cert_reqs",
	"ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname",
	"max_connections", "health_check_interval", "retry_on_timeout", "socket_keepalive", "client_name",
	// Django RedisCache OPTIONS
	"serializer", "pool_class", "parser_class",
	// django-redis OPTIONS
	"compressor", "pickle_version", "client_class", "connection_pool_kwargs", "connection_pool_class",
	"connection_factory", "redis_client_class", "redis_client_kwargs", "ignore_exceptions",
	"log_ignored_exceptions", "close_connection", "replica_read_only", "sentinels", "sentinel_kwargs",
	"sentinel_password", "is_master",
}

// ignoredParams change nothing in what cachectl sends or stores.
var ignoredParams = map[string]bool{"max_connections": true, "health_check_interval": true, "retry_on_timeout": true,
	"socket_keepalive": true, "client_name": true, "pool_class": true, "parser_class": true,
	"connection_pool_class": true, "connection_factory": true, "redis_client_class": true, "redis_client_kwargs": true,
	"ignore_exceptions": true, "log_ignored_exceptions": true, "close_connection": true, "replica_read_only": true}

// Endpoint kinds.
const (
	kindTCP      = "tcp"
	kindUnix     = "unix"
	kindSentinel = "sentinel"
	kindCluster  = "cluster"
)

// endpoint is one LOCATION URL, resolved: where to connect and how.
type endpoint struct {
	kind             string
	addrs            []string // tcp: host:port; unix: the socket path; sentinel: the sentinels; cluster: seed nodes
	service          string   // sentinel: the master's service name
	replicaOnly      bool     // sentinel: connect to a replica of service (django-redis SentinelClient reads)
	db               int
	username         string
	password         string
	sentinelUser     string
	sentinelPassword string
	tls              *tls.Config // nil: plain TCP
	tlsDesc          string      // how the certificate is checked
	readTimeout      time.Duration
	dialTimeout      time.Duration
	display          string // the URL, redacted
}

// Separators of LOCATION strings: Django's RedisCache splits on ";" and
// ",", django-redis on "," only.
const (
	djangoSplit      = ";,"
	djangoRedisSplit = ","
	hostSplit        = ";,"
)

// splitAny splits s at every byte that is in seps, keeping empty fields,
// as re.split (and Go's regexp Split with n < 0) does with a one-character
// class: "" gives [""], "a," gives ["a" ""].
func splitAny(s, seps string) []string {
	out := make([]string, 0, strings.Count(s, ",")+strings.Count(s, ";")+1)
	for {
		i := strings.IndexAny(s, seps)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

// splitLocations turns the configured LOCATION(s) into one URL per server,
// each with its scheme: Django's RedisCache splits a string on ";" and ",",
// django-redis on "," only. A sentinel or cluster URL lists several hosts
// and is never split. In a cachectl URL the scheme is written once
// (redis://a:6379/0,b:6379/0) and both separators work.
func splitLocations(cfg *backends.Config, djRedis bool) []string {
	var out []string
	for _, l := range cfg.Locations {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		scheme := cfg.Scheme
		if scheme == "" {
			scheme, _, _ = strings.Cut(strings.ToLower(l), "://")
		} else if !strings.Contains(l, "://") {
			l = scheme + "://" + l
		}
		if scheme == "redis+sentinel" || scheme == "redis+cluster" {
			out = append(out, l)
			continue
		}
		sep := djangoSplit
		if djRedis && cfg.Scheme == "" {
			sep = djangoRedisSplit
		}
		for _, part := range splitAny(l, sep) {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			if !strings.Contains(part, "://") {
				if cfg.Scheme == "" {
					// Django would fail on it too; say which piece.
					out = append(out, part)
					continue
				}
				part = scheme + "://" + part
			}
			out = append(out, part)
		}
	}
	return out
}

// lookup finds a parameter: the URL's own query first (redis-py lets it
// override OPTIONS), then the cache's parameters.
type lookup struct {
	query url.Values
	cfg   *backends.Config
}

func (l lookup) get(name string) string {
	if vs, ok := l.query[name]; ok && len(vs) > 0 {
		return vs[0] // redis-py's parse_url keeps a repeated parameter's first value
	}
	return l.cfg.Params[name]
}

// parseEndpoints resolves every LOCATION URL of cfg. The first is the
// leader; the others are read replicas.
func parseEndpoints(cfg *backends.Config, djRedis bool) ([]endpoint, error) {
	urls := splitLocations(cfg, djRedis)
	if len(urls) == 0 {
		return nil, backends.Configf("the Redis cache needs a LOCATION such as redis://127.0.0.1:6379/0")
	}
	password, err := backends.Password(cfg)
	if err != nil {
		return nil, err
	}
	sentinelClient := djRedis && strings.Contains(cfg.Params["client_class"], "Sentinel")
	var eps []endpoint
	for _, raw := range urls {
		ep, err := parseEndpoint(raw, cfg, password, sentinelClient)
		if err != nil {
			if !strings.Contains(raw, "@") && hasUserinfo(cfg.Locations) {
				// The split cut through a password: showing the piece
				// would show part of it.
				return nil, backends.Configf("invalid Redis LOCATION: split at \",\" and \";\" as Django splits it, it leaves a piece " +
					"that is not a server URL; a password containing \",\" or \";\" must be percent-encoded (%%2C, %%3B)")
			}
			return nil, err
		}
		eps = append(eps, ep)
	}
	if sentinelClient && len(eps) == 1 && !cfg.LocationList {
		// django-redis' SentinelClient turns a LOCATION string into a
		// primary pool for writes and a replica pool for reads, setting
		// is_master itself on each (a LOCATION list is used as it is).
		eps[0].replicaOnly = false
		r := eps[0]
		r.replicaOnly = true
		eps = append(eps, r)
	}
	if eps[0].replicaOnly {
		return nil, backends.Configf("the first LOCATION must be the primary (is_master=0 names a replica): %s", eps[0].display)
	}
	for _, ep := range eps[1:] {
		if ep.kind == kindCluster || eps[0].kind == kindCluster {
			return nil, backends.Configf("a redis+cluster:// URL lists all its seed nodes itself (redis+cluster://a:7000,b:7001): it cannot be combined with other LOCATIONs")
		}
	}
	return eps, nil
}

// shown is the endpoint for config show: its URL, and the db it uses
// when the URL's path does not say it (redis://h/0?db=3 uses db 3, as
// redis-py does; unix:// and ?db= URLs have no db path).
func (ep endpoint) shown() string {
	if ep.kind == kindCluster || strings.HasSuffix(ep.display, "/"+strconv.Itoa(ep.db)) {
		return ep.display
	}
	return fmt.Sprintf("%s (db %d)", ep.display, ep.db)
}

// hasUserinfo reports whether any location carries credentials (user:pass@).
func hasUserinfo(locs []string) bool {
	for _, l := range locs {
		if strings.Contains(l, "@") {
			return true
		}
	}
	return false
}

func parseEndpoint(raw string, cfg *backends.Config, password string, sentinelClient bool) (endpoint, error) {
	urlMode := cfg.Scheme != ""
	ep := endpoint{display: backends.RedactLocation(raw)}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ep, backends.Configf("Redis URL %q must start with redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://", ep.display)
	}
	scheme = strings.ToLower(scheme)
	var (
		user  *url.Userinfo
		hosts []string
		path  string
		query url.Values
		err   error
	)
	switch scheme {
	case "redis", "rediss", "unix":
		// redis-py's parse_url: urllib's userinfo, any character in the password.
		u, perr := backends.ParseServerURL(raw)
		if perr != nil {
			return ep, backends.Configf("invalid Redis URL %q: %v", ep.display, perr)
		}
		user, path, query = u.User, u.Path, u.Query()
		if scheme != "unix" {
			hosts = []string{u.Host}
		}
	case "redis+sentinel", "redis+cluster":
		user, hosts, path, query, err = parseHostList(rest)
		if err != nil {
			return ep, backends.Configf("invalid Redis URL %q: %v", ep.display, err)
		}
		path = strings.TrimPrefix(path, "/")
	default:
		return ep, backends.Configf("Redis URL %q must start with redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://", ep.display)
	}
	for name := range query {
		if !slices.Contains(params, name) {
			return ep, backends.Configf("unknown parameter %s in Redis URL %s (known: %s)", name, ep.display, strings.Join(params, ", "))
		}
	}
	p := lookup{query: query, cfg: cfg}

	// Credentials: the URL's own, then its query, then OPTIONS/parameters.
	ep.username, ep.password = p.get("username"), password
	if query.Has("password") {
		ep.password = query.Get("password")
	}
	if user != nil {
		if n := user.Username(); n != "" {
			ep.username = n
		}
		if pw, ok := user.Password(); ok && pw != "" {
			ep.password = pw
		}
	}

	if ep.readTimeout, ep.dialTimeout, err = timeouts(cfg, p); err != nil {
		return ep, err
	}

	switch scheme {
	case "redis", "rediss":
		ep.kind = kindTCP
		if sentinelClient {
			// django-redis SentinelClient: the host is the master's service name.
			ep.kind, ep.service = kindSentinel, hostname(hosts[0])
			if ep.service == "" {
				return ep, backends.Configf("a SentinelClient LOCATION names the master's service: redis://mymaster/0 (%s)", ep.display)
			}
			if ep.addrs, err = sentinelList(p.get("sentinels")); err != nil {
				return ep, err
			}
			if err := sentinelAuth(cfg, p, &ep); err != nil {
				return ep, err
			}
			if v := p.get("is_master"); v != "" && !truthy(v) {
				ep.replicaOnly = true
			}
		} else {
			ep.addrs = []string{hostPort(hosts[0], "6379")}
		}
		if ep.db, err = redisDB(cfg, p, query, path, urlMode); err != nil {
			return ep, err
		}
	case "unix":
		ep.kind = kindUnix
		if path == "" {
			return ep, backends.Configf("a unix:// Redis URL needs the socket path: unix:///run/redis.sock?db=0")
		}
		ep.addrs = []string{path}
		if ep.db, err = dbFromParams(p); err != nil {
			return ep, err
		}
	case "redis+sentinel":
		// redis+sentinel://[:pass@]host:port[,host:port]/service_name[/db]
		ep.kind = kindSentinel
		service, dbText, _ := strings.Cut(path, "/")
		if service == "" {
			return ep, backends.Configf("a sentinel URL names the master's service: redis+sentinel://host:26379/mymaster/0 (%s)", ep.display)
		}
		ep.service = service
		for _, h := range hosts {
			ep.addrs = append(ep.addrs, hostPort(h, "26379"))
		}
		if err := sentinelAuth(cfg, p, &ep); err != nil {
			return ep, err
		}
		if query.Has("db") || dbText == "" {
			ep.db, err = dbFromParams(p)
		} else {
			ep.db, err = atoiDB(strings.Trim(dbText, "/"))
		}
		if err != nil {
			return ep, err
		}
	case "redis+cluster":
		ep.kind = kindCluster
		for _, h := range hosts {
			ep.addrs = append(ep.addrs, hostPort(h, "6379"))
		}
		db := 0
		if path != "" {
			db, err = atoiDB(strings.Trim(path, "/"))
		} else if p.get("db") != "" {
			db, err = dbFromParams(p)
		}
		if err != nil {
			return ep, err
		}
		if db != 0 {
			return ep, backends.Configf("Redis Cluster has only db 0, not %d (%s)", db, ep.display)
		}
	}

	for _, a := range ep.addrs {
		if _, port, perr := net.SplitHostPort(a); perr == nil {
			if err := backends.CheckPort(port, ep.display); err != nil {
				return ep, err
			}
		}
	}
	ep.tls, ep.tlsDesc, err = tlsConfig(scheme, p)
	if err == nil && ep.tls != nil && ep.tls.InsecureSkipVerify && ep.tls.VerifyConnection == nil { // nothing checks the certificate
		cfg.Warn("TLS certificate verification is OFF (ssl_cert_reqs=none): anyone on the path can read and change cache traffic")
	}
	for _, name := range []string{"ssl_cert_reqs", "ssl_check_hostname"} {
		if err == nil && ep.tls == nil && p.get(name) != "" {
			if name == "ssl_cert_reqs" {
				name = "ssl_cert_reqs (or --tls-insecure)" // the flag sets it
			}
			cfg.Warn("%s has no effect on %s, a plaintext connection: TLS needs rediss:// (or ssl=true)", name, ep.display)
		}
	}
	return ep, err
}

// parseHostList splits [user:pass@]h1:p1,h2:p2/path?query, which net/url
// rejects (a list of hosts is no valid authority).
func parseHostList(rest string) (*url.Userinfo, []string, string, url.Values, error) {
	rest, rawQuery, _ := strings.Cut(rest, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, nil, "", nil, err
	}
	authority, path := rest, ""
	if i := strings.Index(rest, "/"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	var user *url.Userinfo
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, authority = backends.ParseUserinfo(authority[:at]), authority[at+1:]
	}
	var hosts []string
	for _, h := range splitAny(authority, hostSplit) {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, nil, "", nil, fmt.Errorf("no host")
	}
	if path, err = url.PathUnescape(path); err != nil {
		return nil, nil, "", nil, err
	}
	return user, hosts, path, query, nil
}

// redisDB is redis-py's rule for redis:// and rediss://: ?db=N first, then
// the /N path (slashes removed; when it is no integer, Django ignores it,
// a cachectl URL is an error), then OPTIONS["db"], else 0. In a cachectl
// URL, ?db= is the URL's own query and so comes first.
func redisDB(cfg *backends.Config, p lookup, query url.Values, path string, urlMode bool) (int, error) {
	if query.Has("db") || (urlMode && cfg.Explicit("db")) {
		return dbFromParams(p)
	}
	if text := strings.ReplaceAll(path, "/", ""); text != "" {
		n, err := strconv.Atoi(text)
		if err == nil && n >= 0 {
			return n, nil
		}
		if urlMode {
			return 0, backends.Configf("Redis db must be a non-negative integer, not %q (the URL path)", strings.Trim(path, "/"))
		}
	}
	return dbFromParams(p)
}

func dbFromParams(p lookup) (int, error) {
	if v := strings.TrimSpace(p.get("db")); v != "" {
		return atoiDB(v)
	}
	return 0, nil
}

func atoiDB(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, backends.Configf("Redis db must be a non-negative integer, not %q", v)
	}
	return n, nil
}

// timeouts: each socket read/write is bounded by --deadline (5 s without
// one), or by socket_timeout; dialing (with the TLS handshake) by
// socket_connect_timeout, else the same but 10 s at most. The command's
// context bounds everything in any case.
func timeouts(cfg *backends.Config, p lookup) (read, dial time.Duration, err error) {
	read = cfg.Deadline
	if read <= 0 {
		read = 5 * time.Second
	}
	if read, err = seconds(p, "socket_timeout", read); err != nil {
		return 0, 0, err
	}
	dial, err = seconds(p, "socket_connect_timeout", min(read, maxDialTimeout))
	return read, dial, err
}

// maxDialTimeout bounds a connection and its TLS handshake unless
// socket_connect_timeout says otherwise: one that takes longer is not
// going to work (a plaintext server answering rediss:// never does).
const maxDialTimeout = 10 * time.Second

func seconds(p lookup, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(p.get(name))
	if v == "" || strings.EqualFold(v, "none") || v == "null" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > 1e6 {
		return 0, backends.Configf("%s must be a positive number of seconds, not %q", name, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// sentinelList parses django-redis' SENTINELS option: a JSON list of
// [host, port] pairs or "host:port" strings, or host:port,host:port.
func sentinelList(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, backends.Configf("django-redis' SentinelClient needs OPTIONS SENTINELS, e.g. [[\"127.0.0.1\", 26379]]")
	}
	var out []string
	if strings.HasPrefix(v, "[") {
		var list []any
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return nil, backends.Configf("SENTINELS must be a list of [host, port] pairs: %v", err)
		}
		for _, item := range list {
			switch x := item.(type) {
			case string:
				out = append(out, hostPort(x, "26379"))
			case []any:
				if len(x) != 2 {
					return nil, backends.Configf("SENTINELS entries are [host, port] pairs, not %v", x)
				}
				host, _ := x[0].(string)
				port := fmt.Sprint(x[1])
				if f, ok := x[1].(float64); ok {
					port = strconv.Itoa(int(f))
				}
				out = append(out, net.JoinHostPort(host, port))
			default:
				return nil, backends.Configf("SENTINELS entries are [host, port] pairs, not %v", item)
			}
		}
	} else {
		for _, h := range splitAny(v, hostSplit) {
			if h = strings.TrimSpace(h); h != "" {
				out = append(out, hostPort(h, "26379"))
			}
		}
	}
	if len(out) == 0 {
		return nil, backends.Configf("SENTINELS lists no sentinel")
	}
	return out, nil
}

// sentinelAuth reads the sentinels' own credentials: sentinel_password, or
// django-redis' SENTINEL_KWARGS {"password": …, "username": …}.
func sentinelAuth(cfg *backends.Config, p lookup, ep *endpoint) error {
	ep.sentinelPassword = p.get("sentinel_password")
	if kw := p.get("sentinel_kwargs"); kw != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(kw), &m); err != nil {
			return backends.Configf("SENTINEL_KWARGS must be an object: %v", err)
		}
		if s, ok := m["password"].(string); ok && ep.sentinelPassword == "" {
			ep.sentinelPassword = s
		}
		if s, ok := m["username"].(string); ok {
			ep.sentinelUser = s
		}
	}
	return nil
}

// truthy is redis-py's to_bool, which django-redis also uses for
// is_master: only 0, f, false, n and no (any case, not trimmed) are false;
// any other non-empty text is true ("off" too, as Python's bool("off")).
func truthy(v string) bool {
	switch strings.ToUpper(v) {
	case "", "0", "F", "FALSE", "N", "NO":
		return false
	}
	return true
}

func hostname(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}

func hostPort(h, port string) string {
	if h == "" {
		h = "127.0.0.1"
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return h
	}
	return net.JoinHostPort(strings.Trim(h, "[]"), port)
}

// tlsConfig: rediss:// (or ssl=true, or a CA given for a sentinel or
// cluster URL) turns TLS on, verified by default as redis-py does, with the
// system roots plus tls_ca/ssl_ca_certs. ssl_cert_reqs=none turns
// verification off, ssl_check_hostname=false keeps the chain check but not
// the name. ServerName stays empty: crypto/tls takes it from each address
// dialled, which matters for cluster nodes and sentinel-reported masters.
func tlsConfig(scheme string, p lookup) (*tls.Config, string, error) {
	ca := p.get("tls_ca")
	if ca == "" {
		ca = p.get("ssl_ca_certs")
	}
	certFile, keyFile := p.get("ssl_certfile"), p.get("ssl_keyfile")
	on := scheme == "rediss" || truthy(p.get("ssl"))
	if !on && (scheme == "redis+sentinel" || scheme == "redis+cluster") && (ca != "" || certFile != "") {
		on = true
	}
	if !on {
		if ca != "" || certFile != "" || keyFile != "" {
			return nil, "", backends.Configf("a CA or client certificate (or its key) is for TLS: use rediss:// (or ssl=true)")
		}
		return nil, "", nil
	}
	if keyFile != "" && certFile == "" {
		// redis-py hands both to load_cert_chain, which needs the certificate.
		return nil, "", backends.Configf("ssl_keyfile is the key of a client certificate: give ssl_certfile too")
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	verify, desc := true, "verified"
	switch strings.ToLower(strings.TrimSpace(p.get("ssl_cert_reqs"))) {
	case "", "required", "cert_required", "2", "optional", "cert_optional", "1":
		// CERT_OPTIONAL verifies a presented certificate, and a server always presents one.
	case "none", "cert_none", "0":
		verify, desc = false, "NOT verified (ssl_cert_reqs=none)"
	default:
		return nil, "", backends.Configf("ssl_cert_reqs must be required, optional or none, not %q", p.get("ssl_cert_reqs"))
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, "", backends.Configf("tls_ca: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "", backends.Configf("tls_ca %s holds no PEM certificate", ca)
		}
		conf.RootCAs = pool
	}
	if certFile != "" {
		if keyFile == "" {
			keyFile = certFile
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, "", backends.Configf("ssl_certfile/ssl_keyfile: %v", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if !verify {
		conf.InsecureSkipVerify = true
		return conf, desc, nil
	}
	if v := p.get("ssl_check_hostname"); v != "" && !truthy(v) {
		// Verify the chain only (redis-py before 6 did not check names by default).
		roots := conf.RootCAs
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("tls: the server sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
		desc = "verified (no hostname check)"
	}
	return conf, desc, nil
}

// newClient builds the go-redis client for ep without connecting. Retries
// are off, dials included: a write must never be sent twice, and ops
// retries reads (go-redis' five dials per call under ops' three tries
// made a refused connection take 1.5 s).
func newClient(ep endpoint, ab *aborter) (goredis.UniversalClient, *goredis.ClusterClient) {
	switch ep.kind {
	case kindSentinel:
		fc := goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: ep.service, SentinelAddrs: ep.addrs,
			SentinelUsername: ep.sentinelUser, SentinelPassword: ep.sentinelPassword, ReplicaOnly: ep.replicaOnly,
			Username: ep.username, Password: ep.password, DB: ep.db, DialTimeout: ep.dialTimeout,
			ReadTimeout: ep.readTimeout, WriteTimeout: ep.readTimeout, ContextTimeoutEnabled: true, MaxRetries: -1,
			TLSConfig: ep.tls, Protocol: 2, DisableIdentity: true, PoolSize: 8, Dialer: ab.dial, DialerRetries: 1,
			OnConnect: redisPyAuth(ep)})
		fc.AddHook(ab.hook())
		return fc, nil
	case kindCluster:
		cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: ep.addrs, Username: ep.username,
			Password: ep.password, DialTimeout: ep.dialTimeout, ReadTimeout: ep.readTimeout, WriteTimeout: ep.readTimeout,
			ContextTimeoutEnabled: true, MaxRetries: -1, MaxRedirects: 3, TLSConfig: ep.tls, Protocol: 2,
			DisableIdentity: true, PoolSize: 8, Dialer: ab.dial, DialerRetries: 1, OnConnect: redisPyAuth(ep)})
		cc.AddHook(ab.hook())
		return cc, cc
	}
	o := &goredis.Options{Addr: ep.addrs[0], Username: ep.username, Password: ep.password, DB: ep.db,
		DialTimeout: ep.dialTimeout, ReadTimeout: ep.readTimeout, WriteTimeout: ep.readTimeout,
		ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: 8, Protocol: 2, DisableIdentity: true, TLSConfig: ep.tls,
		Dialer: ab.dial, DialerRetries: 1, OnConnect: redisPyAuth(ep)}
	if ep.kind == kindUnix {
		o.Network = "unix"
	}
	c := goredis.NewClient(o)
	c.AddHook(ab.hook())
	return c, nil
}

// redisPyAuth is nil, or for a password without a user name the check
// redis-py makes: it authenticates with AUTH password, which a server with
// no password configured refuses ("called without any password
// configured"), so every call of Django's fails there; go-redis sends
// HELLO 2 AUTH default password, which such a server accepts. The AUTH is
// sent again on the endpoint's first connection only, and only that
// refusal fails it (go-redis'
// own authentication has judged the password already).
func redisPyAuth(ep endpoint) func(ctx context.Context, cn *goredis.Conn) error {
	if ep.username != "" || ep.password == "" {
		return nil
	}
	var checked atomic.Bool // once per endpoint: a server's password setting does not change within a run
	return func(ctx context.Context, cn *goredis.Conn) error {
		if checked.Load() {
			return nil
		}
		err := cn.Auth(ctx, ep.password).Err()
		if err != nil && strings.Contains(err.Error(), "without any password configured") {
			return err // Cache.fail says what it means
		}
		checked.Store(true)
		return nil
	}
}

// prepare runs when the configuration is resolved, before anything is
// opened: it folds django-redis' CONNECTION_POOL_KWARGS into the
// parameters and turns a Python None for ssl_cert_reqs (CERT_NONE in
// redis-py) into "none", so the commands layer sees it and warns.
func prepare(cfg *backends.Config) error {
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	for k, v := range cfg.Options {
		lk := strings.ToLower(k)
		if lk == "ssl_cert_reqs" && v == nil {
			cfg.Params[lk] = "none"
		}
		if lk != "connection_pool_kwargs" {
			continue
		}
		kw, ok := v.(map[string]any)
		if !ok {
			continue
		}
		// django-redis hands these to the connection pool after its own
		// PASSWORD, SOCKET_TIMEOUT…, so they win over the top-level OPTIONS
		// (and the URL's own query and credentials win over both).
		for name, val := range kw {
			name = strings.ToLower(name)
			if name == "connection_pool_kwargs" {
				continue
			}
			switch x := val.(type) {
			case nil:
				if name == "ssl_cert_reqs" {
					cfg.Params[name] = "none"
				}
			case string:
				cfg.Params[name] = x
			case bool:
				cfg.Params[name] = strconv.FormatBool(x)
			case json.Number:
				cfg.Params[name] = backends.NumberText(x)
			default:
				b, _ := json.Marshal(x)
				cfg.Params[name] = string(b)
			}
		}
	}
	return nil
}
