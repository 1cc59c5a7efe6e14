"""`TimelinesClient`: configuration, defaults, lifecycle and the mounted resources."""

from __future__ import annotations

import asyncio
import logging
import math
import platform

import anyio
import httpx
import pytest
import respx

import timelines_async
from timelines_async import ConfigurationError, ServerError, TimelinesClient
from timelines_async._options import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUESTS_PER_SECOND,
    DEFAULT_SEND_INTERVAL,
)
from timelines_async._retry import DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_DELAY
from timelines_async.resources.chats import Chats
from timelines_async.resources.labels import Labels
from timelines_async.resources.messages import Messages
from timelines_async.testing import FakeTimelines

from ._core_support import BASE, TOKEN, chat_json, error, ok, router

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMELINES_API_TOKEN", raising=False)
    monkeypatch.delenv("TIMELINES_BASE_URL", raising=False)


def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMELINES_API_TOKEN", TOKEN)
    client = TimelinesClient()
    assert client.base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize("token", [None, "", "   "])
def test_no_token_is_a_configuration_error(token: str | None) -> None:
    with pytest.raises(ConfigurationError, match="TIMELINES_API_TOKEN"):
        TimelinesClient(token)


@pytest.mark.parametrize(
    "token",
    ["tla abc", "tla\x00abc", "tla\nabc", "tokén-with-accent", "tla\tabc", 12345, b"tla_bytes"],
    ids=["space", "nul", "newline", "non-ascii", "tab", "int", "bytes"],
)
def test_a_malformed_token_is_a_configuration_error_without_echoing_it(token: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        TimelinesClient(token)  # type: ignore[arg-type]
    assert str(token) not in str(info.value)


async def test_surrounding_whitespace_in_the_token_is_ignored() -> None:
    """Tokens pasted from a file often end with a newline: the header carries the token alone."""
    mock = router()
    route = mock.get("/chats/9").mock(return_value=ok(chat_json(9)))
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as http,
        TimelinesClient(
            f"  {TOKEN}\n", base_url=BASE, http_client=http, requests_per_second=None
        ) as tl,
    ):
        await tl.chats.get(9)
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_base_url_comes_from_the_argument_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert TimelinesClient(TOKEN).base_url == DEFAULT_BASE_URL
    monkeypatch.setenv("TIMELINES_BASE_URL", "https://env.example/api/")
    assert TimelinesClient(TOKEN).base_url == "https://env.example/api"
    assert TimelinesClient(TOKEN, base_url="http://arg.example/x").base_url == (
        "http://arg.example/x"
    )


@pytest.mark.parametrize("base_url", ["app.timelines.ai/api", "ftp://x.example", "/relative"])
def test_base_url_must_be_http(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        TimelinesClient(TOKEN, base_url=base_url)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_concurrency", 0),
        ("max_concurrency", -1),
        ("max_concurrency", 2.5),
        ("max_concurrency", True),
        ("requests_per_second", -1.0),
        ("requests_per_second", math.nan),
        ("requests_per_second", math.inf),
        ("send_interval", -0.5),
        ("send_interval", math.nan),
        ("send_interval", "2"),
        ("max_retries", -1),
        ("max_retries", 1.5),
        ("max_retries", True),
        ("timeout", 0),
        ("timeout", -3.0),
        ("timeout", None),
        ("retry_base_delay", -0.1),
        ("retry_base_delay", 60.0),  # above the default maximum of 30 s
        ("retry_max_delay", math.inf),
        ("retry_max_delay", "1"),
    ],
)
def test_bad_options_are_configuration_errors_naming_the_option(option: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=option):
        TimelinesClient(TOKEN, **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_concurrency", 1),
        ("requests_per_second", None),
        ("requests_per_second", 0),
        ("requests_per_second", 0.5),
        ("send_interval", 0),
        ("send_interval", 0.05),
        ("max_retries", 0),
        ("timeout", 0.5),
        ("retry_base_delay", 0),
        ("retry_max_delay", 0.5),
    ],
)
def test_edge_options_are_accepted(option: str, value: object) -> None:
    TimelinesClient(TOKEN, **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("off", [0, None])
async def test_requests_per_second_zero_or_none_turns_pacing_off(off: float | None) -> None:
    """As on the command line, where `--requests-per-second 0` means off."""
    mock = router()
    mock.get("/chats/1").mock(return_value=ok(chat_json(1)))
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as http,
        TimelinesClient(TOKEN, base_url=BASE, http_client=http, requests_per_second=off) as tl,
    ):
        with anyio.fail_after(1):  # paced at 2 a second, 20 reads would take 10 s
            for _ in range(20):
                await tl.chats.get(1)


async def test_requests_carry_a_user_agent_that_hooks_of_your_own_client_see() -> None:
    mock = router()
    route = mock.get("/chats/1").mock(return_value=ok(chat_json(1)))
    seen: list[str] = []

    async def on_response(response: httpx.Response) -> None:
        seen.append(f"{response.request.method} {response.request.url.path} {response.status_code}")

    async with (
        httpx.AsyncClient(
            transport=httpx.MockTransport(mock.async_handler),
            event_hooks={"response": [on_response]},
        ) as http,
        TimelinesClient(TOKEN, base_url=BASE, http_client=http, requests_per_second=None) as tl,
    ):
        await tl.chats.get(1)
    agent = route.calls.last.request.headers["User-Agent"]
    assert agent == (
        f"timelines-async/{timelines_async.__version__} httpx/{httpx.__version__} "
        f"python/{platform.python_version()}"
    )
    assert seen == ["GET /integrations/api/chats/1 200"]


@pytest.mark.parametrize("level", ["debug", "INFO"])
async def test_timelines_log_prints_the_library_log_to_stderr(
    level: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("timelines_async")
    monkeypatch.setattr(logger, "handlers", [])  # restored after the test
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    monkeypatch.setenv("TIMELINES_LOG", level)
    mock = router()
    mock.get("/chats/1").mock(side_effect=[error(503, "busy"), ok(chat_json(1))])
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as http,
        TimelinesClient(
            TOKEN,
            base_url=BASE,
            http_client=http,
            requests_per_second=None,
            retry_base_delay=0,
            retry_max_delay=0,
        ) as tl,
        TimelinesClient(TOKEN, base_url=BASE, http_client=http),  # a second: still one handler
    ):
        await tl.chats.get(1)
    assert len(logger.handlers) == 1
    err = capfd.readouterr().err
    assert ("retrying GET /chats/1" in err) is (level == "debug")
    assert TOKEN not in err


def test_an_unknown_timelines_log_value_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIMELINES_LOG", "verbose")
    with pytest.raises(ConfigurationError, match="TIMELINES_LOG"):
        TimelinesClient(TOKEN)


async def test_with_options_changes_timeout_and_retries_for_the_copy_only() -> None:
    timeouts: list[float | None] = []
    answers = iter([error(503, "busy"), error(503, "busy"), ok(chat_json(1))])

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        return next(answers)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
        TimelinesClient(
            TOKEN,
            base_url=BASE,
            http_client=http,
            requests_per_second=None,
            timeout=5.0,
            retry_base_delay=0,
            retry_max_delay=0,
        ) as tl,
    ):
        patient = tl.with_options(timeout=120.0, max_retries=0)
        with pytest.raises(ServerError):
            await patient.chats.get(1)  # no retry in the copy
        assert (await tl.chats.get(1)).id == 1  # the original still retries
    assert timeouts == [120.0, 5.0, 5.0]


async def test_with_options_shares_the_concurrency_limit_and_the_pool() -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.01)
        in_flight -= 1
        return ok(chat_json(1))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        tl = TimelinesClient(
            TOKEN, base_url=BASE, http_client=http, requests_per_second=None, max_concurrency=1
        )
        copy = tl.with_options(max_retries=0)
        async with anyio.create_task_group() as tg:
            for client in (tl, copy, tl, copy):
                tg.start_soon(client.chats.get, 1)
        assert peak == 1
        await copy.aclose()  # the copy leaves the pool to its client
        assert (await tl.chats.get(1)).id == 1
        await tl.aclose()
        with pytest.raises(ConfigurationError, match="closed"):
            await copy.chats.get(1)


@pytest.mark.parametrize(
    "options", [{"timeout": 0}, {"timeout": -1.0}, {"max_retries": -1}, {"max_retries": 1.5}]
)
def test_with_options_refuses_what_the_client_refuses(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        TimelinesClient(TOKEN).with_options(**options)  # type: ignore[arg-type]


def test_defaults_match_the_documented_values() -> None:
    """README documents these; a change must be deliberate."""
    assert DEFAULT_MAX_CONCURRENCY == 4
    assert DEFAULT_REQUESTS_PER_SECOND == 2.0
    assert DEFAULT_SEND_INTERVAL == 2.0
    assert DEFAULT_MAX_RETRIES == 5  # a 429 gets the API's whole 1, 2, 4, 8, 16 s schedule
    assert (DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_DELAY) == (0.5, 30.0)
    assert DEFAULT_BASE_URL == "https://app.timelines.ai/integrations/api"


def test_resources_are_mounted_lazily_and_cached() -> None:
    client = TimelinesClient(TOKEN)
    assert "chats" not in vars(client)
    assert isinstance(client.chats, Chats)
    assert client.chats is client.chats
    assert isinstance(client.labels, Labels)
    assert isinstance(client.messages, Messages)
    assert client.messages is client.messages


async def test_requests_go_to_base_url_with_the_token_through_the_given_http_client() -> None:
    mock = router()
    route = mock.get("/chats/9").mock(return_value=ok(chat_json(9)))
    # the caller's client has its own base_url and headers: ours win
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(mock.async_handler),
        base_url="https://elsewhere.example",
        headers={"Authorization": "Bearer someone-else"},
    ) as http:
        async with TimelinesClient(
            TOKEN, base_url=BASE + "/", http_client=http, requests_per_second=None
        ) as tl:
            chat = await tl.chats.get(9)
        assert chat.id == 9
        request = route.calls.last.request
        assert str(request.url) == f"{BASE}/chats/9"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert not http.is_closed  # the caller's client stays open


async def test_a_closed_client_refuses_requests_with_a_clear_error() -> None:
    mock = router()
    route = mock.get("/chats/1").mock(return_value=ok(chat_json(1)))
    async with httpx.AsyncClient(transport=httpx.MockTransport(mock.async_handler)) as http:
        tl = TimelinesClient(TOKEN, base_url=BASE, http_client=http, requests_per_second=None)
        async with tl:
            await tl.chats.get(1)
        with pytest.raises(ConfigurationError, match="closed"):
            await tl.chats.get(1)
    assert route.call_count == 1


def test_under_trio_entering_the_client_names_asyncio() -> None:
    """Reads would work under trio and the first send would fail deep inside: refuse at once."""

    async def main() -> None:
        async with TimelinesClient(TOKEN, base_url=BASE):
            pass

    with pytest.raises(ConfigurationError, match=r"asyncio, not trio"):
        anyio.run(main, backend="trio")


def test_a_client_reused_across_two_asyncio_runs_says_so() -> None:
    """A pool's connections belong to the first loop: not "Event loop is closed"."""
    tl = FakeTimelines(seed=0, chats=2).client()

    async def read() -> None:
        await tl.chats.list().first()

    asyncio.run(read())
    with pytest.raises(ConfigurationError, match=r"closed \(a second asyncio.run\?\)"):
        asyncio.run(read())
    asyncio.run(tl.aclose())  # closing is allowed from anywhere


def test_a_client_used_from_a_second_live_event_loop_says_so() -> None:
    tl = FakeTimelines(seed=0, chats=2).client()

    async def read() -> None:
        await tl.chats.list().first()

    first = asyncio.new_event_loop()
    try:
        first.run_until_complete(read())
        with pytest.raises(ConfigurationError, match="another one"):
            asyncio.run(read())
        first.run_until_complete(tl.aclose())
    finally:
        first.close()


async def test_aclose_can_be_called_twice() -> None:
    tl = TimelinesClient(TOKEN)
    await tl.aclose()
    await tl.aclose()


def test_repr_shows_the_base_url_and_hides_the_token() -> None:
    client = TimelinesClient(TOKEN, base_url=BASE)
    assert BASE in repr(client)
    assert TOKEN not in repr(client)
    assert "hidden" in repr(client)


async def test_a_client_of_its_own_sends_the_user_agent_and_the_query_as_given() -> None:
    """The package's own client has the User-Agent as a default header and gets the
    query string ready-made: both must reach the wire exactly."""
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        route = mock.get("/chats").mock(
            return_value=ok({"has_more_pages": False, "chats": [chat_json(1)]})
        )
        async with TimelinesClient(
            TOKEN, base_url=BASE, transport="httpx", requests_per_second=None
        ) as tl:
            await tl.chats.list(name="Ann & Bo+1 é", phone="+49 30 1234").collect()
    request = route.calls.last.request
    assert request.headers["User-Agent"].startswith(
        f"timelines-async/{timelines_async.__version__} "
    )
    assert request.url.params["name"] == "Ann & Bo+1 é"
    assert request.url.params["phone"] == "+49301234"
    assert request.url.params["page"] == "1"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
