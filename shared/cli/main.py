"""Entry point of the `latchkey` console script: parse, dispatch, turn errors into one line."""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

import asyncpg
from redis.exceptions import RedisError

from shared.cli import admin_tokens, apis, check, clients, consents, demo, keys, migrate, serve, users
from shared.errors import ConfigError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not a usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="latchkey", description="Latchkey OAuth 2.0 / OpenID Connect authorization server")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (migrate, apis, clients, users, consents, keys, admin_tokens, serve, demo, check):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        result = args.handler(args, os.environ)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        sys.stdout.flush()  # here, so that a reader gone early is handled below, not at exit
        return int(result or 0)
    except (UsageError, ConfigError) as exc:
        print(f"latchkey: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError as exc:
        if not _stdout_reader_gone():
            return _store_error(exc)  # a socket's broken pipe, not ours
        # `latchkey ... | head`: the reader has what it wanted. Quietly, as a command killed by
        # SIGPIPE would be; what is still buffered goes nowhere instead of failing again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, RedisError) as exc:
        return _store_error(exc)
    except KeyboardInterrupt:
        return 130


def _store_error(exc: BaseException) -> int:
    print(f"latchkey: error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
    return 1


def _stdout_reader_gone() -> bool:
    """Standard output is a pipe whose reader closed (the pipe reports an error to poll)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
