"""OIDC Core §5.4: which claims each scope releases from /userinfo."""

from uuid import UUID

import pytest

from services.resource.core.claims import userinfo_claims
from shared.models import User

USER = User(id=UUID("6f1c1f8e-8a52-4f3c-9d2e-0c7c8f5b2a10"), username="ada", password_hash="x",
            email="ada@example.com", email_verified=True, name="Ada Lovelace", disabled=False)
SUB = {"sub": "6f1c1f8e-8a52-4f3c-9d2e-0c7c8f5b2a10"}

CASES = [
    pytest.param(USER, "openid", SUB, id="openid gives only sub"),
    pytest.param(USER, "openid profile", {**SUB, "name": "Ada Lovelace", "preferred_username": "ada"},
                 id="profile adds name and username"),
    pytest.param(USER, "openid email", {**SUB, "email": "ada@example.com", "email_verified": True},
                 id="email adds email and email_verified"),
    pytest.param(USER, "openid profile email notes:read",
                 {**SUB, "name": "Ada Lovelace", "preferred_username": "ada", "email": "ada@example.com",
                  "email_verified": True}, id="API scopes add nothing"),
    pytest.param(USER, "profile", {"name": "Ada Lovelace", "preferred_username": "ada"}, id="no openid, no sub"),
    pytest.param(User(**{**{f: getattr(USER, f) for f in USER.__slots__}, "name": None, "email": None}),
                 "openid profile email", {**SUB, "preferred_username": "ada"}, id="missing values are left out"),
]


@pytest.mark.parametrize("user, scope, expected", CASES)
def test_claims_by_scope(user, scope, expected):
    assert userinfo_claims(user, scope.split()) == expected
