"""One module per endpoint of the authorize service."""
