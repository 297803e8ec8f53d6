"""Ending login sessions towards relying parties (OIDC Back-Channel Logout 1.0).

``announce`` (shared.logout.announce) is the entry point every sign-out path calls; the token
service delivers what it queues (services/token/backchannel_logout.py). ``announce_or_defer``
is the sign-out a user asked for: it ends the session even while PostgreSQL is down.
"""

from shared.logout.announce import announce, announce_or_defer

__all__ = ["announce", "announce_or_defer"]
