package redis_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// pause sends CLIENT PAUSE ms ALL on a connection of its own.
func pause(t *testing.T, addr, ms string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("CLIENT PAUSE " + ms + " ALL\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("CLIENT PAUSE: %q, %v", line, err)
	}
}

// TestCancelAbortsCallDuringPause: go-redis does not interrupt a blocked
// read when the context is cancelled. The server is paused for 60 s; the
// call's context is cancelled once the proxy has forwarded its command.
// The call must return context.Canceled while the pause still holds
// (the guard, 30 s, is far below it).
func TestCancelAbortsCallDuringPause(t *testing.T) {
	for _, call := range []struct {
		name, cmd string
		run       func(ctx context.Context, b backends.Backend) error
	}{
		{"get", "$3\r\nget\r\n", func(ctx context.Context, b backends.Backend) error {
			_, err := b.Get(ctx, ":1:k")
			return err
		}},
		{"get-many", "$4\r\nmget\r\n", func(ctx context.Context, b backends.Backend) error {
			_, err := backends.GetMany(ctx, b, []string{":1:a", ":1:b", ":1:c"})
			return err
		}},
	} {
		t.Run(call.name, func(t *testing.T) {
			addr := testserver.Redis(t)
			p := testserver.NewHoldProxy(t, addr)
			b := open(t, "redis://"+p.Addr+"?socket_timeout=100000")
			if err := b.Set(context.Background(), ":1:k", backends.Entry{Data: []byte("v")}, backends.Timeout{Forever: true}); err != nil {
				t.Fatal(err)
			}
			pause(t, addr, "60000")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p.OnRequest(call.cmd, cancel)
			done := make(chan error, 1)
			go func() { done <- call.run(ctx, b) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("%s = %v, want context.Canceled", call.name, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s still blocked 30 s after its context was cancelled", call.name)
			}
		})
	}
}

// TestDeleteManyInterruptedCountsExactly: an interrupt aborts Redis calls
// at once, but not a delete-many batch already sent: the context is
// cancelled while its replies are held back by a proxy, and the count must
// still be what the server deleted, with no batch after it.
func TestDeleteManyInterruptedCountsExactly(t *testing.T) {
	addr := testserver.Redis(t)
	direct := open(t, "redis://"+addr)
	p := testserver.NewHoldProxy(t, addr)
	b := open(t, "redis://"+p.Addr)
	items, keys := backendtest.Items(":1:k", 3000, []byte("v"))
	if failed, err := backends.SetMany(context.Background(), direct, items, backends.Timeout{Forever: true}); err != nil || len(failed) > 0 {
		t.Fatalf("SetMany: %v (%d failed)", err, len(failed))
	}
	if err := b.(backends.Pinger).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Arm(":1000\r\n", cancel) // the first batch's UNLINK reply
	n, err := b.(backends.MultiDeleter).DeleteMany(ctx, keys)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("DeleteMany = %d, %v; want context.Canceled", n, err)
	}
	got, err := backends.GetMany(context.Background(), direct, keys)
	if err != nil {
		t.Fatal(err)
	}
	if gone := len(keys) - len(got); n != gone || gone == 0 || gone == len(keys) {
		t.Errorf("DeleteMany reported %d deleted, %d of %d are gone; want equal, one batch", n, gone, len(keys))
	}
}
