"""Access-token ids that carry their issue time to the millisecond (UUIDv7, RFC 9562 §5.7).

``iat`` has one-second resolution, so a "refuse what was issued before this moment" revocation
(``revocation``) could not tell a token minted just before it from one minted just after it in
the same second: a user who revoked a consent and granted it again at once got dead tokens. The
token service therefore makes each jti a UUIDv7 whose first 48 bits are the issue time in
milliseconds (74 random bits keep it unique); a verifier reads that time only when it falls in
the second ``iat`` names, and otherwise treats the token as issued at the start of that second,
the conservative reading that refuses more, never less.
"""

from __future__ import annotations

import secrets
import uuid

_RAND_A_BITS, _RAND_B_BITS = 12, 62


def new_jti(issued_at: int, now_ms: int) -> str:
    """A UUIDv7 for a token with ``iat`` = ``issued_at``; ``now_ms`` is clamped into that
    second (a request that crossed a second boundary records the earlier, stricter time)."""
    ms = min(max(now_ms, issued_at * 1000), issued_at * 1000 + 999)
    random = secrets.randbits(_RAND_A_BITS + _RAND_B_BITS)
    value = ((ms << 80) | (0x7 << 76) | ((random >> _RAND_B_BITS) << 64) | (0b10 << 62)
             | (random & ((1 << _RAND_B_BITS) - 1)))
    # str(uuid.UUID(int=value)), without the object: one is minted per token.
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def issued_ms(jti: str, iat: int) -> int:
    """When the token was issued, in milliseconds: the jti's time when it is a UUIDv7 within
    ``iat``'s second, else the start of that second."""
    if len(jti) == 36 and jti[14] == "7":
        try:
            ms = uuid.UUID(jti).int >> 80
        except ValueError:
            return iat * 1000
        if ms // 1000 == iat:
            return ms
    return iat * 1000
