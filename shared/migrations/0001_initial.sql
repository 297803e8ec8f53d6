-- Clients, users, signing keys, refresh tokens, consents and the security audit trail.

CREATE TABLE clients (
    client_id                  text PRIMARY KEY,
    name                       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- SHA-256 of a 256-bit random secret; NULL exactly for public clients.
    secret_hash                text,
    redirect_uris              text[] NOT NULL CHECK (cardinality(redirect_uris) > 0),
    allowed_scopes             text[] NOT NULL,
    grant_types                text[] NOT NULL DEFAULT '{authorization_code,refresh_token}',
    token_endpoint_auth_method text NOT NULL
        CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    is_public                  boolean NOT NULL,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    CHECK ((is_public AND secret_hash IS NULL AND token_endpoint_auth_method = 'none')
        OR (NOT is_public AND secret_hash IS NOT NULL AND token_endpoint_auth_method <> 'none'))
);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL CHECK (length(username) BETWEEN 1 AND 100),
    password_hash  text NOT NULL,  -- argon2id, PHC string
    email          text,
    email_verified boolean NOT NULL DEFAULT false,
    name           text,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE signing_keys (
    kid                   text PRIMARY KEY,  -- RFC 7638 thumbprint
    alg                   text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    status                text NOT NULL CHECK (status IN ('next', 'active', 'retired')),
    public_jwk            jsonb NOT NULL,
    private_key_encrypted bytea NOT NULL,  -- nonce || AES-256-GCM(PKCS#8), kid as AAD
    created_at            timestamptz NOT NULL DEFAULT now(),
    activates_at          timestamptz NOT NULL,
    retired_at            timestamptz,
    -- A retired key stays in the JWKS until every token it signed has expired.
    publish_until         timestamptz
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((status)) WHERE status = 'active';

CREATE TABLE refresh_tokens (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash     text NOT NULL UNIQUE,  -- SHA-256 of the opaque token
    family_id      uuid NOT NULL,         -- one authorization grant; reuse revokes it whole
    parent_id      uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    client_id      text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope          text[] NOT NULL,
    resource       text,
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,  -- idle expiry of this token
    family_expires_at timestamptz NOT NULL,  -- absolute expiry of the grant
    used_at        timestamptz,
    revoked_at     timestamptz,
    -- The access token issued beside this refresh token, denylisted when the grant is revoked.
    access_jti     text,
    access_expires_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE consents (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scopes     text[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    event_type  text NOT NULL,
    client_id   text,
    user_id     uuid,
    remote_addr text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_type_time ON audit_events (event_type, occurred_at);
