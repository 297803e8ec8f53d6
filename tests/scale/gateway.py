"""nginx from Debian's package as the one public origin in front of every replica.

Routing by path, as the compose gateway does: the token service's endpoints, the resource
service's endpoints, everything else to authorize; /metrics, /healthz and /readyz are not
routed (404), so only the services' own probes reach them. X-Forwarded-For carries the
client's address; the services trust it from 127.0.0.1/32 (LATCHKEY_TRUSTED_PROXIES).

Retrying on another replica. A replica that dies leaves nginx's pooled keep-alive connections
to it dead; a request sent on one fails although that replica never saw it. nginx retries a
failed request on the next replica (``proxy_next_upstream error timeout``), but not a POST
that was already sent unless told ``non_idempotent``. The token service's POSTs get it:
- a code exchange is final only once its redemption row commits in PostgreSQL
  (shared.stores.pg_code_redemptions), so a retried exchange either finds the first never
  happened, or gets invalid_grant: never a second set of tokens;
- a refresh rotates in one PostgreSQL transaction: a retry after the first committed presents
  a rotated token (invalid_grant, and reuse detection), never two live successors;
- revocation and introspection are idempotent.
The authorize service's POSTs (login, consent) are not retried: a retried consent submit
after its transaction was taken answers "start again", so retrying buys nothing there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from shared.devstack import Child, spawn
from shared.devstack.ports import LOOPBACK
from shared.devstack.supervise import wait_ready

TOKEN_PATHS = ("/token", "/revoke", "/introspect", "/jwks")
RESOURCE_PATHS = ("/userinfo", "/notes", "/whoami")
NOT_ROUTED = ("/metrics", "/healthz", "/readyz")


def nginx_config(root: Path, port: int, upstreams: dict[str, list[int]]) -> str:
    blocks = []
    for name, ports in upstreams.items():
        servers = "".join(f"    server {LOOPBACK}:{p} max_fails=1 fail_timeout=10s;\n" for p in ports)
        blocks.append(f"  upstream {name} {{\n{servers}    keepalive 16;\n  }}\n")
    exact = "".join(f"    location = {path} {{ return 404; }}\n" for path in NOT_ROUTED)
    token = "".join(f"    location = {path} {{ proxy_pass http://token; "
                    "proxy_next_upstream error timeout non_idempotent; }\n" for path in TOKEN_PATHS)
    resource = "".join(f"    location {path} {{ proxy_pass http://resource; }}\n" for path in RESOURCE_PATHS)
    temp = "".join(f"  {kind}_temp_path {root}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                         "scgi"))
    return f"""daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}{''.join(blocks)}  server {{
    listen {LOOPBACK}:{port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 3;
    proxy_connect_timeout 2s;
{exact}{token}{resource}    location / {{ proxy_pass http://authorize; }}
  }}
}}
"""


def start_nginx(root: Path, port: int, upstreams: dict[str, list[int]]) -> Child:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / kind).mkdir(exist_ok=True)
        (root / kind).chmod(0o777)  # workers run as nobody when the master is root
    config = root / "nginx.conf"
    config.write_text(nginx_config(root, port, upstreams))
    child = spawn("nginx", [binary, "-c", config, "-p", root, "-e", root / "error.log"],
                  log_path=root / "nginx.log", cwd=root)
    wait_ready(child, lambda: _answers(port), f"nginx on {LOOPBACK}:{port}", 15)
    return child


def _answers(port: int) -> str | None:
    import socket

    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return None
    except OSError as exc:
        return str(exc)
