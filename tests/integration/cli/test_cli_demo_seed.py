"""`latchkey demo seed`: the demo client is registered for RP-Initiated and Back-Channel Logout,
so the demo app can sign out through Latchkey and come back, and hear of sessions ending."""

from __future__ import annotations

import json


async def test_demo_seed_registers_the_demos_logout_endpoints(latchkey, db):
    result = await latchkey("demo", "seed", "--json", env={"LATCHKEY_DEV": "1",
                                                           "LATCHKEY_DEMO_URL": "http://localhost:8123"})
    assert result.code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["post_logout_redirect_uris"] == ["http://localhost:8123/signed-out",
                                                    "http://127.0.0.1:8123/signed-out"]
    assert printed["backchannel_logout_uri"] == "http://localhost:8123/backchannel-logout"
    row = await db.fetchrow("""SELECT post_logout_redirect_uris, backchannel_logout_uri,
                                      backchannel_logout_session_required
                               FROM clients WHERE client_id = 'latchkey-demo-app'""")
    assert list(row["post_logout_redirect_uris"]) == printed["post_logout_redirect_uris"]
    assert row["backchannel_logout_uri"] == "http://localhost:8123/backchannel-logout"
    assert row["backchannel_logout_session_required"] is True


async def test_demo_seed_follows_the_resource_port_to_another_one(latchkey, db):
    """`make run` seeds at every start: a run with another LATCHKEY_RESOURCE_PORT names the notes
    API after the new URL, and the earlier run's API, which holds the notes scopes, goes."""
    for port in (18643, 18647):
        result = await latchkey("demo", "seed", "--json", env={"LATCHKEY_DEV": "1",
                                                               "LATCHKEY_RESOURCE_URL": f"http://localhost:{port}"})
        assert result.code == 0, result.stderr
        assert json.loads(result.stdout)["api"] == f"http://localhost:{port}"
    rows = await db.fetch("SELECT identifier FROM apis WHERE name = 'Notes API'")
    assert [r["identifier"] for r in rows] == ["http://localhost:18647"]
    owner = await db.fetchval("SELECT api FROM api_scopes WHERE name = 'notes:read'")
    assert owner == "http://localhost:18647"
