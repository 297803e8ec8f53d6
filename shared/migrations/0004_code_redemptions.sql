-- Durable single use of authorization codes (RFC 6749 §4.1.2). Redis consumes a code first
-- (GETDEL, the fast path) but can lose that write (an AOF fsynced once a second, a failover to
-- a replica); a code is redeemed only once its row is inserted here, in the same statement
-- that stores the first refresh token or checks the user, before any token is signed.

CREATE TABLE code_redemptions (
    code_hash         text PRIMARY KEY,      -- SHA-256 of the code, as Redis keys it
    grant_id          text NOT NULL,         -- the grant whose tokens a replay revokes
    client_id         text NOT NULL,
    -- The access token of the first exchange, denylisted when the code comes back.
    access_jti        text NOT NULL,
    access_expires_at timestamptz NOT NULL,
    -- End of the code's replay window: the token service's sweep deletes the row after it.
    expires_at        timestamptz NOT NULL
);
CREATE INDEX code_redemptions_expires ON code_redemptions (expires_at);
