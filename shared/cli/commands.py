"""The types every command module shares: the sub-command table it registers into and the
parsed arguments its handler receives."""

from __future__ import annotations

import argparse

# What `ArgumentParser.add_subparsers()` returns; argparse names it only privately.
Commands = argparse._SubParsersAction[argparse.ArgumentParser]
Args = argparse.Namespace
