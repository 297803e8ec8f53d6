"""The platform's management operations: one function per operation, shared by the CLI and the admin API.

One module per record (``apis``, ``clients``, ``users``, ``consents``, ``admin_tokens``, ``keys``,
``audit``). Each operation validates everything before it writes anything, runs its writes in one
PostgreSQL transaction, returns a plain record (a frozen dataclass with ``to_json()``: the JSON both
``--json`` and the admin API print, RFC 7591 metadata names for clients), and raises one of the
``shared.management.errors`` types on a refusal. Neither the CLI nor the admin API holds a rule of
its own: they parse their input, call the operation and render its record or error.
"""
