"""core.client_auth: which method a request uses (RFC 6749 §2.3.1, App. B) and whether it
authenticates the registered client."""

import base64

import pytest

from services.token.core.client_auth import ClientCredentials, check_client, read_credentials
from shared.crypto.digests import sha256_hex
from shared.errors import InvalidClient, InvalidRequest
from shared.models import AuthMethod, Client


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


def client(method: AuthMethod = "client_secret_basic", secret: str | None = "s3cret") -> Client:
    public = method == "none"
    return Client(client_id="lk_app", name="App", secret_hash=None if public else sha256_hex(secret or ""),
                  redirect_uris=("https://app.example/cb",), allowed_scopes=frozenset({"openid"}),
                  grant_types=frozenset({"authorization_code", "refresh_token"}),
                  token_endpoint_auth_method=method, is_public=public)


@pytest.mark.parametrize("authorization, form, expected", [
    (basic("lk_app:s3cret"), {}, ClientCredentials("lk_app", "s3cret", "client_secret_basic")),
    (basic("my+client%3Aid:p%40ss+word%3A%2B"), {}, ClientCredentials("my client:id", "p@ss word:+",
                                                                      "client_secret_basic")),
    (basic("lk_app:a:b"), {}, ClientCredentials("lk_app", "a:b", "client_secret_basic")),
    (basic("lk_app:"), {}, ClientCredentials("lk_app", "", "client_secret_basic")),
    (basic("lk_app:s3cret"), {"client_id": "lk_app"}, ClientCredentials("lk_app", "s3cret", "client_secret_basic")),
    ("basic " + base64.b64encode(b"lk_app:x").decode(), {}, ClientCredentials("lk_app", "x", "client_secret_basic")),
    (None, {"client_id": "lk_app", "client_secret": "s3cret"}, ClientCredentials("lk_app", "s3cret",
                                                                                 "client_secret_post")),
    (None, {"client_id": "lk_app"}, ClientCredentials("lk_app", None, "none")),
], ids=["basic", "basic halves are form-urlencoded (Appendix B)", "a colon inside the secret",
        "basic with an empty secret", "basic plus the same client_id in the body",
        "the scheme name is case-insensitive", "secret in the body", "client_id only (public client)"])
def test_read_credentials(authorization, form, expected):
    assert read_credentials(authorization, form) == expected


@pytest.mark.parametrize("authorization, form, error", [
    (basic("lk_app:s3cret"), {"client_secret": "s3cret"}, InvalidRequest),
    (basic("lk_app:s3cret"), {"client_id": "lk_other"}, InvalidRequest),
    ("Basic not-base64!", {}, InvalidClient),
    (basic("no-colon"), {}, InvalidClient),
    (basic(":secret"), {}, InvalidClient),
    ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), {}, InvalidClient),
    (basic("%FF:x"), {}, InvalidClient),
    ("Bearer abc", {}, InvalidClient),
    (None, {}, InvalidClient),
    (None, {"client_secret": "s3cret"}, InvalidClient),
    (basic("lk_app\x00:s3cret"), {}, InvalidClient),
    (basic("lk%00app:s3cret"), {}, InvalidClient),
    (basic("lk_app:s3%0Acret"), {}, InvalidClient),
], ids=["basic and a body secret: two methods", "basic and a different body client_id",
        "basic value that is not base64", "basic without a colon", "basic with an empty client id",
        "basic that is not utf-8", "basic id with a bad percent escape", "a scheme other than Basic",
        "no credentials at all", "a secret without a client_id", "a raw NUL in the basic id",
        "a percent-encoded NUL in the basic id", "a line feed in the basic secret"])
def test_read_credentials_refuses(authorization, form, error):
    with pytest.raises(error) as raised:
        read_credentials(authorization, form)
    if error is InvalidClient:
        assert raised.value.status == 401
        assert ("WWW-Authenticate" in raised.value.headers()) == (authorization is not None)


@pytest.mark.parametrize("credentials, registered, reason", [
    (ClientCredentials("lk_app", "s3cret", "client_secret_basic"), client(), None),
    (ClientCredentials("lk_app", "s3cret", "client_secret_post"), client("client_secret_post"), None),
    (ClientCredentials("lk_app", None, "none"), client("none"), None),
    (ClientCredentials("lk_app", "wrong", "client_secret_basic"), client(), "wrong secret"),
    (ClientCredentials("lk_app", "", "client_secret_basic"), client(), "wrong secret"),
    (ClientCredentials("lk_app", "s3cret", "client_secret_post"), client(), None),
    (ClientCredentials("lk_app", "s3cret", "client_secret_basic"), client("client_secret_post"), None),
    (ClientCredentials("lk_app", "wrong", "client_secret_post"), client(), "wrong secret"),
    (ClientCredentials("lk_app", None, "none"), client(), "used none, registered client_secret_basic"),
    (ClientCredentials("lk_app", "anything", "client_secret_post"), client("none"),
     "used client_secret_post, registered none"),
    (ClientCredentials("lk_nobody", "s3cret", "client_secret_basic"), None, "unknown client"),
], ids=["basic with the right secret", "post with the right secret", "public client with none",
        "wrong secret", "empty secret", "post when basic is registered", "basic when post is registered",
        "a wrong secret by the other method",
        "a confidential client sending no secret", "a public client sending a secret", "unknown client"])
def test_check_client(credentials, registered, reason):
    assert check_client(credentials, registered) == reason
