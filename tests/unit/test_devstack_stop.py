"""`make run`'s Ctrl-C (shared.devstack.supervise.Supervisor.stop_all): the services drain at the
same time, not one after another, and the stores they drain to stop only after all of them."""

import sys
import time
from pathlib import Path

from shared.devstack.supervise import Supervisor, spawn

# Notes when it is told to stop, drains for 0.5 s, notes when it is done, exits.
DRAINING = """
import signal, sys, time
def stop(*_):
    print("told", time.monotonic(), flush=True)
    time.sleep(0.5)
    print("done", time.monotonic(), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", "to drain", flush=True)
time.sleep(60)
"""


def _times(log: Path) -> dict[str, float]:
    return {word: float(value) for word, value in (line.split() for line in log.read_text().splitlines()
                                                   if line.startswith(("told", "done")))}


def test_services_are_told_together_and_the_store_stops_last(tmp_path):
    sup = Supervisor()
    for name in ("store", "authorize", "token", "resource"):
        sup.add(spawn(name, [sys.executable, "-c", DRAINING], log_path=tmp_path / f"{name}.log"))
    deadline = time.monotonic() + 10
    while not all("ready to drain" in (tmp_path / f"{c.name}.log").read_text() for c in sup.children):
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.05)

    sup.stop_all(last=("store",))

    assert [c.proc.returncode for c in sup.children] == [0, 0, 0, 0]
    services = [_times(tmp_path / f"{name}.log") for name in ("authorize", "token", "resource")]
    store = _times(tmp_path / "store.log")
    assert max(s["told"] for s in services) < min(s["done"] for s in services)  # drained at once
    assert store["told"] > max(s["done"] for s in services)  # the store outlived them all
