"""Which user claims each scope releases (OpenID Connect Core §5.4, §5.3.2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.models import User, UserProfile

# OIDC Core §5.4, limited to the claims Latchkey keeps about a user.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "preferred_username"),
    "email": ("email", "email_verified"),
}


def _user_claim(user: User | UserProfile, claim: str) -> Any:
    return {
        "sub": str(user.id), "name": user.name, "preferred_username": user.username,
        "email": user.email, "email_verified": user.email_verified if user.email else None,
    }[claim]


def userinfo_claims(user: User | UserProfile, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims the granted scopes allow; claims without a value are left out (§5.3.2)."""
    granted = set(scopes)
    claims: dict[str, Any] = {}
    for scope, names in SCOPE_CLAIMS.items():
        if scope in granted:
            for name in names:
                value = _user_claim(user, name)
                if value is not None:
                    claims[name] = value
    return claims
