-- Issue 9: a token's children by parent_id. Rotation revokes and lists the children of the token
-- it rotates; without this index each refresh scanned its whole family, so a grant's refresh got
-- slower with every rotation (a 30-day grant refreshed every 5 minutes has 8,640 rows), and
-- deleting a token (ON DELETE SET NULL on parent_id) scanned the whole table.
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_id);
