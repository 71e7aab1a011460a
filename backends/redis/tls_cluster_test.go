package redis_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/internal/djangotest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// certs are the files of a test PKI: a self-signed CA, a server
// certificate for 127.0.0.1 (an IP SAN only) and a client certificate.
type certs struct{ ca, cert, key, clientCert, clientKey string }

func writeCerts(t *testing.T) certs {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cachectl test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name string, block *pem.Block) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issue := func(serial int64, name string, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalECPrivateKey(k)
		return write(name+".pem", &pem.Block{Type: "CERTIFICATE", Bytes: der}), write(name+".key", &pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	}
	c := certs{ca: write("ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	c.cert, c.key = issue(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	c.clientCert, c.clientKey = issue(3, "client", x509.ExtKeyUsageClientAuth, nil)
	return c
}

// tlsRedis starts a TLS-only redis-server; authClients is its
// --tls-auth-clients (no, yes, optional).
func tlsRedis(t *testing.T, c certs, authClients string) string {
	port, _ := testserver.FreePort()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if _, err := testserver.Start("tcp", addr, "redis-server", "--port", "0", "--tls-port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--tls-cert-file", c.cert, "--tls-key-file", c.key,
		"--tls-ca-cert-file", c.ca, "--tls-auth-clients", authClients); err != nil {
		testserver.Missing(t, "redis-server with TLS: "+err.Error())
	}
	return addr
}

func TestTLS(t *testing.T) {
	c := writeCerts(t)
	addr := tlsRedis(t, c, "no")
	mutual := tlsRedis(t, c, "yes")
	port := addr[strings.LastIndex(addr, ":")+1:]
	ctx := context.Background()
	for _, tc := range []struct {
		name, url string
		ok        bool
	}{
		{"verified against the CA", "rediss://" + addr + "/0?tls_ca=" + c.ca, true},
		{"redis-py's name for the CA", "rediss://" + addr + "/0?ssl_ca_certs=" + c.ca, true},
		{"verified by default: a private CA is unknown", "rediss://" + addr + "/0", false},
		{"ssl_cert_reqs=none turns verification off", "rediss://" + addr + "/0?ssl_cert_reqs=none", true},
		{"the name is checked: localhost is not in the certificate", "rediss://localhost:" + port + "/0?tls_ca=" + c.ca, false},
		{"ssl_check_hostname=false checks the chain only", "rediss://localhost:" + port + "/0?tls_ca=" + c.ca + "&ssl_check_hostname=false", true},
		{"ssl_check_hostname=false still needs a trusted chain", "rediss://localhost:" + port + "/0?ssl_check_hostname=false", false},
		{"a server that wants a client certificate", "rediss://" + mutual + "/0?tls_ca=" + c.ca, false},
		{"client certificate given", "rediss://" + mutual + "/0?tls_ca=" + c.ca + "&ssl_certfile=" + c.clientCert + "&ssl_keyfile=" + c.clientKey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t, tc.url)
			err := backends.Set(ctx, b, "k", "v", backends.Timeout{Seconds: 60})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if v, err := backends.Get(ctx, b, "k"); err != nil || v != "v" {
					t.Errorf("read back %v, %v", v, err)
				}
				return
			}
			if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "TLS failure") {
				t.Errorf("error = %v, want a TLS failure (exit 3)", err)
			}
		})
	}
}

// startCluster starts three redis-server cluster nodes, gives each a third
// of the slots, and returns their addresses once the cluster is ready.
func startCluster(t *testing.T) []string {
	t.Helper()
	var addrs []string
	for i := 0; i < 3; i++ {
		addrs = append(addrs, testserver.Redis(t, "--cluster-enabled", "yes", "--cluster-config-file",
			filepath.Join(t.TempDir(), "nodes.conf"), "--cluster-node-timeout", "2000", "--databases", "1"))
	}
	ctx := context.Background()
	per := 16384 / 3
	for i, a := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: a})
		lo, hi := i*per, (i+1)*per-1
		if i == 2 {
			hi = 16383
		}
		if err := c.ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			t.Fatalf("addslots: %v", err)
		}
		if i > 0 {
			h, p, _ := net.SplitHostPort(addrs[0])
			if err := c.ClusterMeet(ctx, h, p).Err(); err != nil {
				t.Fatalf("meet: %v", err)
			}
		}
		c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, a := range addrs {
			c := goredis.NewClient(&goredis.Options{Addr: a})
			info, _ := c.ClusterInfo(ctx).Result()
			c.Close()
			ok = ok && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3")
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the test cluster did not become ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
	return addrs
}

func TestCluster(t *testing.T) {
	addrs := startCluster(t)
	ctx := context.Background()
	b := open(t, "redis+cluster://"+strings.Join(addrs, ","))
	backendtest.Run(t, b, backendtest.Options{Prefix: ":1:"})
	t.Run("get-many of another type", func(t *testing.T) {
		rc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
		defer rc.Close()
		checkGetManyOtherType(t, b, rc)
	})
	// A plain redis:// URL at a cluster node: MOVED, told plainly.
	for i := 0; i < 20; i++ {
		plain := open(t, "redis://"+addrs[0]+"/0")
		err := backends.Set(ctx, plain, fmt.Sprintf("moved%d", i), "v", backends.Timeout{Seconds: 60})
		if err != nil {
			if !strings.Contains(err.Error(), "redis+cluster://") {
				t.Errorf("MOVED error = %v", err)
			}
			return
		}
	}
	t.Error("no key was redirected to another node")
}

func TestSentinel(t *testing.T) {
	master := testserver.Redis(t)
	mhost, mport, _ := net.SplitHostPort(master)
	port, _ := testserver.FreePort()
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster %s %s 1\n", port, mhost, mport)), 0o600)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	sproc, err := testserver.Start("tcp", addr, "redis-server", conf, "--sentinel")
	if err != nil {
		testserver.Missing(t, "redis-server --sentinel: "+err.Error())
	}
	t.Cleanup(sproc.Stop) // before its config file's directory goes: Sentinel rewrites the file
	// Two sentinels listed, one of them down: the live one answers.
	dead, _ := testserver.FreePort()
	b := open(t, "redis+sentinel://"+addr+",127.0.0.1:"+strconv.Itoa(dead)+"/mymaster/0")
	backendtest.Run(t, b, backendtest.Options{Prefix: ":1:"})
	// An unknown service name is an error for every operation, never a miss.
	ctx := context.Background()
	bad := open(t, "redis+sentinel://"+addr+"/nosuchmaster/0")
	_, getErr := bad.Get(ctx, "k")
	setErr := bad.Set(ctx, "k", backends.Entry{Data: []byte("1")}, backends.Timeout{Seconds: 10})
	_, incrErr := bad.(backends.Incrementer).Incr(ctx, "k", 1)
	for op, err := range map[string]error{"get": getErr, "set": setErr, "incr": incrErr} {
		if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), `no master named "nosuchmaster"`) {
			t.Errorf("%s with an unknown master name: %v", op, err)
		}
	}
}

// TestTimeout: a server that accepts but never answers is a timeout, exit 3.
func TestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg, _ := backends.ParseURL("redis://" + l.Addr().String() + "/0")
	cfg.Deadline = 300 * time.Millisecond
	b, err := backends.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Get(context.Background(), "k")
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("silent server: %v", err)
	}
}

// TestTLSToPlaintext: rediss:// to a plaintext Redis, which never answers
// the handshake, fails once the dial timeout is up, naming the server and
// the likely cause; the read is not retried.
func TestTLSToPlaintext(t *testing.T) {
	addr := testserver.Redis(t)
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	accepted := func() int {
		info, err := rc.Info(context.Background(), "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_connections_received:"); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatal("INFO stats has no total_connections_received")
		return 0
	}
	before := accepted()
	b := open(t, "rediss://"+addr+"/0?socket_connect_timeout=0.3")
	_, err := backends.Get(context.Background(), b, "k")
	if n := accepted() - before; n != 1 {
		t.Errorf("the server accepted %d connections, want 1 (no retry after a handshake got no answer)", n)
	}
	want := "no answer to the TLS handshake from " + addr + ": is it serving TLS on that port?"
	if !errors.Is(err, backends.ErrUnavailable) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
	var st *backends.StallError
	if !errors.As(err, &st) {
		t.Errorf("error = %#v, want a StallError in its chain", err)
	}
}

func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "redis.sock")
	if _, err := testserver.Start("unix", sock, "redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"); err != nil {
		testserver.Missing(t, "redis-server: "+err.Error())
	}
	b := open(t, "unix://"+sock+"?db=2")
	backendtest.Run(t, b, backendtest.Options{Prefix: ":1:"})
}

// TestSentinelFailover kills the master: after Sentinel promotes the
// replica, the same client reads the value written before and writes again.
func TestSentinelFailover(t *testing.T) {
	mport, _ := testserver.FreePort()
	master := "127.0.0.1:" + strconv.Itoa(mport)
	mproc, err := testserver.Start("tcp", master, "redis-server", "--port", strconv.Itoa(mport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--repl-diskless-sync-delay", "0")
	if err != nil {
		testserver.Missing(t, "redis-server: "+err.Error())
	}
	replica := testserver.Redis(t, "--replicaof", "127.0.0.1", strconv.Itoa(mport))
	// Start Sentinel once the replica is attached, so that its first look
	// at the master lists the replica (otherwise it learns of it only at
	// its next INFO, ten seconds later).
	waitReplicaLink(t, replica)
	sport, _ := testserver.FreePort()
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds mymaster 300\nsentinel failover-timeout mymaster 2000\n", sport, mport)), 0o600)
	saddr := "127.0.0.1:" + strconv.Itoa(sport)
	sproc, err := testserver.Start("tcp", saddr, "redis-server", conf, "--sentinel")
	if err != nil {
		testserver.Missing(t, "redis-server --sentinel: "+err.Error())
	}
	// Sentinel rewrites its config file (a failover does): stop it before
	// the test's directory is removed (cleanups run last-in first-out), or
	// a rewrite racing the removal fails the test ("directory not empty").
	t.Cleanup(sproc.Stop)
	ctx := context.Background()
	b := open(t, "redis+sentinel://"+saddr+"/mymaster/0")
	if err := backends.Set(ctx, b, ":1:k", "before", backends.Timeout{Forever: true}); err != nil {
		t.Fatal(err)
	}
	// django-redis' SentinelClient, configured as in settings.py: writes to
	// the master, reads from a replica the sentinels name.
	dr := openFile(t, map[string]any{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://mymaster/0",
		"OPTIONS": map[string]any{"CLIENT_CLASS": "django_redis.client.SentinelClient",
			"SENTINELS": [][]any{{"127.0.0.1", sport}}}})
	if err := backends.Set(ctx, dr, ":1:dr", "via SentinelClient", backends.Timeout{Seconds: 600}); err != nil {
		t.Fatal(err)
	}
	// Let the replica catch up, and let Sentinel discover it and connect
	// to it: go-redis skips a replica flagged "disconnected" and would
	// read from the master instead.
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: saddr})
	defer sc.Close()
	for i := 0; i < 200; i++ {
		reps, _ := sc.Replicas(ctx, "mymaster").Result()
		if len(reps) > 0 && !strings.Contains(reps[0]["flags"], "disconnected") && !strings.Contains(reps[0]["flags"], "s_down") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rc := goredis.NewClient(&goredis.Options{Addr: replica})
	defer rc.Close()
	for i := 0; i < 100; i++ {
		if v, _ := rc.Get(ctx, ":1:dr").Result(); v != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	resetStats(t, replica)
	if v, err := backends.Get(ctx, dr, ":1:dr"); err != nil || v != "via SentinelClient" {
		t.Errorf("SentinelClient read = %v, %v", v, err)
	}
	if n := commandCalls(t, replica)["get"]; n != 1 {
		t.Errorf("SentinelClient read ran %d GETs on the replica, want 1", n)
	}
	t.Run("django-reads", func(t *testing.T) {
		// The same configuration in Django reads what cachectl wrote.
		djangotest.Require(t, "django_redis")
		out := djangotest.Run(t, map[string]any{"default": map[string]any{"BACKEND": "django_redis.cache.RedisCache",
			"LOCATION": "redis://mymaster/0", "KEY_PREFIX": "", "OPTIONS": map[string]any{"CLIENT_CLASS": "django_redis.client.SentinelClient",
				"CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
				"SENTINELS":          [][]any{{"127.0.0.1", sport}}}}}, `
settings.DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"  # django-redis 5.2's only switch
print(caches["default"].get("dr"))`)
		if strings.TrimSpace(out) != "via SentinelClient" {
			t.Errorf("django-redis SentinelClient reads %q", out)
		}
	})
	mproc.Stop()
	deadline := time.Now().Add(60 * time.Second) // generous: a loaded machine is slow, a fast one leaves early
	for {
		addr, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		if err == nil && len(addr) == 2 && addr[1] != strconv.Itoa(mport) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Sentinel did not fail over")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var got pickle.Value
	for i := 0; i < 50; i++ {
		got, err = backends.Get(ctx, b, ":1:k")
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != "before" {
		t.Fatalf("after the failover the value reads as %v, %v", got, err)
	}
	if err := backends.Set(ctx, b, ":1:k2", "after", backends.Timeout{Forever: true}); err != nil {
		t.Errorf("write after the failover: %v", err)
	}
}

// openFile opens a cache configured as a CACHES entry of a config file.
func openFile(t *testing.T, cache map[string]any) backends.Backend {
	t.Helper()
	cfg, err := backendtest.FileConfig(t, cache)
	if err != nil {
		t.Fatal(err)
	}
	return backendtest.OpenConfig(t, cfg)
}
