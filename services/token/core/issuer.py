"""Signing the tokens of a response with the active keys, and the response itself (RFC 6749 §5.1).

Access tokens are signed with LATCHKEY_SIGNING_ALG (RS256 by default: resource servers verify
them on every call, and an RS256 verification is several times cheaper than an ES256 one); ID
tokens with the client's registered algorithm, else LATCHKEY_ID_TOKEN_SIGNING_ALG (ES256 by
default: a client verifies one per sign-in, and an ES256 signature costs a tenth of an RS256 one).

Signing runs on the event loop: an RS256 signature is 0.4 to 1 ms of CPU. A thread pool was
measured too (the crypto library releases the GIL while signing) and lost on the 2-core target
machine, twice: each handoff costs 0.16-0.2 ms of CPU (futex wake-ups, the loop woken back), so
an exchange cost about 20% more CPU, and with the stores and the clients on the same two cores
the overlap gained (a few % of throughput) did not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from services.token.core.claims import AccessPlan, access_token_claims, id_token_claims
from shared import compact_json
from shared.config import Settings
from shared.models import Client
from shared.tokens.jws_sign import JwsSigner
from shared.tokens.minting import mint_access_token, mint_id_token


class ActiveKey(Protocol):
    """Where the current signing key comes from (decrypted once, never per request)."""

    def signer(self, alg: str, *, exact: bool = False) -> JwsSigner: ...


@dataclass(frozen=True, slots=True)
class TokenResponse:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    id_token: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": self.access_token, "token_type": "Bearer",
                                "expires_in": self.expires_in, "scope": self.scope}
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.id_token is not None:
            body["id_token"] = self.id_token
        return body

    def json(self) -> bytes:
        """``body()`` as compact JSON. The tokens go in as they are: a JWS compact serialization
        and a refresh token hold only base64url characters and dots (RFC 7515 §7.1, RFC 4648 §5),
        nothing JSON escapes; having the encoder look at each of their 1,500 characters cost 0.7%
        of an OpenID exchange's instructions."""
        parts = ['{"access_token":"', self.access_token, '","token_type":"Bearer","expires_in":',
                 str(self.expires_in), ',"scope":', compact_json.dumps(self.scope)]
        if self.refresh_token is not None:
            parts += (',"refresh_token":"', self.refresh_token, '"')
        if self.id_token is not None:
            parts += (',"id_token":"', self.id_token, '"')
        parts.append("}")
        return "".join(parts).encode("ascii")


@dataclass(frozen=True, slots=True)
class Subject:
    """Who and what a token is about: the same for the access and the ID token."""

    user_id: str
    client_id: str
    scope: str
    auth_time: int
    sid: str | None = None  # the login session, named in the ID token


class TokenIssuer:
    def __init__(self, settings: Settings, keys: ActiveKey) -> None:
        self._settings = settings
        self._keys = keys
        # Settings properties, read once: issue() runs on every token request.
        self._default_audience, self._userinfo_audience = settings.access_audience, settings.userinfo_audience

    def check_ready(self, client: Client) -> None:
        """Raises TemporarilyUnavailable unless every key this client's tokens may need is loaded.
        Grants call it before they spend the code or rotate the refresh token, so an answer of
        "try again" leaves the client something to try again with."""
        self._keys.signer(self._settings.signing_alg)
        if client.id_token_signed_response_alg:
            self._keys.signer(client.id_token_signed_response_alg, exact=True)

    def plan(self, now: int, ttl: int | None = None) -> AccessPlan:
        """``ttl``: an upper bound when the grant's API (and so its lifetime) is not known yet."""
        return AccessPlan.new(now, ttl or self._settings.access_token_ttl)

    def issue(self, plan: AccessPlan, subject: Subject, *, audience: str, nonce: str | None = None,
              with_id_token: bool = False, id_token_alg: str | None = None,
              refresh_token: str | None = None) -> TokenResponse:
        """``id_token_alg``: the client's registered algorithm, if any (else the server default)."""
        settings = self._settings
        aud: str | list[str] = audience
        if audience != self._default_audience and "openid" in subject.scope.split(" "):
            # OIDC Core §5.3.1: the access token of an OpenID request is good at userinfo, whichever
            # API it is for (the resource service accepts its default audience there already).
            aud = [audience, self._userinfo_audience]
        access = mint_access_token(self._keys.signer(settings.signing_alg), access_token_claims(
            plan, issuer=settings.issuer, subject=subject.user_id, audience=aud,
            client_id=subject.client_id, scope=subject.scope, auth_time=subject.auth_time))
        id_token = None
        if with_id_token:
            claims = id_token_claims(issuer=settings.issuer, subject=subject.user_id, client_id=subject.client_id,
                                     now=plan.issued_at, ttl=settings.id_token_ttl, auth_time=subject.auth_time,
                                     nonce=nonce, sid=subject.sid)
            # A client's registered algorithm is a promise (OIDC Registration §2): no substitute.
            signer = (self._keys.signer(id_token_alg, exact=True) if id_token_alg
                      else self._keys.signer(settings.id_token_signing_alg))
            id_token = mint_id_token(signer, claims, access)
        return TokenResponse(access_token=access, expires_in=plan.expires_at - plan.issued_at,
                             scope=subject.scope, refresh_token=refresh_token, id_token=id_token)
