"""REDIS_URL: one server, a Sentinel-managed primary, or a Redis Cluster.

The grammar (every form may carry ``[username][:password]@`` before its hosts; the password is
sent to the Redis servers, never echoed in an error):

- ``redis://host:port/db``, ``rediss://...``, ``unix:///path?db=N``: one server, as redis-py's
  ``from_url`` reads it.
- ``redis+sentinel://[userinfo@]host1:port1,host2:port2,.../service_name[/db][?sentinel_password=P]``:
  the sentinels (port default 26379) and the name of the monitored primary (``sentinel
  monitor <service_name> ...``). Every new connection asks the sentinels where the primary is,
  so after a failover the services reach the promoted replica without a restart.
  ``sentinel_password`` authenticates to the sentinels when they have ``requirepass``.
- ``redis+cluster://[userinfo@]host1:port1,host2:port2,...`` (port default 6379): startup nodes
  of a Redis Cluster; the client learns the rest. A cluster has only database 0. Every key
  Latchkey writes must then share one hash slot (its multi-key scripts and MGETs need it), so
  LATCHKEY_REDIS_PREFIX must contain a hash tag, e.g. ``{latchkey}:`` (Settings.validate).

TLS to sentinels or cluster nodes is not supported by these forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

SINGLE_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_SCHEME = "redis+sentinel"
CLUSTER_SCHEME = "redis+cluster"
SCHEMES = (*SINGLE_SCHEMES, SENTINEL_SCHEME, CLUSTER_SCHEME)
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_CLUSTER_PORT = 6379


@dataclass(frozen=True, slots=True)
class RedisTopology:
    kind: str  # "single", "sentinel" or "cluster"
    url: str = field(repr=False)  # as given (it may hold a password); "single" goes to redis-py unchanged
    nodes: tuple[tuple[str, int], ...] = ()  # sentinels, or cluster startup nodes
    service_name: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)


def parse_redis_url(raw: str) -> RedisTopology:
    """Reads REDIS_URL; ValueError names what is wrong without echoing the URL (it may hold a
    password)."""
    parts = urlsplit(raw)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"must be a URL starting with {', '.join(s + '://' for s in SCHEMES)}")
    if parts.scheme in SINGLE_SCHEMES:
        try:
            _ = parts.port  # reading it raises on a port that is not a number up to 65535
        except ValueError:
            raise ValueError("has an invalid port (not a number up to 65535)") from None
        return RedisTopology("single", raw)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    default_port = DEFAULT_SENTINEL_PORT if parts.scheme == SENTINEL_SCHEME else DEFAULT_CLUSTER_PORT
    nodes = tuple(_host_port(entry, default_port) for entry in hostlist.split(","))
    query = parse_qs(parts.query, keep_blank_values=True)
    user, secret = unquote(username) or None, unquote(password) or None
    segments = [unquote(s) for s in parts.path.split("/")[1:] if s]
    if parts.scheme == CLUSTER_SCHEME:
        if query:
            raise ValueError("redis+cluster:// takes no query parameters")
        if segments not in ([], ["0"]):
            raise ValueError("redis+cluster:// has no database but 0 (a cluster has only database 0)")
        return RedisTopology("cluster", raw, nodes, username=user, password=secret)
    if not segments or len(segments) > 2:
        raise ValueError("redis+sentinel:// needs /service_name[/db] after the sentinels")
    db = _db(segments[1]) if len(segments) == 2 else 0
    unknown = set(query) - {"sentinel_password"}
    if unknown:
        raise ValueError(f"redis+sentinel:// knows only the query parameter sentinel_password, not {sorted(unknown)}")
    sentinel_password = query.get("sentinel_password", [""])[-1] or None
    return RedisTopology("sentinel", raw, nodes, segments[0], db, username=user, password=secret,
                         sentinel_password=sentinel_password)


def _host_port(entry: str, default_port: int) -> tuple[str, int]:
    if entry.startswith("["):  # [IPv6]:port
        host, _, rest = entry[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    else:
        host, _, port_text = entry.partition(":")
    if not host:
        raise ValueError("names an empty host (hosts are host:port, separated by commas)")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("has an invalid port (not a number up to 65535)")
    return host, int(port_text)


def _db(text: str) -> int:
    if not text.isdigit():
        raise ValueError("has a database that is not a number")
    return int(text)


def hash_tag(key: str) -> str | None:
    """The part of ``key`` Redis Cluster hashes instead of the whole key: the text between the
    first ``{`` and the first ``}`` after it, when not empty (Cluster specification, "Hash tags")."""
    start = key.find("{")
    if start < 0:
        return None
    end = key.find("}", start + 1)
    if end < 0 or end == start + 1:
        return None
    return key[start + 1:end]


def prefix_pins_slot(prefix: str) -> bool:
    """True when every key starting with ``prefix`` has the same hash tag, so one slot: the
    prefix itself holds the first complete, non-empty ``{...}`` of every such key."""
    return hash_tag(prefix) is not None
