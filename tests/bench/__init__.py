"""Benchmarks (`make bench`, not part of `make test`): real services as subprocesses under load."""
