"""The key ring (shared.keyring) against the JWKS the public URL serves: an active key per
configured algorithm, every published key served and nothing else, the next key announced in
time, the rotation schedule kept, and the key-encryption key able to open the active keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.config import Settings
from shared.deploy_check.findings import Finding, fail, ok
from shared.errors import ConfigError
from shared.keyring import load_signing_key
from shared.models import StoredSigningKey


def check_active(settings: Settings, keys: list[StoredSigningKey]) -> list[Finding]:
    missing = [alg for alg in settings.key_ring_algs if not any(k.alg == alg and k.status == "active" for k in keys)]
    if missing:
        return [fail("active keys", f"no active signing key for {', '.join(missing)}; run `latchkey keys rotate`")]
    return [ok("active keys", f"one active key for each of {', '.join(settings.key_ring_algs)}")]


def check_served(published: list[StoredSigningKey], jwks: dict[str, dict[str, Any]], now: datetime,
                 settings: Settings) -> list[Finding]:
    """The JWKS serves exactly the published keys. A token service loads a new key within
    LATCHKEY_KEY_POLL_SECONDS and a cache in front of it may keep the old JWKS for its max-age, so
    a key published less than both ago and not served yet is only a warning (`keys rotate` and
    then `check` at once is no failure); later it fails."""
    settle = timedelta(seconds=settings.key_poll_interval + settings.jwks_max_age)
    want = {k.kid: k for k in published}
    absent = [k for kid, k in want.items() if kid not in jwks]
    late = [_named(k) for k in absent if now - k.created_at >= settle]
    settling = [_named(k) for k in absent if now - k.created_at < settle]
    extra = sorted(set(jwks) - set(want))
    wrong_alg = [kid for kid, k in want.items() if kid in jwks and jwks[kid].get("alg") != k.alg]
    problems = ([f"not served: {', '.join(late)}"] if late else []) + \
               ([f"served but not in the key ring: {', '.join(extra)}"] if extra else []) + \
               ([f"wrong alg for {', '.join(wrong_alg)}"] if wrong_alg else [])
    if problems:
        return [fail("jwks keys", "; ".join(problems))]
    if settling:
        return [Finding("jwks keys", "warn", f"not served yet: {', '.join(settling)}, published less than "
                                             f"{int(settle.total_seconds())} s ago (LATCHKEY_KEY_POLL_SECONDS + "
                                             "LATCHKEY_JWKS_MAX_AGE_SECONDS); check again after that")]
    return [ok("jwks keys", f"the JWKS serves the key ring's {len(want)} published keys")]


def _named(key: StoredSigningKey) -> str:
    return f"{key.kid} ({key.alg}, {key.status})"


def check_schedule(settings: Settings, keys: list[StoredSigningKey], now: datetime) -> list[Finding]:
    """A next key must be published long enough before it signs for every verifier's cache to
    have it (LATCHKEY_KEY_ANNOUNCE_SECONDS > JWKS max-age + poll); and when automatic rotation
    is on, an active key past its period must have a next key announced by now."""
    found: list[Finding] = []
    least = timedelta(seconds=settings.jwks_max_age + settings.key_poll_interval)
    for key in keys:
        if key.status == "next" and key.activates_at - key.created_at < least:
            found.append(fail("key announcement", f"next key {key.kid} ({key.alg}) signs from "
                                                  f"{key.activates_at.isoformat()}, less than {least.seconds} s "
                                                  "after it was published"))
    if settings.key_rotation_interval > 0:
        # The rotator runs every LATCHKEY_KEY_ROTATION_CHECK_SECONDS: allow it one round late.
        overdue_after = timedelta(seconds=settings.key_rotation_interval + 2 * settings.key_rotation_check)
        for key in keys:
            waiting = any(k.alg == key.alg and k.status == "next" for k in keys)
            if key.status == "active" and not waiting and key.activates_at + overdue_after < now:
                found.append(fail("key rotation", f"{key.alg} key {key.kid} is past its rotation period "
                                                  "and no next key is announced: is a token service running?"))
    return found or [ok("key rotation", "next keys announced in time; no rotation overdue")]


def check_decrypts(settings: Settings, keys: list[StoredSigningKey]) -> list[Finding]:
    if not settings.key_encryption_key:
        return []
    for key in keys:
        if key.status == "active":
            try:
                load_signing_key(key, settings.key_encryption_key)
            except ConfigError:
                return [fail("key-encryption key", f"does not decrypt active key {key.kid}: "
                                                   "not the key the token service uses")]
    return [ok("key-encryption key decrypts", "it opens every active signing key")]
