"""Background clean-ups of the token service.

GrantSweeper: delayed second revocations of a replayed code's grant (see
core.code_grant.replayed). Each sweep is a task owned by the app; on shutdown the pending ones
run at once instead of being dropped, since by then no exchange of ours can still be writing.

sweep_redemptions: deletes code redemptions past their replay window, so the table holds about
one window of exchanges. Every replica runs it; deleting what another already deleted is free.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from services.token.core.revocation import revoke_grant
from shared.stores.pg_code_redemptions import PgCodeRedemptions
from shared.stores.protocols import Denylist, RefreshTokens

log = logging.getLogger("latchkey.token.sweeps")


class GrantSweeper:
    def __init__(self, refresh_tokens: RefreshTokens, denylist: Denylist) -> None:
        self._refresh_tokens = refresh_tokens
        self._denylist = denylist
        self._pending: dict[asyncio.Task[None], UUID] = {}

    def schedule(self, family_id: UUID, delay: float) -> None:
        task = asyncio.create_task(self._later(family_id, delay))
        self._pending[task] = family_id
        task.add_done_callback(self._pending.pop)

    async def _later(self, family_id: UUID, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._sweep(family_id)

    async def _sweep(self, family_id: UUID) -> None:
        try:
            await revoke_grant(family_id, self._refresh_tokens, self._denylist)
        except Exception:
            log.exception("could not re-revoke grant %s", family_id)

    async def close(self) -> None:
        families = set(self._pending.values())
        for task in list(self._pending):
            task.cancel()
        for family_id in families:
            await self._sweep(family_id)


async def sweep_redemptions(redemptions: PgCodeRedemptions, interval: int) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            deleted = await redemptions.delete_expired()
        except Exception:
            # Rows past their window only take space; the next sweep tries again.
            log.exception("could not delete expired code redemptions")
        else:
            if deleted:
                log.debug("deleted %d expired code redemptions", deleted)
