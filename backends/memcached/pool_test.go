package memcached_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/internal/testserver"
)

// statConn reads one server's counters over a connection of its own.
type statConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialStats(t *testing.T, addr string) *statConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &statConn{c, bufio.NewReader(c)}
}

func (s *statConn) stat(t *testing.T, name string) int {
	t.Helper()
	s.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprint(s.c, "stats\r\n"); err != nil {
		t.Fatal(err)
	}
	val := -1
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		line = strings.TrimSpace(line)
		if line == "END" {
			return val
		}
		if f := strings.Fields(line); len(f) == 3 && f[1] == name {
			val, _ = strconv.Atoi(f[2])
		}
	}
}

// TestBulkReusesConnections: set-many, get-many, ttl and delete-many in
// many batches connect once per server (all of them on the kept
// connections of the bulk pool), not once per batch, as each server's
// total_connections shows.
func TestBulkReusesConnections(t *testing.T) {
	ctx := context.Background()
	addrs := three(t)
	stats := make([]*statConn, len(addrs))
	before := make([]int, len(addrs))
	for i, a := range addrs {
		stats[i] = dialStats(t, a)
		before[i] = stats[i].stat(t, "total_connections")
	}
	b := open(t, "pymemcache://"+strings.Join(addrs, ";"))
	const batches, size = 6, 500
	for n := 0; n < batches; n++ {
		var items []backends.Item
		var keys []string
		for i := 0; i < size; i++ {
			k := fmt.Sprintf(":1:pool%d-%d", n, i)
			items = append(items, backends.Item{Key: k, Entry: backends.Entry{Data: []byte("v")}})
			keys = append(keys, k)
		}
		if failed, err := backends.SetMany(ctx, b, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
			t.Fatalf("SetMany: %v (%d failed)", err, len(failed))
		}
		got, err := backends.GetMany(ctx, b, keys)
		if err != nil || len(got) != size {
			t.Fatalf("GetMany: %d of %d, %v", len(got), size, err)
		}
		if _, err := b.(backends.TTLer).TTL(ctx, keys[0]); err != nil {
			t.Fatalf("TTL: %v", err)
		}
		if n, err := backends.DeleteMany(ctx, b, keys); err != nil || n != size {
			t.Fatalf("DeleteMany: %d of %d, %v", n, size, err)
		}
	}
	for i, a := range addrs {
		opened := stats[i].stat(t, "total_connections") - before[i]
		if opened > 1 {
			t.Errorf("%s: %d connections for %d batches of set-many, get-many, ttl and delete-many; want 1", a, opened, batches)
		}
	}
}

// TestGetManyValues: get-many reads values byte for byte, whatever they
// hold (CRLF, a line that looks like END or VALUE, nothing at all, 900
// KB), with their flags, and leaves out the misses.
func TestGetManyValues(t *testing.T) {
	ctx := context.Background()
	b := open(t, "pymemcache://"+testserver.Memcached(t))
	vals := map[string]backends.Entry{
		":1:crlf":  {Data: []byte("a\r\nEND\r\nVALUE :1:x 0 1\r\nb"), Flags: 1},
		":1:empty": {Data: []byte{}, Flags: 16},
		":1:big":   {Data: []byte(strings.Repeat("xyz", 300_000)), Flags: 2},
		":1:bin":   {Data: []byte{0, 0xff, '\n', '\r'}, Flags: 4294967295},
	}
	var items []backends.Item
	keys := []string{":1:missing-first"}
	for k, e := range vals {
		items = append(items, backends.Item{Key: k, Entry: e})
		keys = append(keys, k, k+"-missing")
	}
	if failed, err := backends.SetMany(ctx, b, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
		t.Fatalf("SetMany: %v (%v failed)", err, failed)
	}
	got, err := backends.GetMany(ctx, b, keys)
	if err != nil || len(got) != len(vals) {
		t.Fatalf("GetMany: %d entries, %v; want %d", len(got), err, len(vals))
	}
	for k, want := range vals {
		if e := got[k]; string(e.Data) != string(want.Data) || e.Flags != want.Flags {
			t.Errorf("%s: got %d bytes flags %d, want %d bytes flags %d", k, len(e.Data), e.Flags, len(want.Data), want.Flags)
		}
	}
}

// TestKeptConnectionToRestartedServer: a kept connection that the server
// closed (here: it was restarted) fails unseen until used; the next batch
// runs on a new connection instead of failing.
func TestKeptConnectionToRestartedServer(t *testing.T) {
	ctx := context.Background()
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	start := func() *testserver.Proc {
		p, err := testserver.Start("tcp", addr, "memcached", args...)
		if err != nil {
			testserver.Missing(t, "memcached: "+err.Error())
		}
		return p
	}
	p := start()
	b := open(t, "pymemcache://"+addr)
	items := []backends.Item{{Key: ":1:a", Entry: backends.Entry{Data: []byte("1")}}, {Key: ":1:b", Entry: backends.Entry{Data: []byte("2")}}}
	if _, err := backends.SetMany(ctx, b, items, backends.Timeout{Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	start()
	if failed, err := backends.SetMany(ctx, b, items, backends.Timeout{Seconds: 60}); err != nil || len(failed) > 0 {
		t.Fatalf("SetMany after the restart: %v (failed %v)", err, failed)
	}
	if n, err := backends.DeleteMany(ctx, b, []string{":1:a", ":1:b"}); err != nil || n != 2 {
		t.Fatalf("DeleteMany after the restart: %d, %v", n, err)
	}
}

// TestGetManyHonoursContext: a server that accepts and never answers holds
// a multi-get only until the context ends (gomemcache's own socket timeout
// here is 5 s), with the context's error naming the server.
func TestGetManyHonoursContext(t *testing.T) {
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
			defer c.Close() // read nothing, answer nothing
		}
	}()
	b := open(t, "pymemcache://"+l.Addr().String())
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := backends.GetMany(ctx, b, []string{":1:a", ":1:b"})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), l.Addr().String()) {
			t.Fatalf("GetMany = %v, want the context's deadline, naming the server", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		_, err := backends.GetMany(ctx, b, []string{":1:a", ":1:b"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("GetMany = %v, want context.Canceled", err)
		}
	})
}
