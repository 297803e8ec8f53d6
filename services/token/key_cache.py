"""The signing-key cache: keys decrypted once, the JWKS (RFC 7517 §5) rendered once.

The published set is re-read every few seconds (one small query); when the (kid, status)
pairs change, only keys not seen before are decrypted, in a worker thread so the event loop
never waits on AES or PEM parsing, and the whole state is swapped in one assignment. Requests
only read ``signer(alg)`` and ``jwks_body``: no I/O, no decryption.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import jwt
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.errors import TemporarilyUnavailable
from shared.keyring import load_signing_key
from shared.models import StoredSigningKey
from shared.tokens.jws_sign import JwsSigner

log = logging.getLogger("latchkey.token.keys")
_SIGNING_STATUSES = ("next", "active")


@dataclass(frozen=True, slots=True)
class KeyState:
    active: dict[str, JwsSigner] = field(default_factory=dict)  # by algorithm
    public: dict[str, jwt.PyJWK] = field(default_factory=dict)
    jwks_body: bytes = b'{"keys":[]}'
    statuses: frozenset[tuple[str, str]] = frozenset()
    by_alg_status: dict[tuple[str, str], int] = field(default_factory=dict)  # for /metrics


def render_jwks(stored: list[StoredSigningKey]) -> bytes:
    """Public halves only: kty and key members, kid, use and alg (set by shared.crypto.signing_keys)."""
    return json.dumps({"keys": [k.public_jwk for k in stored]}, separators=(",", ":")).encode()


class KeyCache:
    def __init__(self, key_encryption_key: bytes) -> None:
        self._kek = key_encryption_key
        self._signers: dict[str, JwsSigner] = {}
        self._state = KeyState()

    def signer(self, alg: str, *, exact: bool = False) -> JwsSigner:
        """The active key of ``alg``. Unless ``exact``, while that algorithm has none (one newly
        configured is announced before it signs) the RS256 key, or any active one, signs."""
        active = self._state.active
        signer = active.get(alg)
        if signer is None and not exact:
            signer = active.get("RS256") or next(iter(active.values()), None)
        if signer is None:
            raise TemporarilyUnavailable(f"no {alg} signing key is loaded yet")
        return signer

    def verification_key(self, kid: str) -> jwt.PyJWK | None:
        return self._state.public.get(kid)

    @property
    def jwks_body(self) -> bytes:
        return self._state.jwks_body

    @property
    def key_counts(self) -> dict[tuple[str, str], int]:
        return self._state.by_alg_status

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(kid for kid, _ in self._state.statuses)

    async def load(self, stored: list[StoredSigningKey]) -> bool:
        """Takes the published keys; returns True when anything changed."""
        statuses = frozenset((k.kid, k.status) for k in stored)
        if statuses == self._state.statuses:
            return False
        loop = asyncio.get_running_loop()
        for key in stored:
            if key.status in _SIGNING_STATUSES and key.kid not in self._signers:
                signing_key = await loop.run_in_executor(None, load_signing_key, key, self._kek)
                self._signers[key.kid] = JwsSigner(signing_key)
        wanted = {k.kid for k in stored if k.status in _SIGNING_STATUSES}
        self._signers = {kid: s for kid, s in self._signers.items() if kid in wanted}
        active = {k.alg: self._signers[k.kid] for k in stored if k.status == "active"}
        self._state = KeyState(active=active, public={k.kid: jwt.PyJWK(k.public_jwk) for k in stored},
                               jwks_body=render_jwks(stored), statuses=statuses,
                               by_alg_status=dict(Counter((k.alg, k.status) for k in stored)))
        log.info("signing keys: active %s, published %s",
                 ", ".join(f"{alg} {signer.kid}" for alg, signer in sorted(active.items())) or None,
                 sorted(k.kid for k in stored))
        return True


class KeyRingCollector(Collector):
    """latchkey_signing_keys{alg,status}: the published keys as this replica last loaded them.
    An alert on ``active`` below 1 for an algorithm, or no ``next`` before a rotation, is the
    key ring's health (read at scrape time, nothing on the request path)."""

    def __init__(self, cache: KeyCache) -> None:
        self._cache = cache

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("latchkey_signing_keys", "published signing keys by algorithm and status",
                                   labels=("alg", "status"))
        counts = self._cache.key_counts
        # "retired": no longer signs, still published until the tokens it signed expire (retiring).
        for alg in sorted({alg for alg, _ in counts}):
            for status in ("next", "active", "retired"):
                family.add_metric((alg, status), counts.get((alg, status), 0))
        yield family
