"""`make bench`: every benchmark, each against its baseline measured in the same run.

Uses DATABASE_URL / REDIS_URL when set, else the same servers `make test` would use
(testcontainers or the embedded ones). Each benchmark runs in its own process, one after the
other, so they never compete for the two cores. At the end: each service's peak RSS over the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench import peak_rss
from tests.support.servers import test_servers

BENCHMARKS = ("tests.bench.bench_token", "tests.bench.bench_flow", "tests.bench.bench_resource",
              "tests.bench.bench_observability", "tests.bench.bench_overload")


def main(argv: list[str]) -> int:
    selected = [b for b in BENCHMARKS if not argv or any(a in b for a in argv)]
    failed = []
    with test_servers() as (database_url, redis_url), tempfile.TemporaryDirectory() as scratch:
        rss_file = Path(scratch) / "peak-rss.jsonl"
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "BENCH_PEAK_RSS_FILE": str(rss_file)}
        for module in selected:
            print(f"\n=== {module}", flush=True)
            if subprocess.run([sys.executable, "-m", module], env=env).returncode != 0:
                failed.append(module)
        if lines := peak_rss.summary(rss_file):
            print("\n=== peak RSS of each service over every benchmark (VmHWM)", *lines, sep="\n")
    if failed:
        print(f"\nfailed: {' '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
