"""The token service's I/O-free core: parsing, client authentication rules, grants, claims.

Everything here depends only on storage protocols (typing.Protocol) and frozen dataclasses, so it
is unit-tested without servers; services/token/*.py are the thin aiohttp handlers around it.
"""
