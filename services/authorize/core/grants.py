"""What a code stands for: the validated request, the user and the login time (RFC 6749 §4.1.2)."""

from __future__ import annotations

from services.authorize.core.authorization_request import AuthorizationRequest
from services.authorize.core.decisions import Authenticated
from shared.models import AuthorizationGrant


def grant_for(request: AuthorizationRequest, user: Authenticated, grant_id: str) -> AuthorizationGrant:
    return AuthorizationGrant(
        client_id=request.client_id,
        # "" records that redirect_uri was omitted, so the token request must omit it too (§4.1.3).
        redirect_uri=request.redirect_uri if request.redirect_uri_sent else "",
        scope=request.scope,
        user_id=user.user_id,
        auth_time=user.auth_time,
        nonce=request.nonce,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        resource=request.resource,
        grant_id=grant_id,
        sid=user.sid,
    )
