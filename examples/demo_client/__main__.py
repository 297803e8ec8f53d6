"""`python -m examples.demo_client [--port P]`: reads the environment, runs the demo app."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from aiohttp import web

from examples.demo_client.app import create_app
from examples.demo_client.config import DemoConfig, DemoConfigError
from shared.cli.serve import new_event_loop
from shared.web.access_log import PathOnlyAccessLogger


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.demo_client", description=__doc__)
    parser.add_argument("--port", type=int, help="default: LATCHKEY_DEMO_PORT or 8000")
    args = parser.parse_args()
    try:
        config = DemoConfig.from_env(os.environ, port=args.port)
    except DemoConfigError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not config.client_secret:
        logging.getLogger("latchkey.demo").warning(
            "LATCHKEY_DEMO_CLIENT_SECRET is not set; `make run` passes what `latchkey demo seed --json` printed")
    logging.getLogger("latchkey.demo").info("demo app on %s (listening on %s:%d)", config.public_url,
                                            config.host, config.port)
    web.run_app(create_app(config), host=config.host, port=config.port, loop=new_event_loop(), print=None,
                access_log_class=PathOnlyAccessLogger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
