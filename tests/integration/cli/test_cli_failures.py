"""`latchkey` failure paths: non-zero exit, one stderr line naming the problem, nothing written."""

from __future__ import annotations

import base64
import os

import pytest

from shared.config import DEV_KEY_ENCRYPTION_KEY
from tests.bench.support import free_port

CLIENT = ("client", "create", "--name", "Rejected App", "--json")
GOOD_URI = ("--redirect-uri", "https://app.example/cb")
USER = ("user", "create", "--json")


async def assert_refused(latchkey, row_counts, args, *, names: str, stdin: str | None = None,
                         env: dict[str, str | None] | None = None) -> None:
    before = await row_counts()
    result = await latchkey(*args, stdin=stdin, env=env)
    assert result.code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert result.stdout == ""
    assert await row_counts() == before


@pytest.mark.parametrize(("uri", "names"), [
    ("http://app.example/cb", "must use https"),
    ("https://app.example/cb#section", "fragment"),
    ("/callback", "must be absolute"),
    ("javascript:alert(1)", "unsupported scheme"),
], ids=["http non-loopback", "fragment", "relative", "javascript"])
async def test_invalid_redirect_uri(latchkey, row_counts, uri, names):
    await assert_refused(latchkey, row_counts, (*CLIENT, *GOOD_URI, "--redirect-uri", uri), names=names)


async def test_unknown_scope(latchkey, row_counts):
    await assert_refused(latchkey, row_counts, (*CLIENT, *GOOD_URI, "--scope", "openid admin"),
                         names="unknown scope 'admin'")


async def test_missing_redirect_uri(latchkey, row_counts):
    await assert_refused(latchkey, row_counts, CLIENT, names="--redirect-uri")


async def test_duplicate_username_in_another_case(latchkey, row_counts):
    created = await latchkey(*USER, "--username", "Ada", "--password-stdin", stdin="analytical engine\n")
    assert created.code == 0
    await assert_refused(latchkey, row_counts, (*USER, "--username", "ADA", "--password-stdin"),
                         stdin="another password\n", names="username 'ADA' already exists")


async def test_missing_password_stdin(latchkey, row_counts):
    await assert_refused(latchkey, row_counts, (*USER, "--username", "nopass"), stdin="long enough password\n",
                         names="--password-stdin")


@pytest.mark.parametrize("stdin", ["short\n", "", "\n"], ids=["short", "no input", "empty line"])
async def test_short_password(latchkey, row_counts, stdin):
    await assert_refused(latchkey, row_counts, (*USER, "--username", "shorty", "--password-stdin"), stdin=stdin,
                         names="at least 8 characters")


@pytest.mark.parametrize(("env", "names"), [
    ({"LATCHKEY_CODE_TTL_SECONDS": "abc"}, "LATCHKEY_CODE_TTL_SECONDS"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:port/db"}, "DATABASE_URL"),
    ({"LATCHKEY_KEY_ENCRYPTION_KEY": "dG9vLXNob3J0"}, "LATCHKEY_KEY_ENCRYPTION_KEY"),
    ({"LATCHKEY_DEV": None, "LATCHKEY_ISSUER": "http://auth.example.com"}, "LATCHKEY_ISSUER"),
    ({"LATCHKEY_DEV": None, "LATCHKEY_KEY_ENCRYPTION_KEY": DEV_KEY_ENCRYPTION_KEY}, "LATCHKEY_KEY_ENCRYPTION_KEY"),
], ids=["code ttl not a number", "no database url", "database port not a number", "short kek",
        "http issuer outside dev",
        "published dev key outside dev"])
async def test_bad_configuration(latchkey, row_counts, env, names):
    await assert_refused(latchkey, row_counts, (*CLIENT, *GOOD_URI), env=env, names=names)


@pytest.mark.parametrize(("url", "names"), [
    ("postgresql://postgres@127.0.0.1:1/latchkey", "cannot reach PostgreSQL at 127.0.0.1:1/latchkey (DATABASE_URL)"),
    ("postgresql://postgres@127.0.0.1:5432/no_such_database_here", "no_such_database_here"),
    ("postgresql://postgres@127.0.0.1:5432/latchkey?sslmode=bogus", "sslmode"),
], ids=["nothing listening", "no such database", "bad connection option"])
async def test_unusable_database(latchkey, row_counts, url, names):
    await assert_refused(latchkey, row_counts, (*CLIENT, *GOOD_URI), env={"DATABASE_URL": url}, names=names)


async def test_a_service_that_cannot_reach_postgresql_says_so_in_one_line(latchkey, row_counts):
    """Not "listening on ..." first and then a bare ConnectionRefusedError."""
    await assert_refused(latchkey, row_counts, ("serve", "resource", "--port", str(free_port())),
                         env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/latchkey"},
                         names="cannot reach PostgreSQL at 127.0.0.1:1/latchkey (DATABASE_URL)")


@pytest.mark.parametrize(("args", "names"), [
    ((), "command"),
    (("frobnicate",), "frobnicate"),
    (("serve", "mail"), "mail"),
], ids=["no command", "unknown command", "unknown service"])
async def test_bad_usage(latchkey, row_counts, args, names):
    await assert_refused(latchkey, row_counts, args, names=names)


async def test_id_token_algorithm_without_a_key_in_the_ring(latchkey, row_counts):
    """The default key ring is RS256 (access tokens, and always) and ES256 (ID tokens)."""
    await assert_refused(latchkey, row_counts, (*CLIENT, *GOOD_URI, "--id-token-alg", "EdDSA"),
                         names="ID-token algorithm EdDSA has no signing key")


async def test_rotating_an_algorithm_outside_the_key_ring(latchkey, row_counts):
    await assert_refused(latchkey, row_counts, ("keys", "rotate", "--alg", "EdDSA", "--json"),
                         names="--alg EdDSA is not in the key ring (RS256, ES256)")


async def test_a_token_service_whose_key_encryption_key_opens_no_stored_key_says_so_in_one_line(latchkey, row_counts):
    """A valid key, but not the one the signing keys were stored with: not a 59-line traceback
    ending in InvalidTag, but the variable to look at."""
    assert (await latchkey("keys", "rotate", "--json")).code == 0  # stored under the suite's key
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    await assert_refused(latchkey, row_counts, ("serve", "token", "--port", str(free_port())),
                         env={"LATCHKEY_KEY_ENCRYPTION_KEY": other},
                         names="LATCHKEY_KEY_ENCRYPTION_KEY does not decrypt signing key")
