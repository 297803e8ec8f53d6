"""Loopback port checks, so a busy port fails before a server writes a cryptic log line."""

from __future__ import annotations

import socket

from shared.devstack.errors import PortInUseError

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    # SO_REUSEADDR like the servers themselves: TIME_WAIT leftovers do not count as busy,
    # a live listener (also one on 0.0.0.0) does.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(port: int, what: str, env_var: str) -> None:
    """Raise PortInUseError (one line naming the port and the variable to set) if taken."""
    if not port_is_free(port):
        raise PortInUseError(port, what, env_var)


def spare_port() -> int:
    """A port the kernel considers free right now (for tests and throwaway servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port
