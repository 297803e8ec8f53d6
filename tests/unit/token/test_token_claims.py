"""core.claims: access-token claims (RFC 9068 §2.2) and ID-token claims (OIDC Core §2)."""

from services.token.core.claims import AccessPlan, access_token_claims, id_token_claims


def test_access_plan_fixes_id_and_lifetime():
    plan = AccessPlan.new(now=1_700_000_000, ttl=600)
    assert (plan.issued_at, plan.expires_at) == (1_700_000_000, 1_700_000_600)
    assert len(plan.jti) >= 22 and plan.jti != AccessPlan.new(now=1_700_000_000, ttl=600).jti


def test_access_token_claims_have_every_required_member():
    plan = AccessPlan("jti-1", 100, 700)
    claims = access_token_claims(plan, issuer="https://iss", subject="u1", audience="https://api",
                                 client_id="lk_app", scope="openid notes:read", auth_time=90)
    assert claims == {"iss": "https://iss", "sub": "u1", "aud": "https://api", "client_id": "lk_app",
                      "scope": "openid notes:read", "exp": 700, "iat": 100, "jti": "jti-1", "auth_time": 90}


def test_id_token_claims_name_the_client_and_echo_the_nonce():
    claims = id_token_claims(issuer="https://iss", subject="u1", client_id="lk_app", now=100, ttl=600,
                             auth_time=90, nonce="n-1")
    assert claims == {"iss": "https://iss", "sub": "u1", "aud": "lk_app", "azp": "lk_app", "exp": 700,
                      "iat": 100, "auth_time": 90, "nonce": "n-1"}


def test_id_token_claims_omit_a_nonce_that_was_not_sent():
    assert "nonce" not in id_token_claims(issuer="i", subject="u", client_id="c", now=1, ttl=1, auth_time=1, nonce=None)
