"""Delivering back-channel logouts (OIDC Back-Channel Logout 1.0 §2.5-§2.8) in the background.

The token service holds the signing keys, so it is the one that signs: every replica reads the
queue that ``shared.logout.announce`` fills (``shared.logout.queue``, one consumer group), signs a
logout token per entry with the client's ID-token algorithm and POSTs it as
``application/x-www-form-urlencoded`` ``logout_token=...`` to the client's
``backchannel_logout_uri``, without following redirects.

A 2xx answer is delivered (§2.8 allows 200 and 204). A 5xx, 429, timeout or connection error is
tried again after a wait that doubles each time, up to LATCHKEY_BACKCHANNEL_LOGOUT_ATTEMPTS
tries; any other answer is final (the client refused this token, another copy would be refused
too). Each try gets a fresh token (new ``jti``, ``iat``), so a client that detects replays does
not refuse a retry. The final outcome is audited (``backchannel_logout``) and counted in
``latchkey_backchannel_logout_deliveries_total{outcome}``; only then is the entry acknowledged.
An entry a replica read but never finished (it stopped) is claimed by another one once it has
been idle longer than a whole delivery can take.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from redis.exceptions import ResponseError

from services.token.core.logout_token import logout_token_claims, mint_logout_token
from services.token.key_cache import KeyCache
from services.token.pending_revocations import retry_delay
from shared.config import Settings
from shared.crypto.digests import new_secret
from shared.logout.queue import Entry, LogoutEvent, LogoutQueue, wants_logout
from shared.metrics import Metrics
from shared.models import AuditEvent, Client
from shared.stores.outages import STORE_ERRORS
from shared.stores.pg_audit import PgAudit

log = logging.getLogger("latchkey.token.backchannel_logout")

READ_BLOCK_MS = 1000  # how long one read waits for a new entry; shutdown waits at most this long
CLAIM_EVERY_SECONDS = 5.0  # how often stale entries of stopped replicas are looked for
CLAIM_MARGIN_SECONDS = 30  # beyond the longest delivery, before an entry counts as abandoned


class Clients(Protocol):
    async def get(self, client_id: str) -> Client | None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int
    timeout: float  # seconds, one POST from connecting to the answer's status line
    backoff: float  # seconds before the first retry; doubles after each failed try

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.backchannel_logout_attempts, float(settings.backchannel_logout_timeout),
                   settings.backchannel_logout_backoff_ms / 1000)

    def delay(self, failed_tries: int) -> float:
        return float(self.backoff * 2 ** (failed_tries - 1))

    @property
    def longest_delivery(self) -> float:
        return self.attempts * self.timeout + sum(self.delay(n) for n in range(1, self.attempts))


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str  # delivered | failed | timeout (shared.metrics.BACKCHANNEL_OUTCOMES)
    attempts: int
    status: int | None  # the last answer's HTTP status; None after a timeout or connection error


async def post_once(http: aiohttp.ClientSession, uri: str, token: str, timeout: float) -> tuple[Outcome, bool]:
    """One POST (§2.5); returns its outcome and whether trying again could help."""
    try:
        async with http.post(uri, data={"logout_token": token}, allow_redirects=False,
                             timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            status = response.status
    except TimeoutError:
        return Outcome("timeout", 1, None), True
    except aiohttp.ClientError:
        return Outcome("failed", 1, None), True
    if 200 <= status < 300:
        return Outcome("delivered", 1, status), False
    return Outcome("failed", 1, status), status == 429 or status >= 500


async def deliver(http: aiohttp.ClientSession, uri: str, new_token: Callable[[], str], policy: RetryPolicy) -> Outcome:
    """Tries until delivered, refused for good, or out of attempts; waits between tries."""
    tries = 0
    while True:
        tries += 1
        outcome, retry = await post_once(http, uri, new_token(), policy.timeout)
        if not retry or tries >= policy.attempts:
            return Outcome(outcome.outcome, tries, outcome.status)
        await asyncio.sleep(policy.delay(tries))


class LogoutDeliverer:
    def __init__(self, settings: Settings, queue: LogoutQueue, clients: Clients, keys: KeyCache, audit: PgAudit,
                 metrics: Metrics, http: aiohttp.ClientSession,
                 announce: Callable[[LogoutEvent], Awaitable[None]]) -> None:
        self._settings = settings
        self._announce = announce  # a deferred announcement (LogoutEvent.deferred) made now
        self._queue = queue
        self._clients = clients
        self._keys = keys
        self._audit = audit
        self._metrics = metrics
        self._http = http
        self._policy = RetryPolicy.from_settings(settings)
        self._limit = settings.backchannel_logout_concurrency
        self._stale_ms = int((self._policy.longest_delivery + CLAIM_MARGIN_SECONDS) * 1000)
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{new_secret(6)}"
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        """Reads and starts deliveries until cancelled; the store's outages only pause it."""
        group_ready, failures, next_claim = False, 0, 0.0
        while True:
            try:
                if not group_ready:
                    await self._queue.ensure_group()
                    group_ready = True
                if len(self._in_flight) >= self._limit:
                    await asyncio.wait(list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED)
                    continue
                room = self._limit - len(self._in_flight)
                entries: list[Entry] = []
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + CLAIM_EVERY_SECONDS
                    entries = await self._queue.claim_stale(self.consumer, self._stale_ms, room)
                if not entries:
                    entries = await self._queue.read(self.consumer, room, READ_BLOCK_MS)
                for entry_id, fields in entries:
                    if entry_id not in self._in_flight:
                        task = asyncio.create_task(self._handle(entry_id, fields))
                        self._in_flight[entry_id] = task
                        task.add_done_callback(functools.partial(self._finished, entry_id))
                failures = 0
            except Exception as exc:
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    group_ready = False  # the stream was deleted (Redis emptied): make the group again
                    continue
                failures += 1
                if not isinstance(exc, STORE_ERRORS):
                    log.exception("could not read the back-channel logout queue")
                elif failures == 1:
                    log.warning("back-channel logouts wait for Redis: %s", type(exc).__name__)
                await asyncio.sleep(retry_delay(failures, self._settings.revocation_retry))

    def _finished(self, entry_id: str, _: asyncio.Task[None]) -> None:
        self._in_flight.pop(entry_id, None)

    async def close(self) -> None:
        """Stops the deliveries under way; their entries stay pending for another replica."""
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, entry_id: str, fields: dict[Any, Any]) -> None:
        try:
            try:
                event = LogoutEvent.parse(fields)
            except (KeyError, ValueError):
                log.warning("dropped back-channel logout entry %s: not a logout event", entry_id)
                await self._queue.done(entry_id)
                return
            if event.deferred:
                await self._announce(event)  # queues the session's logout events; PostgreSQL down: left pending
                await self._queue.done(entry_id)
                return
            client = await self._clients.get(event.client_id)
            if client is None or not wants_logout(client, event.sid):
                await self._queue.done(entry_id)  # nobody to tell any more
                return
            outcome = await deliver(self._http, client.backchannel_logout_uri or "",
                                    lambda: self._token(client, event), self._policy)
            self._metrics.backchannel_logout_delivery(outcome.outcome)
            await self._audit.note(AuditEvent("backchannel_logout", client_id=client.client_id, user_id=event.sub,
                                              details={"outcome": outcome.outcome, "attempts": outcome.attempts,
                                                       "status": outcome.status, "reason": event.reason,
                                                       "with_sid": bool(event.sid)}))
            await self._queue.done(entry_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Left pending: claimed again once stale (keys not loaded yet, PostgreSQL or Redis down).
            log.exception("back-channel logout %s not finished; it will be tried again", entry_id)

    def _token(self, client: Client, event: LogoutEvent) -> str:
        """Signed like the client's ID tokens (its registered algorithm, else the default), so it
        verifies with the keys the client already trusts (§2.4: signed, per OIDC Core §2)."""
        alg = client.id_token_signed_response_alg
        signer = self._keys.signer(alg, exact=True) if alg else self._keys.signer(self._settings.id_token_signing_alg)
        claims = logout_token_claims(issuer=self._settings.issuer, client_id=client.client_id, sub=event.sub,
                                     sid=event.sid, now=int(time.time()))
        return mint_logout_token(signer, claims)
