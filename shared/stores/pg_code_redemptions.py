"""Durable single use of authorization codes in PostgreSQL (RFC 6749 §4.1.2, §10.5).

Redis consumes a code first, but Redis can lose that write (an AOF fsynced once a second, a
replica promoted before it saw the GETDEL) and the code comes back. The row inserted here under
the code's hash is what makes an exchange final: it rides in the statement the exchange already
makes (the first refresh token's INSERT, or the question whether the user is enabled), so single
use costs no extra round trip. ``ON CONFLICT DO NOTHING`` on the primary key lets exactly one
exchange of a code through, whatever Redis remembers.

Exchanges that arrive while one statement is in flight share the next (``Batched``): one
statement, one commit and one WAL flush for all of them, which is most of what a redemption
costs PostgreSQL. Idle, a batch is a single exchange and waits for nothing.

One exchange must not hold up the others. Storing a refresh token locks its user and client
rows (the foreign keys), which an administrator's change of that user or client may hold for a
while; a shared statement therefore waits at most ``SHARED_LOCK_TIMEOUT`` for a lock. When it
times out, or one exchange's row is refused (a constraint, a deadlock with a replica), each
exchange is redeemed alone, at once and on a connection of its own, as it was before exchanges
were shared, and the next batches go on: the others of that batch are answered at once, and
only the exchange concerned waits, or fails. (As before, an exchange waiting for a lock holds
a pooled connection meanwhile; while a lock lasts, batches meeting it cost 100 ms more.)
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg

from shared.bearer.batching import Batched
from shared.models import CodeRedemption, CodeUse, NewRefreshToken, Redeemed
from shared.stores.pg_refresh_tokens import INSERT_COLUMNS

# One row per exchange, as parallel arrays. A first refresh token is stored for the rows that
# carry one (token_hash not null) when their redemption is new and their user and client exist
# and are enabled (a replica's client cache may lag a disable by seconds; PostgreSQL does not).
# Rows are told apart by access_jti, random per exchange: two exchanges of one code in one batch
# share code_hash, and ON CONFLICT DO NOTHING lets only one of them through. Scopes travel
# space-joined (a scope token has no space, RFC 6749 §3.3): unnest flattens an array of arrays.
# Redemptions go in code_hash order, so two replicas' batches holding the same replayed codes
# take their locks in one order and cannot deadlock. $16 is this statement's lock_timeout (NULL:
# the server's), set transaction-local while the input is read, before any row is inserted
# (the sort reads all of it first) and so before any lock is waited for: another transaction's
# pending insert of the same code, or the user and client rows the new refresh tokens' foreign
# keys lock at the end of the statement.
_REDEEM_MANY = f"""WITH input AS (
        SELECT i.* FROM set_config('lock_timeout', coalesce($16, current_setting('lock_timeout')), true),
             unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                    $6::timestamptz[], $7::uuid[], $8::text[], $9::uuid[], $10::text[], $11::text[],
                    $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::text[])
            AS i(code_hash, grant_id, client_id, access_jti, access_expires_at, expires_at, user_id,
                 token_hash, family_id, scope, resource, auth_time, token_expires_at, family_expires_at, sid)),
    redeemed AS (
        INSERT INTO code_redemptions (code_hash, grant_id, client_id, access_jti, access_expires_at, expires_at)
        SELECT code_hash, grant_id, client_id, access_jti, access_expires_at, expires_at FROM input
        ORDER BY code_hash
        ON CONFLICT DO NOTHING RETURNING access_jti),
    enabled AS (
        SELECT i.* FROM input i
        WHERE i.access_jti IN (SELECT access_jti FROM redeemed)
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = i.user_id AND NOT u.disabled)
          AND EXISTS (SELECT 1 FROM clients c WHERE c.client_id = i.client_id AND NOT c.disabled)),
    issued AS (
        INSERT INTO refresh_tokens ({INSERT_COLUMNS})
        SELECT token_hash, family_id, NULL::uuid, client_id, user_id, string_to_array(scope, ' '), resource,
               auth_time, token_expires_at, family_expires_at, access_jti, access_expires_at, sid
        FROM enabled WHERE token_hash IS NOT NULL)
    SELECT i.access_jti, i.access_jti IN (SELECT access_jti FROM redeemed) AS redeemed,
           i.access_jti IN (SELECT access_jti FROM enabled) AS user_enabled
    FROM input i"""

# How long a shared statement waits for a row lock before its exchanges go one by one. Longer
# than an administrator's ordinary change holds one; an exchange alone waits as long as the
# server's lock_timeout allows (its request's LATCHKEY_TOKEN_ISSUE_DEADLINE_SECONDS bounds it).
SHARED_LOCK_TIMEOUT = "100ms"

# What one exchange's row can make a shared statement fail with; the others are not at fault.
_ONE_ROWS_FAULT = (asyncpg.IntegrityConstraintViolationError, asyncpg.LockNotAvailableError,
                   asyncpg.TransactionRollbackError)

_DELETE_EXPIRED = """DELETE FROM code_redemptions WHERE code_hash IN (
                         SELECT code_hash FROM code_redemptions WHERE expires_at < now() LIMIT $1)"""

# One exchange: its redemption, its user, and the first refresh token it stores, if any.
_Exchange = tuple[CodeRedemption, UUID | None, NewRefreshToken | None]
# What a shared statement answers an exchange: the result, or (the statement failed on some
# exchange's row) the redemption for its waiter to make alone.
_Answer = Redeemed | Callable[[], Awaitable[Redeemed]]
_NO_TOKEN = (None,) * 8  # the 8 refresh-token parameters of an exchange that stores none


def _row(exchange: _Exchange) -> tuple[object, ...]:
    """The statement's 15 parameters for one exchange, in order (the token's own client, jti and
    expiry are the redemption's: one plan made both)."""
    redemption, user_id, first = exchange
    token = _NO_TOKEN if first is None else (
        first.token_hash, first.family_id, " ".join(first.scope), first.resource, first.auth_time, first.expires_at,
        first.family_expires_at, first.sid)
    return (redemption.code_hash, redemption.grant_id, redemption.client_id, redemption.access_jti,
            redemption.access_expires_at, redemption.expires_at, user_id, *token)


def _columns(batch: list[_Exchange]) -> list[list[object]]:
    return [list(column) for column in zip(*map(_row, batch), strict=True)]


class PgCodeRedemptions:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._db = pool
        self._batched: Batched[_Exchange, _Answer] = Batched(self._redeem_shared)

    async def redeem_issuing(self, redemption: CodeRedemption, first: NewRefreshToken) -> Redeemed:
        """Records the redemption and stores the grant's first refresh token, in one statement; the
        token only if the redemption is new and its user and client exist and are enabled."""
        return await self._redeem((redemption, first.user_id, first))

    async def redeem_checking_user(self, redemption: CodeRedemption, user_id: UUID | None) -> Redeemed:
        """Records the redemption and asks whether the user and client exist and are enabled, one statement."""
        return await self._redeem((redemption, user_id, None))

    async def _redeem(self, exchange: _Exchange) -> Redeemed:
        answer = await self._batched.submit(exchange)
        return answer if isinstance(answer, Redeemed) else await answer()

    async def _redeem_shared(self, batch: list[_Exchange]) -> list[_Answer]:
        try:
            return [*await self._statement(batch, SHARED_LOCK_TIMEOUT)]
        except _ONE_ROWS_FAULT:
            # The batches after this one do not wait: each waiter redeems its exchange alone, at
            # once and on a connection of its own, so only the exchange at fault waits or fails.
            return [functools.partial(self._alone, exchange) for exchange in batch]

    async def _alone(self, exchange: _Exchange) -> Redeemed:
        [answer] = await self._statement([exchange], None)
        return answer

    async def _statement(self, batch: list[_Exchange], lock_timeout: str | None) -> list[Redeemed]:
        rows = await self._db.fetch(_REDEEM_MANY, *_columns(batch), lock_timeout)
        answers = {row["access_jti"]: Redeemed(row["redeemed"], row["user_enabled"]) for row in rows}
        return [answers[redemption.access_jti] for redemption, _, _ in batch]

    async def close(self) -> None:
        await self._batched.close()

    async def find(self, code_hash: str) -> CodeUse | None:
        """What the first exchange of this code issued (only asked when a code is refused)."""
        row = await self._db.fetchrow(
            "SELECT grant_id, access_jti, access_expires_at FROM code_redemptions WHERE code_hash = $1", code_hash)
        if row is None:
            return None
        return CodeUse(grant_id=row["grant_id"], access_jti=row["access_jti"],
                       access_expires_at=int(row["access_expires_at"].timestamp()))

    async def delete_expired(self, batch: int = 5000) -> int:
        """Deletes rows past their replay window, in batches that keep each transaction short."""
        deleted = 0
        while True:
            status = await self._db.execute(_DELETE_EXPIRED, batch)
            count = int(status.rsplit(" ", 1)[1])
            deleted += count
            if count < batch:
                return deleted
