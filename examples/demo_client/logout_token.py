"""Receiving a Back-Channel Logout token (OIDC Back-Channel Logout 1.0 §2.4, §2.6).

Pure rules over the header and the verified claims, then the signature check with the
provider's keys (the same keys and pinned algorithms as for ID tokens, §2.6 steps 2-3), and a
memory of the jti values already used so a captured token cannot be played back (§2.6 step 8).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from examples.demo_client.provider import Provider
from shared.bearer.checks import KEY_LOCATION_HEADERS
from shared.bearer.jws_verify import parse_compact, verified_payload
from shared.errors import OAuthError

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# §2.4: explicit typing; "application/logout+jwt" is the same media type written in full.
LOGOUT_TOKEN_TYPES = ("logout+jwt", "application/logout+jwt")
MAX_TOKEN_BYTES = 16_384  # a logout token is a few hundred bytes; anything far bigger is not one


class LogoutTokenError(Exception):
    """The token is refused; the message says why (sent back as error_description)."""


@dataclass(frozen=True, slots=True)
class LogoutToken:
    """Who is to be signed out: the session (sid), the user (sub), or both."""

    iss: str
    sid: str | None
    sub: str | None
    jti: str
    exp: float


def _is_time(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def check_header(header: Mapping[str, Any]) -> str:
    """Header rules before any key is looked up; returns the kid."""
    if any(name in header for name in KEY_LOCATION_HEADERS):
        raise LogoutTokenError("the token names where to find its key")  # RFC 8725 §3.10
    if "crit" in header:
        raise LogoutTokenError("critical header extensions are not supported")
    if "typ" in header and header["typ"] not in LOGOUT_TOKEN_TYPES:
        raise LogoutTokenError("typ is not logout+jwt")  # an ID token or access token is no logout token
    kid = _text(header.get("kid"))
    if kid is None:
        raise LogoutTokenError("kid header missing")
    return kid


def check_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, now: float,
                 leeway: int) -> LogoutToken:
    """§2.6 steps 4-7 in order: iss, aud, iat, exp as for ID tokens; sub and/or sid; the
    back-channel logout event; no nonce (so an ID token can never pass as a logout token)."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    events = claims.get("events")
    iat, exp = claims.get("iat"), claims.get("exp")
    problems = [
        (claims.get("iss") != issuer, "iss is not the issuer we discovered"),
        (client_id not in audiences, "aud does not name this client"),
        (not _is_time(iat) or iat > now + leeway, "iat is missing or in the future"),
        (not _is_time(exp) or exp + leeway <= now, "exp is missing or the token has expired"),
        (_text(claims.get("jti")) is None, "jti is missing"),
        (_text(claims.get("sub")) is None and _text(claims.get("sid")) is None, "neither sub nor sid is present"),
        (not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict),
         "events lacks the back-channel logout event"),
        ("nonce" in claims, "a logout token must not carry a nonce"),
    ]
    for failed, why in problems:
        if failed:
            raise LogoutTokenError(why)
    assert _is_time(exp)  # checked above
    return LogoutToken(iss=issuer, sid=_text(claims.get("sid")), sub=_text(claims.get("sub")),
                       jti=str(claims["jti"]), exp=float(exp))


class SeenTokens:
    """jti values already accepted, each kept until its token expires; bounded, oldest first out
    (only tokens with a valid signature get here, so the bound is never reached in practice)."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def first_use(self, token: LogoutToken, leeway: int) -> bool:
        """True once per (iss, jti); later calls until expiry are replays."""
        now = self._clock()
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)  # insertion order is nearly expiry order: good enough
        key = (token.iss, token.jti)
        if key in self._seen and self._seen[key] > now:
            return False
        while len(self._seen) >= self._max:
            self._seen.popitem(last=False)
        self._seen[key] = token.exp + leeway
        return True


async def verify_logout_token(provider: Provider, raw: str, *, client_id: str, leeway: int) -> LogoutToken:
    """The checked token. LogoutTokenError: refused (400). Provider unreachable: DiscoveryError or
    VerifierUnavailable propagate, so the OP is told to try again later rather than "invalid"."""
    if len(raw) > MAX_TOKEN_BYTES:
        raise LogoutTokenError("the token is too large")
    metadata = await provider.metadata()
    try:
        jws = parse_compact(raw)
        kid = check_header(jws.header)
        key = await provider.id_token_key(kid)
        if jws.header.get("alg") != key.alg:
            raise LogoutTokenError("alg is not its key's")  # RFC 8725 §3.1: the key decides
        claims = verified_payload(jws, key)
    except OAuthError as exc:
        if exc.status >= 500:
            raise
        raise LogoutTokenError(exc.description or exc.error) from None
    return check_claims(claims, issuer=metadata.issuer, client_id=client_id, now=time.time(), leeway=leeway)
