"""What metrics and access logs cost: `python -m tests.bench.bench_observability` (in `make bench`).

The code exchange (access + ID + refresh token) on two token services side by side: one as
deployed (LATCHKEY_METRICS=1, an access line per request in JSON), one with both off
(LATCHKEY_METRICS=0 LATCHKEY_ACCESS_LOG=0). Interleaved rounds, so other load on the machine
hits both alike; the median of the per-round ratios is printed. Target (issue 13): the observed
service keeps >= 95% of the bare one's throughput.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys

from tests.bench.bench_token import OPENID, WARMUP, deployment
from tests.bench.support import LoadResult, combine, format_result, run_load, servers_from_env

TARGET_RATIO = 0.95
FIXED = "tests.bench.support:fixed_requests"


async def bench(admin_url: str, redis_url: str, seconds: float, concurrency: int, rounds: int
                ) -> tuple[list[LoadResult], list[LoadResult]]:
    count = int(4000 * (seconds + WARMUP))
    observed_env = {"LATCHKEY_METRICS": "1", "LATCHKEY_ACCESS_LOG": "1", "LATCHKEY_LOG_FORMAT": "json"}
    bare_env = {"LATCHKEY_METRICS": "0", "LATCHKEY_ACCESS_LOG": "0"}
    observed_runs: list[LoadResult] = []
    bare_runs: list[LoadResult] = []
    async with (deployment(admin_url, redis_url, "observed", **observed_env) as observed,
                deployment(admin_url, redis_url, "bare", **bare_env) as bare):
        for round_number in range(rounds):
            # Alternate which goes first, so neither always runs on a warmer (or busier) machine.
            order = [(observed, observed_runs), (bare, bare_runs)]
            for target, runs in order if round_number % 2 == 0 else reversed(order):
                assert target.token is not None
                requests = await target.codes(OPENID, count)
                runs.append(await asyncio.to_thread(
                    run_load, "code exchange", target.token.url, FIXED, requests, concurrency=concurrency,
                    duration=seconds, warmup=WARMUP, server_pid=target.token.pid))
    return observed_runs, bare_runs


def main() -> int:
    if (servers := servers_from_env("bench_observability")) is None:
        return 2
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "16"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "4"))
    print(f"metrics and access logs: code exchange, concurrency {concurrency}, {rounds} interleaved rounds "
          f"of {seconds:.0f} s each")
    observed, bare = asyncio.run(bench(*servers, seconds, concurrency, rounds))
    ratios = [o.rps / b.rps for o, b in zip(observed, bare, strict=True)]
    ratio = statistics.median(ratios)
    print(f"with metrics + JSON access log: {format_result(combine(observed))}")
    print(f"with both off:                  {format_result(combine(bare))}")
    print(f"ratio per round: {', '.join(f'{r:.3f}' for r in ratios)}; median {ratio:.3f} "
          f"(target >= {TARGET_RATIO:.2f}): {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    # Less sensitive to a busy machine than throughput: the server's own CPU per request.
    observed_cpu, bare_cpu = combine(observed).cpu_ms_per_request, combine(bare).cpu_ms_per_request
    if observed_cpu and bare_cpu:
        print(f"server CPU per request: {observed_cpu:.2f} ms vs {bare_cpu:.2f} ms "
              f"({observed_cpu / bare_cpu - 1:+.1%}); "
              f"all rounds' throughput {combine(observed).rps / combine(bare).rps:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
