// Package db is Django's DatabaseCache on SQLite, PostgreSQL and MySQL/
// MariaDB: base64 pickles in the value column, expiry per vendor and
// USE_TZ, Django's add/touch/cull semantics; the SQL comes from sqlgen.
package db

import (
	"io/fs"
	"maps"
	"os"
	"slices"

	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/sqlgen"
)

func init() {
	// go-sql-driver logs some failures to stderr itself ("[mysql] …
	// packets.go:58 read tcp …: i/o timeout") before returning them: the
	// error it returns is reported once, as one line.
	mysql.SetLogger(&mysql.NopLogger{})
	backends.Register(&backends.Info{
		Name:        "db",
		Schemes:     []string{"dbcache", "db", "sqlite", "postgres", "postgresql", "pgsql", "mysql", "mariadb"},
		DjangoPaths: []string{"django.core.cache.backends.db.DatabaseCache"},
		Params:      []string{"table", "use_tz", "time_zone", "database", "sslmode", "connect_timeout", "password", "password_file"},
		Help:        "Django's DatabaseCache (dbcache://TABLE with --database URL, or sqlite:///path.db?table=T, postgres://…?table=T, mysql://…?table=T)",
		Open:        open,
	})
}

// Cache is one cache table.
type Cache struct {
	db            *sql.DB
	target        dbTarget
	table         string
	st            sqlgen.Statements
	useTZ         bool
	loc           *time.Location
	maxEntries    int
	cullFrequency int
	defTimeout    backends.Timeout
	opTimeout     time.Duration // bounds a statement finished after an interrupt
	now           func() time.Time
}

var (
	_ backends.Backend        = (*Cache)(nil)
	_ backends.Adder          = (*Cache)(nil)
	_ backends.Toucher        = (*Cache)(nil)
	_ backends.HasKeyer       = (*Cache)(nil)
	_ backends.Incrementer    = (*Cache)(nil)
	_ backends.TTLer          = (*Cache)(nil)
	_ backends.MultiGetter    = (*Cache)(nil)
	_ backends.MultiSetter    = (*Cache)(nil)
	_ backends.MultiDeleter   = (*Cache)(nil)
	_ backends.Clearer        = (*Cache)(nil)
	_ backends.ClearDescriber = (*Cache)(nil)
	_ backends.Describer      = (*Cache)(nil)
	_ backends.Lister         = (*Cache)(nil)
	_ backends.Statter        = (*Cache)(nil)
	_ backends.Pinger         = (*Cache)(nil)
	_ backends.Pruner         = (*Cache)(nil)
	_ backends.OptionStatter  = (*Cache)(nil)
	_ backends.KeyNameLister  = (*Cache)(nil)
	_ backends.TableCreator   = (*Cache)(nil)
	_ backends.KeyEstimator   = (*Cache)(nil)
	_ backends.ExpiredCounter = (*Cache)(nil)
)

func open(_ context.Context, cfg *backends.Config) (backends.Backend, error) {
	timeout := cfg.Deadline
	if timeout <= 0 || timeout > 10*time.Second {
		timeout = 10 * time.Second
	}
	p := cfg.Params
	var table string
	var target dbTarget
	var err error
	switch cfg.Scheme {
	case "sqlite", "postgres", "postgresql", "pgsql", "mysql", "mariadb":
		table = p["table"]
		if table == "" {
			return nil, backends.Configf("a database URL used as a cache needs ?table=NAME (the cache's LOCATION)")
		}
		if p["database"] != "" {
			return nil, backends.Configf("a database URL is its own database; ?database= goes with dbcache://TABLE")
		}
		raw := cfg.Scheme + "://" + cfg.Locations[0]
		if pw, err := backends.Password(cfg); err != nil {
			return nil, err
		} else if pw != "" {
			raw = withPassword(raw, pw)
		}
		if q := extraQuery(p); q != "" {
			raw += "?" + q
		}
		target, err = targetFromURL(raw, timeout)
	default: // dbcache://TABLE, db://TABLE or a config file's LOCATION
		if len(cfg.Locations) == 1 {
			table = strings.TrimSuffix(cfg.Locations[0], "/")
		}
		if table == "" {
			return nil, backends.Configf("the database cache needs a table name: dbcache://TABLE or LOCATION")
		}
		target, err = resolveDatabase(cfg, timeout)
	}
	if err != nil {
		return nil, err
	}
	if target.dialect == sqlgen.SQLite {
		// The cache's parameters and the database URL's query (which
		// holds the cache's for a sqlite:// cache URL): each once.
		unread := map[string]bool{}
		for _, k := range target.unread {
			unread[k] = true
		}
		for _, k := range []string{"sslmode", "connect_timeout"} {
			if p[k] != "" {
				unread[k] = true
			}
		}
		for _, k := range slices.Sorted(maps.Keys(unread)) {
			cfg.Warn("%s has no effect on SQLite, a file with no connection", k)
		}
	}
	useTZ := true
	if v := p["use_tz"]; v != "" {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "on":
		case "false", "0", "no", "off":
			useTZ = false
		default:
			return nil, backends.Configf("use_tz must be true or false, not %q", v)
		}
	}
	loc := time.UTC
	if !useTZ {
		loc = time.Local
		if tz := p["time_zone"]; tz != "" {
			if loc, err = time.LoadLocation(tz); err != nil {
				return nil, backends.Configf("time_zone %q: %v", tz, err)
			}
		}
	}
	db, err := target.open()
	if err != nil {
		return nil, err
	}
	return &Cache{db: db, target: target, table: table, st: sqlgen.For(target.dialect, table), useTZ: useTZ, loc: loc,
		maxEntries: cfg.Settings.MaxEntries, cullFrequency: cfg.Settings.CullFrequency, defTimeout: cfg.Settings.Timeout,
		opTimeout: timeout, now: time.Now}, nil
}

func extraQuery(p map[string]string) string {
	var parts []string
	for _, k := range []string{"sslmode", "connect_timeout"} {
		if v := p[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "&")
}

// resolveDatabase finds the database of a dbcache:// URL or config-file
// cache: a --database URL or alias, else DATABASES[DATABASE or "default"].
func resolveDatabase(cfg *backends.Config, timeout time.Duration) (dbTarget, error) {
	db := cfg.Params["database"]
	if strings.Contains(db, "://") {
		return targetFromURL(db, timeout)
	}
	alias := db
	if alias == "" {
		alias = cfg.Database
	}
	if alias == "" {
		alias = "default"
	}
	d, ok := cfg.Databases[alias]
	if !ok {
		if db == "" && len(cfg.Databases) == 0 {
			return dbTarget{}, backends.Configf("no database for the cache table: give --database URL (or DATABASE_URL), or DATABASES in the config file")
		}
		return dbTarget{}, backends.Configf("no database alias %q in DATABASES", alias)
	}
	return targetFromSettings(alias, d, timeout, cfg.Warn)
}

func (c *Cache) fail(op string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	err = connectError(err)
	if c.target.path != "" && strings.Contains(err.Error(), "unable to open database file") {
		if _, serr := os.Stat(c.target.path); errors.Is(serr, fs.ErrNotExist) {
			err = fmt.Errorf("the SQLite database %s does not exist (check the path; createcachetable creates it)", c.target.path)
		}
	}
	msg := err.Error()
	if strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") && strings.Contains(msg, "relation") ||
		strings.Contains(msg, "doesn't exist") {
		err = fmt.Errorf("cache table %q does not exist (run cachectl createcachetable): %w", c.table, err)
	}
	return backends.Unavailable(op, c.target.display, err)
}

// nowTime is Django's "now" with microseconds cleared, as has_key
// (expires > now), add (an existing row is expired when expires < now) and
// the cull (DELETE … WHERE expires < now) compare it.
func (c *Cache) nowTime() time.Time { return c.now().Truncate(time.Second) }

// nowExact is Django's tz_now() as get_many compares it with each row's
// expires (expires < now: expired): to the microsecond, the precision of
// Python's datetime, which floors the clock. A row stored to expire at
// second S is a miss for get from S plus a microsecond on, while has_key
// and add still take it for live until S+1. Every cachectl read that
// answers "is it there" as get does (get, get-many, get-or-set, incr, ttl,
// the expired rows of stats and prune-expired) uses it.
func (c *Cache) nowExact() time.Time { return c.now().Truncate(time.Microsecond) }

// param renders an expiry for the vendor: naive text in UTC (USE_TZ) or
// local time for SQLite and MySQL; text with an offset for PostgreSQL.
func (c *Cache) param(t time.Time, forever bool) string {
	if forever {
		if c.target.dialect == sqlgen.PostgreSQL {
			// Django hands datetime.max to a session in UTC (USE_TZ) or in
			// TIME_ZONE (without it), which reads it as that zone's wall
			// time: Paris' never is 22:59:59 UTC. Written as UTC there, it
			// reads back in Django's Paris session as the year 10000, which
			// Python's datetime refuses (cache.get raised ValueError).
			if c.useTZ {
				return sqlgen.MaxExpires + "+00"
			}
			return time.Date(9999, 12, 31, 23, 59, 59, 0, c.loc).Format("2006-01-02 15:04:05-07:00")
		}
		return sqlgen.MaxExpires
	}
	t = t.In(c.loc)
	// A time with a fraction (nowExact) keeps its microseconds, written as
	// Python's str(datetime) writes them: ".ffffff" only when they are not
	// zero. On SQLite, where the comparison is textual, "S" then sorts
	// before "S.300000" and equal to a whole "S", as the instants do.
	frac := ""
	if t.Nanosecond() != 0 {
		frac = ".000000"
	}
	if c.target.dialect == sqlgen.PostgreSQL {
		return t.Format("2006-01-02 15:04:05" + frac + "-07:00")
	}
	if frac != "" {
		return t.Format("2006-01-02 15:04:05" + frac)
	}
	return sqlgen.FormatExpires(t)
}

// expiry is Django's get_backend_timeout (None → forever; 0 → -1;
// otherwise time.time() + timeout, a float) and the datetime _base_set
// makes of it. The sum is never a time.Duration, which ends 292 years
// ahead: Django stores a timeout of 10**10 as the year 2343. An expiry
// outside Python's years 1 to 9999 is an error, as Django's
// datetime.fromtimestamp raises for it before anything is written.
func (c *Cache) expiry(t backends.Timeout) (time.Time, bool, error) {
	if t.Forever {
		return time.Time{}, true, nil
	}
	secs := t.Seconds
	if secs == 0 {
		secs = -1
	}
	exp, ok := fromTimestamp(pyTime(c.now())+secs, c.loc)
	if ok && exp.Year() >= 1 && exp.Year() <= 9999 {
		return exp, false, nil
	}
	where, hint := "after the year 9999", "; use none to never expire"
	if secs < 0 {
		where, hint = "before the year 1", ""
	}
	why := "timestamp out of range" // Python's OverflowError, or a year too far to tell
	if ok {
		where = fmt.Sprintf("in the year %d", exp.Year())
		why = fmt.Sprintf("year %d is out of range", exp.Year())
	}
	return time.Time{}, false, backends.Configf("timeout %g puts the expiry %s, which Django's DatabaseCache cannot store "+
		"(datetime.fromtimestamp raises %q)%s", t.Seconds, where, why, hint)
}

// pyTime is Python's time.time() at now: float seconds.
func pyTime(now time.Time) float64 {
	ns := now.UnixNano()
	if ns%1e9 == 0 {
		return float64(ns / 1e9)
	}
	return float64(ns) / 1e9
}

// fromTimestamp is Python's datetime.fromtimestamp(ts) in loc (UTC under
// USE_TZ, the process zone otherwise) with the microseconds then cleared,
// as _base_set does: the fraction is rounded half to even to microseconds
// first, so .9999996 is the next second. Python refuses a year outside
// 1..9999; false for a timestamp too far out to tell its year.
func fromTimestamp(ts float64, loc *time.Location) (time.Time, bool) {
	sec, frac := math.Modf(ts)
	switch us := math.RoundToEven(frac * 1e6); {
	case us >= 1e6:
		sec++
	case us < 0:
		sec--
	}
	// ±1e15 s is 31 million years from 1970, well inside time.Time.
	if !(math.Abs(sec) < 1e15) {
		return time.Time{}, false
	}
	return time.Unix(int64(sec), 0).In(loc), true
}

// readExpires turns a scanned expires column into a time and "forever".
func (c *Cache) readExpires(v any) (time.Time, bool, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() && c.target.dialect == sqlgen.SQLite {
			// go-sqlite3 gives the zero time for text it cannot read as a
			// date; read as year 1, the row was taken for expired and
			// deleted. Django never stores that instant.
			return t, false, fmt.Errorf("cannot read the expiry: the column holds no date SQLite's driver reads")
		}
		if c.target.dialect == sqlgen.PostgreSQL {
			t = x
		} else {
			// SQLite's driver reads naive text as UTC wall time.
			t = time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), c.loc)
		}
	case string:
		var err error
		if t, err = sqlgen.ParseExpires(x, c.loc); err != nil {
			return t, false, err
		}
	case []byte:
		var err error
		if t, err = sqlgen.ParseExpires(string(x), c.loc); err != nil {
			return t, false, err
		}
	default:
		return t, false, fmt.Errorf("unexpected expires value %T", v)
	}
	return t, t.Year() >= 9999, nil
}

func decodeValue(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: the value column is not base64: %v", backends.ErrDecode, err)
	}
	return b, nil
}

func placeholdersArgs(keys []string) []any {
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	return args
}

// GetMany selects the keys in batches, drops expired rows and deletes them
// (reading writes, as in Django).
//
// A row that cannot be read (an expiry or a value column that is not
// Django's) does not lose the others: the rest are returned with the first
// such row's DecodeError, so get-many can show the keys before it.
func (c *Cache) GetMany(ctx context.Context, keys []string) (map[string]backends.Entry, error) {
	out, _, err := c.getMany(ctx, keys)
	return out, err
}

// getMany is GetMany, also returning the value column as stored of the
// first row that did not decode (for get --format raw).
func (c *Cache) getMany(ctx context.Context, keys []string) (out map[string]backends.Entry, badRaw []byte, err error) {
	out = make(map[string]backends.Entry, len(keys))
	var bad error // the first row that cannot be read
	for i := 0; i < len(keys); i += 500 {
		batch := keys[i:min(i+500, len(keys))]
		asked := make(map[string]bool, len(batch))
		for _, k := range batch {
			asked[k] = true
		}
		rows, err := c.db.QueryContext(ctx, c.st.SelectMany(len(batch)), placeholdersArgs(batch)...)
		if err != nil {
			return out, nil, c.fail("get", err)
		}
		var expired []string
		for rows.Next() {
			var key, value string
			var exp any
			if err := rows.Scan(&key, &value, &exp); err != nil {
				rows.Close()
				return out, nil, c.fail("get", err)
			}
			t, forever, err := c.readExpires(exp)
			if err != nil {
				if bad == nil {
					bad = &backends.DecodeError{Key: key, Err: fmt.Errorf("%w: %v", backends.ErrDecode, err)}
				}
				continue
			}
			// Django's get_many: expires < tz_now(), taken at each row,
			// microseconds and all (not has_key's whole second). An
			// expired row is deleted by the key it has, whatever was asked.
			if !forever && t.Before(c.nowExact()) {
				expired = append(expired, key)
				continue
			}
			data, err := decodeValue(value)
			if err != nil {
				if bad == nil {
					bad, badRaw = &backends.DecodeError{Key: key, Err: err}, []byte(value)
				}
				continue
			}
			if !asked[key] {
				// A collation that folds case or accents (MySQL's
				// defaults) matched "FOO" to the row of "foo": Django maps
				// rows back through key_map, exact strings, so it is a
				// miss for every key asked.
				continue
			}
			out[key] = backends.Entry{Data: data}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, nil, c.fail("get", err)
		}
		if len(expired) > 0 && !backends.IsReadOnly(ctx) { // as Django's get_many, but not in a dry run
			if _, err := c.db.ExecContext(ctx, c.st.DeleteMany(len(expired)), placeholdersArgs(expired)...); err != nil {
				return out, nil, c.fail("get", err)
			}
		}
	}
	return out, badRaw, bad
}

// Get is GetMany of one key; a value column that does not decode comes
// back as stored, with the error.
func (c *Cache) Get(ctx context.Context, key string) (backends.Entry, error) {
	m, raw, err := c.getMany(ctx, []string{key})
	if err != nil {
		if raw != nil {
			return backends.Entry{Data: raw}, err
		}
		return m[key], err
	}
	e, ok := m[key]
	if !ok {
		return backends.Entry{}, backends.ErrCacheMiss
	}
	return e, nil
}

// baseSet is Django's _base_set for mode set, add or touch.
func (c *Cache) baseSet(ctx context.Context, mode, key string, data []byte, t backends.Timeout) (bool, error) {
	expT, forever, err := c.expiry(t)
	if err != nil {
		return false, err // Django's fromtimestamp raises before any write
	}
	var num int
	if err := c.db.QueryRowContext(ctx, c.st.Count()).Scan(&num); err != nil {
		return false, c.fail(mode, err)
	}
	now := c.nowTime()
	if num > c.maxEntries {
		if err := c.cull(ctx, now, num); err != nil {
			return false, err
		}
	}
	exp := c.param(expT, forever)
	b64 := base64.StdEncoding.EncodeToString(data)
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return false, c.fail(mode, err)
	}
	defer tx.Rollback()
	var cur any
	var dummy string
	err = tx.QueryRowContext(ctx, c.st.SelectForWrite(), key).Scan(&dummy, &cur)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, c.fail(mode, err)
	}
	switch {
	case exists && mode == "touch":
		_, err = tx.ExecContext(ctx, c.st.UpdateExpires(), exp, key)
	case exists && mode == "set":
		_, err = tx.ExecContext(ctx, c.st.Update(), b64, exp, key)
	case exists && mode == "add":
		curT, curForever, perr := c.readExpires(cur)
		if perr != nil || curForever || !curT.Before(now) {
			return false, nil // a live row: Django's INSERT hits the primary key
		}
		_, err = tx.ExecContext(ctx, c.st.Update(), b64, exp, key)
	case mode != "touch":
		_, err = tx.ExecContext(ctx, c.st.Insert(), key, b64, exp)
		if err != nil && isConstraint(err) {
			return false, nil // a concurrent writer won, as in Django
		}
	default:
		return false, nil
	}
	if err != nil {
		return false, c.fail(mode, err)
	}
	if err := tx.Commit(); err != nil {
		return false, c.fail(mode, err)
	}
	return true, nil
}

func isConstraint(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "unique") || strings.Contains(m, "duplicate") || strings.Contains(m, "primary key")
}

// cull is Django's _cull: clear at CULL_FREQUENCY 0; else delete expired
// rows, then the cull_num lowest keys when still over MAX_ENTRIES.
func (c *Cache) cull(ctx context.Context, now time.Time, num int) error {
	_, err := c.cullOn(ctx, c.db, now, num)
	return err
}

// sqlRunner is what cull needs of a *sql.DB or a *sql.Tx.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// cullOn is Django's _cull on db (the connection, or a transaction's) for
// a table of num rows, and returns how many rows it left (as far as the
// statements' row counts tell).
func (c *Cache) cullOn(ctx context.Context, db sqlRunner, now time.Time, num int) (int, error) {
	if c.cullFrequency == 0 {
		_, err := db.ExecContext(ctx, c.st.DeleteAll())
		return 0, c.fail("clear", err)
	}
	res, err := db.ExecContext(ctx, c.st.DeleteExpired(), c.param(now, false))
	if err != nil {
		return num, c.fail("cull", err)
	}
	n, _ := res.RowsAffected()
	remaining := num - int(n)
	if remaining > c.maxEntries {
		cullNum := remaining / c.cullFrequency
		var key string
		err := db.QueryRowContext(ctx, c.st.CullKeyAtOffset(), cullNum).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return remaining, nil
		}
		if err != nil {
			return remaining, c.fail("cull", err)
		}
		res, err := db.ExecContext(ctx, c.st.DeleteBelowKey(), key)
		if err != nil {
			return remaining, c.fail("cull", err)
		}
		n, _ := res.RowsAffected()
		remaining -= int(n)
	}
	return remaining, nil
}

// Set is Django's set.
func (c *Cache) Set(ctx context.Context, key string, e backends.Entry, t backends.Timeout) error {
	_, err := c.baseSet(ctx, "set", key, e.Data, t)
	return err
}

// Add inserts, or overwrites an expired row.
func (c *Cache) Add(ctx context.Context, key string, e backends.Entry, t backends.Timeout) (bool, error) {
	return c.baseSet(ctx, "add", key, e.Data, t)
}

// Touch updates the expiry of an existing row (even an expired one that
// was not yet deleted, as Django does).
func (c *Cache) Touch(ctx context.Context, key string, t backends.Timeout) (bool, error) {
	return c.baseSet(ctx, "touch", key, nil, t)
}

// HasKey checks expires > now.
func (c *Cache) HasKey(ctx context.Context, key string) (bool, error) {
	var k string
	err := c.db.QueryRowContext(ctx, c.st.HasKey(), key, c.param(c.nowTime(), false)).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, c.fail("has_key", err)
}

// TTL reads the expiry of a live row.
func (c *Cache) TTL(ctx context.Context, key string) (backends.Timeout, error) {
	var rowKey string
	var exp any
	err := c.db.QueryRowContext(ctx, c.st.SelectOne(), key).Scan(&rowKey, &exp)
	if errors.Is(err, sql.ErrNoRows) || err == nil && rowKey != key {
		// No row, or the row of another key that the collation took for
		// this one ("foo" for "FOO" on MySQL): get misses it, and so does
		// ttl.
		return backends.Timeout{}, backends.ErrCacheMiss
	}
	if err != nil {
		return backends.Timeout{}, c.fail("ttl", err)
	}
	t, forever, err := c.readExpires(exp)
	if err != nil {
		return backends.Timeout{}, &backends.DecodeError{Key: key, Err: fmt.Errorf("%w: %v", backends.ErrDecode, err)}
	}
	if forever {
		return backends.Timeout{Forever: true}, nil
	}
	now := c.nowExact()
	if t.Before(now) { // expired for get (expires < now, to the microsecond)
		return backends.Timeout{}, backends.ErrCacheMiss
	}
	return backends.Timeout{Seconds: secondsUntil(t, now)}, nil
}

// secondsUntil is t - now in seconds. time.Time.Sub saturates at a
// time.Duration's 292 years: an expiry Django stored for a timeout of
// 10**10 would read as 9223372037 s left.
func secondsUntil(t, now time.Time) float64 {
	return float64(t.Unix()-now.Unix()) + float64(t.Nanosecond()-now.Nanosecond())/1e9
}

// Incr is a read-modify-write in one transaction (the row is locked on
// PostgreSQL and MySQL, the database on SQLite); like Django's generic
// incr it re-sets the expiry to the cache's default TIMEOUT.
//
// Django's incr reads with get, so it misses as get does: a row expired
// by get's rule (expires < now, to the microsecond) is a miss, and get's
// read deletes it; the row of another key that the collation matched
// ("foo" for "FOO", "cafe" for "café" on MySQL's case- and
// accent-insensitive defaults) is a miss too (Django's get_many maps rows
// back through exact keys), and is left as it is.
func (c *Cache) Incr(ctx context.Context, key string, delta int64) (pickle.Value, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, c.fail("incr", err)
	}
	defer tx.Rollback()
	var rowKey, value string
	var exp any
	err = tx.QueryRowContext(ctx, c.st.SelectForIncr(), key).Scan(&rowKey, &value, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backends.ErrCacheMiss
	}
	if err != nil {
		return nil, c.fail("incr", err)
	}
	t, forever, err := c.readExpires(exp)
	if err != nil {
		return nil, &backends.DecodeError{Key: rowKey, Err: fmt.Errorf("%w: %v", backends.ErrDecode, err)} // as get
	}
	if !forever && t.Before(c.nowExact()) {
		if _, err := tx.ExecContext(ctx, c.st.DeleteMany(1), rowKey); err != nil {
			return nil, c.fail("incr", err)
		}
		if err := tx.Commit(); err != nil {
			return nil, c.fail("incr", err)
		}
		return nil, backends.ErrCacheMiss
	}
	if rowKey != key {
		return nil, backends.ErrCacheMiss
	}
	data, err := decodeValue(value)
	if err != nil {
		return nil, &backends.DecodeError{Key: key, Err: err}
	}
	v, err := pickle.Decode(data)
	if err != nil {
		return nil, &backends.DecodeError{Key: key, Err: fmt.Errorf("%w: %w", backends.ErrDecode, err)}
	}
	nv, err := backends.AddNumber(v, delta)
	if err != nil {
		return nil, fmt.Errorf("incr %q: %w", key, err)
	}
	out, err := pickle.Encode(nv)
	if err != nil {
		return nil, err
	}
	expT, forever, err := c.expiry(c.defTimeout)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, c.st.Update(), base64.StdEncoding.EncodeToString(out), c.param(expT, forever), key); err != nil {
		return nil, c.fail("incr", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, c.fail("incr", err)
	}
	return nv, nil
}

// Delete is DELETE … IN (key).
func (c *Cache) Delete(ctx context.Context, key string) (bool, error) {
	n, err := c.DeleteMany(ctx, []string{key})
	return n > 0, err
}

// DeleteMany deletes in batched IN queries. The context is checked
// between batches; a batch already sent runs to completion (see inFlight),
// so the count is what was deleted.
func (c *Cache) DeleteMany(ctx context.Context, keys []string) (int, error) {
	total := 0
	for i := 0; i < len(keys); i += 500 {
		if err := ctx.Err(); err != nil {
			return total, &backends.CutShortError{Attempted: i, Err: err} // the rest never sent
		}
		batch := keys[i:min(i+500, len(keys))]
		fctx, cancel := c.inFlight(ctx)
		res, err := c.db.ExecContext(fctx, c.st.DeleteMany(len(batch)), placeholdersArgs(batch)...)
		cancel()
		if err != nil {
			return total, c.fail("delete", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// inFlight is the context of a statement that must not be cut off by an
// interrupt once sent: a DELETE in autocommit runs on the server even when
// the client stops waiting (or its cancel request comes too late), and its
// row count would be lost. It keeps ctx's values, not its cancellation,
// and is bounded by the operation timeout.
func (c *Cache) inFlight(ctx context.Context) (context.Context, context.CancelFunc) {
	return backends.InFlight(ctx, c.opTimeout)
}

// SetMany writes every item in one transaction, culling as Django's sets
// do, key by key.
func (c *Cache) SetMany(ctx context.Context, items []backends.Item, t backends.Timeout) ([]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	expT, forever, err := c.expiry(t)
	if err != nil {
		return keysOf(items), err // before the cull, as Django's first set raises
	}
	now := c.nowTime()
	exp := c.param(expT, forever)
	// The transaction's own context outlives an interrupt, so that a COMMIT
	// once sent is waited for and reported as it ended (database/sql would
	// otherwise roll back, or drop the COMMIT's reply, when ctx is
	// cancelled). The statements before it run under ctx: an interrupt
	// makes one fail, and the transaction is rolled back, nothing stored.
	txCtx, cancel := c.txContext(ctx)
	defer cancel()
	tx, err := c.db.BeginTx(txCtx, nil)
	if err != nil {
		return keysOf(items), c.fail("set_many", err)
	}
	defer tx.Rollback()
	upd, err := tx.PrepareContext(ctx, c.st.Update())
	if err != nil {
		return keysOf(items), c.fail("set_many", err)
	}
	ins, err := tx.PrepareContext(ctx, c.st.Insert())
	if err != nil {
		return keysOf(items), c.fail("set_many", err)
	}
	// Django's set_many is a set per key, and each set counts the rows and
	// culls when there are more than MAX_ENTRIES: so here, with the count
	// taken once and kept (a new row +1), in the batch's transaction.
	var num int
	if err := tx.QueryRowContext(ctx, c.st.Count()).Scan(&num); err != nil {
		return keysOf(items), c.fail("set_many", err)
	}
	for _, it := range items {
		if num > c.maxEntries {
			if num, err = c.cullOn(ctx, tx, now, num); err != nil {
				return keysOf(items), err
			}
		}
		b64 := base64.StdEncoding.EncodeToString(it.Entry.Data)
		res, err := upd.ExecContext(ctx, b64, exp, it.Key)
		if err != nil {
			return keysOf(items), c.fail("set_many", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := ins.ExecContext(ctx, it.Key, b64, exp); err != nil {
				return keysOf(items), c.fail("set_many", err)
			}
			num++
		}
	}
	if err := ctx.Err(); err != nil {
		return keysOf(items), err // rolled back: nothing of the batch stored
	}
	if err := tx.Commit(); err != nil {
		return keysOf(items), c.fail("set_many", err)
	}
	return nil, nil
}

// txContext is the context of a transaction that must end by COMMIT or
// ROLLBACK as the server saw it, not by the client giving up: ctx's values
// without its cancellation, bounded by ctx's deadline plus the operation
// timeout (by the operation timeout when ctx has none).
func (c *Cache) txContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.opTimeout
	if dl, ok := ctx.Deadline(); ok {
		d += max(time.Until(dl), 0)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

func keysOf(items []backends.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}

// Clear deletes every row, as Django does.
func (c *Cache) Clear(ctx context.Context) error {
	_, err := c.db.ExecContext(ctx, c.st.DeleteAll())
	return c.fail("clear", err)
}

// Describe names the database and table config show resolved (the
// database a config file's cache uses is otherwise not shown).
func (c *Cache) Describe() []backends.StatsField {
	tz := "UTC (use_tz=true)"
	if !c.useTZ {
		tz = c.loc.String() + " wall time (use_tz=false)"
	}
	return []backends.StatsField{
		{Name: "resolved_database", Value: c.target.display}, // redacted when made
		{Name: "dialect", Value: c.target.dialect.String()},
		{Name: "table", Value: c.table},
		{Name: "expires", Value: tz},
	}
}

// DescribeClear says how many rows go: the vendor's estimate where it
// has one (see rowCount), else a count.
func (c *Cache) DescribeClear(ctx context.Context) (backends.ClearPlan, error) {
	n, method, err := c.rowCount(ctx, c.estimateFields(ctx), false)
	if err != nil {
		return backends.ClearPlan{}, err
	}
	rows := fmt.Sprint(n)
	if method != rowsCounted {
		rows = fmt.Sprintf("(about %d, %s)", n, method)
	}
	return backends.ClearPlan{
		Ask: fmt.Sprintf("delete all %s row(s) of table %q in %s (every KEY_PREFIX and version)", rows, c.table, c.target.display),
		Done: func(int) string {
			return fmt.Sprintf("all rows of table %q deleted in %s (every KEY_PREFIX and version)", c.table, c.target.display)
		}}, nil
}

// estimateFields is sizeFields where the vendor has a row estimate for
// rowCount, and nothing elsewhere: on SQLite the size query (dbstat) reads
// every page, and a count is needed anyway.
func (c *Cache) estimateFields(ctx context.Context) []backends.StatsField {
	if _, ok := rowEstimateSources[c.target.dialect]; !ok {
		return nil
	}
	return c.sizeFields(ctx)
}

// rowsCounted is the rows_method of an exact count.
const rowsCounted = "counted"

// rowEstimateSources names, per vendor, where an estimated row count
// comes from.
var rowEstimateSources = map[sqlgen.Dialect]string{
	sqlgen.PostgreSQL: "estimated from pg_class.reltuples, the planner's statistics as of the last ANALYZE or VACUUM",
	sqlgen.MySQL:      "estimated from information_schema.TABLES.TABLE_ROWS, the storage engine's statistics",
}

// rowCount is the table's row count: unless exact, the vendor's estimate
// among the size fields (rows_estimate), which costs no scan; a count
// (SELECT COUNT(*), a full read of the table or an index) when exact, on
// SQLite, or when the estimate is missing or not positive (PostgreSQL:
// -1 until the table is first analyzed, 0 when it was analyzed empty).
// The method says which.
func (c *Cache) rowCount(ctx context.Context, size []backends.StatsField, exact bool) (int64, string, error) {
	if src, ok := rowEstimateSources[c.target.dialect]; ok && !exact {
		for _, f := range size {
			if n, ok := f.Value.(int64); ok && f.Name == sqlgen.RowsEstimate && n > 0 {
				return n, src, nil
			}
		}
	}
	var n int64
	if err := c.db.QueryRowContext(ctx, c.st.Count()).Scan(&n); err != nil {
		return 0, "", c.fail("count", err)
	}
	return n, rowsCounted, nil
}

// expiredCountLimit bounds the default report's count of expired rows: a
// table of mostly expired rows is not read to its end. (A variable for
// the tests.)
var expiredCountLimit = 100_000

// List pages through keys matching glob in key order; no cursor stays
// open between pages, so callers may delete while walking. A row expired
// as get has it (a miss to Django) is left out; ListKeyNames, which reads
// no expiry, lists it.
func (c *Cache) List(ctx context.Context, glob string, fn func(backends.KeyInfo) error) error {
	now := c.nowExact() // the listing's moment, as a page of get_many would take it
	live := func(ki backends.KeyInfo) error {
		if !ki.Forever && !ki.Expires.IsZero() && ki.Expires.Before(now) {
			return nil
		}
		return fn(ki)
	}
	return listPages(ctx, c, glob, c.st.ListLikeAfter, func(rows *sql.Rows) (string, backends.KeyInfo, error) {
		var key string
		var exp any
		var size int64
		if err := rows.Scan(&key, &exp, &size); err != nil {
			return "", backends.KeyInfo{}, err
		}
		ki := backends.KeyInfo{Key: key, Size: size * 3 / 4}
		if t, forever, err := c.readExpires(exp); err == nil {
			ki.Forever = forever
			if !forever {
				ki.Expires = t
			}
		}
		return key, ki, nil
	}, live)
}

// ListKeyNames is List for the keys alone: the same pages, without
// reading the rows' expiry or their values' length (which on PostgreSQL
// reads every value, de-TOASTing large ones).
func (c *Cache) ListKeyNames(ctx context.Context, glob string, fn func(key string) error) error {
	return listPages(ctx, c, glob, c.st.ListKeysLikeAfter, func(rows *sql.Rows) (string, string, error) {
		var key string
		err := rows.Scan(&key)
		return key, key, err
	}, fn)
}

// listPages runs query (a page of rows after the last key, in key order)
// until a short page, and calls fn with what scan makes of each row whose
// key matches glob. Each page is read whole and its rows closed before fn
// sees it, so fn may write to the table.
func listPages[T any](ctx context.Context, c *Cache, glob string, query func(limit int) string,
	scan func(*sql.Rows) (string, T, error), fn func(T) error) error {
	if glob == "" {
		glob = "*"
	}
	like, exact := sqlgen.GlobToLike(glob)
	if !exact {
		like = "%"
	}
	last := ""
	const page = 1000
	for {
		rows, err := c.db.QueryContext(ctx, query(page), like, last)
		if err != nil {
			return c.fail("list", err)
		}
		var batch []T
		scanned := 0
		for rows.Next() {
			key, item, err := scan(rows)
			if err != nil {
				rows.Close()
				return c.fail("list", err)
			}
			scanned++
			last = key
			// LIKE ignores case on SQLite and MySQL's default collations:
			// there the glob is checked again in Go.
			if (exact && c.target.dialect.CaseSensitiveLike()) || backends.MatchGlob(glob, key) {
				batch = append(batch, item)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return c.fail("list", err)
		}
		for _, item := range batch {
			if err := fn(item); err != nil {
				return err
			}
		}
		if scanned < page {
			return nil
		}
	}
}

// PruneExpired deletes expired rows in batches.
func (c *Cache) PruneExpired(ctx context.Context, batch int, progress func(int)) (int, error) {
	total := 0
	now := c.param(c.nowExact(), false) // the rows get treats as expired (and would delete)
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		fctx, cancel := c.inFlight(ctx)
		res, err := c.db.ExecContext(fctx, c.st.PruneExpiredBatch(batch), now)
		cancel()
		if err != nil {
			return total, c.fail("prune", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		if progress != nil {
			progress(int(n))
		}
		// Only an empty batch ends it: a concurrent write can make a
		// batch delete fewer rows than it selected (a row deleted or set
		// afresh meanwhile) with expired rows left after it.
		if n == 0 {
			return total, nil
		}
	}
}

// Stats reports rows, expired rows, expiry range, sizes and headroom,
// with no full read of the table where the vendor keeps statistics.
func (c *Cache) Stats(ctx context.Context) ([]backends.StatsSection, error) {
	return c.StatsWith(ctx, backends.StatsOptions{})
}

// StatsWith is Stats; with o.Exact the rows and the expired rows are
// counted whatever it takes. Otherwise rows is the vendor's estimate
// (rowCount) and at most expiredCountLimit expired rows are counted, on
// Django's index on expires; rows_method and expired_rows_method say what
// each number is.
func (c *Cache) StatsWith(ctx context.Context, o backends.StatsOptions) ([]backends.StatsSection, error) {
	size := c.sizeFields(ctx)
	rows, rowsMethod, err := c.rowCount(ctx, size, o.Exact)
	if err != nil {
		return nil, err
	}
	now := c.param(c.nowExact(), false) // expired as get has it; live rows are expires >= now
	var expired int64
	expiredMethod := rowsCounted
	if o.Exact {
		err = c.db.QueryRowContext(ctx, c.st.CountExpired(), now).Scan(&expired)
	} else {
		err = c.db.QueryRowContext(ctx, c.st.CountExpiredUpTo(expiredCountLimit+1), now).Scan(&expired)
		if expired > int64(expiredCountLimit) {
			expired = int64(expiredCountLimit)
			expiredMethod = fmt.Sprintf("counted up to %d: at least that many (--exact counts them all)", expiredCountLimit)
		}
	}
	if err != nil {
		return nil, c.fail("stats", err)
	}
	var lo, hi any
	if err := c.db.QueryRowContext(ctx, c.st.ExpiryRange(), now, c.param(time.Time{}, true)).Scan(&lo, &hi); err != nil {
		return nil, c.fail("stats", err)
	}
	stamp := func(v any) any {
		if v == nil {
			return nil
		}
		t, _, err := c.readExpires(v)
		if err != nil {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	fields := []backends.StatsField{
		{Name: "database", Value: c.target.display},
		{Name: "vendor", Value: c.target.dialect.String()},
		{Name: "table", Value: c.table},
		{Name: "rows", Value: rows},
		{Name: "rows_method", Value: rowsMethod},
		{Name: "expired_rows", Value: expired},
		{Name: "expired_rows_method", Value: expiredMethod},
		{Name: "oldest_expiry", Value: stamp(lo)},
		{Name: "newest_expiry", Value: stamp(hi)},
		{Name: "max_entries", Value: c.maxEntries},
		{Name: "max_entries_headroom", Value: int64(c.maxEntries) - rows},
		{Name: "cull_frequency", Value: c.cullFrequency},
		{Name: "use_tz", Value: c.useTZ},
	}
	fields = append(fields, size...)
	return []backends.StatsSection{{Name: "db", Fields: fields}}, nil
}

// sizeFields measures the table from the vendor's catalog (no scan): the
// first of sqlgen's size queries that the server answers wins, bound to
// the name under which the catalog records the table. A server that
// answers none leaves the fields out.
func (c *Cache) sizeFields(ctx context.Context) []backends.StatsField {
	name := c.target.dialect.CatalogName(c.table, sqlgen.Options{})
	for _, q := range c.st.TableSizeQueries() {
		args := make([]any, q.NameArgs)
		for i := range args {
			args[i] = name
		}
		vals := make([]sql.NullInt64, len(q.Columns))
		dest := make([]any, len(vals))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := c.db.QueryRowContext(ctx, q.SQL, args...).Scan(dest...); err != nil || !vals[0].Valid {
			continue // e.g. SQLite built without dbstat: try the next way
		}
		var out []backends.StatsField
		for i, col := range q.Columns {
			out = append(out, backends.StatsField{Name: col, Value: vals[i].Int64})
		}
		return out
	}
	return nil
}

// CountExpired counts the rows PruneExpired would delete now (over the
// index on expires that createcachetable makes).
func (c *Cache) CountExpired(ctx context.Context) (int64, error) {
	var n int64
	now := c.param(c.nowExact(), false)
	if err := c.db.QueryRowContext(ctx, c.st.CountExpired(), now).Scan(&n); err != nil {
		return 0, c.fail("count", err)
	}
	return n, nil
}

// EstimateKeys is the vendor's row estimate from its catalog where it has
// one (PostgreSQL's pg_class.reltuples, MySQL's TABLE_ROWS: no scan, but
// approximate), else COUNT(*) (SQLite, or a table never analyzed). Rows of
// every KEY_PREFIX count, expired ones too, so for a narrower glob it is
// an upper bound.
func (c *Cache) EstimateKeys(ctx context.Context, glob string) (backends.Estimate, error) {
	n, method, err := c.rowCount(ctx, c.estimateFields(ctx), false)
	if err != nil {
		return backends.UnknownEstimate, err
	}
	return backends.Estimate{N: n, Approximate: method != rowsCounted, UpperBound: glob != "" && glob != "*"}, nil
}

// Ping checks the connection and the table.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.db.PingContext(ctx); err != nil {
		return c.fail("ping", err)
	}
	var one int
	err := c.db.QueryRowContext(ctx, c.st.TableExists(), c.table).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return c.fail("ping", fmt.Errorf("cache table %q does not exist (run cachectl createcachetable)", c.table))
	}
	return c.fail("ping", err)
}

// CreateTable runs createcachetable for this cache's table. An existing
// table is left alone. The statements run in a transaction where the
// vendor can roll back DDL; on MySQL a failed index drops the new table,
// so no half-made table is left behind.
func (c *Cache) CreateTable(ctx context.Context, dryRun bool) ([]string, bool, error) {
	stmts := sqlgen.CreateTable(c.target.dialect, c.table, sqlgen.Options{})
	if c.target.path != "" {
		// SQLite is opened without creating the file; Django's connection
		// creates it, and so does createcachetable (a dry run needs none:
		// no table is there).
		if _, err := os.Stat(c.target.path); errors.Is(err, fs.ErrNotExist) {
			if dryRun {
				return stmts, false, nil
			}
			f, err := os.OpenFile(c.target.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, false, c.fail("createcachetable", err)
			}
			if f != nil {
				f.Close()
			}
		}
	}
	var one int
	err := c.db.QueryRowContext(ctx, c.st.TableExists(), c.table).Scan(&one)
	if err == nil {
		return nil, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, c.fail("createcachetable", err)
	}
	if dryRun {
		return stmts, false, nil
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return stmts, false, c.fail("createcachetable", err)
	}
	defer tx.Rollback()
	for i, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			if c.target.dialect == sqlgen.MySQL && i > 0 {
				// MySQL commits DDL at once: undo the table by hand.
				c.db.ExecContext(ctx, "DROP TABLE "+c.st.Table())
			}
			return stmts, false, c.fail("createcachetable", fmt.Errorf("cache table %q could not be created: %q failed: %w", c.table, firstLine(s), err))
		}
	}
	if err := tx.Commit(); err != nil {
		return stmts, false, c.fail("createcachetable", err)
	}
	return stmts, false, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Codec pickles; the base64 layer is this transport's.
func (c *Cache) Codec() backends.Codec { return backends.PickleCodec{} }

// Close closes the pool.
func (c *Cache) Close() error { return c.db.Close() }

// withPassword puts pw into a database URL that has a user but no password.
func withPassword(raw, pw string) string {
	scheme, rest, _ := strings.Cut(raw, "://")
	userinfo, after, ok := backends.CutUserinfo(rest) // the parsers' split: an "@" in the path is not the host's
	if !ok {
		return raw
	}
	user, oldPw, hasPw := strings.Cut(userinfo, ":")
	if hasPw && oldPw != "" {
		return raw
	}
	return scheme + "://" + user + ":" + url.PathEscape(pw) + "@" + after
}

// connectError makes pgx's failure to connect one line: its ConnectError
// lists every attempt (each address, with and without TLS under
// sslmode=prefer) after a newline and a tab, often the same failure twice.
// The distinct causes are kept, once each, joined by "; ".
func connectError(err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	head, rest, ok := strings.Cut(msg, "\n\t")
	if !ok {
		return err
	}
	var parts []string
	for _, p := range strings.Split(rest, "\n\t") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return &oneLineError{msg: strings.TrimRight(strings.TrimSpace(head), ":") + ": " + strings.Join(parts, "; "), err: err}
}

// oneLineError is an error with its text rewritten, the original kept for
// errors.Is and errors.As.
type oneLineError struct {
	msg string
	err error
}

func (e *oneLineError) Error() string { return e.msg }
func (e *oneLineError) Unwrap() error { return e.err }
