"""The records the stores hand out: plain frozen dataclasses, no I/O."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from shared import compact_json
from shared.config import ACCESS_TOKEN_TTL_MAX

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
KeyStatus = Literal["next", "active", "retired"]

# The OpenID scopes (OIDC Core §5.4, §11) are built in; every other scope belongs to one API.
OPENID_SCOPES: dict[str, str] = {
    "openid": "Sign you in and know who you are",
    "profile": "See your name and username",
    "email": "See your email address",
    "offline_access": "Stay signed in when you are away (refresh tokens)",
}


@dataclass(frozen=True, slots=True)
class ApiScope:
    name: str
    description: str  # shown on the consent page


@dataclass(frozen=True, slots=True)
class Api:
    """A resource server (RFC 8707): its identifier is the ``resource`` value and the token's ``aud``."""

    identifier: str
    name: str
    scopes: tuple[ApiScope, ...]
    access_token_ttl: int | None = None  # None: LATCHKEY_ACCESS_TOKEN_TTL_SECONDS
    client_id: str | None = None  # the API's own introspection credentials (RFC 7662 §2.1)
    secret_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    name: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[str]
    grant_types: frozenset[str]
    token_endpoint_auth_method: AuthMethod
    is_public: bool
    # OIDC Registration §2; None: the server's LATCHKEY_ID_TOKEN_SIGNING_ALG.
    id_token_signed_response_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    client_uri: str | None = None
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    allowed_cors_origins: tuple[str, ...] = ()
    disabled: bool = False
    # The secret before the last rotation and when it stops working (``rotate-secret --overlap``).
    previous_secret_hash: str | None = None
    previous_secret_expires_at: datetime | None = None
    # Identifiers of the APIs this client may get tokens for (table client_apis).
    apis: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    username: str
    password_hash: str
    email: str | None
    email_verified: bool
    name: str | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class UserProfile:
    """A user as an API sees one: the claims and whether the account is enabled, no password hash."""

    id: UUID
    username: str
    email: str | None
    email_verified: bool
    name: str | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class StoredSigningKey:
    kid: str
    alg: str
    status: KeyStatus
    public_jwk: dict[str, Any]
    private_key_encrypted: bytes
    created_at: datetime
    activates_at: datetime
    retired_at: datetime | None
    publish_until: datetime | None


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: UUID
    family_id: UUID
    parent_id: UUID | None
    client_id: str
    user_id: UUID
    scope: tuple[str, ...]
    resource: str | None
    auth_time: datetime
    expires_at: datetime
    family_expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    sid: str | None = None  # the login session the grant began in (its ID tokens' sid)


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    """What the token service asks the store to persist (the raw token is never stored)."""

    token_hash: str
    family_id: UUID
    client_id: str
    user_id: UUID
    scope: tuple[str, ...]
    resource: str | None
    auth_time: datetime
    expires_at: datetime
    family_expires_at: datetime
    access_jti: str | None = None
    access_expires_at: datetime | None = None
    parent_id: UUID | None = None
    sid: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationGrant:
    """The validated authorization request bound to a code (RFC 6749 §4.1.2)."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    user_id: str
    auth_time: int
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    resource: str | None = None
    # Every token issued from this code belongs to this grant, so a replay can revoke them.
    grant_id: str = ""
    # The login session the code was issued in (OIDC Back-Channel Logout §2.1): the ID token's sid.
    sid: str | None = None

    def to_json(self) -> str:
        return compact_json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> AuthorizationGrant:
        # Decoded first: json.loads would guess the encoding of bytes (UTF-16? -32?) each time.
        data = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        data["scope"] = tuple(data["scope"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class CodeUse:
    """Left behind when a code is consumed, so a replay can find what was issued from it."""

    grant_id: str
    access_jti: str
    access_expires_at: int

    def to_json(self) -> str:
        return compact_json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> CodeUse:
        return cls(**json.loads(raw))


@dataclass(frozen=True, slots=True)
class CodeRedemption:
    """One exchange of a code, kept until its replay window ends."""

    code_hash: str
    grant_id: str
    client_id: str
    access_jti: str
    access_expires_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    """``redeemed`` False: the code was exchanged before (a replay). ``user_enabled`` False: no
    tokens for this user (the code is spent all the same)."""

    redeemed: bool
    user_enabled: bool


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event_type: str
    client_id: str | None = None
    user_id: str | None = None
    remote_addr: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RefreshRotation:
    """One refresh (RFC 6749 §6): the presented token's hash and what its successor needs.

    The successor keeps the presented token's scope (§6: "identical"); ``scope`` only narrows
    the access token issued with it and must lie within the token's scope.
    """

    token_hash: str
    client_id: str
    new_token_hash: str
    idle_seconds: int
    grace_seconds: int
    access_jti: str
    access_expires_at: datetime
    scope: tuple[str, ...] | None = None
    resource: str | None = None
    default_resource: str = ""


@dataclass(frozen=True, slots=True)
class RefreshRotated:
    """A refresh that matched: the successor, and the access tokens (jti, expiry) of any live
    sibling it replaced (a retry within the grace period revokes the first child)."""

    successor: RefreshToken
    revoked_access: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Every access token of ``subject`` (None: any), through ``client_id`` (None: any), issued up
    to ``before_ms`` (epoch milliseconds, as jtis carry it) is refused until ``expires_at``.
    ``reason``: the operation (user_disabled, user_deleted, consent_revoked, ...), which names
    the back-channel logouts of the sessions it ends."""

    subject: str | None
    client_id: str | None
    before_ms: int
    expires_at: datetime
    reason: str = ""

    @classmethod
    def now(cls, *, subject: str | None, client_id: str | None, margin: int, leeway: int,
            reason: str = "") -> Cutoff:
        """From this millisecond plus ``margin`` seconds; kept while any token it covers lives."""
        if subject is None and client_id is None:
            raise ValueError("a subject, a client_id or both")
        before_ms = time.time_ns() // 1_000_000 + margin * 1000
        expires = datetime.fromtimestamp(before_ms / 1000, UTC) + timedelta(seconds=ACCESS_TOKEN_TTL_MAX + leeway + 1)
        return cls(subject, client_id, before_ms, expires, reason)
