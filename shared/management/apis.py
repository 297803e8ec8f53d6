"""APIs (resource servers, RFC 8707): create, list, show, update, delete.

An API's identifier is the ``resource`` value a client sends and the ``aud`` of its tokens. A
scope name belongs to exactly one API; the OpenID scopes (openid, profile, email,
offline_access) are built in and belong to none. Clients are linked to the APIs they may use
(table client_apis): naming an API's scope at registration links that API, ``--api`` links it
explicitly (and, when none of its scopes is named, allows all of them). Deleting an API that a
client still uses is refused unless forced; either way its tokens are revoked. Every change is
written to the audit trail with its actor (``cli``, or ``admin-token:NAME`` for the admin API).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from shared.config import is_loopback_url
from shared.crypto.digests import new_secret, sha256_hex
from shared.management.backends import record_change
from shared.management.errors import Conflict, InvalidInput, NotFound
from shared.models import OPENID_SCOPES, Api, ApiScope, AuditEvent
from shared.oauth.catalog import ApiCatalog
from shared.stores.pg_apis import PgApis
from shared.stores.protocols import Denylist

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,200}")  # RFC 6749 §3.3 scope-token
TTL_MIN, TTL_MAX = 30, 86400  # as LATCHKEY_ACCESS_TOKEN_TTL_SECONDS
DESCRIPTION_MAX = 300


@dataclass(frozen=True, slots=True)
class ApiRecord:
    api: Api
    clients: tuple[str, ...] = ()
    client_secret: str | None = None  # only in the answer to create --with-secret

    def to_json(self) -> dict[str, Any]:
        api = self.api
        doc: dict[str, Any] = {
            "identifier": api.identifier, "name": api.name,
            "scopes": [{"name": s.name, "description": s.description} for s in api.scopes],
            "access_token_ttl": api.access_token_ttl, "clients": list(self.clients),
        }
        if api.client_id is not None:
            doc["client_id"] = api.client_id
        if self.client_secret is not None:
            doc["client_secret"] = self.client_secret
        return doc


@dataclass(frozen=True, slots=True)
class ApiDeleted:
    identifier: str
    unlinked_clients: tuple[str, ...]
    revoked_refresh_tokens: int
    denylisted_access_tokens: int

    def to_json(self) -> dict[str, Any]:
        return {"identifier": self.identifier, "deleted": True, "unlinked_clients": list(self.unlinked_clients),
                "revoked_refresh_tokens": self.revoked_refresh_tokens,
                "denylisted_access_tokens": self.denylisted_access_tokens}


# ---- validation: everything is checked before anything is written ----

def check_identifier(identifier: str, dev_mode: bool) -> str:
    """An absolute https URI without fragment, query or credentials (RFC 8707 §2: a resource
    MUST NOT have a fragment and SHOULD NOT have a query; RFC 3986 §3.2.1: user:password is
    deprecated, and an audience is no place for one); http only for a loopback host in dev mode."""
    try:
        parts = urlsplit(identifier)
    except ValueError:
        raise InvalidInput(f"API identifier {identifier!r} is not a valid URI") from None
    if len(identifier) > 2000 or any(c.isspace() for c in identifier):
        raise InvalidInput("API identifier must not contain white space or exceed 2000 characters")
    if "#" in identifier or not parts.hostname:
        raise InvalidInput(f"API identifier {identifier!r} must be an absolute URI with a host and no fragment")
    if "?" in identifier:
        raise InvalidInput(f"API identifier {identifier!r} must not have a query (RFC 8707 section 2)")
    if "@" in parts.netloc:
        raise InvalidInput("API identifier must not carry credentials (user:password@)")
    if parts.scheme == "https":
        return identifier
    if parts.scheme == "http" and is_loopback_url(identifier):
        if dev_mode:
            return identifier
        raise InvalidInput(f"API identifier {identifier!r} must use https "
                           "(http only for loopback hosts with LATCHKEY_DEV=1)")
    raise InvalidInput(f"API identifier {identifier!r} must use https")


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("API name must be 1 to 200 characters")
    return name


def parse_scope_spec(spec: str) -> ApiScope:
    """``NAME=description``: the name by the RFC 6749 §3.3 grammar, never an OpenID scope."""
    name, equals, description = spec.partition("=")
    if not equals or not description.strip():
        raise InvalidInput(f"scope {spec!r} must be NAME=description (the description is shown on the consent page)")
    return check_scope(ApiScope(name, description))


def check_scope(scope: ApiScope) -> ApiScope:
    """A scope given as its two parts (the admin API's ``{"name", "description"}``)."""
    name, description = scope.name.strip(), scope.description.strip()
    if not description:
        raise InvalidInput(f"scope {name!r} needs a description (it is shown on the consent page)")
    if not _SCOPE_TOKEN.fullmatch(name):
        raise InvalidInput(f"scope name {name!r} is not a scope token (RFC 6749 §3.3: printable ASCII, no space, "
                           "quote or backslash, at most 200 characters)")
    if name in OPENID_SCOPES:
        raise InvalidInput(f"scope {name!r} is an OpenID scope, built in; it cannot belong to an API")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"the description of scope {name!r} exceeds {DESCRIPTION_MAX} characters")
    return ApiScope(name, description)


def parse_scope_specs(specs: Iterable[str | ApiScope]) -> tuple[ApiScope, ...]:
    """``NAME=description`` strings (the CLI) or ``ApiScope``s (the admin API), checked alike."""
    scopes = tuple(parse_scope_spec(spec) if isinstance(spec, str) else check_scope(spec) for spec in specs)
    names = [s.name for s in scopes]
    if duplicate := next((n for n in names if names.count(n) > 1), None):
        raise InvalidInput(f"scope {duplicate!r} is given twice")
    return scopes


def check_ttl(ttl: int | None) -> int | None:
    if ttl is not None and not TTL_MIN <= ttl <= TTL_MAX:
        raise InvalidInput(f"access-token TTL must be {TTL_MIN} to {TTL_MAX} seconds")
    return ttl


async def _check_scopes_free(db: PgApis, scopes: Sequence[ApiScope], identifier: str) -> None:
    owners = await db.owners([s.name for s in scopes])
    taken = sorted((name, api) for name, api in owners.items() if api != identifier)
    if taken:
        name, api = taken[0]
        raise Conflict(f"scope {name!r} already belongs to API {api}; a scope name belongs to exactly one API")


async def _audit(conn: asyncpg.Connection, event: str, identifier: str, actor: str, **details: Any) -> None:
    await record_change(conn, AuditEvent(event, details={"actor": actor, "api": identifier, **details}))


# ---- operations ----

async def create_api(conn: asyncpg.Connection, *, identifier: str, name: str, scopes: Iterable[str | ApiScope],
                     access_token_ttl: int | None = None, with_secret: bool = False,
                     dev_mode: bool = False, actor: str = "cli") -> ApiRecord:
    api = Api(identifier=check_identifier(identifier, dev_mode), name=check_name(name),
              scopes=parse_scope_specs(scopes), access_token_ttl=check_ttl(access_token_ttl))
    secret = new_secret(32) if with_secret else None
    if secret is not None:
        api = replace(api, client_id="lkapi_" + new_secret(16), secret_hash=sha256_hex(secret))
    db = PgApis(conn)
    async with conn.transaction():
        if await db.get(api.identifier) is not None:
            raise Conflict(f"an API with identifier {api.identifier} already exists")
        await _check_scopes_free(db, api.scopes, api.identifier)
        try:
            await db.insert(api)
        except asyncpg.UniqueViolationError:  # a concurrent create won the race
            raise Conflict(f"API {api.identifier} or one of its scopes was just created by someone else") from None
        await _audit(conn, "api_created", api.identifier, actor, with_secret=with_secret)
    return ApiRecord(api, client_secret=secret)


async def list_apis(conn: asyncpg.Connection) -> list[ApiRecord]:
    db = PgApis(conn)
    return [ApiRecord(api, tuple(await db.clients_using(api.identifier))) for api in await db.all()]


async def page_apis(conn: asyncpg.Connection, *, after: str | None, limit: int) -> list[ApiRecord]:
    """Up to ``limit`` APIs by identifier (code point order, as a cursor compares), after ``after``.
    The catalog is small and every service loads it whole, so the page is cut from all of them."""
    db = PgApis(conn)
    apis = sorted((a for a in await db.all() if after is None or a.identifier > after), key=lambda a: a.identifier)
    return [ApiRecord(api, tuple(await db.clients_using(api.identifier))) for api in apis[:limit]]


async def show_api(conn: asyncpg.Connection, identifier: str) -> ApiRecord:
    db = PgApis(conn)
    api = await db.get(identifier)
    if api is None:
        raise NotFound(f"no API with identifier {identifier}")
    return ApiRecord(api, tuple(await db.clients_using(identifier)))


_KEEP = object()


async def update_api(conn: asyncpg.Connection, identifier: str, *, name: str | None = None,
                     add_scopes: Iterable[str | ApiScope] = (), remove_scopes: Iterable[str] = (),
                     replace_scopes: Iterable[str | ApiScope] | None = None,
                     access_token_ttl: int | None | object = _KEEP, actor: str = "cli") -> ApiRecord:
    """``replace_scopes`` sets the whole list; else ``remove_scopes`` then ``add_scopes`` apply.
    ``access_token_ttl=None`` returns the API to the server's default lifetime. A removed scope
    is also taken out of every client's allowed scopes."""
    add_scopes, remove_scopes = list(add_scopes), list(remove_scopes)
    if replace_scopes is not None and (add_scopes or remove_scopes):
        raise InvalidInput("give the whole list of scopes, or scopes to add and remove, not both")
    if name is None and replace_scopes is None and not add_scopes and not remove_scopes and access_token_ttl is _KEEP:
        raise InvalidInput("nothing to change: give a name, scopes or an access-token lifetime")
    db = PgApis(conn)
    async with conn.transaction():
        current = await db.get(identifier)
        if current is None:
            raise NotFound(f"no API with identifier {identifier}")
        scopes = _new_scopes(current, add_scopes, remove_scopes, replace_scopes)
        ttl = current.access_token_ttl if access_token_ttl is _KEEP else check_ttl(access_token_ttl)  # type: ignore[arg-type]
        api = replace(current, name=current.name if name is None else check_name(name), scopes=scopes,
                      access_token_ttl=ttl)
        await _check_scopes_free(db, api.scopes, identifier)
        await db.replace(api)
        gone = sorted({s.name for s in current.scopes} - {s.name for s in api.scopes})
        await _disallow(conn, gone)
        await _audit(conn, "api_updated", identifier, actor, removed_scopes=gone)
        return ApiRecord(api, tuple(await db.clients_using(identifier)))


def _new_scopes(current: Api, add: Iterable[str | ApiScope], remove: Iterable[str],
                replacement: Iterable[str | ApiScope] | None) -> tuple[ApiScope, ...]:
    if replacement is not None:
        return parse_scope_specs(replacement)
    remove = list(remove)
    names = {s.name for s in current.scopes}
    if unknown := [n for n in remove if n not in names]:
        raise InvalidInput(f"API {current.identifier} has no scope {unknown[0]!r}")
    kept = [s for s in current.scopes if s.name not in remove]
    added = parse_scope_specs(add)
    by_name = {s.name: s for s in kept}
    for scope in added:  # adding an existing name changes its description
        by_name[scope.name] = scope
    return tuple(by_name.values())


async def _disallow(conn: asyncpg.Connection, scopes: Sequence[str]) -> None:
    if scopes:
        await conn.execute(
            """UPDATE clients
               SET allowed_scopes = ARRAY(SELECT s FROM unnest(allowed_scopes) s WHERE s <> ALL($1::text[]))
               WHERE allowed_scopes && $1::text[]""", list(scopes))


async def delete_api(conn: asyncpg.Connection, denylist: Denylist, identifier: str, *, force: bool = False,
                     default_audience: str = "", actor: str = "cli") -> ApiDeleted:
    """Refused while a client uses the API, unless ``force`` (which unlinks those clients).

    Its refresh tokens are revoked and the access tokens issued beside them deny-listed, before
    the transaction commits: a denylist failure leaves the API as it was. (A refresh token
    without a stored resource was issued for the default audience, LATCHKEY_AUDIENCE.)
    """
    db = PgApis(conn)
    async with conn.transaction():
        api = await db.get(identifier)
        if api is None:
            raise NotFound(f"no API with identifier {identifier}")
        clients = await db.clients_using(identifier)
        if clients and not force:
            raise Conflict(f"API {identifier} is still used by client(s) {', '.join(clients)}; "
                           "unlink them or delete with --force (admin API: ?force=true), which revokes its tokens")
        rows = await conn.fetch(
            """UPDATE refresh_tokens SET revoked_at = now()
               WHERE revoked_at IS NULL AND (resource = $1 OR (resource IS NULL AND $2::boolean))
               RETURNING access_jti, access_expires_at""", identifier, identifier == default_audience)
        live: list[tuple[str, datetime]] = [(r["access_jti"], r["access_expires_at"]) for r in rows if r["access_jti"]]
        await _disallow(conn, [s.name for s in api.scopes])
        await db.delete(identifier)
        await _audit(conn, "api_deleted", identifier, actor, unlinked_clients=clients,
                     revoked_refresh_tokens=len(rows))
        await denylist.add_many(live)
    return ApiDeleted(identifier, tuple(clients), len(rows), len(live))


# ---- clients and APIs ----

def client_api_links(catalog: ApiCatalog, scopes: Sequence[str], apis: Sequence[str] = ()) -> tuple[
        frozenset[str], frozenset[str]]:
    """(allowed scopes, linked API identifiers) for a client registered with these scopes and APIs.

    Every scope is an OpenID scope or an API's; each API named by a scope is linked. An API given
    explicitly whose scopes none of ``scopes`` names brings all its scopes.
    """
    unknown = [s for s in scopes if not catalog.is_known(s)]
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}: define it on an API first (latchkey api create "
                           f"--scope or api update --add-scope); known scopes: {' '.join(catalog.scope_names())}")
    allowed = set(scopes)
    linked = {api.identifier for s in scopes if (api := catalog.owner(s)) is not None}
    for identifier in dict.fromkeys(apis):
        api = catalog.api(identifier)
        if api is None:
            raise InvalidInput(f"unknown API {identifier!r}; create it with latchkey api create")
        if identifier not in linked:
            allowed.update(s.name for s in api.scopes)
            linked.add(identifier)
    return frozenset(allowed), frozenset(linked)
