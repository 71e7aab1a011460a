package sqlgen

import "strconv"

// Statements holds the SQL of one cache table in one dialect. Get it from
// New or For. Each method returns one statement, without a trailing ";",
// in the dialect's placeholder style; its doc comment lists the bind
// parameters in order, and the result columns of a query.
//
// Values bound as "expires" and "now" are Django's expiry text (see
// FormatExpires and MaxExpires; on PostgreSQL a timestamptz literal), and
// "value" is the base64 text of the pickle.
type Statements struct {
	d   Dialect
	o   Options
	t   string // quoted table
	key string // quoted cache_key
	val string // quoted value
	exp string // quoted expires
}

// New returns the statements for LOCATION table in dialect d. Django 4.0+
// quotes every identifier; with o.Django32 the text is Django 3.2's, which
// leaves expires bare in HasKey and DeleteExpired, and cache_key bare in
// CullKeyAtOffset and DeleteBelowKey (Oracle and the others alike).
func New(d Dialect, table string, o Options) Statements {
	qn := func(s string) string { return d.QuoteName(s, o) }
	return Statements{d: d, o: o, t: qn(table), key: qn("cache_key"), val: qn("value"), exp: qn("expires")}
}

// For is New with the zero Options: Django 4.0+ text.
func For(d Dialect, table string) Statements { return New(d, table, Options{}) }

// Dialect is the dialect the statements are written in.
func (s Statements) Dialect() Dialect { return s.d }

// Table is the table name as quoted in every statement (QuoteName).
func (s Statements) Table() string { return s.t }

// p is the i-th placeholder.
func (s Statements) p(i int) string { return s.d.Placeholder(i) }

// keyCol32 and expCol32 are the cache_key/expires spellings of the
// statements Django 3.2 left unquoted.
func (s Statements) keyCol32() string {
	if s.o.Django32 {
		return "cache_key"
	}
	return s.key
}

func (s Statements) expCol32() string {
	if s.o.Django32 {
		return "expires"
	}
	return s.exp
}

// limit appends a row limit in the dialect's syntax.
func (s Statements) limit(q string, n int) string {
	if s.d == Oracle {
		return q + " FETCH FIRST " + strconv.Itoa(n) + " ROWS ONLY"
	}
	return q + " LIMIT " + strconv.Itoa(n)
}

// ---- Django's own statements (core/cache/backends/db.py) ----

// SelectMany is get/get_many's read of n keys (n ≥ 1; Django never asks
// for 0): SELECT cache_key, value, expires FROM t WHERE cache_key IN (…).
// Params: the n keys. Rows: cache_key, value, expires. Django then drops
// rows whose expires < now on the client side and deletes them with
// DeleteMany.
func (s Statements) SelectMany(n int) string {
	return "SELECT " + s.key + ", " + s.val + ", " + s.exp + " FROM " + s.t +
		" WHERE " + s.key + " IN (" + s.d.placeholders(1, n) + ")"
}

// DeleteMany is delete/delete_many, and get's removal of expired rows:
// DELETE FROM t WHERE cache_key IN (…). Params: the n keys (n ≥ 1). The
// affected row count is delete's result.
func (s Statements) DeleteMany(n int) string {
	return "DELETE FROM " + s.t + " WHERE " + s.key + " IN (" + s.d.placeholders(1, n) + ")"
}

// Count is SELECT COUNT(*) FROM t, run at every set/add/touch before the
// cull check. No params. One row, one integer.
func (s Statements) Count() string { return "SELECT COUNT(*) FROM " + s.t }

// SelectOne is the read inside set/add/touch's transaction:
// SELECT cache_key, expires FROM t WHERE cache_key = ?. Params: key.
// Rows: cache_key, expires (zero or one row).
func (s Statements) SelectOne() string {
	return "SELECT " + s.key + ", " + s.exp + " FROM " + s.t + " WHERE " + s.key + " = " + s.p(1)
}

// SelectForWrite is SelectOne (the name the db backend first used).
func (s Statements) SelectForWrite() string { return s.SelectOne() }

// Update is set (row present) and add (row present but expired):
// UPDATE t SET value = ?, expires = ? WHERE cache_key = ?.
// Params: value, expires, key.
func (s Statements) Update() string {
	return "UPDATE " + s.t + " SET " + s.val + " = " + s.p(1) + ", " + s.exp + " = " + s.p(2) +
		" WHERE " + s.key + " = " + s.p(3)
}

// UpdateExpires is touch on a present row (expired or not):
// UPDATE t SET expires = ? WHERE cache_key = ?. Params: expires, key.
func (s Statements) UpdateExpires() string {
	return "UPDATE " + s.t + " SET " + s.exp + " = " + s.p(1) + " WHERE " + s.key + " = " + s.p(2)
}

// Insert is set/add when no row is present (and add on a live row, where
// the primary key makes it fail): INSERT INTO t (cache_key, value,
// expires) VALUES (?, ?, ?). Params: key, value, expires.
func (s Statements) Insert() string {
	return "INSERT INTO " + s.t + " (" + s.key + ", " + s.val + ", " + s.exp + ") VALUES (" + s.d.placeholders(1, 3) + ")"
}

// HasKey is has_key: SELECT cache_key FROM t WHERE cache_key = ? and
// expires > ? (Django writes the "and" in lower case). Params: key, now.
// A row means True. Note ">": a row expiring exactly now is not there for
// has_key, though get still returns it.
func (s Statements) HasKey() string {
	return "SELECT " + s.key + " FROM " + s.t + " WHERE " + s.key + " = " + s.p(1) + " and " + s.expCol32() + " > " + s.p(2)
}

// DeleteExpired is the first step of the cull: DELETE FROM t WHERE
// expires < ?. Params: now. Django 4.0+ subtracts the affected row count
// from the count it had; 3.2 runs Count again.
func (s Statements) DeleteExpired() string {
	return "DELETE FROM " + s.t + " WHERE " + s.expCol32() + " < " + s.p(1)
}

// CullKeyAtOffset is the vendor's cache_key_culling_sql applied to the
// table: the cache_key at a 0-based offset in ORDER BY cache_key.
// SQLite/PostgreSQL/MySQL: "… ORDER BY cache_key LIMIT 1 OFFSET ?";
// Oracle: "… ORDER BY cache_key OFFSET ? ROWS FETCH FIRST 1 ROWS ONLY".
// Params: the offset (an integer, cull_num). Rows: cache_key (none when
// the offset is past the end; Django then stops).
func (s Statements) CullKeyAtOffset() string {
	k := s.keyCol32()
	if s.d == Oracle {
		return "SELECT " + k + " FROM " + s.t + " ORDER BY " + k + " OFFSET " + s.p(1) + " ROWS FETCH FIRST 1 ROWS ONLY"
	}
	return "SELECT " + k + " FROM " + s.t + " ORDER BY " + k + " LIMIT 1 OFFSET " + s.p(1)
}

// DeleteBelowKey is the cull's last step: DELETE FROM t WHERE cache_key
// < ?. Params: the key CullKeyAtOffset returned. The comparison uses the
// database collation, as Django's does.
func (s Statements) DeleteBelowKey() string {
	return "DELETE FROM " + s.t + " WHERE " + s.keyCol32() + " < " + s.p(1)
}

// DeleteAll is clear: DELETE FROM t. No params. It removes every row,
// whatever its KEY_PREFIX or version.
func (s Statements) DeleteAll() string { return "DELETE FROM " + s.t }

// ---- cachectl's own statements ----

// SelectExpires reads one row's expiry (cachectl's ttl reads SelectOne
// instead, which names the row's own key):
// SELECT expires FROM t WHERE cache_key = ?. Params: key. Rows: expires.
func (s Statements) SelectExpires() string {
	return "SELECT " + s.exp + " FROM " + s.t + " WHERE " + s.key + " = " + s.p(1)
}

// SelectForIncr reads one row for a read-modify-write inside a
// transaction, locking it where the vendor can (FOR UPDATE; SQLite locks
// the database at the first write instead): SELECT cache_key, value,
// expires FROM t WHERE cache_key = ?. Params: key. Rows: cache_key, value,
// expires. The row's own cache_key may differ from the key asked where
// the collation folds case or accents (MySQL's defaults): Django's get
// takes that row for a miss.
func (s Statements) SelectForIncr() string {
	q := "SELECT " + s.key + ", " + s.val + ", " + s.exp + " FROM " + s.t + " WHERE " + s.key + " = " + s.p(1)
	if s.d != SQLite {
		q += " FOR UPDATE"
	}
	return q
}

// LikeEscape is the escape character of every LIKE in this package.
const LikeEscape = "!"

// listColumns are the columns of the List statements.
func (s Statements) listColumns() string {
	return "SELECT " + s.key + ", " + s.exp + ", LENGTH(" + s.val + ") FROM " + s.t
}

func (s Statements) like(i int) string {
	return s.key + " LIKE " + s.p(i) + " ESCAPE '" + LikeEscape + "'"
}

// ListLike lists every row whose key matches a LIKE pattern (GlobToLike
// makes one), in key order, for reading as one stream:
// SELECT cache_key, expires, LENGTH(value) FROM t WHERE cache_key LIKE ?
// ESCAPE '!' ORDER BY cache_key. Params: pattern. Rows: cache_key,
// expires, length of the base64 value in characters (bytes of the pickle
// ≈ length × 3 / 4). Holding the cursor open keeps a read transaction
// open; ListLikeFirst/ListLikeAfter page instead.
func (s Statements) ListLike() string {
	return s.listColumns() + " WHERE " + s.like(1) + " ORDER BY " + s.key
}

// ListLikeFirst is the first page of ListLike: at most n rows. Params:
// pattern. Rows as ListLike.
func (s Statements) ListLikeFirst(n int) string {
	return s.limit(s.listColumns()+" WHERE "+s.like(1)+" ORDER BY "+s.key, n)
}

// ListLikeAfter is a following page of ListLike (keyset pagination, no
// cursor kept between pages): at most n rows whose key sorts after the
// last key of the previous page. Params: pattern, last key. Rows as
// ListLike. An empty last key works as a first page except on Oracle,
// where the empty string is NULL: use ListLikeFirst there.
func (s Statements) ListLikeAfter(n int) string {
	return s.limit(s.listColumns()+" WHERE "+s.like(1)+" AND "+s.key+" > "+s.p(2)+" ORDER BY "+s.key, n)
}

// ListKeysLikeAfter is ListLikeAfter for the keys alone: at most n keys
// matching a LIKE pattern that sort after the last key of the previous
// page, in key order, without reading the rows' values (PostgreSQL can
// answer it from the primary key's index alone):
// SELECT cache_key FROM t WHERE cache_key LIKE ? ESCAPE '!' AND
// cache_key > ? ORDER BY cache_key LIMIT n. Params: pattern, last key.
// Rows: cache_key. On Oracle the empty last key is NULL, as for
// ListLikeAfter.
func (s Statements) ListKeysLikeAfter(n int) string {
	return s.limit("SELECT "+s.key+" FROM "+s.t+" WHERE "+s.like(1)+" AND "+s.key+" > "+s.p(2)+" ORDER BY "+s.key, n)
}

// DeleteLike deletes every row whose key matches a LIKE pattern:
// DELETE FROM t WHERE cache_key LIKE ? ESCAPE '!'. Params: pattern.
func (s Statements) DeleteLike() string {
	return "DELETE FROM " + s.t + " WHERE " + s.like(1)
}

// CountExpired counts the rows that get would treat as expired:
// SELECT COUNT(*) FROM t WHERE expires < ?. Params: now.
func (s Statements) CountExpired() string {
	return "SELECT COUNT(*) FROM " + s.t + " WHERE " + s.exp + " < " + s.p(1)
}

// CountExpiredUpTo counts the expired rows, but at most n of them, so
// that a table full of expired rows is not read to its end:
// SELECT COUNT(*) FROM (SELECT 1 FROM t WHERE expires < ? LIMIT n) expired
// (Oracle: FETCH FIRST n ROWS ONLY). Params: now. One row, one integer;
// n means "n or more". The condition is a range on expires, which
// Django's index on expires answers (an index-only scan on PostgreSQL
// once the table has statistics).
func (s Statements) CountExpiredUpTo(n int) string {
	return "SELECT COUNT(*) FROM (" + s.limit("SELECT 1 FROM "+s.t+" WHERE "+s.exp+" < "+s.p(1), n) + ") expired"
}

// ExpiryRange is the earliest and latest expiry among live rows that do
// expire: SELECT MIN(expires), MAX(expires) FROM t WHERE expires >= ? AND
// expires < ?. Params: now, forever (MaxExpires in the vendor's form).
// One row; both NULL when no row qualifies.
func (s Statements) ExpiryRange() string {
	return "SELECT MIN(" + s.exp + "), MAX(" + s.exp + ") FROM " + s.t +
		" WHERE " + s.exp + " >= " + s.p(1) + " AND " + s.exp + " < " + s.p(2)
}

// PruneExpiredBatch deletes at most n expired rows, so that pruning a big
// table never holds long locks; repeat until fewer than n rows are
// affected. Params: now. MySQL: DELETE … WHERE expires < ? LIMIT n;
// Oracle: … AND ROWNUM <= n; PostgreSQL: DELETE … WHERE cache_key =
// ANY(ARRAY(SELECT cache_key … LIMIT n)) AND expires < $1, primary-key
// lookups of just those rows (the IN (SELECT cache_key …) form plans as a
// hash join over a sequential scan of the whole table: 200 ms a batch at
// 1M rows against 20 ms), and a row another client made unexpired
// meanwhile is rechecked and kept; SQLite: DELETE … WHERE cache_key IN
// (SELECT cache_key FROM t WHERE expires < ? LIMIT n).
func (s Statements) PruneExpiredBatch(n int) string {
	switch s.d {
	case PostgreSQL:
		return "DELETE FROM " + s.t + " WHERE " + s.key + " = ANY(ARRAY(SELECT " + s.key + " FROM " + s.t +
			" WHERE " + s.exp + " < " + s.p(1) + " LIMIT " + strconv.Itoa(n) + ")) AND " + s.exp + " < " + s.p(1)
	case MySQL:
		return "DELETE FROM " + s.t + " WHERE " + s.exp + " < " + s.p(1) + " LIMIT " + strconv.Itoa(n)
	case Oracle:
		return "DELETE FROM " + s.t + " WHERE " + s.exp + " < " + s.p(1) + " AND ROWNUM <= " + strconv.Itoa(n)
	}
	return "DELETE FROM " + s.t + " WHERE " + s.key + " IN (SELECT " + s.key + " FROM " + s.t +
		" WHERE " + s.exp + " < " + s.p(1) + " LIMIT " + strconv.Itoa(n) + ")"
}

// TableExists asks the catalog whether a base table of that name exists,
// the way Django's introspection.table_names() does for createcachetable
// (views excluded). Params: the raw LOCATION, compared as Django compares
// it: exactly on SQLite and PostgreSQL (tables visible in search_path,
// partitions excluded), per the server's lower_case_table_names on MySQL
// (current database), and lower-cased catalog names on Oracle. A row
// means it exists.
func (s Statements) TableExists() string {
	switch s.d {
	case PostgreSQL:
		return "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace" +
			" WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition" +
			" AND n.nspname NOT IN ('pg_catalog', 'pg_toast') AND pg_catalog.pg_table_is_visible(c.oid)"
	case MySQL:
		return "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'"
	case Oracle:
		return "SELECT 1 FROM user_tables WHERE LOWER(table_name) = :1" +
			" AND NOT EXISTS (SELECT 1 FROM user_mviews WHERE user_mviews.mview_name = user_tables.table_name)"
	}
	return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
}

// Column names of SizeQuery results.
const (
	TableBytes    = "table_bytes"    // the table's own storage (PostgreSQL: heap and TOAST)
	IndexBytes    = "index_bytes"    // all its indexes, the primary key's included
	TotalBytes    = "total_bytes"    // table plus indexes
	RowsEstimate  = "rows_estimate"  // the planner's row count, no scan; may be stale (-1: never analyzed)
	DatabaseBytes = "database_bytes" // the whole database file (SQLite fallback)
)

// SizeQuery measures the table without scanning it.
type SizeQuery struct {
	SQL string
	// NameArgs is how many bind parameters the query takes; bind the
	// table's CatalogName that many times.
	NameArgs int
	// Columns names the result columns in order (TableBytes …). A query
	// returns one row, or none when the table is missing.
	Columns []string
}

// TableSizeQueries lists the ways to measure the table, best first; use
// the first that succeeds.
//   - SQLite: the dbstat virtual table (TableBytes, IndexBytes), which
//     exists only in builds with SQLITE_ENABLE_DBSTAT_VTAB (mattn/go-sqlite3
//     needs the sqlite_dbstat build tag); otherwise page_count × page_size
//     from the pragma functions (DatabaseBytes: the whole file, every
//     table).
//   - PostgreSQL: pg_table_size, pg_indexes_size, pg_total_relation_size
//     and pg_class.reltuples.
//   - MySQL: information_schema.TABLES DATA_LENGTH, INDEX_LENGTH, their
//     sum and TABLE_ROWS (InnoDB estimates, refreshed by ANALYZE TABLE).
//   - Oracle: none (nil).
func (s Statements) TableSizeQueries() []SizeQuery {
	switch s.d {
	case SQLite:
		return []SizeQuery{
			{SQL: "SELECT (SELECT SUM(pgsize) FROM dbstat WHERE name = ?)," +
				" (SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN" +
				" (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?))",
				NameArgs: 2, Columns: []string{TableBytes, IndexBytes}},
			{SQL: "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
				NameArgs: 0, Columns: []string{DatabaseBytes}},
		}
	case PostgreSQL:
		return []SizeQuery{{SQL: "SELECT pg_table_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid), c.reltuples::bigint" +
			" FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(quote_ident($1))",
			NameArgs: 1, Columns: []string{TableBytes, IndexBytes, TotalBytes, RowsEstimate}}}
	case MySQL:
		return []SizeQuery{{SQL: "SELECT DATA_LENGTH, INDEX_LENGTH, DATA_LENGTH + INDEX_LENGTH, TABLE_ROWS" +
			" FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
			NameArgs: 1, Columns: []string{TableBytes, IndexBytes, TotalBytes, RowsEstimate}}}
	}
	return nil
}
