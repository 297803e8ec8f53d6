"""``python -m services.resource``: the same as ``latchkey serve resource``."""

import sys

from shared.cli.main import main

sys.exit(main(["serve", "resource", *sys.argv[1:]]))
