"""The export's job-level retries: outages waited out, deleted chats skipped, giving up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import httpx
import pytest

from timelines_async import InvalidRequestError, PermissionDeniedError, TimelinesClient
from timelines_async.export import ExportProgress, GaveUpError, SQLiteStore, export_workspace
from timelines_async.testing import FakeTimelines

from .reliability._checks import assert_export_matches, expected_messages, stored

pytestmark = pytest.mark.anyio


class Waits(TypedDict):
    retry_wait: float
    max_retry_wait: float


#: Job-level waits short enough for a test, long enough to be waits.
QUICK: Waits = {"retry_wait": 0.01, "max_retry_wait": 0.05}


class Outage(httpx.AsyncBaseTransport):
    """Answers requests number `first` to `last` (from 1) with `status`; others reach the fake."""

    def __init__(self, fake: FakeTimelines, first: int, last: int, status: int = 503) -> None:
        self.inner = httpx.ASGITransport(app=fake)
        self.first, self.last, self.status = first, last, status
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.first <= self.seen <= self.last:
            body = {"status": "error", "message": "down", "error_code": "internal_error"}
            return httpx.Response(self.status, json=body)
        return await self.inner.handle_async_request(request)


class Interceptor(httpx.AsyncBaseTransport):
    """Runs `before(request)` ahead of each request to the fake."""

    def __init__(self, fake: FakeTimelines, before: Callable[[httpx.Request], None]) -> None:
        self.inner = httpx.ASGITransport(app=fake)
        self.before = before

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.before(request)
        return await self.inner.handle_async_request(request)


def client(fake: FakeTimelines, http: httpx.AsyncClient, max_retries: int = 1) -> TimelinesClient:
    return TimelinesClient(
        fake.token,
        base_url=fake.base_url,
        http_client=http,
        max_retries=max_retries,
        requests_per_second=None,
        retry_base_delay=0,
        retry_max_delay=0,
    )


@pytest.mark.parametrize(("first", "last"), [(1, 40), (3, 60), (30, 120)])
async def test_an_outage_is_waited_out_in_the_same_run(
    tmp_path: Path, first: int, last: int
) -> None:
    """Every request fails for a while (the listing's first page, later pages, histories)."""
    fake = FakeTimelines(seed=3, chats=120)
    seen: list[ExportProgress] = []
    out = tmp_path / "export.sqlite"
    async with (
        httpx.AsyncClient(transport=Outage(fake, first, last)) as http,
        client(fake, http) as tl,
    ):
        summary = await export_workspace(tl, SQLiteStore(out), progress=seen.append, **QUICK)

    assert summary.chats == 120
    assert summary.messages == assert_export_matches(fake, out)
    waiting = [p for p in seen if p.retry_in is not None]
    assert waiting, "the progress never showed the wait"
    assert {p.problem for p in waiting} == {"API unavailable (503)"}
    assert seen[-1].retry_in is None
    assert seen[-1].chats_waiting == 0
    assert seen[-1].chats_done == 120


async def test_chats_waiting_are_counted_while_they_wait(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=3, chats=30)
    seen: list[ExportProgress] = []
    async with (
        httpx.AsyncClient(transport=Outage(fake, 2, 40)) as http,
        client(fake, http, max_retries=0) as tl,
    ):
        await export_workspace(
            tl, SQLiteStore(tmp_path / "x.sqlite"), progress=seen.append, **QUICK
        )
    assert max(p.chats_waiting for p in seen) > 1


async def test_a_chat_deleted_while_the_export_runs_is_skipped_not_a_failure(
    tmp_path: Path,
) -> None:
    fake = FakeTimelines(seed=3, chats=20)
    listed = set(fake.chats)
    doomed = sorted(listed)[5]

    def delete_before_its_history_is_read(request: httpx.Request) -> None:
        if request.url.path.endswith(f"/chats/{doomed}/messages"):
            fake.workspace.chats.pop(doomed, None)

    out = tmp_path / "export.sqlite"
    transport = Interceptor(fake, delete_before_its_history_is_read)
    async with httpx.AsyncClient(transport=transport) as http, client(fake, http) as tl:
        summary = await export_workspace(tl, SQLiteStore(out), **QUICK)

    assert summary.chats == 20
    assert summary.chats_gone == 1
    chat_ids, uids, messages = stored(out)
    assert set(chat_ids) == listed  # as listed; its history was never there to read
    assert messages == expected_messages(fake)  # every other chat's, once
    assert max(uids.values()) == 1
    assert summary.messages == len(messages)


async def test_gives_up_when_nothing_succeeds_for_give_up_after(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=3, chats=120)
    out = tmp_path / "export.sqlite"
    async with (
        httpx.AsyncClient(transport=Outage(fake, 4, 10**9)) as http,
        client(fake, http, max_retries=0) as tl,
    ):
        with pytest.raises(GaveUpError) as caught:
            await export_workspace(tl, SQLiteStore(out), give_up_after=0.3, **QUICK)

    assert str(caught.value).startswith("nothing succeeded for 0.3 s; last error: GET /chats")
    assert re.fullmatch(r"\d+ of 50 chats listed so far and \d+ messages stored", caught.value.done)

    # The rerun, with the API back, resumes and completes.
    async with fake.client() as tl:
        await export_workspace(tl, SQLiteStore(out))
    assert_export_matches(fake, out)


async def test_an_error_no_wait_can_mend_stops_the_run_at_once(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=3, chats=20)
    async with (
        httpx.AsyncClient(transport=Outage(fake, 5, 5, status=403)) as http,
        client(fake, http) as tl,
    ):
        with pytest.raises(PermissionDeniedError):
            await export_workspace(tl, SQLiteStore(tmp_path / "x.sqlite"), **QUICK)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("give_up_after", 0),
        ("give_up_after", float("nan")),
        ("retry_wait", -1),
        ("max_retry_wait", 0.001),
        ("retry_wait", True),
    ],
)
async def test_bad_waits_are_invalid_request_errors(
    tmp_path: Path, option: str, value: object
) -> None:
    fake = FakeTimelines(seed=3, chats=1)
    async with fake.client() as tl:
        with pytest.raises(InvalidRequestError, match=option):
            await export_workspace(tl, SQLiteStore(tmp_path / "x.sqlite"), **{option: value})  # type: ignore[arg-type]
    assert fake.requests == []
