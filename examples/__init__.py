"""Example applications built on Latchkey (not part of the server suite)."""
