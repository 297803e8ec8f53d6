"""Latchkey's shared package (config, stores, keys, errors, CLI)."""
