-- Denylist entries of revoked grants that may not have reached Redis yet. A grant's revocation
-- (PgRefreshTokens.revoke_family) records its access tokens here in the same statement that
-- revokes its refresh tokens; each row is deleted once the token service has written it to the
-- Redis denylist, or dropped once its token has expired. While Redis is down the rows wait,
-- and the token service writes them when it is back (services/token/pending_revocations.py).
CREATE TABLE pending_revocations (
    jti         text PRIMARY KEY,
    expires_at  timestamptz NOT NULL,  -- the access token's exp
    recorded_at timestamptz NOT NULL DEFAULT now()
);
