"""``python -m services.token``: the same as ``latchkey serve token``."""

import sys

from shared.cli.main import main

sys.exit(main(["serve", "token", *sys.argv[1:]]))
