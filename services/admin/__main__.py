"""``python -m services.admin``: the same as ``latchkey serve admin``."""

import sys

from shared.cli.main import main

sys.exit(main(["serve", "admin", *sys.argv[1:]]))
