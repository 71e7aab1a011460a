package memcached_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/backendtest"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestDeleteManyInterruptedCountsExactly: the context is cancelled while
// the replies to the first pipelined chunk of deletes are on their way (a
// proxy holds them back). The server has deleted those keys: DeleteMany
// must read the replies and count them, start no further chunk, and
// report the interrupt.
func TestDeleteManyInterruptedCountsExactly(t *testing.T) {
	addr := testserver.Memcached(t)
	direct := open(t, "pymemcache://"+addr)
	p := testserver.NewHoldProxy(t, addr)
	b := open(t, "pymemcache://"+p.Addr)
	items, keys := backendtest.Items(":1:k", 3000, []byte("v"))
	if failed, err := backends.SetMany(context.Background(), direct, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
		t.Fatalf("SetMany: %v (%d failed)", err, len(failed))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Arm("DELETED", cancel)
	n, delErr := b.(backends.MultiDeleter).DeleteMany(ctx, keys)
	if !errors.Is(delErr, context.Canceled) {
		t.Fatalf("DeleteMany = %d, %v; want context.Canceled", n, delErr)
	}
	got, err := backends.GetMany(context.Background(), direct, keys)
	if err != nil {
		t.Fatal(err)
	}
	gone := len(keys) - len(got)
	if n != gone {
		t.Errorf("DeleteMany reported %d deleted, %d are gone", n, gone)
	}
	if gone == 0 || gone == len(keys) {
		t.Errorf("%d of %d gone: the interrupt should stop DeleteMany after the chunk in flight", gone, len(keys))
	}
	// It says how many keys it sent: the others were never attempted.
	var cs *backends.CutShortError
	if !errors.As(delErr, &cs) || cs.Attempted != gone {
		t.Errorf("err = %v, want a CutShortError with %d attempted (every key sent was there)", delErr, gone)
	}
}

// TestSetManyInterruptedReportsExactly: the same for set-many: a key the
// server stored is not reported failed, and no chunk starts after the
// interrupt.
func TestSetManyInterruptedReportsExactly(t *testing.T) {
	addr := testserver.Memcached(t)
	direct := open(t, "pymemcache://"+addr)
	p := testserver.NewHoldProxy(t, addr)
	b := open(t, "pymemcache://"+p.Addr)
	items, keys := backendtest.Items(":1:s", 3000, []byte("v"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Arm("STORED", cancel)
	failed, err := b.(backends.MultiSetter).SetMany(ctx, items, backends.Timeout{Seconds: 300})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SetMany = %d failed, %v; want context.Canceled", len(failed), err)
	}
	got, err := backends.GetMany(context.Background(), direct, keys)
	if err != nil {
		t.Fatal(err)
	}
	if stored := len(keys) - len(failed); stored != len(got) {
		t.Errorf("SetMany reported %d stored, %d are there", stored, len(got))
	}
	if len(got) == 0 || len(got) == len(keys) {
		t.Errorf("%d of %d stored: the interrupt should stop SetMany after the chunk in flight", len(got), len(keys))
	}
}
