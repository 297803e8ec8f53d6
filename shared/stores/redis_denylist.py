"""Revoked access-token ids (jti), each kept exactly as long as a verifier could accept its token.

A bearer verifier accepts a token until exp + the clock leeway, so an entry lives that long
too; a token revoked inside the leeway window is still remembered (RFC 7009 §2.2). The key
format and the verifier's batched read live in ``shared.bearer.revocation``.

``cut_off`` covers the access tokens nobody recorded (those minted without a refresh token): every
token of a subject, a client, or the pair, issued at or before a time (to the millisecond,
shared.bearer.jti) is refused; ``reinstate`` lets a re-enabled one's new tokens in. Its key lives
as long as the longest access token any configuration can issue, plus the leeway.

Replication. A primary acknowledges a write before its replicas have it; one that dies first
takes the entry with it, and a promoted replica would accept the token again. With ``replicas``
set (LATCHKEY_REVOCATION_REPLICAS), ``add_many`` ends with WAIT on the same connection and says
whether that many replicas confirmed the entries within ``wait_ms``: only then may the caller
forget the entries' PostgreSQL record (pending_revocations), which otherwise stays and is
written again (services/token/pending_revocations.py) until confirmed or expired.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from shared.bearer.revocation import TokenRef, revoked_before_key, revoked_jti_key
from shared.models import Cutoff


class RedisDenylist:
    def __init__(self, redis: Redis, prefix: str, *, leeway: int = 0, replicas: int = 0, wait_ms: int = 100) -> None:
        self._redis = redis
        self._prefix = prefix
        self._leeway = leeway
        self._replicas = replicas  # that must confirm a write before it counts as durable
        self._wait_ms = wait_ms

    def _key(self, jti: str) -> str:
        return revoked_jti_key(self._prefix, jti)

    def _keep_until(self, expires_at: datetime) -> int:
        return int(expires_at.timestamp()) + self._leeway + 1

    def _live(self, entries: list[tuple[str, datetime]]) -> list[tuple[str, int]]:
        now = datetime.now(UTC).timestamp()
        return [(jti, until) for jti, expires_at in entries if (until := self._keep_until(expires_at)) > now]

    async def add(self, jti: str, expires_at: datetime) -> None:
        await self.add_many([(jti, expires_at)])

    async def add_many(self, entries: list[tuple[str, datetime]]) -> bool:
        """Writes the entries; True when they are durable as configured: on the primary, and on
        ``replicas`` replicas when set (WAIT, on the pipeline's connection, after the SETs)."""
        live = self._live(entries)  # a token no verifier can accept any more needs no entry
        if not live:
            return True
        return await self._write_durably([(self._key(jti), b"1", until) for jti, until in live])

    async def _write_durably(self, writes: list[tuple[str, bytes | str, int]]) -> bool:
        """SETs (key, value, expiry time) in one pipeline; True when durable as configured."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, value, until in writes:
                pipe.set(key, value, exat=until)
            if self._replicas:
                pipe.execute_command("WAIT", self._replicas, self._wait_ms)
            answers = await pipe.execute()
        return not self._replicas or int(answers[-1]) >= self._replicas

    async def contains(self, jti: str) -> bool:
        return bool(await self._redis.exists(self._key(jti)))

    async def contains_many(self, jtis: list[str]) -> list[bool]:
        return [v is not None for v in await self._redis.mget([self._key(jti) for jti in jtis])]

    async def refuses(self, claims: Mapping[str, Any]) -> bool:
        """What the bearer verifier decides for a verified access token: its jti denylisted, or
        issued before a revocation of its subject, client or grant (one MGET)."""
        token = TokenRef.from_claims(claims)
        return token.revoked_by(await self._redis.mget(list(token.keys(self._prefix))))

    async def cut_off(self, cutoff: Cutoff) -> bool:
        """Refuses every access token of the cut-off's subject, client or pair issued up to its
        ``before_ms``; True when durable as configured (as ``add_many``). The key lives as long as
        the longest access token any configuration can issue, plus the leeway, from then.

        A disable's or delete's ``before_ms`` lies a margin past the change: it covers tokens still
        being minted by a request that passed its checks before it (a replica's client cache lags
        a disable by up to two polls); ``reinstate`` ends that margin early.
        """
        key = revoked_before_key(self._prefix, subject=cutoff.subject, client_id=cutoff.client_id)
        return await self._write_durably([(key, str(cutoff.before_ms), int(cutoff.expires_at.timestamp()) + 1)])

    async def reinstate(self, *, subject: str | None = None, client_id: str | None = None) -> None:
        """A re-enabled user or client: tokens issued from now on are accepted again, even inside
        the margin of its disable; every earlier one stays refused (none was issued while it was
        disabled). XX: nothing to move when no revocation is in force."""
        key = revoked_before_key(self._prefix, subject=subject, client_id=client_id)
        await self._redis.set(key, str(time.time_ns() // 1_000_000), xx=True, keepttl=True)
