"""R4: whatever the server answers, only `TimelinesError`s come out of the client.

Real answers are recorded from the fake (every read endpoint, and the writes'
answers too), then mutated: fields dropped, nulled, retyped, padded with extra
fields, envelopes broken, bodies cut, replaced with HTML, binary, huge or
absurdly nested JSON, statuses and headers varied. Each mutated answer is
served through `httpx.MockTransport` to every public method; anything other
than a `TimelinesError` escaping (KeyError, TypeError, AttributeError,
ValueError, RecursionError, an httpx error, ...) is a defect.
"""

from __future__ import annotations

import json
import random
import re
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
from hypothesis import given
from hypothesis import strategies as st

from timelines_async import (
    SendAttempt,
    SendOutcomeUnknown,
    Target,
    TimelinesClient,
    TimelinesError,
)
from timelines_async.testing import FakeTimelines
from timelines_async.testing._app import FAKE_ORIGIN

from .._wire import AnsweringServer, Reply
from ._figures import record
from ._profile import FAST_RETRIES, fuzz_settings

BASE = "https://api.r4.test/integrations/api"
_ID = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f-]{27,}|[A-Za-z0-9_-]{20,})(?=/|$)")

Call = Callable[[TimelinesClient, Path], Awaitable[object]]


def pattern(path: str) -> str:
    """`/chats/1000001/messages` -> `/chats/{}/messages` (ids and uids folded)."""
    return _ID.sub("/{}", path)


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: dict[str, list[bytes]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if response.status_code < 300 and body:
            key = f"{request.method} {pattern(request.url.path)}"
            self.bodies.setdefault(key, []).append(body)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


async def _record() -> dict[str, list[Any]]:
    """Real answers of the fake to every endpoint the client uses."""
    from timelines_async.testing import FakeTransport

    fake = FakeTimelines(seed=11, chats=60)
    recorder = Recorder(FakeTransport(fake))
    async with (
        httpx.AsyncClient(transport=recorder) as http,
        fake.client(http_client=http, **FAST_RETRIES) as tl,
    ):
        chats = await tl.chats.list().collect()
        chat = next(c for c in chats if c.last_message_uid)
        await tl.chats.get(chat.id)
        await tl.labels.list(chat.id)
        await tl.labels.add(chat.id, ["r4"])
        await tl.labels.replace(chat.id, ["r4", "vip"])
        history = await tl.messages.list(chat.id).collect()
        uid = history[0].uid
        await tl.messages.get(uid)
        await tl.messages.status_history(uid)
        await tl.reactions.get(uid)
        await tl.reactions.set(uid, "👍")
        sent = await tl.messages.send(chat_id=chat.id, text="r4")
        await tl.messages.status_history(sent.message_uid)
        await tl.chats.update(chat.id, read=True)
        await tl.chats.add_note(chat.id, "r4 note")
        info = await tl.files.upload(b"r4 bytes", filename="r4.txt")
        await tl.files.list()
        await tl.files.get(info.uid)
        await tl.whatsapp_accounts.list()
        await tl.teammates.list()
        await tl.teammates.me()
        await tl.quotas.get()
        hook = await tl.webhooks.create("message:new", "https://hooks.example/r4")
        await tl.webhooks.list()
        await tl.webhooks.get(hook.id)
        await tl.webhooks.update(hook.id, enabled=False)
    return {key: [json.loads(b) for b in bodies[:3]] for key, bodies in recorder.bodies.items()}


_TEMPLATES: dict[str, list[Any]] = {}


def templates() -> dict[str, list[Any]]:
    if not _TEMPLATES:
        _TEMPLATES.update(anyio.run(_record, backend="asyncio"))
    return _TEMPLATES


# -- mutations ------------------------------------------------------------------------------

_ODD_SCALARS: list[Any] = [
    None, True, False, 0, -1, 1.5, 10**30, -(10**30), 1e308, "", "x", "null", "true",
    "2024-13-45 99:99:99 +0000", "not a date", "9" * 5000, "\u0000", "😀", [], {}, [None],
    {"": None},
]  # fmt: skip


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return [odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3 and roll < 0.3:
        return {rng.choice(["id", "uid", "data", "x"]): odd_value(rng, depth + 1)}
    return rng.choice(_ODD_SCALARS)


def mutate(value: Any, rng: random.Random, rate: float, depth: int = 0) -> Any:
    """A copy of `value` with each node, at probability `rate`, dropped, nulled or retyped."""
    if rng.random() < rate:
        return odd_value(rng)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if rng.random() < rate:
                continue  # field missing
            out[key] = mutate(item, rng, rate, depth + 1)
        if rng.random() < rate:
            out[rng.choice(["extra", "id", "data", "has_more_pages", "status"])] = odd_value(rng)
        return out
    if isinstance(value, list):
        items = [mutate(item, rng, rate, depth + 1) for item in value]
        if items and rng.random() < rate:
            items = items + items[: rng.randint(1, len(items))]  # repeated items
        return items
    if isinstance(value, str) and rng.random() < rate:
        return rng.choice([value * 50, value[: len(value) // 2], value.upper(), 12345])
    if isinstance(value, int) and not isinstance(value, bool) and rng.random() < rate:
        return rng.choice([str(value), -value, value * 10**20, float(value)])
    return value


def envelope_variant(body: Any, rng: random.Random) -> Any:
    roll = rng.random()
    if not isinstance(body, dict) or roll < 0.6:
        return body
    data = body.get("data")
    return rng.choice(
        [
            data,  # no envelope
            {"status": "OK", "data": data},
            {"status": "error", "data": data},
            {"status": "ok", "data": {"data": data}},
            {"status": "ok"},
            {"data": data},
            [body],
            {"status": "error", "message": data, "error_code": data, "errors": data},
        ]
    )


@st.composite
def replies(draw: st.DrawFn) -> dict[str, Any]:
    """One answer: how to build its body, its status and headers."""
    kind = draw(
        st.sampled_from(
            ["mutated"] * 6 + ["json", "binary", "html", "truncated", "huge", "nested", "empty"]
        )
    )
    status = draw(
        st.one_of(
            st.just(200),
            st.just(200),
            st.sampled_from([201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 409, 413, 422]),
            st.sampled_from([429, 500, 502, 503, 504, 520, 599, 299, 499]),
        )
    )
    headers = draw(
        st.dictionaries(
            st.sampled_from(["retry-after", "content-type", "content-encoding", "x-extra"]),
            st.sampled_from(
                [
                    "0",
                    "-1",
                    "1e9",
                    "nan",
                    "soon",
                    "Wed, 21 Oct 2015 07:28:00 GMT",
                    "text/html",
                    "application/json; charset=latin-1",
                    "gzip",
                    "br",
                    "identity",
                    "\u00e9",
                ]
            ),
            max_size=2,
        )
    )
    return {
        "kind": kind,
        "status": status,
        "headers": headers,
        "seed": draw(st.integers(0, 2**32)),
        "rate": draw(st.sampled_from([0.02, 0.1, 0.3, 0.7])),
        "json": draw(
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3)
                ),
                max_leaves=12,
            )
        ),
        "binary": draw(st.binary(max_size=64)),
    }


def body_for(reply: dict[str, Any], key: str) -> bytes:
    rng = random.Random(reply["seed"])
    candidates = templates().get(key) or [{"status": "ok", "data": None}]
    template = rng.choice(candidates)
    kind = reply["kind"]
    if kind == "mutated":
        mutated = envelope_variant(mutate(template, rng, reply["rate"]), rng)
        return json.dumps(mutated).encode()
    if kind == "json":
        return json.dumps(reply["json"]).encode()
    if kind == "binary":
        return bytes(reply["binary"])
    if kind == "html":
        return b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    if kind == "truncated":
        whole = json.dumps(template).encode()
        return whole[: rng.randint(0, max(len(whole) - 1, 0))]
    if kind == "huge":
        return json.dumps(
            {"status": "ok", "data": {"x": "y" * 1_000_000, "items": [0] * 1000}}
        ).encode()
    if kind == "nested":
        depth = rng.choice([1_000, 50_000, 200_000])
        return b'{"status": "ok", "data": ' + b"[" * depth + b"]" * depth + b"}"
    return b""


def fuzzing_answers(answers: list[dict[str, Any]]) -> Callable[[str, str], Reply]:
    """Each request gets the next of `answers` (round robin), built for its endpoint."""
    count = 0

    def answer(method: str, path: str) -> Reply:
        nonlocal count
        reply = answers[count % len(answers)]
        count += 1
        body = body_for(reply, f"{method} {pattern(path.partition('?')[0])}")
        # Raw bytes, as a server sends them (httpx reads header values as latin-1).
        headers = [(k.encode(), v.encode("utf-8")) for k, v in reply["headers"].items()]
        return reply["status"], headers, body

    return answer


@asynccontextmanager
async def answering_client(answers: list[dict[str, Any]], wire: str) -> AsyncIterator[Any]:
    """A client whose requests get `answers`: in-process, or from a server on 127.0.0.1."""
    options: dict[str, Any] = {
        "requests_per_second": None, "send_interval": 0, "max_retries": 0, "timeout": 5,
    }  # fmt: skip
    answer = fuzzing_answers(answers)
    if wire == "in-process":

        def handler(request: httpx.Request) -> httpx.Response:
            status, headers, body = answer(request.method, request.url.path)
            return httpx.Response(status, headers=headers, content=body)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            yield TimelinesClient("r4-token", base_url=BASE, http_client=http, **options)
        return

    def local(method: str, path: str) -> Reply:
        """Download URLs point back at this server: nothing leaves 127.0.0.1."""
        status, headers, body = answer(method, path)
        return status, headers, body.replace(FAKE_ORIGIN.encode(), server.origin.encode())

    async with AnsweringServer(local) as server:
        yield TimelinesClient(
            "r4-token", base_url=server.base_url, **(options | {"transport": wire})
        )


# -- every method ---------------------------------------------------------------------------

UID = "5c7b2a10-0000-4000-8000-000000000001"


async def _download(tl: TimelinesClient, tmp: Path) -> object:
    return await tl.files.download(UID, tmp / "download.bin")


async def _reconcile(tl: TimelinesClient, tmp: Path) -> object:
    attempt = SendAttempt(
        target=Target.phone("+14155551234"), text="r4", attempted_at=datetime.now(UTC)
    )
    return await tl.messages.reconcile(SendOutcomeUnknown(attempt=attempt, reason="r4"))


async def _reconcile_chat(tl: TimelinesClient, tmp: Path) -> object:
    attempt = SendAttempt(target=Target.chat_id(7), text="r4", attempted_at=datetime.now(UTC))
    return await tl.messages.reconcile(attempt)


async def _list_many(tl: TimelinesClient, tmp: Path) -> object:
    return [m async for m in tl.messages.list_many([7, 8, 9])]


async def _pages(tl: TimelinesClient, tmp: Path) -> object:
    return [page async for page in tl.chats.list(label="vip").pages()]


CALLS: dict[str, Call] = {
    "chats.list": lambda tl, _: tl.chats.list().collect(limit=200),
    "chats.list pages": _pages,
    "chats.get": lambda tl, _: tl.chats.get(7),
    "labels.list": lambda tl, _: tl.labels.list(7),
    "messages.list": lambda tl, _: tl.messages.list(7).collect(limit=200),
    "messages.list asc": lambda tl, _: tl.messages.list(7, order="asc").collect(limit=200),
    "messages.list_many": _list_many,
    "messages.get": lambda tl, _: tl.messages.get(UID),
    "messages.status_history": lambda tl, _: tl.messages.status_history(UID),
    "messages.reconcile phone": _reconcile,
    "messages.reconcile chat": _reconcile_chat,
    "reactions.get": lambda tl, _: tl.reactions.get(UID),
    "files.list": lambda tl, _: tl.files.list(),
    "files.get": lambda tl, _: tl.files.get(UID),
    "files.download": _download,
    "whatsapp_accounts.list": lambda tl, _: tl.whatsapp_accounts.list(),
    "teammates.list": lambda tl, _: tl.teammates.list(),
    "teammates.teams": lambda tl, _: tl.teammates.teams(),
    "teammates.me": lambda tl, _: tl.teammates.me(),
    "quotas.get": lambda tl, _: tl.quotas.get(),
    "webhooks.list": lambda tl, _: tl.webhooks.list(),
    "webhooks.get": lambda tl, _: tl.webhooks.get(789001),
    # Writes: their answers must not crash the client either.
    "messages.send": lambda tl, _: tl.messages.send(chat_id=7, text="r4"),
    "messages.send phone": lambda tl, _: tl.messages.send(phone="+14155551234", text="r4"),
    "chats.update": lambda tl, _: tl.chats.update(7, read=True),
    "chats.add_note": lambda tl, _: tl.chats.add_note(7, "note"),
    "labels.add": lambda tl, _: tl.labels.add(7, ["vip"]),
    "labels.replace": lambda tl, _: tl.labels.replace(7, ["vip"]),
    "reactions.set": lambda tl, _: tl.reactions.set(UID, "👍"),
    "files.upload": lambda tl, _: tl.files.upload(b"bytes", filename="a.txt"),
    "webhooks.create": lambda tl, _: tl.webhooks.create("message:new", "https://h.example/x"),
    "webhooks.update": lambda tl, _: tl.webhooks.update(789001, enabled=False),
    "webhooks.delete": lambda tl, _: tl.webhooks.delete(789001),
}


class Findings:
    def __init__(self) -> None:
        self.found: dict[tuple[str, str], str] = {}

    def add(self, where: str, kind: str, example: str) -> None:
        self.found.setdefault((where, kind), example[:400])

    def check(self) -> None:
        report = "\n".join(
            f"- {where}: {kind}: {example}" for (where, kind), example in sorted(self.found.items())
        )
        assert not self.found, f"{len(self.found)} defects:\n{report}"


def test_every_method_survives_any_answer(tmp_path: Path, wire: str) -> None:
    templates()
    findings = Findings()
    counts = {"examples": 0, "typed errors": 0, "results": 0}

    # Over a real socket the transport is what is new: fewer examples keep CI short.
    @fuzz_settings(short=300 if wire == "in-process" else 100, full=8000)
    @given(
        name=st.sampled_from(sorted(CALLS)),
        answers=st.lists(replies(), min_size=1, max_size=4),
    )
    def example(name: str, answers: list[dict[str, Any]]) -> None:
        counts["examples"] += 1

        async def main() -> None:
            async with answering_client(answers, wire) as tl, tl:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")
                        await CALLS[name](tl, tmp_path)
                    counts["results"] += 1
                except TimelinesError:
                    counts["typed errors"] += 1
                except BaseException as error:
                    shown = [(a["kind"], a["status"], a["headers"]) for a in answers]
                    findings.add(name, type(error).__name__, f"{shown} -> {error!r:.200}")

        anyio.run(main, backend="asyncio")

    example()
    record("R4 answer fuzzing", methods=len(CALLS), **counts)
    findings.check()
    # The answers were varied enough to reach both outcomes.
    assert counts["results"] > 0
    assert counts["typed errors"] > 0
