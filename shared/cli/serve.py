"""`latchkey serve authorize|token|resource`: run one service (uvloop where available)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from shared.cli.commands import Args, Commands
from shared.config import Settings

if TYPE_CHECKING:
    from aiohttp import web

SERVICES = ("authorize", "token", "resource", "admin")


def app_factory(service: str) -> Callable[[Settings], web.Application]:
    """The service's ``create_app``, imported explicitly (only the one that runs is loaded)."""
    if service == "authorize":
        from services.authorize.app import create_app as authorize
        return authorize
    if service == "token":
        from services.token.app import create_app as token
        return token
    if service == "resource":
        from services.resource.app import create_app as resource
        return resource
    if service == "admin":
        from services.admin.app import create_app as admin
        return admin
    raise ValueError(f"unknown service {service!r}")


def register(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run a service")
    serve.add_argument("service", choices=SERVICES)
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(handler=run)


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # platforms without uvloop run on the default loop
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(args: Args, env: Mapping[str, str]) -> int:
    # Imported here: aiohttp is half the start-up time of every other `latchkey` command.
    from shared.logs import formatter
    from shared.web.access_log import ACCESS_LOGGER, AccessLogger, buffer_access_log
    from shared.web.graceful import serve_until_signalled

    settings = Settings.from_env(env)
    if args.service == "token":
        settings.require_key_encryption_key()  # fail with one line now, not inside the app's start-up
    # No log format here uses the caller's file and line, thread or process: not gathering them
    # for every record (the logging docs' "Optimization" switches) saves a few microseconds per
    # request, most of the access log's cost.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    console = logging.StreamHandler()
    console.setFormatter(formatter(settings.log_format))
    logging.basicConfig(level=logging.INFO, handlers=[console])
    access_log = buffer_access_log(console)
    access_log_logger = logging.getLogger(ACCESS_LOGGER)
    if settings.otel_endpoint:
        from shared.web.tracing import configure_tracing  # the optional extra latchkey[tracing]

        configure_tracing(settings.otel_endpoint, args.service)
    factory = app_factory(args.service)
    port = args.port or getattr(settings, f"{args.service}_port")
    # The admin API never follows LATCHKEY_HOST (a public address in containers): loopback by default.
    host = args.host or (settings.admin_host if args.service == "admin" else settings.host)
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve_until_signalled(factory(settings), settings, host, port, name=args.service,
                                                      access_log_class=AccessLogger,
                                                      access_log=access_log_logger if settings.access_log else None))
    finally:
        access_log.flush()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return 0
