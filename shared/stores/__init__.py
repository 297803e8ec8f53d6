"""Storage ports (typing.Protocol) and their asyncpg / redis.asyncio adapters."""
