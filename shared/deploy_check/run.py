"""Runs every check of `latchkey check` and gathers the findings, in a stable order."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime

from shared.config import Settings, _bool
from shared.deploy_check import profile, signing_keys
from shared.deploy_check.findings import Finding
from shared.deploy_check.published import fetch_published
from shared.deploy_check.stores import check_postgres, check_redis
from shared.stores.pg_signing_keys import PgSigningKeys


def read_settings(env: Mapping[str, str]) -> Settings:
    """The deployment's settings as its services read them, except that the dev-only refusals
    (the dev key, an http issuer) are not raised here: the check reports them instead, with
    every other finding, rather than stopping at the first."""
    lenient = Settings.from_env(env, dev_mode=True)  # validated as a dev deployment would be
    return dataclasses.replace(lenient, dev_mode=_bool(env.get("LATCHKEY_DEV", "")))


async def run_checks(env: Mapping[str, str]) -> list[Finding]:
    settings = read_settings(env)
    found = [*profile.https_everywhere(settings), *profile.oauth_profile(settings),
             *profile.key_encryption_key(settings)]
    (published, jwks), postgres, redis = await asyncio.gather(
        fetch_published(settings), check_postgres(settings), check_redis(settings))
    found.extend(published)
    pg_findings, conn = postgres
    found.extend(pg_findings)
    if conn is not None:
        try:
            store = PgSigningKeys(conn)
            keys, shown = await store.all(), await store.published()
        finally:
            await conn.close()
        found.extend(signing_keys.check_active(settings, keys))
        now = datetime.now(UTC)
        if jwks is not None:
            found.extend(signing_keys.check_served(shown, jwks, now, settings))
        found.extend(signing_keys.check_schedule(settings, keys, now))
        found.extend(signing_keys.check_decrypts(settings, keys))
    found.extend(redis)
    return found
