"""`latchkey check`: audit a running deployment, the way Django's ``check --deploy`` audits one.

Each module checks one thing and returns ``Finding``s: ``profile`` the settings (https, the
RFC 9700 profile, the key-encryption key), ``published`` discovery and the JWKS as the public
URLs serve them, ``signing_keys`` the key ring against that JWKS, ``stores`` PostgreSQL and Redis
(reachable, version, persistence, clocks). ``run`` gathers them; shared.cli.check prints them.
"""
