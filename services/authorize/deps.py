"""What the handlers work with: the stores, built once per process in cleanup_ctx."""

from __future__ import annotations

from dataclasses import dataclass

from shared.endpoints import ACCOUNT_PATH, AUTHORIZE_PATH, CONSENT_PATH, LOGIN_PATH, LOGOUT_PATH, SWITCH_ACCOUNT_PATH
from shared.stores.pg_apis import CachedApis
from shared.stores.pg_signing_keys import PgSigningKeys
from shared.stores.protocols import Audit, Clients, Consents, Users
from shared.stores.redis_codes import RedisCodeStore
from shared.stores.redis_sessions import RedisSessions
from shared.stores.redis_throttle import RedisLoginThrottle
from shared.stores.redis_transactions import RedisTransactions


@dataclass(frozen=True, slots=True)
class Stores:
    clients: Clients
    apis: CachedApis
    users: Users
    consents: Consents
    codes: RedisCodeStore  # not the protocol: completing a transaction takes it in the same atomic step
    sessions: RedisSessions
    transactions: RedisTransactions
    throttle: RedisLoginThrottle
    audit: Audit
    signing_keys: PgSigningKeys  # public halves only are read: to verify an id_token_hint


@dataclass(frozen=True, slots=True)
class Paths:
    """Where our own pages live as the browser sees them: under the issuer's path (a gateway prefix)."""

    authorize: str
    login: str
    consent: str
    logout: str
    switch_account: str
    account: str
    stylesheet: str

    @classmethod
    def under(cls, base: str, stylesheet_version: str) -> Paths:
        return cls(authorize=base + AUTHORIZE_PATH, login=base + LOGIN_PATH, consent=base + CONSENT_PATH,
                   logout=base + LOGOUT_PATH, switch_account=base + SWITCH_ACCOUNT_PATH, account=base + ACCOUNT_PATH,
                   stylesheet=f"{base}/static/style.css?v={stylesheet_version}")
