"""The admin service's one error middleware: every error is an RFC 9457 problem.

Management refusals map by their ``status``/``title``; the admin API's own ``Problem``s render as
they are; aiohttp's HTTP errors (404, 405, 413, ...) and ``TemporarilyUnavailable`` (load
shedding, a store outage) keep their status; anything else is logged with its traceback and
becomes a bare 500: internals are never shown.
"""

from __future__ import annotations

import logging

from aiohttp import web

from services.admin.core import problems
from shared.errors import OAuthError
from shared.management.errors import ManagementError
from shared.web.errors import Handler
from shared.web.request_context import note_error, reason_key

log = logging.getLogger("latchkey.admin")


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except problems.Problem as problem:
        note_error(request, "problem", reason_key(problem))  # the access line's error and reason
        return problems.from_problem(problem)
    except ManagementError as error:
        note_error(request, "refused", reason_key(error))
        return problems.from_management(error)
    except OAuthError as error:  # 503 temporarily_unavailable from shedding or a store outage
        note_error(request, error.error, reason_key(error))
        return problems.from_http(error.status, error.description or None, error.headers())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        detail = f"allowed: {allow}" if allow else _HTTP_DETAILS.get(exc.status, exc.reason)
        return problems.from_http(exc.status, detail, {"Allow": allow} if allow else None)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        note_error(request, "server_error", "unhandled_exception")
        return problems.from_http(500, "an unexpected error; the server log has it under this response's "
                                       "X-Request-Id")


# Every problem has a detail an operator can act on (README: type, title, status, detail).
_HTTP_DETAILS = {
    404: "no such resource; the routes are in /admin/v1/openapi.json",
    413: "the request body is larger than LATCHKEY_MAX_BODY_BYTES allows",
}
