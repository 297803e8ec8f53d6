"""The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3).

The code is consumed first, in one atomic GETDEL that also leaves a "used" marker, so every
later check runs on a code nobody else can redeem: a wrong client, redirect URI or PKCE
verifier burns it. A code that is already gone but has a marker is a replay: the grant's
tokens are revoked (§4.1.2, §10.5) and the answer is invalid_grant.

Redis can lose that GETDEL (an AOF fsynced once a second, a failover), so the exchange becomes
final only when its redemption row is inserted in PostgreSQL, in the statement that stores the
first refresh token or checks the user, before anything is signed. A row that is already there
is a replay Redis forgot; a code Redis no longer knows at all is looked up there too.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import NoReturn
from uuid import UUID

from services.token.core.audience import token_audience
from services.token.core.claims import AccessPlan
from services.token.core.context import GrantContext, TokenRequest
from services.token.core.form import required
from services.token.core.issuer import Subject, TokenResponse
from services.token.core.revocation import at, grant_family, revoke_grant
from shared.crypto.digests import new_secret, sha256_hex
from shared.errors import InvalidGrant
from shared.models import AuditEvent, AuthorizationGrant, Client, CodeRedemption, CodeUse, NewRefreshToken
from shared.oauth.scopes import format_scope
from shared.pkce import is_valid_code_verifier, verify_code_verifier

REFRESH_TOKEN_BYTES = 32  # 256 bits (RFC 6749 §10.10 asks for at least 128)


class PkceMismatch(InvalidGrant):
    """RFC 7636 §4.6: audited, then answered like any other invalid_grant."""


class CodeReplayed(InvalidGrant):
    """§4.1.2: a code used again; the access line says so (reason code_replayed), the client
    reads invalid_grant."""


class UnknownCode(InvalidGrant):
    """A code never issued, expired, or past its replay window (reason unknown_code)."""


def check_client_owns_code(grant: AuthorizationGrant, client: Client) -> None:
    if grant.client_id != client.client_id:
        raise InvalidGrant("the authorization code was issued to another client")


def check_redirect_uri(grant: AuthorizationGrant, client: Client, redirect_uri: str | None) -> None:
    """§4.1.3: required and identical when the authorization request had one."""
    if grant.redirect_uri:
        if redirect_uri != grant.redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request")
    elif redirect_uri is not None and redirect_uri not in client.redirect_uris:
        raise InvalidGrant("redirect_uri is not registered for this client")


def check_pkce(grant: AuthorizationGrant, verifier: str | None) -> None:
    """A verifier exactly when a challenge was sent (RFC 9700 §2.1.1), and it must match."""
    if grant.code_challenge is None:
        if verifier is not None:
            raise PkceMismatch("code_verifier sent but the authorization request had no code_challenge")
        return
    if verifier is None:
        raise PkceMismatch("code_verifier is required")
    if grant.code_challenge_method != "S256" or not verify_code_verifier(verifier, grant.code_challenge):
        if not is_valid_code_verifier(verifier):  # its syntax is public: saying so helps and tells nothing
            raise PkceMismatch("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ "
                               "(RFC 7636 section 4.1)")
        raise PkceMismatch("code_verifier does not match the code_challenge")


def check_user_enabled(enabled: bool) -> None:
    """A user disabled after logging in gets no tokens (as the refresh grant already checks)."""
    if not enabled:
        raise InvalidGrant("the authorization grant is no longer valid")


def response_scope(scope: tuple[str, ...], with_refresh_token: bool) -> tuple[str, ...]:
    """§5.1: the scope reflects what was granted; offline_access without a refresh token was not."""
    return scope if with_refresh_token else tuple(s for s in scope if s != "offline_access")


def wants_refresh_token(scope: tuple[str, ...], client: Client) -> bool:
    """Refresh tokens only for offline_access, and only to clients allowed the refresh grant."""
    return "offline_access" in scope and "refresh_token" in client.grant_types


async def exchange_code(request: TokenRequest, ctx: GrantContext) -> TokenResponse:
    code = required(request.form, "code")
    ctx.issuer.check_ready(request.client)
    catalog = await ctx.apis.catalog()  # cached: usually no query; read before the code is spent
    # The grant's API is known once the code is consumed; the marker names the longest lifetime.
    plan = ctx.issuer.plan(request.now, catalog.longest_ttl(ctx.settings.access_token_ttl))
    use = CodeUse(grant_id="", access_jti=plan.jti, access_expires_at=plan.expires_at)
    grant = await ctx.codes.consume(code, use, ctx.settings.code_replay_window)
    if grant is None:
        await replayed(code, request, ctx)
    # A replay re-revokes the grant once this deadline has passed, so nothing issued late survives.
    async with asyncio.timeout(ctx.settings.token_issue_deadline):
        check_client_owns_code(grant, request.client)
        check_redirect_uri(grant, request.client, request.form.get("redirect_uri"))
        await check_pkce_audited(grant, request, ctx)
        audience = token_audience(request.form.get("resource"), grant.resource, ctx.settings.access_audience)
        plan = plan.lasting(catalog.access_token_ttl(audience, ctx.settings.access_token_ttl))
        response = await _issue(code, grant, plan, audience, request, ctx)
    if response is None:
        # Outside the deadline: revoking must not turn the answer into "try again".
        await replayed_durably(code, request, ctx)
    ctx.metrics.code("redeemed", request.client.client_id)
    return response


async def check_pkce_audited(grant: AuthorizationGrant, request: TokenRequest, ctx: GrantContext) -> None:
    try:
        check_pkce(grant, request.form.get("code_verifier"))
    except PkceMismatch as failure:
        ctx.metrics.pkce_failure(request.client.client_id)
        await ctx.audit.record(AuditEvent("pkce_failure", client_id=request.client.client_id, user_id=grant.user_id,
                                            remote_addr=request.remote_addr,
                                            details={"grant_id": grant.grant_id, "reason": failure.description}))
        raise


async def _issue(code: str, grant: AuthorizationGrant, plan: AccessPlan, audience: str, request: TokenRequest,
                 ctx: GrantContext) -> TokenResponse | None:
    """The tokens, signed only once the redemption is durable; None when it already was (a replay)."""
    client = request.client
    refresh_token = new_secret(REFRESH_TOKEN_BYTES) if wants_refresh_token(grant.scope, client) else None
    scope = response_scope(grant.scope, refresh_token is not None)
    subject = Subject(user_id=grant.user_id, client_id=client.client_id, scope=format_scope(scope),
                      auth_time=grant.auth_time, sid=grant.sid)
    redemption = _redemption(code, grant, plan, request.now, ctx)
    # One statement records the redemption and stores the refresh token or asks whether the user
    # is still enabled: durable single use without another round trip.
    if refresh_token is not None:
        first = _first_refresh_token(refresh_token, grant, plan, request.now, ctx)
        redeemed = await ctx.redemptions.redeem_issuing(redemption, first)
    else:
        redeemed = await ctx.redemptions.redeem_checking_user(redemption, _user_uuid(grant.user_id))
    if not redeemed.redeemed:
        return None
    check_user_enabled(redeemed.user_enabled)
    return ctx.issuer.issue(plan, subject, audience=audience, nonce=grant.nonce,
                              with_id_token="openid" in grant.scope,
                              id_token_alg=client.id_token_signed_response_alg, refresh_token=refresh_token)


def _redemption(code: str, grant: AuthorizationGrant, plan: AccessPlan, now: int, ctx: GrantContext) -> CodeRedemption:
    settings = ctx.settings
    # Kept as long as Redis keeps the used marker, and never less than a code lives: a code Redis
    # brings back still expires when it was saved to, at most code_ttl after it was issued.
    keep = max(settings.code_replay_window, settings.code_ttl)
    return CodeRedemption(code_hash=sha256_hex(code), grant_id=grant.grant_id, client_id=grant.client_id,
                          access_jti=plan.jti, access_expires_at=at(plan.expires_at), expires_at=at(now + keep))


def _user_uuid(user_id: str) -> UUID | None:
    """A malformed id names no user (it came from a stored grant), so that user is not enabled."""
    try:
        return UUID(user_id)
    except ValueError:
        return None


def _first_refresh_token(value: str, grant: AuthorizationGrant, plan: AccessPlan, now: int,
                        ctx: GrantContext) -> NewRefreshToken:
    settings = ctx.settings
    issued = at(now)
    family_expires_at = issued + timedelta(seconds=settings.refresh_token_ttl)
    return NewRefreshToken(
        token_hash=sha256_hex(value), family_id=grant_family(grant.grant_id), client_id=grant.client_id,
        user_id=UUID(grant.user_id), scope=grant.scope, resource=grant.resource, auth_time=at(grant.auth_time),
        expires_at=min(issued + timedelta(seconds=settings.refresh_idle_ttl), family_expires_at),
        family_expires_at=family_expires_at, access_jti=plan.jti, access_expires_at=at(plan.expires_at),
        sid=grant.sid,
    )


async def replayed(code: str, request: TokenRequest, ctx: GrantContext) -> NoReturn:
    """Always raises. A used code revokes everything issued from it (RFC 6749 §4.1.2).

    Redis forgets a marker when it loses writes; only then, on this failure path, is the
    redemption row asked, so a replay after Redis lost everything still revokes."""
    use = await ctx.codes.find_use(code)
    if use is None:
        use = await ctx.redemptions.find(sha256_hex(code))
        if use is None:
            ctx.metrics.code("expired_or_unknown", request.client.client_id)
            raise UnknownCode("the authorization code is invalid or expired")
    await _revoke_replayed(use, request, ctx)


async def replayed_durably(code: str, request: TokenRequest, ctx: GrantContext) -> NoReturn:
    """Always raises. Redis gave the code out again, but PostgreSQL holds its redemption."""
    use = await ctx.redemptions.find(sha256_hex(code))
    if use is None:  # swept between the conflict and this read: past its window, nothing to revoke
        raise CodeReplayed("the authorization code was already used")
    await _revoke_replayed(use, request, ctx)


async def _revoke_replayed(use: CodeUse, request: TokenRequest, ctx: GrantContext) -> NoReturn:
    ctx.metrics.code("replayed", request.client.client_id)
    family = grant_family(use.grant_id)
    await revoke_grant(family, ctx.refresh_tokens, ctx.denylist, also=[(use.access_jti, at(use.access_expires_at))])
    # The first exchange may still be between consuming the code and storing its refresh token;
    # it must finish within the issue deadline, so one more sweep after it catches a late insert.
    consumed_at = use.access_expires_at - ctx.settings.access_token_ttl
    settle = consumed_at + ctx.settings.token_issue_deadline + 1 - request.now
    if settle > 0:
        ctx.resweep(family, float(settle))
    await ctx.audit.record(AuditEvent("code_replay", client_id=request.client.client_id,
                                        remote_addr=request.remote_addr, details={"grant_id": use.grant_id}))
    raise CodeReplayed("the authorization code was already used")
