"""Token-endpoint request bodies (RFC 6749 §3.2, Appendix B), read by the one parser.

Only application/x-www-form-urlencoded in UTF-8 is accepted. A parameter these endpoints define
sent twice is rejected (§3.1, §3.2), except resource (RFC 8707 §2, shared.oauth.resource); one
they do not define is ignored (§3.1, §3.2), even with a value that cannot be decoded; one sent
without a value counts as omitted (§3.1) and a value of theirs holding a control character is
refused, all before any grant logic runs (shared.oauth.params).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import InvalidRequest
from shared.oauth.params import MalformedParameters, parse_urlencoded, single_values
from shared.oauth.resource import resource_indicator

FORM_TYPE = "application/x-www-form-urlencoded"
# What the token, revocation and introspection endpoints define, resource apart (it may repeat).
SINGLE_VALUED = frozenset({"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
                           "token", "token_type_hint", "client_id", "client_secret"})


def check_content_type(content_type: str, charset: str | None) -> None:
    if content_type != FORM_TYPE:
        raise InvalidRequest(f"the request body must be {FORM_TYPE}")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise InvalidRequest("the request body must be UTF-8")


def parse_form(body: bytes, max_params: int) -> Mapping[str, str]:
    try:
        params = parse_urlencoded(body, max_params=max_params, lenient=True)
        form = single_values(params, SINGLE_VALUED)
    except MalformedParameters as exc:
        raise InvalidRequest(str(exc)) from None
    if (problem := params.problem(("resource",))) is not None:
        raise InvalidRequest(problem)
    if params.is_repeated("resource"):
        resource_indicator(params.all("resource"))  # copies of one value are that value; two are refused
    return form


def required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise InvalidRequest(f"missing parameter {name!r}")
    return value
