"""Ending login sessions towards relying parties (OIDC Back-Channel Logout 1.0).

``announce`` (shared.logout.announce) is the entry point every sign-out path calls; the token
service delivers what it queues (services/token/backchannel_logout.py).
"""

from shared.logout.announce import announce

__all__ = ["announce"]
