package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/internal/testserver"
)

// pgThroughProxy is a cache table on a scratch PostgreSQL database, the
// backend reaching it through a HoldProxy, and a direct backend to count
// rows with.
func pgThroughProxy(t *testing.T) (b, direct backends.Backend, p *testserver.HoldProxy) {
	raw := testserver.PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	direct = open(t, raw+"&table=interrupt_cache", 1<<30)
	create(t, direct)
	p = testserver.NewHoldProxy(t, u.Host)
	u.Host = p.Addr
	b = open(t, u.String()+"&table=interrupt_cache", 1<<30)
	return b, direct, p
}

func fill(t *testing.T, b backends.Backend, n int) []string {
	t.Helper()
	var items []backends.Item
	var keys []string
	for i := 0; i < n; i++ {
		k := fmt.Sprintf(":1:k%d", i)
		keys = append(keys, k)
		items = append(items, backends.Item{Key: k, Entry: backends.Entry{Data: []byte("\x80\x04K\x01.")}})
	}
	if failed, err := backends.SetMany(context.Background(), b, items, backends.Timeout{Seconds: 300}); err != nil || len(failed) > 0 {
		t.Fatalf("SetMany: %v (%d failed)", err, len(failed))
	}
	return keys
}

func remaining(t *testing.T, b backends.Backend, keys []string) int {
	t.Helper()
	got, err := backends.GetMany(context.Background(), b, keys)
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

// TestDeleteManyInterruptedCountsExactly: the context is cancelled while
// the first DELETE's reply is on its way (the proxy holds it back). The
// server deleted that batch; DeleteMany must count it, start no other
// batch, and report the interrupt.
func TestDeleteManyInterruptedCountsExactly(t *testing.T) {
	b, direct, p := pgThroughProxy(t)
	keys := fill(t, direct, 3000)
	if err := b.(backends.Pinger).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Arm("DELETE ", cancel)
	n, err := b.(backends.MultiDeleter).DeleteMany(ctx, keys)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("DeleteMany = %d, %v; want context.Canceled", n, err)
	}
	gone := len(keys) - remaining(t, direct, keys)
	if n != gone {
		t.Errorf("DeleteMany reported %d deleted, %d are gone", n, gone)
	}
	if gone != 500 {
		t.Errorf("%d deleted, want the one batch in flight (500): no batch starts after the interrupt", gone)
	}
}

// TestPruneExpiredInterruptedCountsExactly is the same for prune-expired.
func TestPruneExpiredInterruptedCountsExactly(t *testing.T) {
	b, direct, p := pgThroughProxy(t)
	var items []backends.Item
	for i := 0; i < 50; i++ {
		items = append(items, backends.Item{Key: fmt.Sprintf(":1:e%d", i), Entry: backends.Entry{Data: []byte("\x80\x04K\x01.")}})
	}
	if _, err := backends.SetMany(context.Background(), direct, items, backends.Timeout{Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	if err := b.(backends.Pinger).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Arm("DELETE ", cancel)
	n, err := b.(backends.Pruner).PruneExpired(ctx, 1, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PruneExpired = %d, %v; want context.Canceled", n, err)
	}
	left, err := direct.(backends.ExpiredCounter).CountExpired(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if gone := 50 - int(left); n != gone || gone != 1 {
		t.Errorf("PruneExpired reported %d, %d rows are gone; want 1 and 1 (the batch in flight, no other)", n, gone)
	}
}

// TestConnectRefusedOneLine: pgx lists each connection attempt (here the
// same refusal, with and without TLS) after a newline and a tab; the
// error is one line naming the cause once.
func TestConnectRefusedOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	b := open(t, "postgres://postgres@"+addr+"/x?table=t", 1000)
	_, err = b.Get(context.Background(), ":1:a")
	if err == nil {
		t.Fatal("Get on a closed port succeeded")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\t") {
		t.Errorf("error is not one line: %q", msg)
	}
	if c := strings.Count(msg, "connection refused"); c != 1 {
		t.Errorf("error says connection refused %d times, want once: %q", c, msg)
	}
}

// TestSetManyInterruptedDuringCommit: the context is cancelled while the
// COMMIT's reply is on its way. The rows are stored; SetMany must not
// report them failed.
func TestSetManyInterruptedDuringCommit(t *testing.T) {
	b, direct, p := pgThroughProxy(t)
	if err := b.(backends.Pinger).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	var items []backends.Item
	var keys []string
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf(":1:s%d", i)
		keys = append(keys, k)
		items = append(items, backends.Item{Key: k, Entry: backends.Entry{Data: []byte("\x80\x04K\x01.")}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Arm("COMMIT", cancel)
	failed, err := b.(backends.MultiSetter).SetMany(ctx, items, backends.Timeout{Seconds: 300})
	stored := len(keys) - len(failed)
	if there := remaining(t, direct, keys); stored != there || there == 0 {
		t.Errorf("SetMany reported %d stored (err %v), %d are there", stored, err, there)
	}
}

// TestPruneExpiredConcurrentUpdate: another client updates an expired row
// while a prune batch waits for its lock. PostgreSQL's batch then deletes
// one row fewer than it selected (the row moved); prune-expired must go
// on until a batch deletes nothing, so every expired row goes.
func TestPruneExpiredConcurrentUpdate(t *testing.T) {
	raw := testserver.PostgresURL(t)
	b := open(t, raw+"&table=concurrent_cache", 1<<30)
	create(t, b)
	var items []backends.Item
	for i := 0; i < 30; i++ {
		items = append(items, backends.Item{Key: fmt.Sprintf(":1:e%02d", i), Entry: backends.Entry{Data: []byte("\x80\x04K\x01.")}})
	}
	if _, err := backends.SetMany(context.Background(), b, items, backends.Timeout{Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	// Every expired row is locked by the other client's update, so the
	// first batch waits whichever rows it selects.
	if _, err := tx.Exec(`UPDATE concurrent_cache SET value = value`); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct {
		n   int
		err error
	}, 1)
	go func() {
		n, err := b.(backends.Pruner).PruneExpired(context.Background(), 10, nil)
		done <- struct {
			n   int
			err error
		}{n, err}
	}()
	// Commit once the prune waits on the lock.
	for waited := 0; ; waited++ {
		var waiting int
		other.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE%'`).Scan(&waiting)
		if waiting > 0 {
			break
		}
		if waited > 3000 {
			t.Fatal("the prune never waited on the other client's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	left, err := b.(backends.ExpiredCounter).CountExpired(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 || r.n != 30 {
		t.Errorf("PruneExpired reported %d deleted, %d expired rows left; want 30 and 0", r.n, left)
	}
}
