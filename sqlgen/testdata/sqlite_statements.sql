-- SelectMany(3)
SELECT "cache_key", "value", "expires" FROM "my_cache_table" WHERE "cache_key" IN (?, ?, ?)
-- DeleteMany(3)
DELETE FROM "my_cache_table" WHERE "cache_key" IN (?, ?, ?)
-- Count
SELECT COUNT(*) FROM "my_cache_table"
-- SelectOne
SELECT "cache_key", "expires" FROM "my_cache_table" WHERE "cache_key" = ?
-- Update
UPDATE "my_cache_table" SET "value" = ?, "expires" = ? WHERE "cache_key" = ?
-- UpdateExpires
UPDATE "my_cache_table" SET "expires" = ? WHERE "cache_key" = ?
-- Insert
INSERT INTO "my_cache_table" ("cache_key", "value", "expires") VALUES (?, ?, ?)
-- HasKey
SELECT "cache_key" FROM "my_cache_table" WHERE "cache_key" = ? and "expires" > ?
-- DeleteExpired
DELETE FROM "my_cache_table" WHERE "expires" < ?
-- CullKeyAtOffset
SELECT "cache_key" FROM "my_cache_table" ORDER BY "cache_key" LIMIT 1 OFFSET ?
-- DeleteBelowKey
DELETE FROM "my_cache_table" WHERE "cache_key" < ?
-- DeleteAll
DELETE FROM "my_cache_table"
-- SelectExpires
SELECT "expires" FROM "my_cache_table" WHERE "cache_key" = ?
-- SelectForIncr
SELECT "cache_key", "value", "expires" FROM "my_cache_table" WHERE "cache_key" = ?
-- ListLike
SELECT "cache_key", "expires", LENGTH("value") FROM "my_cache_table" WHERE "cache_key" LIKE ? ESCAPE '!' ORDER BY "cache_key"
-- ListLikeFirst(1000)
SELECT "cache_key", "expires", LENGTH("value") FROM "my_cache_table" WHERE "cache_key" LIKE ? ESCAPE '!' ORDER BY "cache_key" LIMIT 1000
-- ListLikeAfter(1000)
SELECT "cache_key", "expires", LENGTH("value") FROM "my_cache_table" WHERE "cache_key" LIKE ? ESCAPE '!' AND "cache_key" > ? ORDER BY "cache_key" LIMIT 1000
-- ListKeysLikeAfter(1000)
SELECT "cache_key" FROM "my_cache_table" WHERE "cache_key" LIKE ? ESCAPE '!' AND "cache_key" > ? ORDER BY "cache_key" LIMIT 1000
-- DeleteLike
DELETE FROM "my_cache_table" WHERE "cache_key" LIKE ? ESCAPE '!'
-- CountExpired
SELECT COUNT(*) FROM "my_cache_table" WHERE "expires" < ?
-- CountExpiredUpTo(100000)
SELECT COUNT(*) FROM (SELECT 1 FROM "my_cache_table" WHERE "expires" < ? LIMIT 100000) expired
-- ExpiryRange
SELECT MIN("expires"), MAX("expires") FROM "my_cache_table" WHERE "expires" >= ? AND "expires" < ?
-- PruneExpiredBatch(1000)
DELETE FROM "my_cache_table" WHERE "cache_key" IN (SELECT "cache_key" FROM "my_cache_table" WHERE "expires" < ? LIMIT 1000)
-- TableExists
SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?
-- TableSizeQueries[0] NameArgs=2 Columns=table_bytes,index_bytes
SELECT (SELECT SUM(pgsize) FROM dbstat WHERE name = ?), (SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?))
-- TableSizeQueries[1] NameArgs=0 Columns=database_bytes
SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()
-- Django 3.2 HasKey
SELECT "cache_key" FROM "my_cache_table" WHERE "cache_key" = ? and expires > ?
-- Django 3.2 DeleteExpired
DELETE FROM "my_cache_table" WHERE expires < ?
-- Django 3.2 CullKeyAtOffset
SELECT cache_key FROM "my_cache_table" ORDER BY cache_key LIMIT 1 OFFSET ?
-- Django 3.2 DeleteBelowKey
DELETE FROM "my_cache_table" WHERE cache_key < ?
