"""The resource service (:8003): OIDC userinfo and a small notes API behind the bearer verifier."""
