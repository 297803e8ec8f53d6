"""PgAudit: security events land in audit_events."""

from __future__ import annotations

import secrets

import pytest

from shared.models import AuditEvent
from shared.stores.pg_audit import PgAudit
from tests.support.factories import make_client, make_user


async def test_record_stores_the_event(pool, settings):
    user, client = await make_user(pool, settings), await make_client(pool)
    event_type = f"code_replay_{secrets.token_hex(3)}"
    await PgAudit(pool).record(AuditEvent(event_type, client_id=client.client_id, user_id=str(user.id),
                                          remote_addr="203.0.113.9", details={"grant_id": "g-1", "revoked": 2}))
    row = await pool.fetchrow("SELECT * FROM audit_events WHERE event_type = $1", event_type)
    assert (row["client_id"], row["user_id"], row["remote_addr"]) == (client.client_id, user.id, "203.0.113.9")
    assert row["details"] == {"grant_id": "g-1", "revoked": 2}
    assert row["occurred_at"] is not None


@pytest.mark.parametrize("event", [
    AuditEvent("anonymous_event"),
    AuditEvent("unknown_client", client_id="lk_unknown", details={}),
], ids=["no identifiers", "client only"])
async def test_optional_fields_may_be_missing(pool, event):
    before = await pool.fetchval("SELECT count(*) FROM audit_events WHERE event_type = $1", event.event_type)
    await PgAudit(pool).record(event)
    after = await pool.fetchval("SELECT count(*) FROM audit_events WHERE event_type = $1", event.event_type)
    assert after == before + 1
