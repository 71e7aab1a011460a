package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cachectl/cachectl/sqlgen"
)

// TestIntegration runs CreateTable and every statement once on real
// SQLite (go-sqlite3, a file in t.TempDir()), PostgreSQL and MariaDB
// (scratch databases), and checks what they return, to prove the text is
// valid SQL with working placeholders on each vendor.
func TestIntegration(t *testing.T) {
	for _, vendor := range []string{"sqlite", "postgresql", "mysql"} {
		t.Run(vendor, func(t *testing.T) {
			d, err := sqlgen.ParseDialect(vendor)
			if err != nil {
				t.Fatal(err)
			}
			var db *sql.DB
			if vendor == "sqlite" {
				db, err = sql.Open("sqlite3", filepath.Join(t.TempDir(), "it.sqlite3"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
			} else {
				db = scratchDB(t, vendor).db
			}
			for _, table := range []string{"sqlgen_it", "odd table-name 1"} {
				t.Run(table, func(t *testing.T) { exercise(t, db, d, table) })
			}
			t.Run("invalid names", func(t *testing.T) {
				// The formats doc §6: a LOCATION holding a double quote gives
				// invalid SQL, except on MySQL, which quotes with backquotes.
				_, err := db.Exec(sqlgen.CreateTable(d, `weird table-name"x`, sqlgen.Options{})[0])
				if (err == nil) != (d == sqlgen.MySQL) {
					t.Errorf("CREATE TABLE for a name with a double quote: %v", err)
				}
			})
		})
	}
}

// runner executes statements and fails the test with the SQL on error.
type runner struct {
	t   *testing.T
	db  *sql.DB
	ctx context.Context
}

func (r runner) exec(q string, args ...any) int64 {
	r.t.Helper()
	res, err := r.db.ExecContext(r.ctx, q, args...)
	if err != nil {
		r.t.Fatalf("%s %v: %v", q, args, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		r.t.Fatalf("%s: rows affected: %v", q, err)
	}
	return n
}

// rows returns every row, each column scanned into an any.
func (r runner) rows(q string, args ...any) [][]any {
	r.t.Helper()
	rs, err := r.db.QueryContext(r.ctx, q, args...)
	if err != nil {
		r.t.Fatalf("%s %v: %v", q, args, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]any
	for rs.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			r.t.Fatalf("%s: %v", q, err)
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return out
}

// col0 returns the first column of every row as text.
func (r runner) col0(q string, args ...any) []string {
	r.t.Helper()
	var out []string
	for _, row := range r.rows(q, args...) {
		out = append(out, text(row[0]))
	}
	return out
}

func text(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return ""
}

func integer(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case int64:
		return x
	case []byte, string:
		var n int64
		for _, c := range text(x) {
			n = n*10 + int64(c-'0')
		}
		return n
	}
	t.Fatalf("not an integer: %T %v", v, v)
	return 0
}

// instant reads an expires column as each driver returns it.
func instant(t *testing.T, v any) time.Time {
	t.Helper()
	switch x := v.(type) {
	case time.Time:
		return x
	case []byte, string:
		tm, err := sqlgen.ParseExpires(text(x), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	t.Fatalf("not a time: %T %v", v, v)
	return time.Time{}
}

func exercise(t *testing.T, db *sql.DB, d sqlgen.Dialect, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := runner{t, db, ctx}
	s := sqlgen.For(d, table)
	// expires parameters: naive UTC text; PostgreSQL's timestamptz gets an offset.
	param := func(tm time.Time) string {
		if d == sqlgen.PostgreSQL {
			return sqlgen.FormatExpires(tm.UTC()) + "+00"
		}
		return sqlgen.FormatExpires(tm.UTC())
	}
	forever := sqlgen.MaxExpires
	if d == sqlgen.PostgreSQL {
		forever += "+00"
	}
	now := time.Now().UTC().Truncate(time.Second)
	soon, later, past := now.Add(time.Hour), now.Add(2*time.Hour), now.Add(-time.Hour)

	if got := r.rows(s.TableExists(), table); len(got) != 0 {
		t.Fatalf("TableExists before creation: %v", got)
	}
	for _, q := range sqlgen.CreateTable(d, table, sqlgen.Options{}) {
		r.exec(q)
	}
	if got := r.rows(s.TableExists(), table); len(got) != 1 {
		t.Fatalf("TableExists after creation: %v", got)
	}

	for _, row := range []struct {
		key, value, expires string
	}{
		{":1:k1", "dmFsdWUx", param(soon)},
		{":1:k2", "dmFsdWUy", param(later)},
		{":1:e1", "eA==", param(past)},
		{":1:f1", "eA==", forever},
		{":1:50%_off", "eA==", param(soon)},
	} {
		if n := r.exec(s.Insert(), row.key, row.value, row.expires); n != 1 {
			t.Fatalf("Insert %s affected %d", row.key, n)
		}
	}
	if _, err := db.ExecContext(ctx, s.Insert(), ":1:k1", "eA==", param(soon)); err == nil {
		t.Error("a second Insert of the same key succeeded (add must fail on a live row)")
	}
	if n := integer(t, r.rows(s.Count())[0][0]); n != 5 {
		t.Errorf("Count = %d", n)
	}
	got := r.rows(s.SelectMany(3), ":1:k1", ":1:k2", ":1:none")
	if len(got) != 2 {
		t.Fatalf("SelectMany: %v", got)
	}
	for _, row := range got {
		if k := text(row[0]); (k == ":1:k1" && text(row[1]) != "dmFsdWUx") || (k == ":1:k2" && !instant(t, row[2]).Equal(later)) {
			t.Errorf("SelectMany row %v", row)
		}
	}
	if got := r.rows(s.SelectOne(), ":1:k1"); len(got) != 1 || text(got[0][0]) != ":1:k1" || !instant(t, got[0][1]).Equal(soon) {
		t.Errorf("SelectOne: %v", got)
	}
	if n := r.exec(s.Update(), "bmV3", param(soon), ":1:k1"); n != 1 {
		t.Errorf("Update affected %d", n)
	}
	if n := r.exec(s.UpdateExpires(), param(past.Add(-time.Minute)), ":1:e1"); n != 1 {
		t.Errorf("UpdateExpires affected %d", n)
	}
	if got := r.rows(s.HasKey(), ":1:k1", param(now)); len(got) != 1 {
		t.Errorf("HasKey live: %v", got)
	}
	if got := r.rows(s.HasKey(), ":1:e1", param(now)); len(got) != 0 {
		t.Errorf("HasKey expired: %v", got)
	}
	if got := r.rows(s.SelectExpires(), ":1:k2"); len(got) != 1 || !instant(t, got[0][0]).Equal(later) {
		t.Errorf("SelectExpires: %v", got)
	}
	if got := r.rows(s.SelectExpires(), ":1:f1"); len(got) != 1 || instant(t, got[0][0]).Year() != 9999 {
		t.Errorf("SelectExpires forever: %v", got)
	}
	if n := integer(t, r.rows(s.CountExpired(), param(now))[0][0]); n != 1 {
		t.Errorf("CountExpired = %d", n)
	}
	r.exec(s.Insert(), ":1:e2", "eA==", param(past))
	for _, tc := range []struct{ limit, want int64 }{{5, 2}, {2, 2}, {1, 1}} {
		if n := integer(t, r.rows(s.CountExpiredUpTo(int(tc.limit)), param(now))[0][0]); n != tc.want {
			t.Errorf("CountExpiredUpTo(%d) = %d, want %d", tc.limit, n, tc.want)
		}
	}
	r.exec(s.DeleteMany(1), ":1:e2")
	if got := r.rows(s.ExpiryRange(), param(now), forever); len(got) != 1 || !instant(t, got[0][0]).Equal(soon) || !instant(t, got[0][1]).Equal(later) {
		t.Errorf("ExpiryRange: %v", got)
	}
	func() {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var key, value string
		var exp any
		if err := tx.QueryRowContext(ctx, s.SelectForIncr(), ":1:k1").Scan(&key, &value, &exp); err != nil || key != ":1:k1" || value != "bmV3" {
			t.Errorf("SelectForIncr: %q %q %v", key, value, err)
		}
	}()

	like := func(glob string) string {
		l, ok := sqlgen.GlobToLike(glob)
		if !ok {
			t.Fatalf("GlobToLike(%q) not ok", glob)
		}
		return l
	}
	list := r.rows(s.ListLike(), like(":1:k*"))
	if len(list) != 2 || text(list[0][0]) != ":1:k1" || text(list[1][0]) != ":1:k2" || integer(t, list[1][2]) != 8 || !instant(t, list[1][1]).Equal(later) {
		t.Errorf("ListLike: %v", list)
	}
	tests := []struct {
		glob string
		want []string
	}{
		{"*", []string{":1:50%_off", ":1:e1", ":1:f1", ":1:k1", ":1:k2"}},
		{":1:?1", []string{":1:e1", ":1:f1", ":1:k1"}},
		{":1:50%*", []string{":1:50%_off"}},
		{":1:5_*", nil},
		{`:1:50%\_off`, []string{":1:50%_off"}},
		{":1:k", nil},
	}
	for _, tc := range tests {
		if got := r.col0(s.ListLike(), like(tc.glob)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListLike(%q) = %q, want %q", tc.glob, got, tc.want)
		}
	}
	var paged []string
	page := r.col0(s.ListLikeFirst(2), "%")
	for len(page) > 0 {
		paged = append(paged, page...)
		page = r.col0(s.ListLikeAfter(2), "%", paged[len(paged)-1])
	}
	if !reflect.DeepEqual(paged, tests[0].want) {
		t.Errorf("ListLikeFirst/ListLikeAfter pages: %q", paged)
	}
	var names []string
	for page, last := r.col0(s.ListKeysLikeAfter(2), "%", ""), ""; len(page) > 0; page = r.col0(s.ListKeysLikeAfter(2), "%", last) {
		names = append(names, page...)
		last = page[len(page)-1]
	}
	if !reflect.DeepEqual(names, tests[0].want) {
		t.Errorf("ListKeysLikeAfter pages: %q", names)
	}
	if n := r.exec(s.DeleteLike(), like(":1:50%*")); n != 1 {
		t.Errorf("DeleteLike affected %d", n)
	}
	if n := r.exec(s.PruneExpiredBatch(1), param(now)); n != 1 {
		t.Errorf("PruneExpiredBatch first batch %d", n)
	}
	if n := r.exec(s.PruneExpiredBatch(1), param(now)); n != 0 {
		t.Errorf("PruneExpiredBatch second batch %d", n)
	}
	// Left: :1:f1 :1:k1 :1:k2. The cull finds the key at offset 1, then
	// deletes the keys below it.
	if got := r.col0(s.CullKeyAtOffset(), 1); !reflect.DeepEqual(got, []string{":1:k1"}) {
		t.Errorf("CullKeyAtOffset(1) = %q", got)
	}
	if got := r.col0(s.CullKeyAtOffset(), 3); len(got) != 0 {
		t.Errorf("CullKeyAtOffset(3) = %q", got)
	}
	if n := r.exec(s.DeleteBelowKey(), ":1:k1"); n != 1 {
		t.Errorf("DeleteBelowKey affected %d", n)
	}
	if n := r.exec(s.DeleteExpired(), param(now)); n != 0 {
		t.Errorf("DeleteExpired affected %d", n)
	}
	if n := r.exec(s.DeleteMany(2), ":1:k1", ":1:k2"); n != 2 {
		t.Errorf("DeleteMany affected %d", n)
	}

	// Django 3.2's partly unquoted statements run too.
	s32 := sqlgen.New(d, table, dj32)
	r.exec(s.Insert(), ":1:a", "eA==", param(past))
	r.exec(s.Insert(), ":1:b", "eA==", param(soon))
	r.exec(s.Insert(), ":1:c", "eA==", param(soon))
	if got := r.rows(s32.HasKey(), ":1:b", param(now)); len(got) != 1 {
		t.Errorf("3.2 HasKey: %v", got)
	}
	if n := r.exec(s32.DeleteExpired(), param(now)); n != 1 {
		t.Errorf("3.2 DeleteExpired affected %d", n)
	}
	if got := r.col0(s32.CullKeyAtOffset(), 1); !reflect.DeepEqual(got, []string{":1:c"}) {
		t.Errorf("3.2 CullKeyAtOffset = %q", got)
	}
	if n := r.exec(s32.DeleteBelowKey(), ":1:c"); n != 1 {
		t.Errorf("3.2 DeleteBelowKey affected %d", n)
	}
	if n := r.exec(s.DeleteAll()); n != 1 {
		t.Errorf("DeleteAll affected %d", n)
	}

	// Sizes: the first query that works must give numbers.
	name := d.CatalogName(table, sqlgen.Options{})
	measured := false
	for _, q := range s.TableSizeQueries() {
		args := make([]any, q.NameArgs)
		for i := range args {
			args[i] = name
		}
		vals := make([]sql.NullInt64, len(q.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err := db.QueryRowContext(ctx, q.SQL, args...).Scan(ptrs...)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				t.Errorf("%s: no row for %q", q.SQL, name)
			}
			t.Logf("size query failed, trying the next: %v", err)
			continue
		}
		measured = true
		for i, v := range vals {
			if !v.Valid || (v.Int64 <= 0 && q.Columns[i] != sqlgen.RowsEstimate) {
				t.Errorf("%s = %v (%s)", q.Columns[i], v, q.SQL)
			}
		}
		break
	}
	if !measured {
		t.Error("no size query worked")
	}
}
