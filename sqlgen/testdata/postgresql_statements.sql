-- SelectMany(3)
SELECT "cache_key", "value", "expires" FROM "my_cache_table" WHERE "cache_key" IN ($1, $2, $3)
-- DeleteMany(3)
DELETE FROM "my_cache_table" WHERE "cache_key" IN ($1, $2, $3)
-- Count
SELECT COUNT(*) FROM "my_cache_table"
-- SelectOne
SELECT "cache_key", "expires" FROM "my_cache_table" WHERE "cache_key" = $1
-- Update
UPDATE "my_cache_table" SET "value" = $1, "expires" = $2 WHERE "cache_key" = $3
-- UpdateExpires
UPDATE "my_cache_table" SET "expires" = $1 WHERE "cache_key" = $2
-- Insert
INSERT INTO "my_cache_table" ("cache_key", "value", "expires") VALUES ($1, $2, $3)
-- HasKey
SELECT "cache_key" FROM "my_cache_table" WHERE "cache_key" = $1 and "expires" > $2
-- DeleteExpired
DELETE FROM "my_cache_table" WHERE "expires" < $1
-- CullKeyAtOffset
SELECT "cache_key" FROM "my_cache_table" ORDER BY "cache_key" LIMIT 1 OFFSET $1
-- DeleteBelowKey
DELETE FROM "my_cache_table" WHERE "cache_key" < $1
-- DeleteAll
DELETE FROM "my_cache_table"
-- SelectExpires
SELECT "expires" FROM "my_cache_table" WHERE "cache_key" = $1
-- SelectForIncr
SELECT "cache_key", "value", "expires" FROM "my_cache_table" WHERE "cache_key" = $1 FOR UPDATE
-- ListLike
SELECT "cache_key", "expires", LENGTH("value") FROM "my_cache_table" WHERE "cache_key" LIKE $1 ESCAPE '!' ORDER BY "cache_key"
-- ListLikeFirst(1000)
SELECT "cache_key", "expires", LENGTH("value") FROM "my_cache_table" WHERE "cache_key" LIKE $1 ESCAPE '!' ORDER BY "cache_key" LIMIT 1000
-- ListLikeAfter(1000)
SELECT "cache_key", "expires", LENGTH("value") FROM "my_cache_table" WHERE "cache_key" LIKE $1 ESCAPE '!' AND "cache_key" > $2 ORDER BY "cache_key" LIMIT 1000
-- ListKeysLikeAfter(1000)
SELECT "cache_key" FROM "my_cache_table" WHERE "cache_key" LIKE $1 ESCAPE '!' AND "cache_key" > $2 ORDER BY "cache_key" LIMIT 1000
-- DeleteLike
DELETE FROM "my_cache_table" WHERE "cache_key" LIKE $1 ESCAPE '!'
-- CountExpired
SELECT COUNT(*) FROM "my_cache_table" WHERE "expires" < $1
-- CountExpiredUpTo(100000)
SELECT COUNT(*) FROM (SELECT 1 FROM "my_cache_table" WHERE "expires" < $1 LIMIT 100000) expired
-- ExpiryRange
SELECT MIN("expires"), MAX("expires") FROM "my_cache_table" WHERE "expires" >= $1 AND "expires" < $2
-- PruneExpiredBatch(1000)
DELETE FROM "my_cache_table" WHERE "cache_key" = ANY(ARRAY(SELECT "cache_key" FROM "my_cache_table" WHERE "expires" < $1 LIMIT 1000)) AND "expires" < $1
-- TableExists
SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'pg_toast') AND pg_catalog.pg_table_is_visible(c.oid)
-- TableSizeQueries[0] NameArgs=1 Columns=table_bytes,index_bytes,total_bytes,rows_estimate
SELECT pg_table_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(quote_ident($1))
-- Django 3.2 HasKey
SELECT "cache_key" FROM "my_cache_table" WHERE "cache_key" = $1 and expires > $2
-- Django 3.2 DeleteExpired
DELETE FROM "my_cache_table" WHERE expires < $1
-- Django 3.2 CullKeyAtOffset
SELECT cache_key FROM "my_cache_table" ORDER BY cache_key LIMIT 1 OFFSET $1
-- Django 3.2 DeleteBelowKey
DELETE FROM "my_cache_table" WHERE cache_key < $1
