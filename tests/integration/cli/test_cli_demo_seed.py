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
