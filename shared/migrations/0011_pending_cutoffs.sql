-- Issue 9: cut-offs of management operations (a user or client disabled or deleted, a consent
-- revoked) that may not have reached Redis yet. Each refuses every access token of the subject,
-- the client or the pair issued up to before_ms (shared.stores.redis_denylist, the revoked-before
-- markers). Recorded in the operation's transaction, deleted once written to Redis, dropped once
-- every token it covers has expired. While Redis is down the rows wait, and the token service
-- writes them when it is back (services/token/pending_revocations.py), so a delete whose Redis
-- write failed still takes effect, with nothing to run again.
CREATE TABLE pending_cutoffs (
    subject    text NOT NULL,         -- the user's id; '' for every user of the client
    client_id  text NOT NULL,         -- '' for every client of the user
    before_ms  bigint NOT NULL,       -- epoch milliseconds: tokens issued up to it are refused
    expires_at timestamptz NOT NULL,  -- no token issued by before_ms is accepted after it
    PRIMARY KEY (subject, client_id)
);
