"""Errors as RFC 9457 problem details (``application/problem+json``: type, title, status, detail).

A problem that only repeats its HTTP status has type ``about:blank`` and that status's phrase as
title (RFC 9457 §4.2.1); the refusals of the management operations and the admin API's own carry
a ``urn:latchkey:problem:...`` type, a short title and a detail an operator can act on. Details
never hold a secret: a refused admin token is 401 with nothing but that.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

from shared.management.errors import ManagementError

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:latchkey:problem:"


class Problem(Exception):
    """A refusal of the admin API itself (authentication, permission, query parameters)."""

    def __init__(self, status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.type, self.title, self.detail = status, TYPE_PREFIX + slug, title, detail
        self.headers = headers or {}
        self.reason = slug.replace("-", "_")  # the access line's reason (shared.web.request_context.reason_key)


def unauthorized() -> Problem:
    # RFC 6750 §3: no error code when the request carried no usable credentials worth naming.
    return Problem(401, "unauthorized", "Unauthorized", "a valid admin token is required",
                   {"WWW-Authenticate": 'Bearer realm="latchkey-admin"'})


def read_only() -> Problem:
    return Problem(403, "read-only-token", "Forbidden", "this admin token is read-only; it cannot make changes")


def rate_limited(retry_after: int) -> Problem:
    """429 (RFC 6585 §4): Retry-After says when the caller is let in again."""
    return Problem(429, "rate-limited", "Too Many Requests",
                   f"rate limit exceeded; retry after {retry_after} s", {"Retry-After": str(retry_after)})


def bad_parameter(detail: str) -> Problem:
    return Problem(400, "invalid-parameter", "Invalid parameter", detail)


def _slug(error: ManagementError) -> str:
    name = type(error).__name__
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def render(status: int, type_: str, title: str, detail: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    body: dict[str, object] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return web.json_response(body, status=status, content_type=CONTENT_TYPE, headers=headers)


def from_problem(problem: Problem) -> web.Response:
    return render(problem.status, problem.type, problem.title, problem.detail, problem.headers)


def from_management(error: ManagementError) -> web.Response:
    return render(error.status, TYPE_PREFIX + _slug(error), error.title, str(error) or None)


def from_http(status: int, detail: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    return render(status, "about:blank", HTTPStatus(status).phrase, detail, headers)
