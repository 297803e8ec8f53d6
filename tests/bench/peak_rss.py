"""Peak RSS of the services a benchmark ran (issue 9 §7: the three together at most 200 MiB).

``serve`` (tests/bench/support.py) records each service's VmHWM, the kernel's high-water mark
of its resident set, just before stopping it. Benchmarks run in separate processes, so records
go to the file named by BENCH_PEAK_RSS_FILE (``make bench`` sets it); the summary takes each
service's largest peak over every benchmark and adds the three up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BUDGET_MIB = 200
SERVICES = ("authorize", "token", "resource")


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM of a live process (Linux); None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def record(service: str, pid: int) -> None:
    """Prints the peak and appends it to BENCH_PEAK_RSS_FILE, if set."""
    if (kib := peak_rss_kib(pid)) is None:
        return
    print(f"  peak RSS of the {service} service: {kib / 1024:.1f} MiB", flush=True)
    if path := os.environ.get("BENCH_PEAK_RSS_FILE"):
        with open(path, "a") as out:
            out.write(json.dumps({"service": service, "kib": kib}) + "\n")


def summary(path: Path) -> list[str]:
    """Each service's largest peak over the run, and their sum against the budget."""
    peaks: dict[str, int] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            peaks[entry["service"]] = max(peaks.get(entry["service"], 0), entry["kib"])
    if not peaks:
        return []
    lines = [f"  {service:<10} {peaks[service] / 1024:6.1f} MiB" for service in SERVICES if service in peaks]
    total = sum(peaks.values()) / 1024
    complete = "" if set(peaks) == set(SERVICES) else f" (only {', '.join(sorted(peaks))} ran)"
    verdict = "met" if total <= BUDGET_MIB else "NOT met"
    lines.append(f"  together   {total:6.1f} MiB{complete}; budget {BUDGET_MIB} MiB: {verdict}")
    return lines
