-- latchkey: no transaction
-- Issue 9: a token's children by parent_id. Rotation revokes and lists the children of the token
-- it rotates. Without this index each refresh scanned its whole family (a 30-day grant refreshed
-- every 5 minutes has 8,640 rows) and deleting a token (ON DELETE SET NULL on parent_id) scanned
-- the whole table. Built concurrently: token writes go on while it builds on a large table.
DROP INDEX CONCURRENTLY IF EXISTS refresh_tokens_parent;
CREATE INDEX CONCURRENTLY refresh_tokens_parent ON refresh_tokens (parent_id);
