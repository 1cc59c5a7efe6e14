"""`tl.files`: listing, streamed multipart uploads, uploads from a URL, downloads, deletes."""

from __future__ import annotations

import email
import email.policy
import io
import tracemalloc
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.conftest import API_BASE
from timelines_async import (
    FileInfo,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ServerError,
    TimelinesClient,
    TransportError,
)

pytestmark = pytest.mark.anyio

BASE = API_BASE
TOKEN = "secret-token-123"
STORAGE = "https://storage.test"
UID = "90d353e6-44c1-48ff-b15b-69b7721e5450"
MB = 1024 * 1024


def file_json(**extra: Any) -> dict[str, Any]:
    return {
        "uid": UID,
        "filename": "report.pdf",
        "size": 11,
        "mimetype": "application/pdf",
        "uploaded_by_email": "john.doe@acme.com",
        "uploaded_at": "2023-06-18 15:19:23 +0300",
        **extra,
    }


def ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "data": data})


@pytest.fixture
async def tl(router: respx.MockRouter) -> AsyncIterator[TimelinesClient]:
    async with TimelinesClient(
        TOKEN, base_url=BASE, requests_per_second=None, retry_base_delay=0, retry_max_delay=0
    ) as client:
        yield client


def parse_multipart(request: httpx.Request) -> dict[str, EmailMessage]:
    """The parts of a multipart request by form field name."""
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
    message = email.message_from_bytes(raw + request.content, policy=email.policy.HTTP)
    assert isinstance(message, EmailMessage)
    assert message.is_multipart()
    parts: dict[str, EmailMessage] = {}
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        parts[name] = part
    return parts


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


# --- list, get, delete ---------------------------------------------------------------


async def test_list_without_filter_sends_no_parameters(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.get(f"{BASE}/files").mock(return_value=ok([file_json(), file_json(uid="b")]))
    files = await tl.files.list()
    assert [f.uid for f in files] == [UID, "b"]
    assert files[0].size == 11
    assert files[0].uploaded_at is not None
    assert files[0].uploaded_at.utcoffset() is not None
    assert route.calls.last.request.url.params.multi_items() == []


async def test_list_filters_by_filename(tl: TimelinesClient, router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/files").mock(return_value=ok([]))
    assert await tl.files.list(filename="png") == []
    assert route.calls.last.request.url.params["filename"] == "png"


async def test_get_returns_the_temporary_download_url(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    url = f"{STORAGE}/f?sig=abc"
    router.get(f"{BASE}/files/{UID}").mock(return_value=ok(file_json(temporary_download_url=url)))
    info = await tl.files.get(UID)
    assert info == FileInfo(
        uid=UID,
        filename="report.pdf",
        size=11,
        mimetype="application/pdf",
        uploaded_by_email="john.doe@acme.com",
        uploaded_at=info.uploaded_at,
        temporary_download_url=url,
    )


async def test_delete_accepts_an_empty_answer(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.delete(f"{BASE}/files/{UID}").mock(return_value=httpx.Response(200))
    await tl.files.delete(UID)
    assert route.call_count == 1


@pytest.mark.parametrize("uid", ["", "a/b", "a b", "x?y", 42])
@pytest.mark.parametrize("method", ["get", "delete"])
async def test_a_bad_uid_is_refused_before_sending(
    tl: TimelinesClient, router: respx.MockRouter, uid: object, method: str
) -> None:
    route = router.route().mock(return_value=ok(file_json()))
    with pytest.raises(InvalidRequestError) as caught:
        await getattr(tl.files, method)(uid)
    assert caught.value.field == "uid"
    assert not route.called


# --- upload ----------------------------------------------------------------------------


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize(
    ("make_file", "expected_name", "sized"),
    [
        pytest.param(lambda p: b"hello world", "file", True, id="bytes"),
        pytest.param(lambda p: p, "report.pdf", True, id="path"),
        pytest.param(lambda p: str(p), "report.pdf", True, id="str-path"),
        pytest.param(lambda p: io.BytesIO(b"hello world"), "file", True, id="file-object"),
        pytest.param(lambda p: chunks_of(b"hello", b" ", b"world"), "file", False, id="async-iter"),
    ],
)
async def test_upload_streams_a_multipart_body(
    tl: TimelinesClient,
    router: respx.MockRouter,
    tmp_path: Path,
    make_file: Any,
    expected_name: str,
    sized: bool,
) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"hello world")
    route = router.post(f"{BASE}/files_upload").mock(return_value=ok(file_json()))

    info = await tl.files.upload(make_file(path))

    assert info.uid == UID
    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    if sized:
        assert int(request.headers["content-length"]) == len(request.content)
    else:
        assert request.headers["transfer-encoding"] == "chunked"
    parts = parse_multipart(request)
    assert payload(parts["file"]) == b"hello world"
    assert parts["file"].get_filename() == expected_name
    assert payload(parts["filename"]) == expected_name.encode()
    assert "content_type" not in parts


async def test_upload_sends_the_given_name_and_content_type(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files_upload").mock(return_value=ok(file_json()))
    await tl.files.upload(b"%PDF", filename='Q3 "final" é.pdf', content_type="application/pdf")
    parts = parse_multipart(route.calls.last.request)
    assert payload(parts["filename"]).decode() == 'Q3 "final" é.pdf'
    assert payload(parts["content_type"]) == b"application/pdf"
    assert parts["file"].get_content_type() == "application/pdf"


async def test_upload_guesses_the_content_type_from_the_name(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files_upload").mock(return_value=ok(file_json()))
    await tl.files.upload(b"\x89PNG", filename="logo.png")
    assert parse_multipart(route.calls.last.request)["file"].get_content_type() == "image/png"


async def test_upload_answered_413_raises_payload_too_large(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files_upload").mock(
        return_value=httpx.Response(413, text="<html>Request Entity Too Large</html>")
    )
    with pytest.raises(PayloadTooLargeError) as caught:
        await tl.files.upload(b"x" * 1000, filename="big.mp4")
    assert caught.value.status_code == 413
    assert route.call_count == 1, "an upload refused as too large is not retried"


async def test_upload_after_429_resends_a_replayable_file_whole(
    tl: TimelinesClient, router: respx.MockRouter, tmp_path: Path
) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc" * 100_000)
    route = router.post(f"{BASE}/files_upload").mock(
        side_effect=[
            httpx.Response(429, json={"status": "error", "message": "slow down"}),
            ok(file_json()),
        ]
    )
    await tl.files.upload(path)
    assert route.call_count == 2
    first, second = (call.request for call in route.calls)
    assert payload(parse_multipart(second)["file"]) == b"abc" * 100_000
    assert len(first.content) == len(second.content)


async def test_upload_of_a_one_shot_stream_is_not_resent_truncated(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files_upload").mock(
        side_effect=[
            httpx.Response(429, json={"status": "error", "message": "slow down"}),
            ok(file_json()),
        ]
    )
    with pytest.raises(TransportError, match="cannot be repeated"):
        await tl.files.upload(chunks_of(b"abc", b"def"))
    assert route.call_count == 1


async def test_upload_is_not_retried_after_a_server_error(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files_upload").mock(
        return_value=httpx.Response(503, json={"status": "error", "message": "busy"})
    )
    with pytest.raises(ServerError):
        await tl.files.upload(b"abc")
    assert route.call_count == 1, "a POST that may have been taken is not repeated"


class DrainingTransport(httpx.AsyncBaseTransport):
    """Consumes a request body chunk by chunk, keeping only its length (like a socket would)."""

    def __init__(self) -> None:
        self.received = 0
        self.chunks = 0
        self.headers: httpx.Headers | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers = request.headers
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            self.received += len(chunk)
            self.chunks += 1
        return ok(file_json())


async def generated(total: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        size = min(chunk, total - sent)
        yield bytes(size)
        sent += size


@pytest.mark.parametrize("source", ["async-iterator", "path"])
async def test_a_100_mb_upload_is_never_held_in_memory_whole(tmp_path: Path, source: str) -> None:
    total = 100 * MB
    file: Any
    if source == "path":
        file = tmp_path / "big.bin"
        with file.open("wb") as handle:
            handle.truncate(total)  # sparse: no 100 MB written to disk
    else:
        file = generated(total)
    transport = DrainingTransport()
    async with (
        httpx.AsyncClient(transport=transport) as http_client,
        TimelinesClient(
            TOKEN, base_url=BASE, requests_per_second=None, http_client=http_client
        ) as tl,
    ):
        tracemalloc.start()
        try:
            await tl.files.upload(file, filename="big.bin")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert transport.received > total
    assert transport.chunks > 1000, "the body went out in many chunks, not one blob"
    assert peak < 5 * MB, f"peak {peak / MB:.1f} MB while uploading 100 MB"
    assert transport.headers is not None
    if source == "path":
        assert int(transport.headers["content-length"]) == transport.received


def closed_file() -> io.BytesIO:
    handle = io.BytesIO(b"gone")
    handle.close()
    return handle


class CountingSink:
    """A binary file object that keeps only how much was written to it."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return len(data)


class StorageTransport(httpx.AsyncBaseTransport):
    """The API's `GET /files/{uid}` and a storage host streaming `total` generated bytes."""

    def __init__(self, total: int) -> None:
        self.total = total

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            return httpx.Response(200, stream=GeneratedStream(self.total))
        return ok(file_json(temporary_download_url=f"{STORAGE}/big?signature=s"))


class GeneratedStream(httpx.AsyncByteStream):
    def __init__(self, total: int) -> None:
        self.total = total

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in generated(self.total):
            yield chunk


async def test_a_100_mb_download_is_never_held_in_memory_whole() -> None:
    total = 100 * MB
    sink = CountingSink()
    async with (
        httpx.AsyncClient(transport=StorageTransport(total)) as http_client,
        TimelinesClient(
            TOKEN, base_url=BASE, requests_per_second=None, http_client=http_client
        ) as tl,
    ):
        tracemalloc.start()
        try:
            await tl.files.download(UID, sink)  # type: ignore[arg-type]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert sink.written == total
    assert peak < 5 * MB, f"peak {peak / MB:.1f} MB while downloading 100 MB"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"file": 42}, "file"),
        ({"file": "/no/such/file.pdf"}, "file"),
        ({"file": io.StringIO("text mode")}, "file"),
        ({"file": b"x", "filename": ""}, "filename"),
        ({"file": b"x", "filename": "a" * 1025}, "filename"),
        ({"file": b"x", "filename": "a\x00b"}, "filename"),
        ({"file": b"x", "content_type": "t" * 141}, "content_type"),
        ({"file": b"x", "content_type": "text/plain\r\nX-Injected: 1"}, "content_type"),
        ({"file": closed_file()}, "file"),
    ],
)
async def test_a_bad_upload_is_refused_before_sending(
    tl: TimelinesClient, router: respx.MockRouter, kwargs: dict[str, Any], field: str
) -> None:
    route = router.route().mock(return_value=ok(file_json()))
    with pytest.raises(InvalidRequestError) as caught:
        await tl.files.upload(**kwargs)
    assert caught.value.field == field
    assert not route.called


# --- upload from a URL -----------------------------------------------------------------


async def test_upload_from_url_sends_download_url_and_overrides(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files").mock(return_value=ok(file_json()))
    info = await tl.files.upload_from_url(
        "https://acme.com/somefile.png", filename="logo.png", content_type="image/png"
    )
    assert info.uid == UID
    assert route.calls.last.request.read() == (
        b'{"download_url":"https://acme.com/somefile.png","filename":"logo.png",'
        b'"content_type":"image/png"}'
    )


async def test_upload_from_url_sends_only_the_url_by_default(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.post(f"{BASE}/files").mock(return_value=ok(file_json()))
    await tl.files.upload_from_url("http://acme.com/a.pdf")
    assert route.calls.last.request.read() == b'{"download_url":"http://acme.com/a.pdf"}'


async def test_upload_from_url_answered_413_raises_payload_too_large(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.post(f"{BASE}/files").mock(
        return_value=httpx.Response(
            413, json={"status": "error", "message": "Payload is too large"}
        )
    )
    with pytest.raises(PayloadTooLargeError):
        await tl.files.upload_from_url("https://acme.com/huge.mp4")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://acme.com/a.png",
        "file:///etc/passwd",
        "acme.com/a.png",
        "https://",
        "https:///path-only",
        "https://acme .com/a.png",
        "https://acme.com/a b.png",
        "https://acme.com:notaport/a.png",
        "",
        "https://acme.com/" + "a" * 4096,
        None,
    ],
)
async def test_upload_from_url_refuses_a_url_that_is_not_http(
    tl: TimelinesClient, router: respx.MockRouter, url: Any
) -> None:
    route = router.route().mock(return_value=ok(file_json()))
    with pytest.raises(InvalidRequestError) as caught:
        await tl.files.upload_from_url(url)
    assert caught.value.field == "url"
    assert not route.called


# --- download ----------------------------------------------------------------------------


def storage_url(n: int) -> str:
    return f"{STORAGE}/files/{UID}?signature=s{n}"


@pytest.fixture
def file_urls(router: respx.MockRouter) -> respx.Route:
    """`GET /files/{uid}` hands out a new temporary URL each time it is asked."""
    answers = (ok(file_json(temporary_download_url=storage_url(n))) for n in range(1, 10))
    return router.get(f"{BASE}/files/{UID}").mock(side_effect=answers)


async def test_download_streams_to_a_path_without_the_token(
    tl: TimelinesClient, router: respx.MockRouter, file_urls: respx.Route, tmp_path: Path
) -> None:
    storage = router.get(storage_url(1)).mock(return_value=httpx.Response(200, content=b"PDF!"))
    dest = tmp_path / "out.pdf"
    info = await tl.files.download(UID, dest)
    assert dest.read_bytes() == b"PDF!"
    assert info.filename == "report.pdf"
    assert "authorization" not in storage.calls.last.request.headers
    assert file_urls.call_count == 1
    assert files_in(tmp_path) == [dest]


async def test_download_writes_to_a_binary_file_object(
    tl: TimelinesClient, router: respx.MockRouter, file_urls: respx.Route
) -> None:
    router.get(storage_url(1)).mock(return_value=httpx.Response(200, content=b"x" * 200_000))
    buffer = io.BytesIO()
    await tl.files.download(UID, buffer)
    assert buffer.getvalue() == b"x" * 200_000


@pytest.mark.parametrize("expired_status", [403, 404, 410])
async def test_download_asks_for_a_fresh_url_once_when_the_old_one_expired(
    tl: TimelinesClient,
    router: respx.MockRouter,
    file_urls: respx.Route,
    tmp_path: Path,
    expired_status: int,
) -> None:
    old = router.get(storage_url(1)).mock(
        return_value=httpx.Response(expired_status, text="<Error>Request has expired</Error>")
    )
    fresh = router.get(storage_url(2)).mock(return_value=httpx.Response(200, content=b"data"))
    dest = tmp_path / "out.bin"
    await tl.files.download(UID, dest)
    assert dest.read_bytes() == b"data"
    assert (old.call_count, fresh.call_count, file_urls.call_count) == (1, 1, 2)


@pytest.mark.parametrize(
    ("status", "error"), [(403, PermissionDeniedError), (404, NotFoundError), (410, NotFoundError)]
)
async def test_download_gives_up_when_the_fresh_url_fails_too(
    tl: TimelinesClient,
    router: respx.MockRouter,
    file_urls: respx.Route,
    tmp_path: Path,
    status: int,
    error: type[Exception],
) -> None:
    router.get(url__startswith=STORAGE).mock(return_value=httpx.Response(status, text="denied"))
    dest = tmp_path / "out.bin"
    with pytest.raises(error) as caught:
        await tl.files.download(UID, dest)
    assert "signature" not in str(caught.value), "the signed URL is not repeated in errors"
    assert file_urls.call_count == 2, "one fresh URL, not an endless loop"
    assert files_in(tmp_path) == []


async def test_download_does_not_refresh_on_a_storage_server_error(
    tl: TimelinesClient, router: respx.MockRouter, file_urls: respx.Route, tmp_path: Path
) -> None:
    router.get(storage_url(1)).mock(return_value=httpx.Response(500, text="oops"))
    with pytest.raises(ServerError):
        await tl.files.download(UID, tmp_path / "out.bin")
    assert file_urls.call_count == 1


async def test_download_follows_a_storage_redirect(
    tl: TimelinesClient, router: respx.MockRouter, file_urls: respx.Route
) -> None:
    router.get(storage_url(1)).mock(
        return_value=httpx.Response(302, headers={"Location": "https://cdn.test/blob"})
    )
    cdn = router.get("https://cdn.test/blob").mock(return_value=httpx.Response(200, content=b"ok"))
    buffer = io.BytesIO()
    await tl.files.download(UID, buffer)
    assert buffer.getvalue() == b"ok"
    assert "authorization" not in cdn.calls.last.request.headers


async def test_a_failed_download_leaves_no_partial_file(
    tl: TimelinesClient, router: respx.MockRouter, file_urls: respx.Route, tmp_path: Path
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first half"
        raise httpx.ReadError("connection reset")

    router.get(storage_url(1)).mock(return_value=httpx.Response(200, content=broken()))
    dest = tmp_path / "out.bin"
    with pytest.raises(TransportError):
        await tl.files.download(UID, dest)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("dest", [42, "/no/such/folder/out.bin", "."])
async def test_a_bad_destination_is_refused_before_sending(
    tl: TimelinesClient, router: respx.MockRouter, dest: Any
) -> None:
    route = router.route().mock(return_value=ok(file_json()))
    with pytest.raises(InvalidRequestError) as caught:
        await tl.files.download(UID, dest)
    assert caught.value.field == "dest"
    assert not route.called


# --- the same stream serves message sends ------------------------------------------------


async def test_send_file_streams_an_async_iterator_with_its_caption(
    router: respx.MockRouter,
) -> None:
    route = router.post(f"{BASE}/chats/7/file_message").mock(return_value=ok({"message_uid": "m1"}))
    async with TimelinesClient(
        TOKEN, base_url=BASE, requests_per_second=None, send_interval=0
    ) as tl:
        sent = await tl.messages.send_file(
            7, chunks_of(b"%PDF", b"-1.4"), filename="q3.pdf", caption="Q3 report"
        )
    assert sent.message_uid == "m1"
    parts = parse_multipart(route.calls.last.request)
    assert payload(parts["file"]) == b"%PDF-1.4"
    assert payload(parts["caption"]) == b"Q3 report"
    assert payload(parts["filename"]) == b"q3.pdf"


async def test_send_voice_sends_only_the_file_part(router: respx.MockRouter) -> None:
    route = router.post(f"{BASE}/chats/7/voice_message").mock(
        return_value=ok({"message_uid": "m1"})
    )
    async with TimelinesClient(
        TOKEN, base_url=BASE, requests_per_second=None, send_interval=0
    ) as tl:
        await tl.messages.send_voice(7, io.BytesIO(b"OggS"))
    parts = parse_multipart(route.calls.last.request)
    assert list(parts) == ["file"]
    assert payload(parts["file"]) == b"OggS"


# --- secrets stay out of logs and errors -------------------------------------------------


async def test_no_token_in_the_logs_and_no_signed_url_in_ours(
    tl: TimelinesClient,
    router: respx.MockRouter,
    file_urls: respx.Route,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    router.post(f"{BASE}/files_upload").mock(
        side_effect=[
            httpx.Response(429, json={"status": "error", "message": "slow"}),
            ok(file_json()),
        ]
    )
    router.get(storage_url(1)).mock(return_value=httpx.Response(403, text="expired"))
    router.get(storage_url(2)).mock(return_value=httpx.Response(200, content=b"ok"))
    await tl.files.upload(b"abc")
    await tl.files.download(UID, io.BytesIO())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name == "timelines_async")
    assert "fresh one" in ours, "the refresh is logged"
    assert TOKEN not in caplog.text
    # httpx's own INFO line names the URL it fetched; our log lines never do.
    assert "signature=" not in ours
    assert TOKEN not in repr(tl) + repr(tl.files)


# --- end to end against the fake server --------------------------------------------------


async def test_round_trip_through_the_fake_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upload a stream, find it, download it after its first URL expired, delete it."""
    from timelines_async.testing import FakeTimelines

    fake = FakeTimelines(seed=3, chats=1)
    async with fake.client() as tl:
        uploaded = await tl.files.upload(chunks_of(b"hello ", b"world"), filename="greet.txt")
        assert (uploaded.filename, uploaded.size, uploaded.mimetype) == (
            "greet.txt",
            11,
            "text/plain",
        )
        assert [f.uid for f in await tl.files.list(filename="GREET")] == [uploaded.uid]

        get = tl.files.get
        handed_out: list[str | None] = []

        async def get_then_let_it_expire(uid: str) -> FileInfo:
            info = await get(uid)
            handed_out.append(info.temporary_download_url)
            if len(handed_out) == 1:
                fake.advance(16 * 60)  # the URL lives 15 minutes
            return info

        monkeypatch.setattr(tl.files, "get", get_then_let_it_expire)
        dest = tmp_path / "greet.txt"
        await tl.files.download(uploaded.uid, dest)
        assert dest.read_bytes() == b"hello world"
        assert len(handed_out) == 2
        assert handed_out[0] != handed_out[1]

        await tl.files.delete(uploaded.uid)
        with pytest.raises(NotFoundError):
            await tl.files.get(uploaded.uid)


async def test_the_fake_server_refuses_an_oversize_upload_with_413() -> None:
    from timelines_async.testing import FakeTimelines

    fake = FakeTimelines(seed=3, chats=1, max_upload_size=1000)
    async with fake.client() as tl:
        with pytest.raises(PayloadTooLargeError):
            await tl.files.upload(generated(5000, chunk=100), filename="big.bin")
