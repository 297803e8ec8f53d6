"""The types every command module shares: the sub-command table it registers into and the
parsed arguments its handler receives."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# What `ArgumentParser.add_subparsers()` returns; argparse names it only privately, and its class
# is not subscriptable at run time before Python 3.12: a string alias, read by the type checker only.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Args = argparse.Namespace
