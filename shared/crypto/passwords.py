"""argon2id password hashing, run in an executor so a login never blocks the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    def __init__(self, executor: Executor | None, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._executor = executor
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified against when the user does not exist, so both paths cost one argon2 run.
        self._decoy_hash = self._hasher.hash("latchkey-decoy-password")

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a missing hash burns the same time and says False."""
        target = password_hash or self._decoy_hash
        ok = await asyncio.get_running_loop().run_in_executor(self._executor, self._verify_sync, target, password)
        return ok and password_hash is not None

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
