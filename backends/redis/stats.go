package redis

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cachectl/cachectl/backends"
)

// sampleSize is how many random keys estimate the KEY_PREFIX share when
// counting by SCAN would be slow.
const (
	countLimit = 100_000
	sampleSize = 1000
)

func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

func num(m map[string]string, k string) any {
	if n, err := strconv.ParseInt(m[k], 10, 64); err == nil {
		return n
	}
	if m[k] == "" {
		return nil
	}
	return m[k]
}

// nodeStats reports one server.
func (c *Cache) nodeStats(ctx context.Context, name string, n goredis.UniversalClient, mode string) (backends.StatsSection, error) {
	info, err := n.Info(ctx, "server", "clients", "memory", "stats", "replication", "keyspace").Result()
	if err != nil {
		return backends.StatsSection{}, c.fail("stats", err)
	}
	m := parseInfo(info)
	if mode == "" {
		mode = "standalone"
		if c.eps[0].kind == kindSentinel {
			mode = "sentinel"
		}
		if m["role"] == "slave" {
			mode += " replica"
			if mode == "standalone replica" {
				mode = "replica"
			}
		}
	}
	hits, _ := strconv.ParseFloat(m["keyspace_hits"], 64)
	misses, _ := strconv.ParseFloat(m["keyspace_misses"], 64)
	var ratio any
	if hits+misses > 0 {
		ratio = hits / (hits + misses)
	}
	dbKeys := any(int64(0))
	if ks, ok := m[fmt.Sprintf("db%d", c.db)]; ok {
		for _, part := range strings.Split(ks, ",") {
			if k, v, ok := strings.Cut(part, "="); ok && k == "keys" {
				dbKeys, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return backends.StatsSection{Name: name, Fields: []backends.StatsField{
		{Name: "version", Value: m["redis_version"]},
		{Name: "mode", Value: mode},
		{Name: "uptime_seconds", Value: num(m, "uptime_in_seconds")},
		{Name: "used_memory", Value: num(m, "used_memory")},
		{Name: "used_memory_human", Value: m["used_memory_human"]},
		{Name: "db", Value: c.db},
		{Name: "db_keys", Value: dbKeys},
		{Name: "keyspace_hits", Value: num(m, "keyspace_hits")},
		{Name: "keyspace_misses", Value: num(m, "keyspace_misses")},
		{Name: "hit_ratio", Value: ratio},
		{Name: "evicted_keys", Value: num(m, "evicted_keys")},
		{Name: "connected_clients", Value: num(m, "connected_clients")},
	}}, nil
}

// Stats reports every node (leader, replicas, cluster primaries) and the
// keys under this cache's KEY_PREFIX, counted exactly when the database is
// small and estimated by sampling otherwise (and said so).
func (c *Cache) Stats(ctx context.Context) ([]backends.StatsSection, error) {
	return c.StatsWith(ctx, backends.StatsOptions{})
}

// StatsWith is Stats; with o.Exact the keys under KEY_PREFIX are counted
// (a SCAN of the whole database) however many there are.
func (c *Cache) StatsWith(ctx context.Context, o backends.StatsOptions) ([]backends.StatsSection, error) {
	var secs []backends.StatsSection
	if c.cluster != nil {
		var mu sync.Mutex // the primaries answer at once
		err := c.cluster.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			s, err := c.nodeStats(ctx, "primary "+n.Options().Addr, n, "cluster")
			if err == nil {
				mu.Lock()
				secs = append(secs, s)
				mu.Unlock()
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(secs, func(i, j int) bool { return secs[i].Name < secs[j].Name })
	} else {
		s, err := c.nodeStats(ctx, "leader", c.leader, "")
		if err != nil {
			return nil, err
		}
		secs = append(secs, s)
		for i, r := range c.replicas {
			s, err := c.nodeStats(ctx, fmt.Sprintf("replica %d", i+1), r, "")
			if err != nil {
				return nil, err
			}
			secs = append(secs, s)
		}
	}
	total, err := c.leader.DBSize(ctx).Result()
	if err != nil {
		return nil, c.fail("stats", err)
	}
	prefix := escapeGlob(c.keyPrefix) + ":*"
	var count int64
	method := "counted"
	if total <= countLimit || o.Exact {
		err = c.scan(ctx, prefix, false, func(backends.KeyInfo) error { count++; return nil })
		if err != nil {
			return nil, err
		}
	} else {
		pipe := c.leader.Pipeline()
		cmds := make([]*goredis.StringCmd, sampleSize)
		for i := range cmds {
			cmds[i] = pipe.RandomKey(ctx)
		}
		if _, err := pipe.Exec(ctx); err != nil && !isReply(err) {
			return nil, c.fail("stats", err)
		}
		match := 0
		for _, cmd := range cmds {
			if strings.HasPrefix(cmd.Val(), c.keyPrefix+":") {
				match++
			}
		}
		count = int64(float64(total) * float64(match) / sampleSize)
		method = fmt.Sprintf("estimated from %d random keys", sampleSize)
	}
	secs = append(secs, backends.StatsSection{Name: "cache", Fields: []backends.StatsField{
		{Name: "location", Value: c.loc},
		{Name: "db_keys", Value: total},
		{Name: "key_prefix", Value: c.keyPrefix},
		{Name: "prefix_keys", Value: count},
		{Name: "prefix_keys_method", Value: method},
	}})
	return secs, nil
}

func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\\' {
			b.WriteString(`\\`)
		} else if r == '*' || r == '?' || r == '[' {
			b.WriteString("[" + string(r) + "]")
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
