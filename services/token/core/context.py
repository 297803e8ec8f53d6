"""What a grant handler receives: the authenticated request and the stores and signer it may use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from services.token.core.issuer import TokenIssuer
from shared.config import Settings
from shared.metrics import Metrics
from shared.models import Client
from shared.stores.protocols import Audit, Codes, Denylist, Redemptions, RefreshTokens

# Revoke a grant once more after a delay (seconds): see code_grant.replayed.
Resweep = Callable[[UUID, float], None]


@dataclass(frozen=True, slots=True)
class TokenRequest:
    client: Client
    form: Mapping[str, str]
    now: int
    remote_addr: str | None = None


@dataclass(frozen=True, slots=True)
class GrantContext:
    settings: Settings
    codes: Codes
    refresh_tokens: RefreshTokens
    denylist: Denylist
    audit: Audit
    issuer: TokenIssuer
    resweep: Resweep
    redemptions: Redemptions
    # Counters only (no I/O): what happened to codes and refresh tokens, for /metrics.
    metrics: Metrics = field(default_factory=Metrics)
