package testserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Redis starts a private redis-server on a free loopback port with extra
// arguments and returns its host:port. It fails (CI) or skips when
// redis-server is missing.
func Redis(t testing.TB, extra ...string) string {
	t.Helper()
	addr, _ := RedisProc(t, extra...)
	return addr
}

// RedisProc is Redis, and also returns the server's process, for a test
// that stops it.
func RedisProc(t testing.TB, extra ...string) (string, *Proc) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		Missing(t, "redis-server (Debian package redis-server)")
	}
	cluster := slices.Contains(extra, "--cluster-enabled")
	var addr string
	p, err := onFreePort(func(port int) (*Proc, error) {
		addr = "127.0.0.1:" + strconv.Itoa(port)
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, extra...)
		return Start("tcp", addr, "redis-server", args...)
	}, func(port int) bool {
		// A cluster node also binds port+10000 for its bus.
		return !cluster || port+10000 <= 65535 && portFree(port+10000)
	})
	if err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	return addr, p
}

// onFreePort runs start on a free loopback port, and again on another
// (five tries in all) when that port was taken before the server bound it
// (another test's ephemeral port) or usable refuses it.
func onFreePort(start func(port int) (*Proc, error), usable func(port int) bool) (*Proc, error) {
	lastErr := errors.New("no usable free port")
	for attempt := 0; attempt < 5; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		if usable != nil && !usable(port) {
			continue
		}
		p, err := start(port)
		if err == nil || !strings.Contains(err.Error(), "Address already in use") && !strings.Contains(err.Error(), "another process listens there") {
			return p, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// portFree reports whether a loopback TCP port can be bound now.
func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

var sharedRedis = sync.OnceValues(func() (string, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return "", fmt.Errorf("redis-server not found")
	}
	var addr string
	_, err := onFreePort(func(port int) (*Proc, error) {
		addr = "127.0.0.1:" + strconv.Itoa(port)
		return Start("tcp", addr, "redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--databases", "64")
	}, nil)
	return addr, err
})

// SharedRedis is one private redis-server per test binary; tests use their
// own key prefixes or databases on it.
func SharedRedis(t testing.TB) string {
	t.Helper()
	addr, err := sharedRedis()
	if err != nil {
		Missing(t, "redis-server (Debian package redis-server): "+err.Error())
	}
	return addr
}

// Memcached starts a private memcached on a free loopback port.
func Memcached(t testing.TB, extra ...string) string {
	t.Helper()
	return memcached(t, nil, extra...)
}

func memcached(t testing.TB, env []string, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("memcached"); err != nil {
		Missing(t, "memcached (Debian package memcached)")
	}
	var addr string
	_, err := onFreePort(func(port int) (*Proc, error) {
		addr = "127.0.0.1:" + strconv.Itoa(port)
		args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64"}
		if os.Geteuid() == 0 {
			args = append(args, "-u", "root")
		}
		return StartEnv("tcp", addr, "memcached", env, append(args, extra...)...)
	}, nil)
	if err != nil {
		t.Fatalf("starting memcached: %v", err)
	}
	return addr
}

// MemcachedSASL starts a private memcached that requires SASL PLAIN
// authentication as user/pass (sasldb made with Debian's saslpasswd2).
func MemcachedSASL(t testing.TB, user, pass string) string {
	t.Helper()
	for _, bin := range []string{"memcached", "saslpasswd2"} {
		if _, err := exec.LookPath(bin); err != nil {
			Missing(t, bin+" (Debian packages memcached and sasl2-bin)")
		}
	}
	dir := t.TempDir()
	db := dir + "/sasldb2"
	if err := os.WriteFile(dir+"/memcached.conf", []byte("mech_list: plain\nsasldb_path: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("saslpasswd2", "-p", "-a", "memcached", "-c", "-f", db, user)
	cmd.Stdin = strings.NewReader(pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2: %v: %s", err, out)
	}
	// Only the server reads the SASL configuration: set it for its process
	// alone, so that tests running in parallel never see it.
	return memcached(t, []string{"SASL_CONF_PATH=" + dir}, "-S")
}
