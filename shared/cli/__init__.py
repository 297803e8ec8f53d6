"""The `latchkey` command line (docs/contract.md lists every command, flag and JSON shape)."""
