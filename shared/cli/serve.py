"""`latchkey serve authorize|token|resource`: run one service (uvloop where available)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from shared.config import Settings

if TYPE_CHECKING:
    from aiohttp import web

SERVICES = ("authorize", "token", "resource")


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
    raise ValueError(f"unknown service {service!r}")


def register(commands) -> None:
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


def run(args, env: Mapping[str, str]) -> int:
    # Imported here: aiohttp is half the start-up time of every other `latchkey` command.
    from aiohttp import web

    from shared.web.access_log import PathOnlyAccessLogger, buffer_access_log

    settings = Settings.from_env(env)
    if args.service == "token":
        settings.require_key_encryption_key()  # fail with one line now, not inside the app's start-up
    # No log format here uses the caller's file and line, thread or process: not gathering them
    # for every record (the logging docs' "Optimization" switches) saves a few microseconds per
    # request, most of the access log's cost.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[console])
    access_log = buffer_access_log(console)
    factory = app_factory(args.service)
    port = args.port or getattr(settings, f"{args.service}_port")
    host = args.host or settings.host
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    logging.getLogger("latchkey").info("%s listening on http://%s:%d", args.service, host, port)
    try:
        web.run_app(factory(settings), host=host, port=port, loop=loop, print=None,
                    access_log_class=PathOnlyAccessLogger)
    finally:
        access_log.flush()
    return 0
