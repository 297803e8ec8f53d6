"""Signed JWTs the token service hands out: RFC 9068 access tokens and OIDC ID tokens."""
