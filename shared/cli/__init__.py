"""The `latchkey` command line (see CONTRACT.md)."""
