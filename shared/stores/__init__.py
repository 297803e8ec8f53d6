"""Storage protocols (shared.stores.protocols) and their asyncpg / redis.asyncio adapters."""
