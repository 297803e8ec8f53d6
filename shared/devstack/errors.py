"""Errors of the dev stack: each one renders as one line that says what to do."""

from __future__ import annotations


class DevStackError(RuntimeError):
    """A dev server could not be found, started or reached."""


class PortInUseError(DevStackError):
    def __init__(self, port: int, what: str, env_var: str) -> None:
        super().__init__(f"port {port} ({what}) is already in use on 127.0.0.1; "
                         f"set {env_var} to a free port or stop what is listening there")
        self.port = port
