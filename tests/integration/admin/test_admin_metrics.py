"""The admin API gets the same /metrics, request ids and access lines as every service."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging

from services.admin.app import create_app
from tests.integration.resource.serving import RunningApp
from tests.support.access_lines import access_lines
from tests.support.metrics import moved, scrape


async def test_admin_requests_are_counted_by_route_template(http, admin):
    before = await scrape(http, admin.url + "/metrics")  # loopback: no admin token needed
    async with http.get(admin.url + "/admin/v1/clients/no-such-client-123", headers=admin.auth()) as response:
        assert response.status == 404
        assert response.headers["X-Request-Id"]
    after = await scrape(http, admin.url + "/metrics")
    assert moved(before, after, "latchkey_http_requests_total", route="/admin/v1/clients/{client_id}", method="GET",
                 status_class="4xx") == 1
    assert not any("no-such-client-123" in v for (_, labels) in after for _, v in labels)


async def test_metrics_from_a_peer_outside_the_allow_list_is_404_not_401(http, admin):
    """CONTRACT: /metrics answers 404 to addresses outside LATCHKEY_METRICS_ALLOW, as a problem."""
    elsewhere = dataclasses.replace(admin.settings, metrics_allow=(ipaddress.ip_network("10.0.0.0/8"),))
    async with RunningApp(create_app(elsewhere)) as running, http.get(running.url + "/metrics") as refused:
        assert refused.status == 404 and refused.content_type == "application/problem+json"
        assert "latchkey_" not in await refused.text()


async def test_a_refusal_s_access_line_names_its_problem(http, admin, caplog):
    caplog.set_level(logging.INFO, "latchkey.access")
    async with http.get(admin.url + "/admin/v1/clients", headers={"Authorization": "Bearer lka_wrong"}) as refused:
        assert refused.status == 401
        request_id = refused.headers["X-Request-Id"]
    lines = await access_lines(caplog, request_id)
    assert len(lines) == 1 and "reason=unauthorized" in lines[0], lines
