"""A real nginx in front of service replicas, for rolling-restart tests (loopback only).

Runs Debian's nginx in the foreground as a single process (``master_process off``: no user
switch, so it runs as whoever runs the tests) with a generated config in a temp directory.
No upstream keep-alive: each proxied request opens a connection, as a gateway does after a
replica was replaced. ``proxy_next_upstream error timeout`` is nginx's default, spelled out: a
request that could not be *sent* (connection refused: the listener closed) goes to the next
replica; one that was sent and then lost is not retried (POST is not idempotent) and is a 502.
``max_fails=0``: a replica that refused once is tried again at once, since its replacement
listens on the same port seconds later.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.bench.support import free_port, stop, wait_for_http

CONFIG = """
master_process off;
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {logs}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {logs}/nginx-access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
        location = /nginx-health {{ return 200; }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


@contextlib.contextmanager
def nginx_balancer(upstream_ports: Sequence[int], log_dir: Path) -> Iterator[str]:
    """Starts nginx balancing over 127.0.0.1:<port> for each port; yields its base URL. Its
    error and access logs land in ``log_dir`` (a test's tmp_path: kept when a test fails)."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="latchkey-nginx-") as tmp:
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstream_ports)
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(CONFIG.format(dir=tmp, logs=log_dir, servers=servers, port=port))
        process = subprocess.Popen([binary, "-p", tmp, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for_http(f"{url}/nginx-health", timeout=10, process=process)
            yield url
        finally:
            stop(process)
