"""Everything the admin service opens, each in one ``cleanup_ctx`` generator (opened in order at
start, closed in reverse at shutdown). Nothing is connected at import time.

The admin service keeps no caches: every answer reads PostgreSQL, so it shows a change at once.
"""

from __future__ import annotations

from shared.web.lifecycle import postgres, redis

CLEANUP_CONTEXTS = (postgres, redis)
