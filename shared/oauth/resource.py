"""The resource parameter (RFC 8707 §2), read alike at the authorization and token endpoints.

It may be sent more than once (§2: "Multiple resource parameters MAY be used"); an access token
here has one audience, so copies of one value are that value and two values are invalid_target,
as is a relative URI or one with a fragment. Which API the value names is each endpoint's rule.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.errors import InvalidTarget


def resource_indicator(values: tuple[str, ...]) -> str | None:
    """The one resource requested, None for none."""
    distinct = set(values)
    if not distinct:
        return None
    if len(distinct) > 1:
        raise InvalidTarget("only one resource can be requested")
    resource = distinct.pop()
    try:
        absolute = bool(urlsplit(resource).scheme)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        absolute = False
    if not absolute or "#" in resource:
        raise InvalidTarget("resource must be an absolute URI without a fragment")
    return resource
