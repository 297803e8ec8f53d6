"""Checks on the settings alone: https outside dev, the RFC 9700 profile, the key-encryption key."""

from __future__ import annotations

import base64

from shared.config import DEV_KEY_ENCRYPTION_KEY, Settings, is_loopback_url
from shared.deploy_check.findings import Finding, dev_only, fail, ok

MAX_CODE_TTL = 60  # FAPI 2.0 Security Profile §5.3.2.1: codes live at most 60 s (RFC 6749 §4.1.2 only says "short")


def https_everywhere(settings: Settings) -> list[Finding]:
    """Every public URL is https (RFC 9700 §2.6, RFC 6749 §3.1 and §3.2: TLS on every endpoint)."""
    urls = (("LATCHKEY_ISSUER", settings.issuer), ("LATCHKEY_TOKEN_URL", settings.token_url),
            ("LATCHKEY_RESOURCE_URL", settings.resource_url))
    plain = [(name, url) for name, url in urls if not url.startswith("https://")]
    if not plain:
        return [ok("https", "issuer, token and resource URLs are https")]
    loopback = all(is_loopback_url(url) for _, url in plain)
    message = ", ".join(f"{name} is {url}" for name, url in plain) + ": not https"
    return [dev_only("https", message, settings.dev_mode and loopback)]


def oauth_profile(settings: Settings) -> list[Finding]:
    """RFC 9700 (OAuth 2.0 Security BCP): PKCE for every client (§2.1.1), short-lived codes,
    refresh-token rotation for public clients (§4.14.2)."""
    found = [ok("pkce required", "LATCHKEY_REQUIRE_PKCE is on") if settings.require_pkce
             else fail("pkce required",
                       "LATCHKEY_REQUIRE_PKCE is off: confidential clients may skip PKCE (RFC 9700 §2.1.1)")]
    if settings.code_ttl <= MAX_CODE_TTL:
        found.append(ok("code lifetime", f"LATCHKEY_CODE_TTL_SECONDS is {settings.code_ttl} s"))
    else:
        found.append(fail("code lifetime",
                          f"LATCHKEY_CODE_TTL_SECONDS is {settings.code_ttl} s; at most {MAX_CODE_TTL} s"))
    # Rotation is not a setting: every refresh answers a new token and retires the old one.
    found.append(ok("refresh rotation", f"on (reuse grace LATCHKEY_REFRESH_GRACE_SECONDS={settings.refresh_grace} s)"))
    return found


def key_encryption_key(settings: Settings) -> list[Finding]:
    dev_key = base64.urlsafe_b64decode(DEV_KEY_ENCRYPTION_KEY)
    if not settings.key_encryption_key:
        return [fail("key-encryption key", "LATCHKEY_KEY_ENCRYPTION_KEY is not set here: run `latchkey check` "
                                           "with the token service's environment")]
    if settings.key_encryption_key == dev_key:
        return [dev_only("key-encryption key", "LATCHKEY_KEY_ENCRYPTION_KEY is the published dev key",
                         settings.dev_mode)]
    return [ok("key-encryption key", "not the dev key")]

