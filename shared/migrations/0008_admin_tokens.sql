-- Admin API tokens (`latchkey admin-token create`): only the SHA-256 of each token is kept.
-- A revoked token stays listed (who had access, until when); its name may then be reused.

CREATE TABLE admin_tokens (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash text NOT NULL UNIQUE,  -- SHA-256 of the raw token (256 random bits)
    read_only  boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
-- One live token per name: the name is what the audit trail records as the actor.
CREATE UNIQUE INDEX admin_tokens_live_name ON admin_tokens (name) WHERE revoked_at IS NULL;
-- The admin API's audit filters and newest-first pages.
CREATE INDEX audit_events_time ON audit_events (occurred_at);
