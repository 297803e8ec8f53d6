"""What an authorization request needs next: login, consent, or nothing (OIDC Core §3.1.2.3-4).

Pure rules over the validated request and what is known about the user; ``prompt=none``
turns "needs login" into login_required and "needs consent" into consent_required.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.authorize.core.authorization_request import AuthorizationRequest
from services.authorize.core.scopes import OFFLINE_ACCESS
from shared.errors import ConsentRequired, LoginRequired


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who the browser's session says the user is, and since when."""

    user_id: str
    username: str
    auth_time: int
    sid: str | None = None  # the login session's id, carried into the code and the ID token


def must_log_in(request: AuthorizationRequest, user: Authenticated | None, now: int) -> bool:
    """True when the user must (re-)authenticate before a code can be issued."""
    needed = (
        user is None
        or bool(request.prompt & {"login", "select_account"})
        or (request.max_age is not None and _too_old(user.auth_time, request.max_age, now))
        or not is_hinted_user(request, user)
    )
    if needed and "none" in request.prompt:
        raise LoginRequired("the user is not signed in" if user is None else
                            "the user must sign in again" if is_hinted_user(request, user) else
                            "the signed-in user is not the one id_token_hint names")
    return needed


def is_hinted_user(request: AuthorizationRequest, user: Authenticated) -> bool:
    """OIDC Core §3.1.2.1 id_token_hint: a positive answer only for the user the ID token names."""
    return request.hinted_subject is None or user.user_id == request.hinted_subject


def check_hinted_user(request: AuthorizationRequest, user: Authenticated) -> None:
    """After a login: someone else signed in than the id_token_hint names, so no code (§3.1.2.1:
    "otherwise, it SHOULD return an error, such as login_required")."""
    if not is_hinted_user(request, user):
        raise LoginRequired("the user who signed in is not the one id_token_hint names")


def must_consent(request: AuthorizationRequest, granted: frozenset[str]) -> bool:
    """True when the consent screen must be shown: asked for, or a scope not yet approved.

    OIDC Core §11: offline_access needs prompt=consent "unless other conditions for processing
    the request permitting offline access" hold; consent this user already gave this client
    for offline_access is such a condition, so it is treated like any other remembered scope.
    (With prompt=none an unremembered one was already dropped: see silent_offline_access.)
    """
    needed = "consent" in request.prompt or not granted.issuperset(request.scope)
    if needed and "none" in request.prompt:
        raise ConsentRequired("the user has not approved this client for the requested scope")
    return needed


def silent_offline_access(request: AuthorizationRequest, granted: frozenset[str]) -> AuthorizationRequest:
    """OIDC Core §11 for prompt=none, which cannot ask for consent: offline_access stays when the
    user already approved it for this client (a condition "permitting offline access"), and is
    otherwise ignored, as §11 says, with the rest of the request processed; if it was all that
    was asked for, the answer is consent_required.
    """
    if "none" not in request.prompt or OFFLINE_ACCESS not in request.scope or OFFLINE_ACCESS in granted:
        return request
    rest = tuple(s for s in request.scope if s != OFFLINE_ACCESS)
    if not rest:
        raise ConsentRequired("offline_access needs the user's consent, which prompt=none rules out")
    return replace(request, scope=rest)


def _too_old(auth_time: int, max_age: int, now: int) -> bool:
    # max_age=0 means "authenticate now", the same as prompt=login (OIDC Core §3.1.2.1 errata).
    return max_age == 0 or now - auth_time > max_age
