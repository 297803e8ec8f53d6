-- Clients' whole life cycle (issue 11): the rest of their RFC 7591 / OIDC metadata, a disabled
-- flag, and the secret a rotation keeps working for an explicit overlap.

ALTER TABLE clients
    -- OIDC RP-Initiated Logout §3.1; OIDC Back-Channel Logout §2.2; RFC 7591 §2 client_uri.
    ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    ADD COLUMN client_uri text,
    ADD COLUMN backchannel_logout_uri text,
    ADD COLUMN backchannel_logout_session_required boolean NOT NULL DEFAULT false,
    -- Origins a browser client may call the token endpoints from (CORS), exact "scheme://host[:port]".
    ADD COLUMN allowed_cors_origins text[] NOT NULL DEFAULT '{}',
    -- A disabled client is unknown to every endpoint; its record stays for the audit trail.
    ADD COLUMN disabled boolean NOT NULL DEFAULT false,
    -- The secret before the last rotation, accepted until previous_secret_expires_at.
    ADD COLUMN previous_secret_hash text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CHECK ((previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL));

-- Disabling or deleting a user or client revokes its live refresh tokens: find them by owner.
CREATE INDEX refresh_tokens_live_by_user ON refresh_tokens (user_id, client_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_live_by_client ON refresh_tokens (client_id) WHERE revoked_at IS NULL;
