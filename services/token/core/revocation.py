"""Revoking a whole grant: its refresh-token family in PostgreSQL, its access tokens by jti.

RFC 6749 §4.1.2 and §10.5 (a replayed code), RFC 9700 §4.14.2 (a reused refresh token) and
RFC 7009 §2.1 (revoking a refresh token revokes the tokens of the same grant) all end here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from services.token.core.presented import VerificationKeys, looks_like_jwt, read_access_token
from shared.crypto.digests import sha256_hex
from shared.errors import InvalidGrant
from shared.models import Client
from shared.stores.protocols import Denylist, RefreshTokens


def grant_family(grant_id: str) -> UUID:
    """The refresh family of a code's grant; a grant id that is not a UUID maps to a stable one."""
    try:
        return UUID(grant_id)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"latchkey:grant:{grant_id}")


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


async def revoke_grant(family_id: UUID, refresh_tokens: RefreshTokens, denylist: Denylist,
                       also: Iterable[tuple[str, datetime]] = ()) -> None:
    """Revokes the family and denylists each access token until it would have expired anyway.

    The revocation is durable before the denylist is written: the statement that revokes the
    family also records its access tokens as pending denylist entries. If Redis cannot be
    reached the error propagates (503) but nothing is lost: the token service's background task
    (services/token/pending_revocations.py) writes them once Redis is back. Idempotent: every
    access token of the grant is denylisted, not only those of rows this call revoked, so a
    retry after a failed denylist write also finishes the job at once. The record is forgotten
    only once the write is as durable as configured (LATCHKEY_REVOCATION_REPLICAS confirmed it):
    a write only the Redis primary holds is written again by that task, so a failover to a
    replica that never got it does not bring the tokens back for longer than its interval.
    """
    entries = await refresh_tokens.revoke_family(family_id, list(also))
    await write_owed(entries, refresh_tokens, denylist)


async def write_owed(entries: list[tuple[str, datetime]], refresh_tokens: RefreshTokens, denylist: Denylist) -> None:
    """Writes recorded denylist entries; forgets the record once the write is confirmed."""
    if await denylist.add_many(entries):
        await refresh_tokens.denylisted([jti for jti, _ in entries])


async def revoke_presented(token: str, client: Client, *, issuer: str, keys: VerificationKeys,
                           refresh_tokens: RefreshTokens, denylist: Denylist, leeway: int = 0) -> str | None:
    """RFC 7009 §2.1. An unknown, invalid or expired token is not an error (§2.2); a token of
    another client is refused (§2.1) with invalid_grant (RFC 6749 §5.2: "issued to another
    client"). A refresh token takes its whole grant with it; an access token only itself.
    ``leeway`` is the verifiers' clock leeway: a token just past exp is still accepted there.
    Returns the kind of token revoked (RFC 7009 §2.1 token_type_hint values), None for none."""
    if looks_like_jwt(token):
        claims = read_access_token(token, keys, issuer, leeway)
        if claims is None:
            return None
        if claims["client_id"] != client.client_id:
            raise InvalidGrant("the token was issued to another client")
        # Recorded first, like a grant's revocation: neither Redis being down nor a failover
        # that loses the write leaves it undone (the pending-revocations task finishes it).
        entry = [(claims["jti"], at(claims["exp"]))]
        await refresh_tokens.record_pending(entry)
        await write_owed(entry, refresh_tokens, denylist)
        return "access_token"
    found = await refresh_tokens.find(sha256_hex(token))
    if found is None:
        return None
    if found.client_id != client.client_id:
        raise InvalidGrant("the token was issued to another client")
    await revoke_grant(found.family_id, refresh_tokens, denylist)
    return "refresh_token"
