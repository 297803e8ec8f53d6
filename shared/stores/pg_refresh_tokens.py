"""Refresh tokens by hash, rotated atomically (RFC 9700 §4.14.2).

Rotation is one statement: the UPDATE that marks the old token used only matches while it is
unused, so of any number of concurrent refreshes exactly one inserts a successor. With a grace
period (LATCHKEY_REFRESH_GRACE_SECONDS) a used token may be rotated again for a client that lost
the response; each retry revokes the child before it, so there is still one live token.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from shared.models import NewRefreshToken, RefreshRotated, RefreshRotation, RefreshToken
from shared.stores.pg_pending_revocations import PgPendingRevocations

_COLUMNS = ("id, family_id, parent_id, client_id, user_id, scope, resource, auth_time, expires_at, "
            "family_expires_at, used_at, revoked_at, sid")
# Also used by shared.stores.pg_code_redemptions, whose statement stores a first token.
INSERT_COLUMNS = ("token_hash, family_id, parent_id, client_id, user_id, scope, resource, auth_time, "
                   "expires_at, family_expires_at, access_jti, access_expires_at, sid")


def _to_token(row: asyncpg.Record | dict[str, Any]) -> RefreshToken:
    return RefreshToken(**{**dict(row), "scope": tuple(row["scope"])})


def insert_args(new: NewRefreshToken) -> tuple[object, ...]:
    return (new.token_hash, new.family_id, new.parent_id, new.client_id, new.user_id, list(new.scope),
            new.resource, new.auth_time, new.expires_at, new.family_expires_at, new.access_jti,
            new.access_expires_at, new.sid)


# One refresh: match only a live token (see rotate_by_hash), mark it used, revoke the children an
# earlier use made (a grace-period retry), insert the successor, and name those children's
# access tokens. Within the grace period a used token matches again only while no child of it
# was used: once one was, the response was not lost and the parent coming back is a copy.
# The plan must not depend on statistics (a new table, or one after pg_upgrade, has none): the
# token is found by its unique hash and updated by its row address (a TID scan, which the planner
# always prefers), since with no statistics the partial indexes on client_id or user_id look as
# selective as the hash and a refresh scanned every live token of the client. Children are found
# by parent_id alone, and the siblings UPDATE matches no partial index, for the same reason.
# (A row updated concurrently is re-checked on its newest version, as with any UPDATE.)
_ROTATE = f"""WITH old AS (
        UPDATE refresh_tokens t SET used_at = coalesce(t.used_at, now())
        WHERE t.ctid = (SELECT ctid FROM refresh_tokens WHERE token_hash = $1)
          AND t.client_id = $2 AND t.revoked_at IS NULL
          AND (t.used_at IS NULL OR ($3::float8 > 0
               AND t.used_at > now() - make_interval(secs => $3::float8)
               AND NOT EXISTS (SELECT 1 FROM refresh_tokens c
                               WHERE c.parent_id = t.id AND c.used_at IS NOT NULL)))
          AND t.expires_at > now() AND t.family_expires_at > now()
          AND ($4::text[] IS NULL OR $4::text[] <@ t.scope)
          AND ($5::text IS NULL OR $5::text = coalesce(t.resource, $6::text))
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND NOT u.disabled)
          AND EXISTS (SELECT 1 FROM clients k WHERE k.client_id = t.client_id AND NOT k.disabled)
        RETURNING t.*),
    siblings AS (
        UPDATE refresh_tokens c SET revoked_at = coalesce(c.revoked_at, now()) FROM old
        WHERE c.parent_id = old.id),
    successor AS (
        INSERT INTO refresh_tokens ({INSERT_COLUMNS})
        SELECT $7, old.family_id, old.id, old.client_id, old.user_id, old.scope, old.resource,
               old.auth_time, least(now() + make_interval(secs => $8::float8), old.family_expires_at),
               old.family_expires_at, $9, $10, old.sid
        FROM old
        RETURNING {_COLUMNS})
    SELECT successor.*, s.jtis AS sibling_jtis, s.expiries AS sibling_expiries
    FROM successor, LATERAL (
        SELECT array_agg(c.access_jti) AS jtis, array_agg(c.access_expires_at) AS expiries
        FROM refresh_tokens c
        WHERE c.parent_id = successor.parent_id AND c.access_jti IS NOT NULL) s"""

# One step of a grant's revocation: revoke what is still live, and record every access token of
# the grant (and $2/$3, tokens issued outside it, e.g. a replayed code's) that a verifier could
# still accept as a pending denylist entry. The read shares the UPDATE's snapshot, so it lists
# revoked and unrevoked tokens alike; "revoked" says whether this step changed anything.
_REVOKE_FAMILY = """WITH revoked AS (
        UPDATE refresh_tokens SET revoked_at = now()
        WHERE family_id = $1 AND revoked_at IS NULL
        RETURNING 1),
    issued AS (
        SELECT access_jti AS jti, access_expires_at AS expires_at FROM refresh_tokens
        WHERE family_id = $1 AND access_jti IS NOT NULL
        UNION
        SELECT * FROM unnest($2::text[], $3::timestamptz[])),
    live AS (
        SELECT jti, expires_at FROM issued WHERE expires_at + make_interval(secs => $4::float8) > now()),
    recorded AS (
        INSERT INTO pending_revocations (jti, expires_at) SELECT jti, expires_at FROM live
        ON CONFLICT (jti) DO NOTHING)
    SELECT (SELECT count(*) FROM revoked) AS revoked,
           coalesce(array_agg(jti), '{}') AS jtis, coalesce(array_agg(expires_at), '{}') AS expiries
    FROM live"""


class PgRefreshTokens:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection, *, leeway: int = 0) -> None:
        self._db = pool
        self._leeway = leeway  # the verifiers' clock leeway: a token is accepted until exp + leeway
        self._pending = PgPendingRevocations(pool, leeway=leeway)

    async def issue(self, new: NewRefreshToken) -> UUID | None:
        """Stores the first token of a grant, only while its user and client exist and are
        enabled; None otherwise. The checks ride in the INSERT: one round trip for all.
        (A replica's client cache may lag a disable by seconds; PostgreSQL does not.)"""
        issued: UUID | None = await self._db.fetchval(
            f"""INSERT INTO refresh_tokens ({INSERT_COLUMNS})
                SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13 FROM users WHERE id = $5 AND NOT disabled
                  AND EXISTS (SELECT 1 FROM clients WHERE client_id = $4 AND NOT disabled)
                RETURNING id""",
            *insert_args(new),
        )
        return issued

    async def find(self, token_hash: str) -> RefreshToken | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM refresh_tokens WHERE token_hash = $1", token_hash)
        return _to_token(row) if row else None

    async def rotate_by_hash(self, rotation: RefreshRotation) -> RefreshRotated | None:
        """The whole refresh in one statement: find, check, mark used and insert the successor
        (one round trip with no grace period; with one, a row lock is taken first).

        Matches only a live token (unrevoked, unexpired, unused or within the grace period) of
        this client, whose user is enabled and whose scope and resource cover the request; the
        successor inherits the family, scope, resource and absolute expiry. A retry within the
        grace period revokes the child the first use made, so a token never has two live
        children (RFC 9700 §4.14.2). Returns the successor, or None when any check fails: the
        caller then reads the token with ``find`` to say which.
        """
        # Every part of the statement shares one snapshot, so neither the siblings UPDATE nor the
        # final read sees the successor inserted beside them. The read names every earlier child,
        # revoked or not, so a retry after a failed denylist write denylists them again.
        args = (rotation.token_hash, rotation.client_id, float(rotation.grace_seconds),
                None if rotation.scope is None else list(rotation.scope), rotation.resource,
                rotation.default_resource, rotation.new_token_hash, float(rotation.idle_seconds),
                rotation.access_jti, rotation.access_expires_at)
        if rotation.grace_seconds <= 0:
            row = await self._db.fetchrow(_ROTATE, *args)  # "used_at IS NULL" lets exactly one through
        else:
            # One snapshot per statement would let two retries each miss the child the other
            # inserts, and a retry miss the use of a child committed meanwhile. Locking the token,
            # then its children, first (always in that order) makes the rotation's snapshot start
            # after both have committed: it sees that child, or that use, and acts on it.
            async with self._connection() as conn, conn.transaction():
                await conn.execute("SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
                                   rotation.token_hash)
                await conn.execute(
                    """SELECT 1 FROM refresh_tokens c JOIN refresh_tokens p ON c.parent_id = p.id
                       WHERE p.token_hash = $1 FOR UPDATE OF c""",
                    rotation.token_hash)
                row = await conn.fetchrow(_ROTATE, *args)
        if row is None:
            return None
        fields = dict(row)
        revoked = tuple(zip(fields.pop("sibling_jtis") or (), fields.pop("sibling_expiries") or (), strict=True))
        return RefreshRotated(_to_token(fields), revoked)

    async def successor_used(self, token_hash: str) -> bool:
        """Whether a child of this token was itself used: then its response was not lost."""
        used: bool = await self._db.fetchval(
            """SELECT EXISTS (SELECT 1 FROM refresh_tokens t JOIN refresh_tokens c ON c.parent_id = t.id
                              WHERE t.token_hash = $1 AND c.used_at IS NOT NULL)""",
            token_hash,
        )
        return used

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if isinstance(self._db, asyncpg.Pool):
            async with self._db.acquire() as conn:
                yield conn
        else:
            yield self._db

    async def revoke_family(self, family_id: UUID, also: Sequence[tuple[str, datetime]] = ()
                            ) -> list[tuple[str, datetime]]:
        """Revokes every token of the grant; returns the access tokens to denylist: every one the
        grant issued (revoked before or not, so a retry finishes an earlier attempt) and ``also``,
        while a verifier could still accept it.

        The same statement records them in pending_revocations, so the revocation and what it
        still owes the denylist commit together: if Redis cannot be reached, or the process dies
        before writing it, the token service writes them later (``denylisted`` clears them).
        A rotation that commits while the UPDATE waits for its row lock inserts a child the
        statement's snapshot cannot see; repeating until nothing is left revokes that child too.
        """
        extra_jtis, extra_expiries = [jti for jti, _ in also], [expires for _, expires in also]
        while True:
            row = await self._db.fetchrow(_REVOKE_FAMILY, family_id, extra_jtis, extra_expiries, float(self._leeway))
            if row["revoked"] == 0:
                return list(zip(row["jtis"], row["expiries"], strict=True))

    async def revoke_owned(self, *, user_id: UUID | None = None, client_id: str | None = None
                           ) -> list[tuple[str, datetime]]:
        """Revokes every live token of a user, a client, or the user through the client (a
        disabled user or client, a revoked consent); returns the access-token jtis to denylist.
        Repeats like ``revoke_family``, so a rotation committing meanwhile is revoked too."""
        if user_id is None and client_id is None:
            raise ValueError("a user_id, a client_id or both")
        revoked: list[tuple[str, datetime]] = []
        while rows := await self._db.fetch(
            """UPDATE refresh_tokens SET revoked_at = now()
               WHERE revoked_at IS NULL AND ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR client_id = $2)
               RETURNING access_jti, access_expires_at""",
            user_id, client_id,
        ):
            revoked += [(r["access_jti"], r["access_expires_at"]) for r in rows if r["access_jti"]]
        return revoked

    async def revoke_session(self, user_id: UUID, sids: Sequence[str]) -> list[tuple[str, datetime]]:
        """Revokes the user's live tokens whose grant began in one of the login sessions ``sids``
        and lacks ``offline_access``: those end with the session (OIDC Core §11 keeps only offline
        access beyond it). Returns the access-token jtis to denylist; repeats like ``revoke_owned``."""
        revoked: list[tuple[str, datetime]] = []
        while sids and (rows := await self._db.fetch(
            """UPDATE refresh_tokens SET revoked_at = now()
               WHERE revoked_at IS NULL AND user_id = $1 AND sid = ANY($2::text[])
                 AND NOT ('offline_access' = ANY(scope))
               RETURNING access_jti, access_expires_at""",
            user_id, list(sids),
        )):
            revoked += [(r["access_jti"], r["access_expires_at"]) for r in rows if r["access_jti"]]
        return revoked

    async def denylisted(self, jtis: Sequence[str]) -> None:
        """The entries ``revoke_family`` recorded reached the denylist: forget them."""
        await self._pending.written(jtis)

    async def record_pending(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Records denylist entries owed outside a grant's revocation (``denylisted`` forgets them)."""
        await self._pending.record(entries)
