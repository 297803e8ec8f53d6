"""What a grant handler receives: the authenticated request and the ports it may use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import Settings
from shared.models import Client
from services.token.core.issuer import TokenIssuer
from services.token.core.ports import Audit, Codes, Denylist, Redemptions, RefreshTokens, Resweep


@dataclass(frozen=True, slots=True)
class TokenRequest:
    client: Client
    form: Mapping[str, str]
    now: int
    remote_addr: str | None = None


@dataclass(frozen=True, slots=True)
class GrantPorts:
    settings: Settings
    codes: Codes
    refresh_tokens: RefreshTokens
    denylist: Denylist
    audit: Audit
    issuer: TokenIssuer
    resweep: Resweep
    redemptions: Redemptions
