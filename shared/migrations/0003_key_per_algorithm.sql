-- One signing key per algorithm: access tokens and ID tokens may use different algorithms
-- (LATCHKEY_SIGNING_ALG, LATCHKEY_ID_TOKEN_SIGNING_ALG), and a client may ask for its own
-- ID-token algorithm (OIDC Registration §2, id_token_signed_response_alg).

DROP INDEX signing_keys_one_active;
-- At most one key of each algorithm signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (alg) WHERE status = 'active';

-- NULL: the server's LATCHKEY_ID_TOKEN_SIGNING_ALG.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text
    CHECK (id_token_signed_response_alg IN ('RS256', 'ES256', 'EdDSA'));
-- Clients registered before this version have always had RS256 ID tokens (the OIDC default),
-- and their libraries may accept nothing else: they keep it, whatever the new default says.
UPDATE clients SET id_token_signed_response_alg = 'RS256';
