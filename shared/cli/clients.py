"""`latchkey client create`: register an OAuth client (RFC 6749 §2)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.cli.output import emit
from shared.config import SIGNING_ALGS, Settings
from shared.crypto.digests import new_secret, sha256_hex
from shared.db import connect
from shared.errors import UsageError
from shared.management.apis import client_api_links
from shared.models import Client
from shared.oauth.catalog import EMPTY, ApiCatalog
from shared.redirect_uris import redirect_uri_problem
from shared.stores.pg_apis import PgApis
from shared.stores.pg_clients import PgClients

DEFAULT_SCOPE = "openid profile email offline_access"
GRANT_TYPES = ("authorization_code", "refresh_token")


def register(commands) -> None:
    client = commands.add_parser("client", help="manage OAuth clients").add_subparsers(dest="action", required=True)
    create = client.add_parser("create", help="register a client")
    create.add_argument("--name", required=True)
    create.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
    create.add_argument("--scope", default=DEFAULT_SCOPE,
                        help="space-separated scopes the client may request (OpenID scopes and API scopes)")
    create.add_argument("--api", action="append", default=[], dest="apis", metavar="IDENTIFIER",
                        help="an API the client may use (all its scopes unless --scope names some of them)")
    create.add_argument("--public", action="store_true", help="a public client (no secret; PKCE required)")
    create.add_argument("--auth-method", choices=("client_secret_basic", "client_secret_post"),
                        default="client_secret_basic", help="token endpoint auth method of a confidential client")
    create.add_argument("--grant-type", action="append", choices=GRANT_TYPES, dest="grant_types")
    create.add_argument("--id-token-alg", choices=SIGNING_ALGS, dest="id_token_alg",
                        help="ID-token signing algorithm (default: LATCHKEY_ID_TOKEN_SIGNING_ALG)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=run_create)


def build_client(name: str, redirect_uris: list[str], scope: str, public: bool, auth_method: str,
                 grant_types: list[str] | None, id_token_alg: str | None = None,
                 key_ring_algs: tuple[str, ...] = SIGNING_ALGS, catalog: ApiCatalog = EMPTY,
                 apis: list[str] | tuple[str, ...] = ()) -> tuple[Client, str | None]:
    """Validates everything before anything is written; returns the client and its raw secret."""
    if id_token_alg is not None and id_token_alg not in key_ring_algs:
        raise UsageError(f"--id-token-alg {id_token_alg} has no signing key; the key ring holds "
                         f"{', '.join(key_ring_algs)} (LATCHKEY_SIGNING_ALG, LATCHKEY_ID_TOKEN_SIGNING_ALG)")
    if not name.strip() or len(name) > 200:
        raise UsageError("--name must be 1 to 200 characters")
    for uri in redirect_uris:
        if problem := redirect_uri_problem(uri):
            raise UsageError(problem)
    allowed_scopes, linked_apis = client_api_links(catalog, scope.split(), apis)
    secret = None if public else new_secret(32)
    client = Client(
        client_id="lk_" + new_secret(16), name=name.strip(),
        secret_hash=None if secret is None else sha256_hex(secret),
        redirect_uris=tuple(dict.fromkeys(redirect_uris)), allowed_scopes=allowed_scopes,
        grant_types=frozenset(grant_types or GRANT_TYPES),
        token_endpoint_auth_method="none" if public else auth_method, is_public=public,
        id_token_signed_response_alg=id_token_alg, apis=linked_apis,
    )
    return client, secret


def describe(client: Client, secret: str | None) -> dict:
    doc = {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "scope": " ".join(sorted(client.allowed_scopes)),
        "grant_types": sorted(client.grant_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "public": client.is_public,
        "apis": sorted(client.apis),
    }
    if client.id_token_signed_response_alg is not None:
        doc["id_token_signed_response_alg"] = client.id_token_signed_response_alg
    if secret is not None:
        doc["client_secret"] = secret
    return doc


async def run_create(args, env: Mapping[str, str]) -> int:
    settings = Settings.from_env(env)
    conn = await connect(settings)
    try:
        client, secret = build_client(args.name, args.redirect_uris, args.scope, args.public, args.auth_method,
                                      args.grant_types, args.id_token_alg, settings.key_ring_algs,
                                      catalog=await PgApis(conn).catalog(), apis=args.apis)
        await PgClients(conn).create(client)
    finally:
        await conn.close()
    shown_once = f"\nclient_secret: {secret}  (shown once; store it now)" if secret else ""
    human = f"client_id: {client.client_id}{shown_once}"
    emit(describe(client, secret), args.json, human)
    return 0
