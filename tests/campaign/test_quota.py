"""The quota check before a campaign sends (`campaign._quota`)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from timelines_async import campaign
from timelines_async.campaign import (
    InsufficientQuotaError,
    Outcome,
)
from timelines_async.testing import FakeTimelines, FakeTransport

from ._support import (
    SEND_INTERVAL,
    TEMPLATE,
    customers_csv,
    expected_texts,
    sends_made,
)

pytestmark = pytest.mark.anyio


async def test_a_campaign_larger_than_the_quota_is_refused_with_the_numbers(
    tmp_path: Path,
) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=5)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(
            InsufficientQuotaError, match=r"needs 8 messages but .* has 5 left"
        ) as caught:
            await campaign.run(tl, customers_csv(tmp_path, 8), text=TEMPLATE)

    assert (caught.value.needed, caught.value.remaining) == (8, 5)
    assert sends_made(fake) == []


async def test_send_what_fits_sends_the_first_that_fit_and_skips_the_rest(
    tmp_path: Path,
) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=5)
    path = customers_csv(tmp_path, 8)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, send_what_fits=True)

    assert [m.text for m in fake.sent] == expected_texts(5)
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 5 + [Outcome.SKIPPED_QUOTA] * 3
    assert report.quota is not None
    assert (report.quota.needed, report.quota.remaining) == (8, 5)
    assert not report.ok


class WorkspaceQuota(FakeTransport):
    """The fake, except that `GET /workspace` reports the given quotas."""

    def __init__(self, fake: FakeTimelines, quotas: dict[str, object]) -> None:
        super().__init__(fake)
        self.quotas = quotas

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/workspace"):
            return httpx.Response(200, json={"status": "ok", "data": self.quotas})
        return await super().handle_async_request(request)


@pytest.mark.parametrize(
    ("quotas", "remaining"),
    [
        ({"messaging_quota": {"total": 10, "used": 8}}, 2),
        (
            {
                "messaging_quota": {"total": 10, "used": 8},
                "non_recurring_quota": {"remaining_balance": 3},
            },
            5,
        ),
        (
            {
                "messaging_quota": {"total": 10, "used": 12},
                "non_recurring_quota": {"remaining_balance": 1},
            },
            1,
        ),
    ],
    ids=["recurring", "plus-pay-as-you-go", "overdrawn-recurring"],
)
async def test_the_quota_left_counts_the_pay_as_you_go_balance(
    fake: FakeTimelines, tmp_path: Path, quotas: dict[str, object], remaining: int
) -> None:
    async with httpx.AsyncClient(transport=WorkspaceQuota(fake, quotas)) as http:
        tl = fake.client(http_client=http)
        report = await campaign.run(tl, customers_csv(tmp_path, 6), text=TEMPLATE, dry_run=True)

    assert report.quota is not None
    assert report.quota.remaining == remaining


async def test_a_dry_run_shows_what_the_quota_would_leave_out(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=3)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, customers_csv(tmp_path, 5), text=TEMPLATE, dry_run=True)

    assert sends_made(fake) == []
    assert [r.outcome for r in report.results] == [Outcome.PENDING] * 3 + [
        Outcome.SKIPPED_QUOTA
    ] * 2
    assert not report.ok
