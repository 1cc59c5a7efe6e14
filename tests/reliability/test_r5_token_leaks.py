"""R5: the API token never leaks: not in DEBUG logs, reprs, error texts, causes or CLI output.

A distinctive token is pushed through successes, retries and every error path
(scripted at the transport, and against the fake in-process and over HTTP),
and every text a user could see or log is searched for it.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests._net import free_port
from timelines_async import SendOutcomeUnknown, TimelinesClient, TimelinesError
from timelines_async.cli import main as cli_main
from timelines_async.testing import FakeTimelines, Faults, serve_http

from ._figures import record
from ._profile import FAST_RETRIES, pick

pytestmark = pytest.mark.anyio

TOKEN = "tla_R5-LEAK-CANARY-5f3a9c17e2b8d4"
#: The part of the token that must never show, whatever is done to its prefix.
CANARY = "LEAK-CANARY-5f3a9c17e2b8d4"
OTHER_TOKEN = "tla_R5-OTHER-CANARY-0b9e8d7c6a5f41"
OTHER_CANARY = "OTHER-CANARY-0b9e8d7c6a5f41"
BASE = "https://api.r5.test/integrations/api"

Reply = httpx.Response | type[httpx.RequestError]


def error_texts(error: BaseException) -> Iterator[str]:
    """Every text an error shows: str, repr, args and attributes of it and of each chained cause."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        yield repr(getattr(current, "__dict__", {}))
        stack.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    yield "".join(traceback.format_exception(error))


def assert_clean(texts: Iterator[str] | list[str], *canaries: str) -> None:
    for text in texts:
        for canary in canaries or (CANARY,):
            assert canary not in text, f"the token leaked into: {text[:300]!r}"


def log_texts(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    yield caplog.text
    for entry in caplog.records:
        yield entry.getMessage()
        yield repr(entry.args)
        if entry.exc_info and entry.exc_info[1] is not None:
            yield from error_texts(entry.exc_info[1])


def _json(status: int, payload: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def _ok(data: object) -> httpx.Response:
    return _json(200, {"status": "ok", "data": data})


CHAT = {"id": 1, "name": "Ada", "phone": "+14155551234", "jid": "14155551234@s.whatsapp.net"}
SENT = {"message_uid": "5c7b2a10-0000-4000-8000-000000000001"}
ERR = {"status": "error", "message": "nope", "error_code": "validation_error"}
RETRY_NOW = {"Retry-After": "0"}

#: Each script is the sequence of answers the transport gives (the last one repeats).
SCRIPTS: dict[str, list[Reply]] = {
    "ok": [_ok(CHAT)],
    "429 then ok": [
        _json(429, ERR | {"error_code": "rate_limit_exceeded"}, **RETRY_NOW),
        _ok(CHAT),
    ],
    "503 then ok": [_json(503, ERR | {"error_code": "internal_error"}, **RETRY_NOW), _ok(CHAT)],
    "connect error then ok": [httpx.ConnectError, _ok(CHAT)],
    "connect error always": [httpx.ConnectError],
    "read timeout": [httpx.ReadTimeout],
    "dropped": [httpx.RemoteProtocolError],
    "400": [_json(400, ERR | {"errors": [{"fields": ["text"], "msg": "bad"}]})],
    "401 plain": [httpx.Response(401, text="Unauthorized")],
    "401 json": [_json(401, {"status": "error", "message": "Invalid token", "error_code": "x"})],
    "403": [_json(403, ERR)],
    "404 html": [httpx.Response(404, text="<html>Not found</html>")],
    "409": [_json(409, ERR)],
    "413": [httpx.Response(413, text="Request Entity Too Large")],
    "500": [_json(500, ERR)],
    "502 html": [httpx.Response(502, text="<html>Bad gateway</html>")],
    "200 status error": [_json(200, ERR)],
    "200 html": [httpx.Response(200, text="<html>maintenance</html>")],
    "200 truncated": [httpx.Response(200, content=b'{"status": "ok", "data": {"id"')],
    "200 wrong shape": [_ok(["not", "a", "chat"])],
    "200 empty": [httpx.Response(200)],
}


def scripted(replies: list[Reply]) -> httpx.MockTransport:
    queue = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, type):
            raise reply("[scripted] network failure", request=request)
        return reply

    return httpx.MockTransport(handler)


Call = Callable[[TimelinesClient], Awaitable[Any]]


async def _list_chats(tl: TimelinesClient) -> Any:
    return await tl.chats.list(label="vip").collect()


async def _get_chat(tl: TimelinesClient, *, chat_id: int) -> Any:
    return await tl.chats.get(chat_id)


async def _history(tl: TimelinesClient, *, chat_id: int) -> Any:
    return await tl.messages.list(chat_id).collect(limit=60)


async def _send_to_chat(tl: TimelinesClient, *, chat_id: int) -> Any:
    return await tl.messages.send(chat_id=chat_id, text="order shipped")


CALLS: dict[str, Call] = {
    "chats.get": lambda tl: tl.chats.get(1),
    "chats.list": _list_chats,
    "labels.add (PUT)": lambda tl: tl.labels.add(1, ["vip"]),
    "chats.add_note (POST)": lambda tl: tl.chats.add_note(1, "a note"),
    "messages.send phone": lambda tl: tl.messages.send(phone="+14155551234", text="hi"),
    "messages.send chat": lambda tl: tl.messages.send(chat_id=1, text="hi"),
    "webhooks.create": lambda tl: tl.webhooks.create(
        "message:new", f"https://hooks.example/{OTHER_CANARY}"
    ),
    "quotas.get": lambda tl: tl.quotas.get(),
}


@pytest.mark.parametrize("script", list(SCRIPTS))
async def test_no_token_in_logs_reprs_or_errors(
    script: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every call, on every scripted path: the token is in no log line, repr or error text."""
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    for name, call in CALLS.items():
        async with httpx.AsyncClient(transport=scripted(SCRIPTS[script])) as http:
            tl = TimelinesClient(
                TOKEN, base_url=BASE, http_client=http, requests_per_second=None,
                send_interval=0, max_retries=2, **FAST_RETRIES,
            )  # fmt: skip
            async with tl:
                pager = tl.chats.list()
                seen += [repr(tl), repr(pager), repr(tl.messages.list(1)), str(tl)]
                seen += [repr(getattr(tl, r)) for r in ("chats", "messages", "files", "webhooks")]
                try:
                    result = await call(tl)
                except TimelinesError as error:
                    seen += list(error_texts(error))
                    if isinstance(error, SendOutcomeUnknown):
                        with pytest.raises(TimelinesError) as again:
                            await tl.messages.reconcile(error)
                        seen += list(error_texts(again.value))
                else:
                    seen += [repr(result), str(result)]
        seen.append(name)
    assert_clean(seen)
    assert_clean(list(log_texts(caplog)))
    record(
        "R5 token leaks",
        scripted_paths=1,
        scripted_calls=len(CALLS),
        log_records=len(caplog.records),
    )


async def test_no_token_through_the_fake_under_faults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reads, sends, reconciles and a wrong token against the fake with every fault kind."""
    caplog.set_level(logging.DEBUG)
    faults = Faults(
        seed=5, server_error=0.1, rate_limited=0.1, retry_after=0.0, dropped=0.05,
        lost_answer=0.2, truncated=0.05, status_error=0.05, not_sent=0.05,
    )  # fmt: skip
    fake = FakeTimelines(seed=5, chats=pick(20, 60), token=TOKEN, faults=faults)
    seen: list[str] = [repr(fake)]
    outcomes: set[str] = set()
    async with fake.client(max_retries=3, **FAST_RETRIES) as tl:
        seen.append(repr(tl))
        for chat_id in list(fake.chats)[: pick(10, 40)]:
            calls: list[Call] = [
                functools.partial(_get_chat, chat_id=chat_id),
                functools.partial(_history, chat_id=chat_id),
                functools.partial(_send_to_chat, chat_id=chat_id),
            ]
            for call in calls:
                try:
                    seen.append(repr(await call(tl)))
                    outcomes.add("ok")
                except SendOutcomeUnknown as error:
                    outcomes.add(type(error).__name__)
                    seen += list(error_texts(error))
                    try:
                        seen.append(repr(await tl.messages.reconcile(error)))
                    except TimelinesError as failed:
                        seen += list(error_texts(failed))
                except TimelinesError as error:
                    outcomes.add(type(error).__name__)
                    seen += list(error_texts(error))
    async with fake.client(token=OTHER_TOKEN, max_retries=0) as wrong:
        with pytest.raises(TimelinesError) as refused:
            await wrong.chats.get(next(iter(fake.chats)))
        seen += list(error_texts(refused.value))
    assert "SendOutcomeUnknown" in outcomes, "the faults never made a send's outcome unknown"
    assert_clean(seen, CANARY, OTHER_CANARY)
    assert_clean(list(log_texts(caplog)), CANARY, OTHER_CANARY)


async def test_no_token_in_logs_over_real_http(caplog: pytest.LogCaptureFixture) -> None:
    """Over a real 127.0.0.1 connection: httpx, httpcore and h11 debug logs stay clean too."""
    caplog.set_level(logging.DEBUG)
    fake = FakeTimelines(
        seed=3, chats=10, token=TOKEN,
        faults=Faults(seed=3, rate_limited=0.2, retry_after=0.0, dropped=0.1, lost_answer=0.3),
    )  # fmt: skip
    seen: list[str] = []
    with serve_http(fake) as base_url:
        async with TimelinesClient(
            TOKEN,
            base_url=base_url,
            requests_per_second=None,
            send_interval=0,
            max_retries=4,
            **FAST_RETRIES,
        ) as tl:
            seen.append(repr(tl))
            chats = await tl.chats.list().collect()
            for chat in chats[:5]:
                try:
                    seen.append(repr(await tl.messages.send(chat_id=chat.id, text="hello")))
                except TimelinesError as error:
                    seen += list(error_texts(error))
    assert len(caplog.records) > 0
    assert_clean(seen)
    assert_clean(list(log_texts(caplog)))


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli_main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_no_token_in_cli_output(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`timelines-async` commands, successful and failing, never print the token."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TIMELINES_API_TOKEN", TOKEN)
    monkeypatch.delenv("TIMELINES_BASE_URL", raising=False)
    fake = FakeTimelines(seed=4, chats=8, token=TOKEN)
    broken = FakeTimelines(seed=4, chats=8, token=TOKEN, faults=Faults(server_error=1.0))
    outputs: dict[str, tuple[int, str]] = {}
    fast = ["--requests-per-second", "0", "--max-retries", "0", "--timeout", "5"]
    # An export waits out an API that fails everything; these runs are meant to give up.
    give_up = ["--give-up-after", "0.5"]
    with serve_http(fake) as url, serve_http(broken) as broken_url:
        db = str(tmp_path / "export.sqlite")
        outputs["export"] = _cli(["export", "--out", db, "--base-url", url, *fast], capsys)
        outputs["export again"] = _cli(["export", "--out", db, "--base-url", url, *fast], capsys)
        jsonl = str(tmp_path / "export.jsonl")
        outputs["export jsonl"] = _cli(
            ["export", "--jsonl", jsonl, "--base-url", url, *fast], capsys
        )
        outputs["5xx"] = _cli(
            [
                "export",
                "--out",
                str(tmp_path / "b.sqlite"),
                "--base-url",
                broken_url,
                *fast,
                *give_up,
            ],
            capsys,
        )
        not_ours = tmp_path / "not-ours.sqlite"
        not_ours.write_bytes(b"this is not a database")
        outputs["bad out"] = _cli(
            ["export", "--out", str(not_ours), "--base-url", url, *fast], capsys
        )
        down = f"http://127.0.0.1:{free_port()}/integrations/api"
        outputs["unreachable"] = _cli(
            ["export", "--out", str(tmp_path / "c.sqlite"), "--base-url", down, *fast, *give_up],
            capsys,
        )
        outputs["bad base url"] = _cli(
            ["export", "--out", str(tmp_path / "d.sqlite"), "--base-url", "ftp://x", *fast],
            capsys,
        )
        monkeypatch.setenv("TIMELINES_API_TOKEN", OTHER_TOKEN)
        outputs["401"] = _cli(
            ["export", "--out", str(tmp_path / "e.sqlite"), "--base-url", url, *fast], capsys
        )
        monkeypatch.setenv("TIMELINES_API_TOKEN", f"{TOKEN} with spaces")
        outputs["malformed token"] = _cli(
            ["export", "--out", str(tmp_path / "f.sqlite"), "--base-url", url, *fast], capsys
        )
        monkeypatch.setenv("TIMELINES_API_TOKEN", TOKEN)
        outputs["demo"] = _cli(
            ["demo", "--out", str(tmp_path / "demo.sqlite"), "--chats", "5"], capsys
        )
        outputs["usage error"] = _cli(["export"], capsys)
        recipients = tmp_path / "customers.csv"
        recipients.write_text("phone,name\n+14155550101,Ada\n+14155550102,Grace\n")

        def bulk(journal: str, base_url: str, *extra: str) -> list[str]:
            return [
                "send-bulk", str(recipients), "--text", "Hi {name}", "--send-interval", "0",
                "--settle", "0", "--journal", str(tmp_path / journal), *fast,
                "--base-url", base_url, *extra,
            ]  # fmt: skip

        outputs["send-bulk"] = _cli(bulk("a.journal", url), capsys)
        outputs["send-bulk dry run"] = _cli(bulk("a.journal", url, "--dry-run"), capsys)
        outputs["send-bulk 5xx"] = _cli(bulk("b.journal", broken_url), capsys)
        monkeypatch.setenv("TIMELINES_API_TOKEN", OTHER_TOKEN)
        outputs["send-bulk 401"] = _cli(bulk("c.journal", url), capsys)
        monkeypatch.setenv("TIMELINES_API_TOKEN", TOKEN)
    assert outputs["export"][0] == 0, outputs["export"]
    assert outputs["send-bulk"][0] == 0, outputs["send-bulk"]
    failing_commands = ("401", "unreachable", "5xx", "bad out", "malformed token", "usage error")
    for failing in (*failing_commands, "send-bulk 5xx", "send-bulk 401"):
        assert outputs[failing][0] != 0, (failing, outputs[failing])
    record("R5 token leaks", cli_runs=len(outputs))
    for name, (_, text) in outputs.items():
        assert CANARY not in text, f"{name}: the token leaked: {text!r}"
        assert OTHER_CANARY not in text, f"{name}: the token leaked: {text!r}"
    assert_clean(list(log_texts(caplog)), CANARY, OTHER_CANARY)


# -- other credentials: signed download URLs and the webhook secret --------------------------

WEBHOOK_SECRET = "R5-HOOK-CANARY-7d1e0c9b8a"


async def test_no_signed_url_or_token_in_logs_of_a_download_and_an_upload_from_url(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Over real HTTP with every logger at DEBUG: a download and an upload from a URL."""
    caplog.set_level(logging.DEBUG)
    fake = FakeTimelines(seed=3, chats=2, token=TOKEN)
    queries: list[str] = []
    with serve_http(fake) as base_url:
        async with TimelinesClient(TOKEN, base_url=base_url, requests_per_second=None) as tl:
            uploaded = await tl.files.upload(b"%PDF-1.4 r5", filename="r5.pdf")
            info = await tl.files.get(uploaded.uid)
            assert info.temporary_download_url is not None
            queries.append(info.temporary_download_url.split("?", 1)[1])
            await tl.files.download(uploaded.uid, tmp_path / "r5.pdf")
            source = f"{info.temporary_download_url}&copy=1"
            copied = await tl.files.upload_from_url(source, filename="copy.pdf")
            seen = [repr(info), repr(copied)]
    assert_clean(seen, CANARY, *queries)
    assert_clean(list(log_texts(caplog)), CANARY, *queries)
    assert any("?<signed>" in r.getMessage() for r in caplog.records)  # logged, redacted
    record("R5 token leaks", records_checked_for_signed_urls=len(caplog.records))


async def test_no_webhook_secret_in_access_logs_under_uvicorn_and_aiohttp(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver served by uvicorn and by aiohttp, access logs on, the filter installed."""
    import uvicorn
    from aiohttp import web

    from timelines_async.receiver import RedactSecretFilter, WebhookReceiver

    caplog.set_level(logging.DEBUG)
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    mask = RedactSecretFilter(WEBHOOK_SECRET)
    access = [logging.getLogger("uvicorn.access"), logging.getLogger("aiohttp.access")]
    for logger in access:
        logger.addFilter(mask)
        # uvicorn's own logging set-up (run earlier in this process) stops propagation.
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "disabled", False)
    levels = [logger.level for logger in access]
    for logger in access:
        logger.setLevel(logging.DEBUG)
    body = {"event_type": "message:new", "message": {"message_uid": "r5", "text": "hi"}}
    uvicorn_port, aiohttp_port = free_port(), free_port()
    config = uvicorn.Config(receiver, port=uvicorn_port, log_config=None, access_log=True)
    server = uvicorn.Server(config)
    app = web.Application()
    app.router.add_route("*", "/hooks/{secret}", receiver.aiohttp_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve)
            await web.TCPSite(runner, "127.0.0.1", aiohttp_port).start()
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
                await anyio.sleep(0.01)
            urls = [
                f"http://127.0.0.1:{uvicorn_port}/{WEBHOOK_SECRET}",
                f"http://127.0.0.1:{aiohttp_port}/hooks/{WEBHOOK_SECRET}",
            ]
            async with httpx.AsyncClient() as http:
                for url in urls:
                    statuses = [(await http.post(url, json=body)).status_code for _ in range(2)]
                    statuses.append((await http.get(url)).status_code)
                    assert statuses == [200, 200, 405]
            server.should_exit = True
    finally:
        await runner.cleanup()
        await receiver.drain()
        for logger, level in zip(access, levels, strict=True):
            logger.removeFilter(mask)
            logger.setLevel(level)
    # The sender (this test's httpx client) knows the secret; the servers' logs must not.
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert {r.name for r in server_side} >= {"uvicorn.access", "aiohttp.access"}
    for entry in server_side:
        assert WEBHOOK_SECRET not in entry.getMessage()
        assert WEBHOOK_SECRET not in repr(entry.args)
    record("R5 token leaks", records_checked_for_webhook_secret=len(server_side))
