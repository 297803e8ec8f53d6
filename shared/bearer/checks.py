"""The access-token rules of RFC 9068 §4 and RFC 8725 §3, as small named checks run in order.

Pure functions over the parsed header and claims: no I/O, no clock of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from .errors import InvalidToken
from .jws_verify import VerificationKey
from .token import VerifierPolicy

# RFC 8725 §3.10 / RFC 7515 §4.1.2-6: a token must never tell us where to get its key.
KEY_LOCATION_HEADERS = ("jku", "x5u", "jwk", "x5c")
# RFC 9068 §4: typ is "at+jwt"; "application/at+jwt" is the same media type written in full, and
# media types compare case-insensitively (RFC 7515 §4.1.9).
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
WRONG_AUDIENCE = "token not meant for this API (aud)"


def _is_number(value: Any) -> bool:
    # json.loads reads NaN and Infinity; neither is a time (and int() of them would raise).
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # a JSON integer beyond any float (10**400) is no time either
        return False


def _is_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _is_audience(value: Any) -> bool:
    return _is_text(value) or (isinstance(value, list) and bool(value) and all(_is_text(v) for v in value))


# RFC 9068 §2.2: required claims and their JSON types; optional claims are type-checked when present.
REQUIRED_CLAIMS: dict[str, Callable[[Any], bool]] = {
    "iss": _is_text, "sub": _is_text, "aud": _is_audience, "exp": _is_number,
    "iat": _is_number, "jti": _is_text, "client_id": _is_text,
}
OPTIONAL_CLAIMS: dict[str, Callable[[Any], bool]] = {
    "nbf": _is_number, "scope": lambda v: isinstance(v, str), "auth_time": _is_number,
}


def check_header(header: Mapping[str, Any], policy: VerifierPolicy) -> str:
    """Header rules, checked before any key is looked up; returns the kid."""
    for name in KEY_LOCATION_HEADERS:
        if name in header:
            raise InvalidToken(f"{name} header not accepted")
    if "crit" in header:
        raise InvalidToken("critical header extensions not supported")  # RFC 7515 §4.1.11
    # Every header value is attacker-chosen JSON: type-check before hashing or comparing it.
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidToken("not an access token (typ must be at+jwt)")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise InvalidToken("algorithm not accepted")
    kid = header.get("kid")
    if not _is_text(kid):
        raise InvalidToken("kid header missing")
    return kid


def check_alg_matches_key(header: Mapping[str, Any], key: VerificationKey) -> None:
    """RFC 8725 §3.1: the key decides the algorithm; a header naming another one is refused."""
    if header.get("alg") != key.alg:
        raise InvalidToken("algorithm does not match the key")


def _claim_types(claims: Mapping[str, Any], policy: VerifierPolicy, now: int) -> str | None:
    for name, valid in REQUIRED_CLAIMS.items():
        if name not in claims:
            return f"{name} claim missing"
        if not valid(claims[name]):
            return f"{name} claim malformed"
    for name, valid in OPTIONAL_CLAIMS.items():
        if name in claims and not valid(claims[name]):
            return f"{name} claim malformed"
    return None


def _issuer(claims: Mapping[str, Any], policy: VerifierPolicy, now: int) -> str | None:
    return None if claims["iss"] == policy.issuer else "wrong issuer"


def _audience(claims: Mapping[str, Any], policy: VerifierPolicy, now: int) -> str | None:
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if policy.audience in audiences or not policy.also_audiences.isdisjoint(audiences):
        return None  # one of also_audiences: whether this route takes it is BearerVerifier.verify's question
    return WRONG_AUDIENCE


def _expiry(claims: Mapping[str, Any], policy: VerifierPolicy, now: int) -> str | None:
    return None if now < claims["exp"] + policy.leeway else "token expired"


def _not_before(claims: Mapping[str, Any], policy: VerifierPolicy, now: int) -> str | None:
    nbf = claims.get("nbf")
    return None if nbf is None or nbf <= now + policy.leeway else "token not yet valid"


def _issued_at(claims: Mapping[str, Any], policy: VerifierPolicy, now: int) -> str | None:
    return None if claims["iat"] <= now + policy.leeway else "token issued in the future"


ClaimChecks = tuple[tuple[str, Callable[[Mapping[str, Any], VerifierPolicy, int], str | None], str], ...]
# The checks whose answer changes with the clock: run again on every use of a remembered token.
TIME_CHECKS: ClaimChecks = (
    ("exp not passed", _expiry, "expired"),
    ("nbf reached", _not_before, "not_yet_valid"),
    ("iat not in the future", _issued_at, "not_yet_valid"),
)
# Run in this order; the first problem found is the one reported, with its reason key.
CLAIM_CHECKS: ClaimChecks = (
    ("required claims with the right types", _claim_types, "malformed"),
    ("iss is exactly our issuer", _issuer, "wrong_issuer"),
    ("aud contains this API", _audience, "wrong_audience"),
    *TIME_CHECKS,
)


def check_claims(claims: Mapping[str, Any], policy: VerifierPolicy, now: int,
                 checks: ClaimChecks = CLAIM_CHECKS) -> None:
    for _, check, reason in checks:
        problem = check(claims, policy, now)
        if problem:
            raise InvalidToken(problem, reason=reason)
