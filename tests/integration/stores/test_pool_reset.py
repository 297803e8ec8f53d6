"""A pooled connection comes back clean even when a request was cancelled mid-transaction."""

import asyncio

from shared.db import create_pool


async def test_transaction_left_open_is_rolled_back_before_reuse(settings):
    pool = await create_pool(settings)
    try:
        conn = await pool.acquire()
        await conn.execute("BEGIN")
        await conn.execute("CREATE TEMP TABLE half_written (x int)")
        await pool.release(conn)
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('pg_temp.half_written')") is None
    finally:
        await asyncio.wait_for(pool.close(), 10)
