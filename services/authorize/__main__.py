"""``python -m services.authorize``: the same as ``latchkey serve authorize``."""

import sys

from shared.cli.main import main

sys.exit(main(["serve", "authorize", *sys.argv[1:]]))
