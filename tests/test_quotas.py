"""`tl.quotas.get()`: plan, seats and quotas, with the legacy fallback for old deployments."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from tests.conftest import API_BASE
from timelines_async import (
    NonRecurringQuota,
    PermissionDeniedError,
    Quota,
    ServerError,
    TimelinesClient,
    UnexpectedResponseError,
)
from timelines_async._converter import parse_timestamp

pytestmark = pytest.mark.anyio

BASE = API_BASE
PERIOD = {"period_start": "2025-02-01 00:00:00 +0100", "period_end": "2025-03-01 00:00:00 +0100"}
QUOTAS = {
    "seats": {"total": 10, "used": 7, **PERIOD},
    "messaging_quota": {"total": 5000, "used": 1200, **PERIOD},
    "api_calls_quota": {"total": 200000, "used": 31000, **PERIOD},
    "non_recurring_quota": {"remaining_balance": 50, "last_updated_at": PERIOD["period_start"]},
}
WORKSPACE = {"workspace_id": "acme-inc", "display_name": "Acme Inc.", "plan": "Business", **QUOTAS}


def ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "data": data})


@pytest.fixture
async def tl(router: respx.MockRouter) -> AsyncIterator[TimelinesClient]:
    async with TimelinesClient(
        "tok", base_url=BASE, requests_per_second=None, max_retries=0
    ) as client:
        yield client


async def test_get_reads_plan_seats_and_every_quota(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/workspace").mock(return_value=ok(WORKSPACE))
    workspace = await tl.quotas.get()
    assert (workspace.workspace_id, workspace.display_name, workspace.plan) == (
        "acme-inc",
        "Acme Inc.",
        "Business",
    )
    assert workspace.messaging_quota == Quota(
        total=5000,
        used=1200,
        period_start=parse_timestamp(PERIOD["period_start"]),
        period_end=parse_timestamp(PERIOD["period_end"]),
    )
    assert workspace.messaging_quota.remaining == 3800
    assert workspace.api_calls_quota is not None
    assert workspace.api_calls_quota.used == 31000
    assert workspace.seats is not None
    assert workspace.seats.remaining == 3
    assert workspace.non_recurring_quota == NonRecurringQuota(
        remaining_balance=50, last_updated_at=parse_timestamp(PERIOD["period_start"])
    )


@pytest.mark.parametrize(
    "not_found",
    [
        pytest.param(
            httpx.Response(404, json={"status": "error", "message": "Not found"}), id="envelope"
        ),
        pytest.param(httpx.Response(404, html="<html>Page not found</html>"), id="html-page"),
    ],
)
async def test_an_old_deployment_falls_back_to_the_legacy_quotas(
    tl: TimelinesClient, router: respx.MockRouter, not_found: httpx.Response
) -> None:
    current = router.get(f"{BASE}/workspace").mock(return_value=not_found)
    legacy = router.get(f"{BASE}/workspace/quotas").mock(return_value=ok(QUOTAS))
    workspace = await tl.quotas.get()
    assert (current.call_count, legacy.call_count) == (1, 1)
    assert workspace.plan is None
    assert workspace.messaging_quota is not None
    assert workspace.messaging_quota.remaining == 3800


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(403, json={"status": "error", "message": "denied"}), PermissionDeniedError),
        (httpx.Response(500, json={"status": "error", "message": "boom"}), ServerError),
    ],
)
async def test_other_errors_do_not_fall_back(
    tl: TimelinesClient, router: respx.MockRouter, answer: httpx.Response, error: type[Exception]
) -> None:
    router.get(f"{BASE}/workspace").mock(return_value=answer)
    legacy = router.get(f"{BASE}/workspace/quotas").mock(return_value=ok(QUOTAS))
    with pytest.raises(error):
        await tl.quotas.get()
    assert not legacy.called


async def test_a_quota_without_numbers_is_an_unexpected_response(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/workspace").mock(
        return_value=ok({**WORKSPACE, "messaging_quota": {"total": "lots"}})
    )
    with pytest.raises(UnexpectedResponseError):
        await tl.quotas.get()
