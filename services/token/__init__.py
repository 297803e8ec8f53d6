"""The token service: code exchange, refresh, JWKS, revocation and introspection."""
