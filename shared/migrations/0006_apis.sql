-- APIs (resource servers) as records: each with its scopes, optional own access-token lifetime
-- and optional introspection credentials; and which APIs each client may use.

CREATE TABLE apis (
    -- The RFC 8707 resource value and the access token's aud: an absolute URI, checked by the
    -- management layer (https, or http on a loopback host in dev mode).
    identifier        text PRIMARY KEY CHECK (length(identifier) BETWEEN 1 AND 2000),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- NULL: the server's LATCHKEY_ACCESS_TOKEN_TTL_SECONDS.
    access_token_ttl  integer CHECK (access_token_ttl BETWEEN 30 AND 86400),
    -- The API's own credentials for introspection (RFC 7662 §2.1): SHA-256 of a 256-bit secret.
    client_id         text UNIQUE,
    secret_hash       text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((client_id IS NULL) = (secret_hash IS NULL))
);

-- A scope name belongs to exactly one API (the primary key says so); the OpenID scopes are
-- built in and never stored here.
CREATE TABLE api_scopes (
    -- The grammar (RFC 6749 §3.3) is checked by the management layer (shared.oauth.scopes).
    name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200
                                        AND name NOT IN ('openid', 'profile', 'email', 'offline_access')),
    api         text NOT NULL REFERENCES apis (identifier) ON DELETE CASCADE,
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 300),
    position    integer NOT NULL  -- the order the operator gave, for listings and the consent page
);
CREATE INDEX api_scopes_api ON api_scopes (api, position);

-- Which APIs a client may get tokens for. RESTRICT: an API in use is not deleted by accident.
CREATE TABLE client_apis (
    client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    api       text NOT NULL REFERENCES apis (identifier) ON DELETE RESTRICT,
    PRIMARY KEY (client_id, api)
);
CREATE INDEX client_apis_api ON client_apis (api);

-- Revoking an API's tokens finds them by audience.
CREATE INDEX refresh_tokens_resource ON refresh_tokens (resource) WHERE revoked_at IS NULL;
