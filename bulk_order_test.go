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

// TestDeleteManyLanesCount: delete-many sends batches on two lanes on
// Redis and memcached; the summary still counts every key deleted once,
// and keys given twice or absent are not counted.
func TestDeleteManyLanesCount(t *testing.T) {
	for _, url := range []string{"redis://" + testserver.Redis(t) + "/0", "pymemcache://" + testserver.Memcached(t)} {
		var set, del bytes.Buffer
		for i := 0; i < 2300; i++ {
			fmt.Fprintf(&set, "{\"key\": \"k%d\", \"value\": %d}\n", i, i)
			fmt.Fprintf(&del, "k%d\n", i)
		}
		for i := 0; i < 600; i++ { // given again, in a later batch, and absent keys
			fmt.Fprintf(&del, "k%d\nabsent%d\n", i, i)
		}
		var out, errb bytes.Buffer
		if code := commands.Run(context.Background(), []string{"cachectl", "-C", url, "set-many", "-"}, &set, &out, &errb); code != 0 {
			t.Fatalf("%s set-many: exit %d: %s", url, code, errb.String())
		}
		errb.Reset()
		if code := commands.Run(context.Background(), []string{"cachectl", "-C", url, "delete-many", "-"}, &del, &out, &errb); code != 0 {
			t.Fatalf("%s delete-many: exit %d: %s", url, code, errb.String())
		}
		if want := "delete-many: 2300 of 3500 key(s) deleted\n"; errb.String() != want {
			t.Errorf("%s: %q, want %q", url, errb.String(), want)
		}
		out.Reset()
		keys := strings.NewReader("k0\nk1299\nk2299\n")
		commands.Run(context.Background(), []string{"cachectl", "-C", url, "get-many", "-"}, keys, &out, &errb)
		if strings.Contains(out.String(), `"k`) {
			t.Errorf("%s: keys left after delete-many: %s", url, out.String())
		}
	}
}
