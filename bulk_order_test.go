package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

// TestSetManyRepeatedKeyLastWins: set-many writes two batches at once on
// Redis, and a slow batch can still be in flight several batches later.
// A key written in a large first batch and again two batches on must end
// with its later value, as the input order says.
func TestSetManyRepeatedKeyLastWins(t *testing.T) {
	addr := testserver.Redis(t)
	var in bytes.Buffer
	big := strings.Repeat("x", 200_000) // batch 1 (500 keys of 200 kB) takes a while to send
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&in, "{\"key\": \"big%d\", \"value\": \"%s\"}\n", i, big)
	}
	for i := 0; i < 500; i++ { // batch 2: small
		fmt.Fprintf(&in, "{\"key\": \"s%d\", \"value\": 1}\n", i)
	}
	for i := 0; i < 500; i++ { // batch 3: repeats batch 1's keys
		fmt.Fprintf(&in, "{\"key\": \"big%d\", \"value\": \"later\"}\n", i)
	}
	var out, errb bytes.Buffer
	code := commands.Run(context.Background(), []string{"cachectl", "-C", "redis://" + addr + "/0", "set-many", "-"}, &in, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	stale := 0
	for i := 0; i < 500; i++ {
		v, err := rc.Get(context.Background(), fmt.Sprintf(":1:big%d", i)).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if len(v) > 1000 {
			stale++
		}
	}
	if stale > 0 {
		t.Errorf("%d of 500 keys kept the value of batch 1, written before batch 3's", stale)
	}
}

// TestSetManyRepeatedKeyLastWinsMemcached: the same on memcached, which
// also has two bulk calls in flight.
func TestSetManyRepeatedKeyLastWinsMemcached(t *testing.T) {
	addr := testserver.Memcached(t, "-m", "256")
	var in bytes.Buffer
	big := strings.Repeat("x", 100_000)
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&in, "{\"key\": \"big%d\", \"value\": \"%s\"}\n", i, big)
	}
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&in, "{\"key\": \"s%d\", \"value\": 1}\n", i)
	}
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&in, "{\"key\": \"big%d\", \"value\": \"later\"}\n", i)
	}
	var out, errb bytes.Buffer
	code := commands.Run(context.Background(), []string{"cachectl", "-C", "pymemcache://" + addr, "set-many", "-"}, &in, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	mc := memcache.New(addr)
	stale := 0
	for i := 0; i < 500; i++ {
		it, err := mc.Get(fmt.Sprintf(":1:big%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Value) > 1000 {
			stale++
		}
	}
	if stale > 0 {
		t.Errorf("%d of 500 keys kept the value of batch 1, written before batch 3's", stale)
	}
}
