"""Validating an authorization request once the client and redirect URI are verified.

RFC 6749 §4.1.1, OIDC Core §3.1.2.1-2, RFC 7636 §4.3 (PKCE), RFC 8707 §2 (resource). Each
rule is a small step, run in the order ``validate_authorization_request`` shows; the first
failure raises the OAuthError the client receives at its redirect URI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.authorize.core.audience import chosen_api
from services.authorize.core.client_redirect import VerifiedRedirect
from services.authorize.core.errors import RegistrationNotSupported, RequestNotSupported, RequestUriNotSupported
from services.authorize.core.scopes import requested_scope
from shared.errors import InvalidRequest, InvalidScope, UnauthorizedClient, UnsupportedResponseType
from shared.models import Client
from shared.oauth.catalog import EMPTY, ApiCatalog
from shared.oauth.params import Params
from shared.oauth.resource import resource_indicator
from shared.pkce import S256, is_valid_code_challenge

# Parameters this endpoint defines; RFC 6749 §3.1 forbids repeating them. Others are ignored.
SINGLE_VALUED = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                 "code_challenge_method", "nonce", "prompt", "max_age", "response_mode", "login_hint",
                 "request", "request_uri", "registration", "display", "ui_locales", "id_token_hint", "acr_values",
                 "claims")
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
USERNAME_MAX = 100  # users.username length limit in the schema
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class Policy:
    require_pkce: bool
    audience: str  # the default audience: tokens of requests for no API (LATCHKEY_AUDIENCE)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    redirect_uri_sent: bool
    scope: tuple[str, ...]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    resource: str | None = None  # the API the tokens are for (RFC 8707); None: the default audience
    login_hint: str | None = None
    # The sub of a verified id_token_hint (OIDC Core §3.1.2.1): only that user may get the code.
    hinted_subject: str | None = None


def validate_authorization_request(params: Params, client: Client, redirect: VerifiedRedirect,
                                   policy: Policy, catalog: ApiCatalog = EMPTY) -> AuthorizationRequest:
    no_repeated_parameters(params)
    no_malformed_parameters(params)
    response_type_is_code(params)
    no_request_objects(params)
    response_mode_is_query(params)
    client_may_use_code_flow(client)
    scope = requested_scope(params.first("scope"), client, catalog)
    challenge = pkce_challenge(params, client, policy.require_pkce)
    prompt = parse_prompt(params.first("prompt"))
    api = chosen_api(scope, resource_indicator(params.all("resource")), client, catalog, policy.audience)
    return AuthorizationRequest(
        client_id=client.client_id, redirect_uri=redirect.uri, redirect_uri_sent=redirect.sent,
        scope=scope, state=params.first("state"), nonce=params.first("nonce"),
        code_challenge=challenge, code_challenge_method=S256 if challenge else None, prompt=prompt,
        max_age=parse_max_age(params.first("max_age")), resource=api,
        login_hint=_login_hint(params.first("login_hint")),
    )


def no_repeated_parameters(params: Params) -> None:
    for name in SINGLE_VALUED:
        if params.is_repeated(name):
            raise InvalidRequest(f"parameter {name} was sent more than once")


def no_malformed_parameters(params: Params) -> None:
    """A value of ours that could not be decoded (a control character, say); one of a parameter
    this endpoint does not define was ignored (§3.1). A malformed scope is invalid_scope, as is
    a scope with characters §3.3 does not allow."""
    if (problem := params.problem(("scope",))) is not None:
        raise InvalidScope(problem)
    if (problem := params.problem((*SINGLE_VALUED, "resource"))) is not None:
        raise InvalidRequest(problem)


def response_type_is_code(params: Params) -> None:
    response_type = params.first("response_type")
    if response_type is None:
        raise InvalidRequest("response_type is required")
    if response_type != "code":
        raise UnsupportedResponseType("only response_type=code is supported")


def no_request_objects(params: Params) -> None:
    """OIDC Core §6 and §7.2.1: request objects and the registration parameter are not supported;
    say so with the dedicated errors (§3.1.2.6)."""
    if params.first("request") is not None:
        raise RequestNotSupported("request objects are not supported")
    if params.first("request_uri") is not None:
        raise RequestUriNotSupported("request_uri is not supported")
    if params.first("registration") is not None:
        raise RegistrationNotSupported("the registration parameter is not supported")


def response_mode_is_query(params: Params) -> None:
    mode = params.first("response_mode")
    if mode is not None and mode != "query":
        raise InvalidRequest("only response_mode=query is supported")


def client_may_use_code_flow(client: Client) -> None:
    if "authorization_code" not in client.grant_types:
        raise UnauthorizedClient("this client may not use the authorization code grant")


def pkce_challenge(params: Params, client: Client, require_pkce: bool) -> str | None:
    """RFC 7636 §4.3 with S256 only; public clients always, all clients when the policy says."""
    challenge, method = params.first("code_challenge"), params.first("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge")
        if client.is_public:
            raise InvalidRequest("public clients must use PKCE: send code_challenge with code_challenge_method=S256")
        if require_pkce:
            raise InvalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
        return None
    if method != S256:
        # Absent means plain (§4.3), which this server refuses like any other method.
        raise InvalidRequest("code_challenge_method must be S256")
    if not is_valid_code_challenge(challenge):
        raise InvalidRequest("code_challenge must be the 43-character base64url SHA-256 of the verifier")
    return challenge


def parse_prompt(raw: str | None) -> frozenset[str]:
    """OIDC Core §3.1.2.1: space-delimited; ``none`` must stand alone."""
    values = frozenset(v for v in (raw or "").split(" ") if v)
    if not values <= PROMPTS:
        raise InvalidRequest("prompt may only contain none, login, consent or select_account")
    if "none" in values and len(values) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    return values


def parse_max_age(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):
        raise InvalidRequest("max_age must be a non-negative number of seconds")
    return int(raw)


def _login_hint(raw: str | None) -> str | None:
    return raw if raw is not None and len(raw) <= USERNAME_MAX else None
