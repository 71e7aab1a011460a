package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/internal/testserver"
)

// sqlLog records the statements a Cache sends, with their arguments.
type sqlLog struct {
	mu    sync.Mutex
	stmts []loggedStmt
}

type loggedStmt struct {
	query string
	args  []any
}

func (l *sqlLog) add(q string, args []driver.NamedValue) {
	l.mu.Lock()
	defer l.mu.Unlock()
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	l.stmts = append(l.stmts, loggedStmt{q, vals})
}

func (l *sqlLog) take() []loggedStmt {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stmts
	l.stmts = nil
	return out
}

// logConnector opens pgx connections whose queries go through the log.
type logConnector struct {
	dsn string
	log *sqlLog
}

func (c logConnector) Connect(context.Context) (driver.Conn, error) {
	cn, err := stdlib.GetDefaultDriver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return logConn{cn.(pgxConn), c.log}, nil
}

func (c logConnector) Driver() driver.Driver { return stdlib.GetDefaultDriver() }

type pgxConn interface {
	driver.Conn
	driver.QueryerContext
	driver.ExecerContext
	driver.NamedValueChecker
}

type logConn struct {
	pgxConn
	log *sqlLog
}

func (c logConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.log.add(q, args)
	return c.pgxConn.QueryContext(ctx, q, args)
}

func (c logConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.log.add(q, args)
	return c.pgxConn.ExecContext(ctx, q, args)
}

// statsOf is the fields of the report of c: the default one, or exact.
func statsOf(t *testing.T, c *Cache, exact bool) map[string]any {
	t.Helper()
	secs, err := c.Stats(context.Background())
	if exact {
		secs, err = c.StatsWith(context.Background(), backends.StatsOptions{Exact: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for _, f := range secs[0].Fields {
		m[f.Name] = f.Value
	}
	return m
}

// TestStatsReadsNoWholeTable: on PostgreSQL with 200,000 rows, few of them
// expired, stats takes the row count from the planner's statistics
// (labelled as an estimate) and sends nothing the planner runs as a
// sequential scan of the table: every statement it sends, EXPLAINed with
// its arguments, reads the table through an index or not at all. Until the
// table has statistics, and with Exact, the rows are counted.
func TestStatsReadsNoWholeTable(t *testing.T) {
	ctx := context.Background()
	pg := testserver.PostgresURL(t)
	const table, n, expired = "perf_cache", 200_000, 200
	c := tableCache(t, ctx, strings.Replace(pg, "?", "?table="+table+"&", 1))
	// No autovacuum: the test decides when the table gets statistics.
	for _, q := range []string{
		"ALTER TABLE " + table + " SET (autovacuum_enabled = false)",
		fmt.Sprintf("INSERT INTO %s SELECT ':1:k' || g, 'gASVBQAAAAAAAACMAXaULg==', CASE"+
			" WHEN g %% %d = 0 THEN now() - interval '1 hour'"+
			" WHEN g %% 10 = 0 THEN '9999-12-31 23:59:59+00'"+
			" ELSE now() + interval '1 day' + g * interval '1 second' END"+
			" FROM generate_series(1, %d) g", table, n/expired, n),
	} {
		if _, err := c.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	plain := c.db
	log := &sqlLog{}
	c.db = sql.OpenDB(logConnector{c.target.dsn, log})
	defer plain.Close()

	// Never analyzed: reltuples is -1, so the rows are counted.
	got := statsOf(t, c, false)
	if got["rows"] != int64(n) || got["rows_method"] != rowsCounted {
		t.Errorf("before ANALYZE: rows %v (%v), want %d counted", got["rows"], got["rows_method"], n)
	}
	log.take()

	if _, err := plain.ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
		t.Fatal(err)
	}
	got = statsOf(t, c, false)
	sent := log.take()
	rows, _ := got["rows"].(int64)
	method, _ := got["rows_method"].(string)
	if rows < n*99/100 || rows > n*101/100 || !strings.HasPrefix(method, "estimated from pg_class.reltuples") {
		t.Errorf("rows %v (%q), want about %d, estimated from pg_class.reltuples", got["rows"], method, n)
	}
	if got["rows_estimate"] != got["rows"] {
		t.Errorf("rows %v but rows_estimate %v", got["rows"], got["rows_estimate"])
	}
	if got["expired_rows"] != int64(expired) || got["expired_rows_method"] != rowsCounted {
		t.Errorf("expired_rows %v (%v), want %d counted", got["expired_rows"], got["expired_rows_method"], expired)
	}
	if got["max_entries_headroom"] != int64(c.maxEntries)-rows {
		t.Errorf("max_entries_headroom %v, want %d", got["max_entries_headroom"], int64(c.maxEntries)-rows)
	}
	if len(sent) < 3 {
		t.Fatalf("stats sent %d statements, want the sizes, the expired count and the expiry range: %v", len(sent), sent)
	}
	for _, s := range sent {
		if s.query == c.st.Count() {
			t.Errorf("stats counted every row: %s", s.query)
		}
		plan := explain(t, plain, s)
		if strings.Contains(plan, "Seq Scan on "+table) {
			t.Errorf("%s runs a sequential scan of the table:\n%s", s.query, plan)
		}
	}

	plan, err := c.DescribeClear(ctx)
	desc := plan.Ask
	if err != nil || !strings.Contains(desc, "about ") || !strings.Contains(desc, "estimated from pg_class.reltuples") {
		t.Errorf("DescribeClear = %q, %v; want the estimate, said so", desc, err)
	}
	for _, s := range log.take() {
		if s.query == c.st.Count() {
			t.Errorf("DescribeClear counted every row: %s", s.query)
		}
	}

	got = statsOf(t, c, true)
	if got["rows"] != int64(n) || got["rows_method"] != rowsCounted || got["expired_rows"] != int64(expired) {
		t.Errorf("exact: rows %v (%v), expired %v; want %d counted, %d", got["rows"], got["rows_method"], got["expired_rows"], n, expired)
	}
	counted := false
	for _, s := range log.take() {
		counted = counted || s.query == c.st.Count()
	}
	if !counted {
		t.Error("exact stats sent no COUNT(*)")
	}

	// More expired rows than the default report counts: it says "at least".
	defer func(l int) { expiredCountLimit = l }(expiredCountLimit)
	expiredCountLimit = 50
	got = statsOf(t, c, false)
	if m, _ := got["expired_rows_method"].(string); got["expired_rows"] != int64(50) || !strings.Contains(m, "at least") {
		t.Errorf("capped: expired_rows %v (%q), want 50, at least", got["expired_rows"], m)
	}
}

// explain is the plan of a logged statement, run with its arguments.
func explain(t *testing.T, db *sql.DB, s loggedStmt) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+s.query, s.args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", s.query, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// TestStatsEstimateMySQL: on MariaDB the default report's rows come from
// information_schema.TABLES (labelled as an estimate); Exact counts them.
func TestStatsEstimateMySQL(t *testing.T) {
	ctx := context.Background()
	my, _ := testserver.MySQLURL(t)
	const table, n = "perf_cache", 20_000
	c := tableCache(t, ctx, my+"?table="+table)
	for _, q := range []string{
		fmt.Sprintf("INSERT INTO %s SELECT CONCAT(':1:k', seq), 'eA==', IF(seq %% 100 = 0, NOW() - INTERVAL 1 HOUR, NOW() + INTERVAL 1 DAY)"+
			" FROM seq_1_to_%d", table, n),
		"ANALYZE TABLE " + table,
	} {
		if _, err := c.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	got := statsOf(t, c, false)
	rows, _ := got["rows"].(int64)
	if m, _ := got["rows_method"].(string); rows <= 0 || got["rows"] != got["rows_estimate"] || !strings.HasPrefix(m, "estimated from information_schema.TABLES.TABLE_ROWS") {
		t.Errorf("rows %v (%q), rows_estimate %v: want the estimate, said so", got["rows"], m, got["rows_estimate"])
	}
	if got["expired_rows"] != int64(n/100) {
		t.Errorf("expired_rows %v, want %d", got["expired_rows"], n/100)
	}
	got = statsOf(t, c, true)
	if got["rows"] != int64(n) || got["rows_method"] != rowsCounted {
		t.Errorf("exact: rows %v (%v), want %d counted", got["rows"], got["rows_method"], n)
	}
}

// TestListKeyNamesReadsKeysOnly: the names-only walk (pattern deletes,
// keys --quiet) pages through the keys with a statement that reads no
// value and no expiry, and sees every matching key once, in order.
func TestListKeyNamesReadsKeysOnly(t *testing.T) {
	ctx := context.Background()
	pg := testserver.PostgresURL(t)
	const table, n = "names_cache", 2500
	c := tableCache(t, ctx, strings.Replace(pg, "?", "?table="+table+"&", 1))
	q := fmt.Sprintf("INSERT INTO %s SELECT ':1:k' || lpad(g::text, 5, '0'), repeat('x', 10000), now() + interval '1 day'"+
		" FROM generate_series(1, %d) g UNION ALL SELECT ':2:other', 'eA==', now()", table, n)
	if _, err := c.db.ExecContext(ctx, q); err != nil {
		t.Fatal(err)
	}
	plain := c.db
	defer plain.Close()
	log := &sqlLog{}
	c.db = sql.OpenDB(logConnector{c.target.dsn, log})
	var keys []string
	if err := backends.ListKeys(ctx, c, ":1:*", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != n || keys[0] != ":1:k00001" || keys[n-1] != fmt.Sprintf(":1:k%05d", n) {
		t.Errorf("listed %d keys (%v … %v), want %d from :1:k00001", len(keys), keys[:min(1, len(keys))], keys[max(0, len(keys)-1):], n)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i] <= keys[i-1] {
			t.Fatalf("keys out of order or repeated: %q then %q", keys[i-1], keys[i])
		}
	}
	sent := log.take()
	if len(sent) != n/1000+1 {
		t.Errorf("sent %d statements for %d keys in pages of 1000: %v", len(sent), n, sent)
	}
	for _, s := range sent {
		if s.query != c.st.ListKeysLikeAfter(1000) {
			t.Errorf("sent %s, want only %s", s.query, c.st.ListKeysLikeAfter(1000))
		}
	}
}

// tableCache opens the database cache at url (its table in the URL) with a
// 30 s deadline and creates the table; the cache closes when the test ends.
func tableCache(t *testing.T, ctx context.Context, url string) *Cache {
	t.Helper()
	cfg, err := backends.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Deadline = 30e9
	b, err := open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := b.(*Cache)
	t.Cleanup(func() { c.Close() })
	if _, _, err := c.CreateTable(ctx, false); err != nil {
		t.Fatal(err)
	}
	return c
}
