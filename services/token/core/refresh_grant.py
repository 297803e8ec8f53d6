"""The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

The happy path is one statement (PgRefreshTokens.rotate_by_hash): find the token, check it,
mark it used and insert its successor. Only when that matches nothing is the token read
again, and the steps below, in order, name what was wrong; a token used twice revokes its
whole family. The successor keeps the token's scope; a requested scope only narrows the
access token (§6).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NoReturn

from services.token.core.claims import AccessPlan
from services.token.core.code_grant import REFRESH_TOKEN_BYTES
from services.token.core.context import GrantContext, TokenRequest
from services.token.core.form import required
from services.token.core.issuer import Subject, TokenResponse
from services.token.core.revocation import at, revoke_grant
from services.token.core.scopes import narrowed
from shared.crypto.digests import new_secret, sha256_hex
from shared.errors import InvalidGrant, InvalidTarget
from shared.models import AuditEvent, RefreshRotation, RefreshToken
from shared.oauth.scopes import format_scope, parse_scope


class RefreshReuse(InvalidGrant):
    """A rotated token came back: someone holds a copy. Its family is revoked."""


def check_exists(token: RefreshToken | None, request: TokenRequest) -> RefreshToken:
    # Another client's token is answered as if it did not exist (§5.2: issued to another client).
    if token is None or token.client_id != request.client.client_id:
        raise InvalidGrant("the refresh token is invalid")
    return token


def check_not_revoked(token: RefreshToken) -> None:
    if token.revoked_at is not None:
        raise InvalidGrant("the refresh token was revoked")


def check_not_reused(token: RefreshToken, now: datetime, grace_seconds: int) -> None:
    if token.used_at is not None and token.used_at <= now - timedelta(seconds=grace_seconds):
        raise RefreshReuse("the refresh token was already used")


def check_not_expired(token: RefreshToken, now: datetime) -> None:
    if min(token.expires_at, token.family_expires_at) <= now:
        raise InvalidGrant("the refresh token has expired")


def check_resource(token: RefreshToken, requested: str | None, default: str) -> None:
    if requested is not None and requested != (token.resource or default):
        raise InvalidTarget("the requested resource was not granted")


async def refresh(request: TokenRequest, ctx: GrantContext) -> TokenResponse:
    presented = required(request.form, "refresh_token")
    ctx.issuer.check_ready(request.client)
    raw_scope = request.form.get("scope")
    scope = parse_scope(raw_scope) if raw_scope is not None else None
    resource = request.form.get("resource")
    catalog = await ctx.apis.catalog()  # cached: usually no query
    # The token's API is known after the rotation; the stored expiry is the longest lifetime.
    plan = ctx.issuer.plan(request.now, catalog.longest_ttl(ctx.settings.access_token_ttl))
    successor_value = new_secret(REFRESH_TOKEN_BYTES)
    rotated = await ctx.refresh_tokens.rotate_by_hash(
        _rotation(presented, successor_value, scope, resource, plan, request, ctx))
    if rotated is None:
        await explain_failure(sha256_hex(presented), scope, resource, request, ctx)
    # A retry within the grace period replaced the first child: its access token dies with it.
    await ctx.denylist.add_many(list(rotated.revoked_access))
    ctx.metrics.refresh("grace_reuse" if rotated.revoked_access else "rotated", request.client.client_id)
    successor = rotated.successor
    audience = successor.resource or ctx.settings.access_audience  # refresh keeps the audience
    plan = plan.lasting(catalog.access_token_ttl(audience, ctx.settings.access_token_ttl))
    granted = narrowed(scope, successor.scope)
    subject = Subject(user_id=str(successor.user_id), client_id=request.client.client_id,
                      scope=format_scope(granted), auth_time=int(successor.auth_time.timestamp()),
                      sid=successor.sid)
    # OIDC Core §12.2: a new ID token for an openid grant, about the same user, session and
    # original authentication (same sub, sid, auth_time; new iat/exp; aud the client) and with
    # no nonce: there is no authentication request for one to answer. Not when the request
    # narrowed openid away: the response's scope says no ID token was asked for.
    return ctx.issuer.issue(plan, subject, audience=audience, with_id_token="openid" in granted,
                            id_token_alg=request.client.id_token_signed_response_alg,
                            refresh_token=successor_value)


def _rotation(presented: str, successor: str, scope: tuple[str, ...] | None, resource: str | None,
              plan: AccessPlan, request: TokenRequest, ctx: GrantContext) -> RefreshRotation:
    settings = ctx.settings
    return RefreshRotation(
        token_hash=sha256_hex(presented), client_id=request.client.client_id, new_token_hash=sha256_hex(successor),
        idle_seconds=settings.refresh_idle_ttl, grace_seconds=settings.refresh_grace, access_jti=plan.jti,
        access_expires_at=at(plan.expires_at), scope=scope, resource=resource,
        default_resource=settings.access_audience,
    )


async def explain_failure(token_hash: str, scope: tuple[str, ...] | None, resource: str | None,
                          request: TokenRequest, ctx: GrantContext) -> NoReturn:
    """Always raises: the first failing step says why the rotation matched nothing."""
    token = check_exists(await ctx.refresh_tokens.find(token_hash), request)
    now = datetime.now(UTC)
    if token.revoked_at is not None:
        # Finishes a revocation whose denylist write failed after PostgreSQL committed it; a
        # child superseded by a grace-period retry has a second holder, so its grant goes too.
        await revoke_grant(token.family_id, ctx.refresh_tokens, ctx.denylist)
    check_not_revoked(token)
    try:
        check_not_reused(token, now, ctx.settings.refresh_grace)
        if token.used_at is not None and await ctx.refresh_tokens.successor_used(token_hash):
            # Inside the grace period, but the client had the response: this is a copy.
            raise RefreshReuse("the refresh token was already used")
    except RefreshReuse:
        ctx.metrics.refresh("reuse_detected", token.client_id)
        await revoke_grant(token.family_id, ctx.refresh_tokens, ctx.denylist)
        await ctx.audit.record(AuditEvent(
            "refresh_reuse", client_id=token.client_id, user_id=str(token.user_id),
            remote_addr=request.remote_addr, details={"family_id": str(token.family_id), "token_id": str(token.id)}))
        raise
    check_not_expired(token, now)
    narrowed(scope, token.scope)
    check_resource(token, resource, ctx.settings.access_audience)
    # Everything above passed, so the user is disabled or a concurrent refresh won the race.
    raise InvalidGrant("the refresh token is no longer valid")
