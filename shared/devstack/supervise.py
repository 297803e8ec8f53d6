"""Supervised child processes: each dies with its parent and is stopped as a whole group.

Every child gets its own session (so a Ctrl-C in the terminal reaches only the supervisor,
which then stops things in order) and, on Linux, PR_SET_PDEATHSIG (so a supervisor killed
with SIGKILL still takes its children down). Start children from the main thread: the
kernel sends the death signal when the *thread* that forked the child exits.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.devstack.errors import DevStackError
from shared.devstack.privileges import RunAs

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@functools.cache
def _prctl() -> Any:
    # Resolved in the parent, so the forked child only calls it: nothing to load after fork.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None  # elsewhere only the process-group cleanup applies
    prctl, parent = _prctl(), os.getpid()

    def preexec() -> None:
        # Popen runs this after setsid and the user switch; a credential change would clear it.
        if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the setting took effect
            os.kill(os.getpid(), sig)

    return preexec


def _popen_options(user: RunAs | None, death_signal: signal.Signals) -> dict[str, Any]:
    options: dict[str, Any] = {"start_new_session": True, "preexec_fn": _die_with_parent(death_signal)}
    if user is not None:
        options.update(user=user.uid, group=user.gid, extra_groups=[])
    return options


def _has_exited(pid: int) -> bool:
    """True once pid has exited, without reaping it: an unreaped pid (and so its process
    group id) cannot be reused, which makes the group cleanup below race-free."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _reap(self) -> int:
        self._signal_group(signal.SIGKILL)  # whatever the leader left behind in its group
        return self.proc.wait()

    def poll(self) -> int | None:
        """The exit code once the child has exited (and been reaped), else None."""
        if self.proc.returncode is not None:
            return self.proc.returncode
        return self._reap() if _has_exited(self.proc.pid) else None

    def stop(self, timeout: float = 10.0) -> int:
        """Send stop_signal to the group, SIGKILL after timeout; always reaps."""
        return _stop_together([self], {self.name: timeout})[0]

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_path, lines)


def spawn(name: str, argv: Sequence[str | os.PathLike[str]], *, log_path: Path,
          env: Mapping[str, str] | None = None, cwd: Path | None = None, user: RunAs | None = None,
          stop_signal: signal.Signals = signal.SIGTERM) -> Child:
    """Start a supervised child with stdout and stderr appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(map(str, argv))}\n".encode())
        log.flush()
        proc = subprocess.Popen(list(map(str, argv)), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                **_popen_options(user, stop_signal))
    return Child(name, proc, log_path, stop_signal)


def run_once(argv: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None,
             cwd: Path | None = None, user: RunAs | None = None, timeout: float = 120.0,
             log_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a short command to completion; its output is captured, or appended to log_path."""
    log = open(log_path, "ab") if log_path is not None else None
    try:
        return subprocess.run(list(map(str, argv)), stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                              stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT if log else subprocess.PIPE,
                              text=log is None, timeout=timeout, **_popen_options(user, signal.SIGKILL))
    except subprocess.TimeoutExpired:
        raise DevStackError(f"{Path(argv[0]).name} did not finish within {timeout:.0f} s") from None
    finally:
        if log is not None:
            log.close()


def wait_ready(child: Child, probe: Callable[[], str | None], what: str, timeout: float) -> None:
    """Poll probe (None means ready, else why not) until ready; fail early if child exits."""
    deadline, pause = time.monotonic() + timeout, 0.05
    while (why_not := probe()) is not None:
        if (code := child.poll()) is not None:
            raise DevStackError(f"{what} exited during start-up (exit code {code}); "
                                f"last lines of {child.log_path}:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            raise DevStackError(f"{what} was not ready within {timeout:.0f} s ({why_not}); "
                                f"last lines of {child.log_path}:\n{child.log_tail()}")
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)  # quick when it is quick, without flooding the log when not


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 16384))
            text = log.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


@dataclass
class Supervisor:
    """The children of one stack, stopped in reverse start order."""

    children: list[Child] = field(default_factory=list)

    def add(self, child: Child) -> Child:
        self.children.append(child)
        return child

    def first_exited(self) -> Child | None:
        return next((c for c in self.children if c.poll() is not None), None)

    def stop_all(self, timeouts: Mapping[str, float] | None = None, *, last: Collection[str] = ()) -> None:
        """Every child not named in ``last`` at once (each drains for seconds: one after another
        took their sum), then those in ``last`` in reverse start order (the stores they drain to)."""
        _stop_together([c for c in self.children if c.name not in last], timeouts or {})
        for child in reversed(self.children):
            if child.name in last:
                child.stop((timeouts or {}).get(child.name, 10.0))


def _stop_together(children: Sequence[Child], timeouts: Mapping[str, float]) -> list[int]:
    """Send each its stop_signal, then wait for all; SIGKILL a child past its timeout (default
    10 s); every one is reaped."""
    running = [c for c in children if c.proc.returncode is None]
    started = time.monotonic()
    for child in running:
        child._signal_group(child.stop_signal)
    killed: set[int] = set()
    while waiting := [c for c in running if not _has_exited(c.proc.pid)]:
        for child in waiting:
            if child.proc.pid not in killed and time.monotonic() - started > timeouts.get(child.name, 10.0):
                child._signal_group(signal.SIGKILL)
                killed.add(child.proc.pid)
        time.sleep(0.05)
    return [c.proc.returncode if c.proc.returncode is not None else c._reap() for c in children]
