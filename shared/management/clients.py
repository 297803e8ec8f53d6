"""Clients' whole life cycle (RFC 6749 §2, RFC 7591 metadata names): create, list, show, update,
disable, enable, rotate-secret, delete.

Changes run in one transaction holding the client's row lock (``find(for_update=True)``), so two
concurrent updates apply one after the other and neither loses the other's write. After the
commit every service drops its cached copy within a poll (``shared.stores.client_changes``);
disable and delete also revoke the client's refresh tokens and refuse its live access tokens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from shared.config import SIGNING_ALGS
from shared.crypto.digests import new_secret, sha256_hex
from shared.management import client_metadata as meta
from shared.management.apis import client_api_links
from shared.management.backends import Backends, record_change
from shared.management.cutoffs import carry_out
from shared.management.errors import InvalidInput, NotFound
from shared.models import AuditEvent, Client
from shared.oauth.catalog import EMPTY, ApiCatalog
from shared.stores.pg_apis import PgApis
from shared.stores.pg_clients import PgClients
from shared.stores.pg_refresh_tokens import PgRefreshTokens

DEFAULT_SCOPE = "openid profile email offline_access"
MAX_OVERLAP_SECONDS = 30 * 86400


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A client as management shows it; ``client_secret`` only right after it was made.
    ``id_token_alg``: the algorithm its ID tokens are signed with when it registered none (the
    deployment's LATCHKEY_ID_TOKEN_SIGNING_ALG). RFC 7591 §3.2.1: the metadata shown include the
    values the server provides itself, so a client that registered none learns its algorithm
    here, not by OIDC Registration's RS256 default."""

    client: Client
    client_secret: str | None = None
    id_token_alg: str | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.client
        doc: dict[str, Any] = {
            "client_id": c.client_id, "client_name": c.name, "redirect_uris": list(c.redirect_uris),
            "post_logout_redirect_uris": list(c.post_logout_redirect_uris), "grant_types": sorted(c.grant_types),
            "response_types": list(meta.RESPONSE_TYPES),
            "token_endpoint_auth_method": c.token_endpoint_auth_method, "scope": " ".join(sorted(c.allowed_scopes)),
            "client_uri": c.client_uri, "backchannel_logout_uri": c.backchannel_logout_uri,
            "backchannel_logout_session_required": c.backchannel_logout_session_required,
            "allowed_cors_origins": list(c.allowed_cors_origins), "public": c.is_public, "disabled": c.disabled,
            "apis": sorted(c.apis),
        }
        if (alg := c.id_token_signed_response_alg or self.id_token_alg) is not None:
            doc["id_token_signed_response_alg"] = alg
        if c.previous_secret_expires_at is not None:
            doc["previous_secret_expires_at"] = int(c.previous_secret_expires_at.timestamp())
        if self.client_secret is not None:
            doc["client_secret"] = self.client_secret
            doc["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: never
        return doc


@dataclass(frozen=True, slots=True)
class NewClient:
    name: str
    redirect_uris: tuple[str, ...]
    scope: str = DEFAULT_SCOPE
    public: bool = False
    auth_method: str = "client_secret_basic"
    grant_types: tuple[str, ...] | None = None
    id_token_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    client_uri: str | None = None
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    cors_origins: tuple[str, ...] = ()
    apis: tuple[str, ...] = ()  # API identifiers (shared.management.apis.client_api_links)


@dataclass(frozen=True, slots=True)
class ClientUpdate:
    """What to change; None (or empty for the add/remove lists) leaves a field as it is."""

    name: str | None = None
    redirect_uris: tuple[str, ...] | None = None
    add_redirect_uris: tuple[str, ...] = ()
    remove_redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] | None = None
    scope: str | None = None
    grant_types: tuple[str, ...] | None = None
    auth_method: str | None = None
    id_token_alg: str | None = None
    cors_origins: tuple[str, ...] | None = None
    client_uri: str | None = None  # "" clears
    backchannel_logout_uri: str | None = None  # "" clears
    backchannel_logout_session_required: bool | None = None
    apis: tuple[str, ...] | None = None  # replaces the linked APIs (with those the scopes name)


def build_client(spec: NewClient, key_ring_algs: tuple[str, ...] = SIGNING_ALGS,
                 catalog: ApiCatalog = EMPTY) -> tuple[Client, str | None]:
    """Validates everything before anything is written; returns the client and its raw secret."""
    if not spec.redirect_uris:
        raise InvalidInput("a client needs at least one redirect URI")
    if not spec.public and spec.auth_method not in meta.CONFIDENTIAL_AUTH_METHODS:
        raise InvalidInput(f"auth method of a confidential client: {' or '.join(meta.CONFIDENTIAL_AUTH_METHODS)}")
    allowed_scopes, apis = client_api_links(catalog, spec.scope.split(), spec.apis)
    secret = None if spec.public else new_secret(32)
    client = Client(
        client_id="lk_" + new_secret(16), name=meta.client_name(spec.name),
        secret_hash=None if secret is None else sha256_hex(secret),
        redirect_uris=meta.redirect_uris(spec.redirect_uris), allowed_scopes=allowed_scopes, apis=apis,
        grant_types=meta.grant_types(spec.grant_types),
        token_endpoint_auth_method="none" if spec.public else spec.auth_method,  # type: ignore[arg-type]
        is_public=spec.public, id_token_signed_response_alg=meta.id_token_alg(spec.id_token_alg, key_ring_algs),
        post_logout_redirect_uris=meta.redirect_uris(spec.post_logout_redirect_uris, "post-logout redirect URI"),
        client_uri=meta.web_url(spec.client_uri, "client URI"),
        backchannel_logout_uri=meta.web_url(spec.backchannel_logout_uri, "back-channel logout URI"),
        backchannel_logout_session_required=spec.backchannel_logout_session_required,
        allowed_cors_origins=meta.cors_origins(spec.cors_origins),
    )
    return client, secret


def apply_update(client: Client, change: ClientUpdate, key_ring_algs: tuple[str, ...],
                 catalog: ApiCatalog = EMPTY) -> Client:
    """The client with ``change`` applied, every value checked; nothing is written here."""
    uris = list(client.redirect_uris if change.redirect_uris is None else change.redirect_uris)
    if missing := [u for u in change.remove_redirect_uris if u not in uris]:
        raise InvalidInput(f"redirect URI {missing[0]!r} is not registered for this client")
    uris = [u for u in uris if u not in change.remove_redirect_uris] + list(change.add_redirect_uris)
    if not uris:
        raise InvalidInput("a client needs at least one redirect URI")
    fields: dict[str, Any] = {"redirect_uris": meta.redirect_uris(uris)}
    if change.name is not None:
        fields["name"] = meta.client_name(change.name)
    if change.post_logout_redirect_uris is not None:
        fields["post_logout_redirect_uris"] = meta.redirect_uris(change.post_logout_redirect_uris,
                                                                 "post-logout redirect URI")
    if change.scope is not None or change.apis is not None:
        scope = change.scope.split() if change.scope is not None else sorted(client.allowed_scopes)
        allowed, linked = client_api_links(catalog, scope, change.apis or ())
        fields["allowed_scopes"] = allowed
        fields["apis"] = linked if change.apis is not None else linked | client.apis
    if change.grant_types is not None:
        fields["grant_types"] = meta.grant_types(change.grant_types)
    if change.auth_method is not None:
        if change.auth_method not in meta.AUTH_METHODS:
            raise InvalidInput(f"auth method must be one of {', '.join(meta.AUTH_METHODS)}")
        if client.is_public != (change.auth_method == "none"):
            raise InvalidInput("a client cannot change between public (auth method none) and confidential; "
                               "register a new client instead")
        fields["token_endpoint_auth_method"] = change.auth_method
    if change.id_token_alg is not None:
        fields["id_token_signed_response_alg"] = meta.id_token_alg(change.id_token_alg, key_ring_algs)
    if change.cors_origins is not None:
        fields["allowed_cors_origins"] = meta.cors_origins(change.cors_origins)
    if change.client_uri is not None:
        fields["client_uri"] = meta.web_url(change.client_uri, "client URI")
    if change.backchannel_logout_uri is not None:
        fields["backchannel_logout_uri"] = meta.web_url(change.backchannel_logout_uri, "back-channel logout URI")
    if change.backchannel_logout_session_required is not None:
        fields["backchannel_logout_session_required"] = change.backchannel_logout_session_required
    return dataclasses.replace(client, **fields)


def _record(backends: Backends, client: Client, secret: str | None = None) -> ClientRecord:
    return ClientRecord(client, secret, backends.settings.id_token_signing_alg)


async def _locked(conn: asyncpg.Connection, client_id: str) -> Client:
    client = await PgClients(conn).find(client_id, for_update=True)
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    return client


async def _audit(conn: asyncpg.Connection, event: str, client_id: str, actor: str, **details: Any) -> None:
    await record_change(conn, AuditEvent(event, client_id=client_id, details={"actor": actor, **details}))


async def create(backends: Backends, spec: NewClient, *, actor: str = "cli") -> ClientRecord:
    client, secret = build_client(spec, backends.settings.key_ring_algs, await PgApis(backends.db).catalog())
    async with backends.transaction() as conn:
        await PgClients(conn).create(client)
        await _audit(conn, "client_created", client.client_id, actor)
    if client.allowed_cors_origins:
        await backends.clients_changed()  # the services' cached set of every client's CORS origins
    return _record(backends, client, secret)


async def list_clients(backends: Backends, *, after: str | None = None, limit: int = 1000) -> list[ClientRecord]:
    return [_record(backends, c) for c in await PgClients(backends.db).list(after=after, limit=limit)]


async def show(backends: Backends, client_id: str) -> ClientRecord:
    client = await PgClients(backends.db).find(client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    return _record(backends, client)


async def update(backends: Backends, client_id: str, change: ClientUpdate, *, actor: str = "cli") -> ClientRecord:
    async with backends.transaction() as conn:
        updated = apply_update(await _locked(conn, client_id), change, backends.settings.key_ring_algs,
                               await PgApis(conn).catalog())
        await PgClients(conn).replace(updated)
        changed = sorted(f.name for f in dataclasses.fields(change) if getattr(change, f.name) not in (None, ()))
        await _audit(conn, "client_updated", client_id, actor, fields=changed)
    await backends.clients_changed()
    return _record(backends, updated)


async def set_disabled(backends: Backends, client_id: str, disabled: bool, *, actor: str = "cli") -> ClientRecord:
    """Disabling revokes every refresh token of the client and refuses its live access tokens;
    a cut-off whose Redis write failed is written by the token service (pending_cutoffs)."""
    async with backends.transaction() as conn:
        client = dataclasses.replace(await _locked(conn, client_id), disabled=disabled)
        await PgClients(conn).replace(client)
        revoked = await PgRefreshTokens(conn).revoke_owned(client_id=client_id) if disabled else []
        if disabled:
            cutoff = await backends.record_cutoff(conn, client_id=client_id, reason="client_disabled")
        else:
            cutoff = None
            await backends.clamp_cutoff(conn, client_id=client_id)
        await _audit(conn, "client_disabled" if disabled else "client_enabled", client_id, actor)
    # The cut-off first: until it is carried out, any failure must give its lease back.
    if cutoff is not None:
        await carry_out(backends, revoked, cutoff)
    else:
        await backends.reinstate_access(client_id=client_id)
    await backends.clients_changed()
    return _record(backends, client)


async def delete(backends: Backends, client_id: str, *, actor: str = "cli") -> ClientRecord:
    """Deletes the client with its consents and refresh tokens; its live access tokens are refused."""
    async with backends.transaction() as conn:
        client = await _locked(conn, client_id)
        revoked = await PgRefreshTokens(conn).revoke_owned(client_id=client_id)
        cutoff = await backends.record_cutoff(conn, client_id=client_id, reason="client_deleted")
        await PgClients(conn).delete(client_id)
        await _audit(conn, "client_deleted", client_id, actor)
    await carry_out(backends, revoked, cutoff)  # first: until it is done, a failure gives its lease back
    await backends.clients_changed()
    return _record(backends, client)


async def rotate_secret(backends: Backends, client_id: str, *, overlap_seconds: int = 0,
                        actor: str = "cli") -> ClientRecord:
    """A new secret, shown once; the old one keeps working for ``overlap_seconds`` (0: not at all)."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise InvalidInput(f"overlap must be 0 to {MAX_OVERLAP_SECONDS} seconds")
    secret = new_secret(32)
    async with backends.transaction() as conn:
        client = await _locked(conn, client_id)
        if client.is_public:
            raise InvalidInput(f"client {client_id!r} is public: it has no secret to rotate")
        keep = overlap_seconds > 0
        client = dataclasses.replace(
            client, secret_hash=sha256_hex(secret), previous_secret_hash=client.secret_hash if keep else None,
            previous_secret_expires_at=datetime.now(UTC) + timedelta(seconds=overlap_seconds) if keep else None)
        await PgClients(conn).replace(client)
        await _audit(conn, "client_secret_rotated", client_id, actor, overlap_seconds=overlap_seconds)
    await backends.clients_changed()
    return _record(backends, client, secret)
