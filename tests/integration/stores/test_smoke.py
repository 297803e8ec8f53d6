from shared.stores.pg_clients import PgClients
from tests.support.factories import make_client


async def test_client_round_trip(pool):
    registered = await make_client(pool)
    assert await PgClients(pool).get(registered.client_id) == registered.client
