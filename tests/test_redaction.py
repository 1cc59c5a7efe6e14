"""Signed download URLs stay out of logs and reprs; the app's own httpx lines are untouched."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from timelines_async import FileInfo
from timelines_async.events import Attachment
from timelines_async.testing import FakeTimelines

pytestmark = pytest.mark.anyio


async def test_a_download_logs_no_query_string_at_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTimelines(seed=3, chats=1)
    async with fake.client() as tl:
        uploaded = await tl.files.upload(b"invoice", filename="invoice.pdf")
        info = await tl.files.get(uploaded.uid)
        assert info.temporary_download_url is not None
        query = info.temporary_download_url.split("?", 1)[1]
        with caplog.at_level(logging.DEBUG):
            await tl.files.download(uploaded.uid, tmp_path / "invoice.pdf")

    lines = [record.getMessage() for record in caplog.records]
    download_lines = [line for line in lines if "?<signed>" in line]
    assert download_lines, lines  # httpx did log the download, redacted
    assert all(query not in line for line in lines)
    assert (tmp_path / "invoice.pdf").read_bytes() == b"invoice"


async def test_the_applications_own_requests_are_logged_as_httpx_logs_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTimelines(seed=3, chats=1)
    async with fake.client():  # a client installs the filter
        pass
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with caplog.at_level(logging.INFO, logger="httpx"):
        async with httpx.AsyncClient(transport=transport) as http:
            await http.get("https://example.test/report?page=2")
    assert "https://example.test/report?page=2" in caplog.text


@pytest.mark.parametrize("model", [FileInfo, Attachment])
def test_the_repr_shows_the_url_redacted_and_the_attribute_keeps_it(model: type) -> None:
    url = "https://storage.test/files/u1?X-Amz-Signature=c0ffee&X-Amz-Expires=900"
    kwargs = {"uid": "u1"} if model is FileInfo else {}
    value = model(temporary_download_url=url, **kwargs)
    assert "c0ffee" not in repr(value)
    assert "'https://storage.test/files/u1?<signed>'" in repr(value)
    assert value.temporary_download_url == url
