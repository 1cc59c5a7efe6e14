"""`tl.webhooks`: subscription CRUD; create is retried like a read; bad input never leaves."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from tests.conftest import API_BASE
from timelines_async import (
    InvalidRequestError,
    NotFoundError,
    TimelinesClient,
    Webhook,
    WebhookEventType,
)

pytestmark = pytest.mark.anyio

BASE = API_BASE
HOOK: dict[str, Any] = {
    "id": 789456,
    "event_type": "message:sent:new",
    "enabled": True,
    "url": "https://hooks.acme.com/tl?secret=s3cr3t",
    "errors_counter": 0,
}


def ok(data: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "data": data})


def sent_json(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


async def test_list_returns_the_subscriptions(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/webhooks").mock(
        return_value=ok([HOOK, {**HOOK, "id": 2, "event_type": "waba:chat:closed"}])
    )
    hooks = await tl.webhooks.list()
    assert hooks[0] == Webhook(
        id=789456,
        event_type=WebhookEventType.MESSAGE_SENT_NEW,
        url=HOOK["url"],
        enabled=True,
        errors_counter=0,
    )
    assert hooks[1].event_type == "waba:chat:closed", "an event type we do not model stays text"


@pytest.mark.parametrize(
    ("event_type", "enabled", "sent_type"),
    [
        (WebhookEventType.MESSAGE_RECEIVED_NEW, True, "message:received:new"),
        ("chat:responsible:assigned", False, "chat:responsible:assigned"),
        ("waba:message:failed", True, "waba:message:failed"),
    ],
)
async def test_create_posts_event_type_url_and_enabled(
    tl: TimelinesClient,
    router: respx.MockRouter,
    event_type: Any,
    enabled: bool,
    sent_type: str,
) -> None:
    route = router.post(f"{BASE}/webhooks").mock(return_value=ok(HOOK))
    hook = await tl.webhooks.create(event_type, "https://hooks.acme.com/tl", enabled=enabled)
    assert hook.id == 789456
    assert sent_json(route) == {
        "event_type": sent_type,
        "url": "https://hooks.acme.com/tl",
        "enabled": enabled,
    }


@pytest.mark.parametrize("failure", [503, 502, "connection-reset"])
async def test_create_is_retried_like_a_read(
    tl: TimelinesClient, router: respx.MockRouter, failure: int | str
) -> None:
    first: Exception | httpx.Response = (
        httpx.ReadError("reset")
        if failure == "connection-reset"
        else httpx.Response(int(failure), json={"status": "error", "message": "busy"})
    )
    route = router.post(f"{BASE}/webhooks").mock(side_effect=[first, ok(HOOK)])
    hook = await tl.webhooks.create("message:new", "https://hooks.acme.com/tl")
    assert hook.id == 789456
    assert route.call_count == 2


async def test_get_reads_one_subscription(tl: TimelinesClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/webhooks/789456").mock(return_value=ok(HOOK))
    assert (await tl.webhooks.get(789456)).url == HOOK["url"]


async def test_get_of_an_unknown_id_is_not_found(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/webhooks/1").mock(
        return_value=httpx.Response(404, json={"status": "error", "message": "not found"})
    )
    with pytest.raises(NotFoundError):
        await tl.webhooks.get(1)


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"enabled": False}, {"enabled": False}),
        ({"url": "http://example.com/hook"}, {"url": "http://example.com/hook"}),
        ({"event_type": WebhookEventType.CHAT_NEW}, {"event_type": "chat:new"}),
        (
            {"event_type": "message:new", "url": "https://a.example/h", "enabled": True},
            {"event_type": "message:new", "url": "https://a.example/h", "enabled": True},
        ),
    ],
)
async def test_update_puts_only_what_is_passed(
    tl: TimelinesClient, router: respx.MockRouter, kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    route = router.put(f"{BASE}/webhooks/789456").mock(return_value=ok(HOOK))
    await tl.webhooks.update(789456, **kwargs)
    assert sent_json(route) == body


async def test_delete_accepts_an_empty_answer(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    route = router.delete(f"{BASE}/webhooks/789456").mock(return_value=httpx.Response(200))
    await tl.webhooks.delete("789456")
    assert route.call_count == 1


BAD_URLS = [
    "ftp://hooks.acme.com/tl",
    "hooks.acme.com/tl",
    "https://",
    "https://hooks acme.com/tl",
    "https://user+x:pw@hooks.acme.com/tl",
    "https://hooks.acme.com/" + "a" * 4096,
    "",
]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        *[
            pytest.param(
                lambda tl, u=url: tl.webhooks.create("message:new", u), "url", id=f"create-url-{i}"
            )
            for i, url in enumerate(BAD_URLS)
        ],
        *[
            pytest.param(
                lambda tl, u=url: tl.webhooks.update(1, url=u), "url", id=f"update-url-{i}"
            )
            for i, url in enumerate(BAD_URLS)
        ],
        pytest.param(
            lambda tl: tl.webhooks.create("message:created", "https://a.b/c"),
            "event_type",
            id="unknown-event",
        ),
        pytest.param(
            lambda tl: tl.webhooks.create("MESSAGE:NEW", "https://a.b/c"),
            "event_type",
            id="wrong-case",
        ),
        pytest.param(
            lambda tl: tl.webhooks.create("chat:created", "https://a.b/c"),
            "event_type",
            id="legacy-name",
        ),
        pytest.param(
            lambda tl: tl.webhooks.create(None, "https://a.b/c"), "event_type", id="no-event"
        ),
        pytest.param(
            lambda tl: tl.webhooks.update(1, event_type="nope"), "event_type", id="update-event"
        ),
        pytest.param(
            lambda tl: tl.webhooks.create("message:new", "https://a.b/c", enabled="yes"),
            "enabled",
            id="enabled-not-bool",
        ),
        pytest.param(lambda tl: tl.webhooks.update(1), "update", id="update-nothing"),
        pytest.param(lambda tl: tl.webhooks.get(0), "webhook_id", id="get-zero"),
        pytest.param(lambda tl: tl.webhooks.get("abc"), "webhook_id", id="get-text"),
        pytest.param(lambda tl: tl.webhooks.delete(True), "webhook_id", id="delete-bool"),
        pytest.param(
            lambda tl: tl.webhooks.update(-5, enabled=True), "webhook_id", id="update-negative"
        ),
    ],
)
async def test_bad_input_is_refused_before_sending(
    tl: TimelinesClient, router: respx.MockRouter, call: Any, field: str
) -> None:
    route = router.route().mock(return_value=ok(HOOK))
    with pytest.raises(InvalidRequestError) as caught:
        await call(tl)
    assert caught.value.field == field
    assert not route.called


async def test_a_refused_url_is_not_repeated_in_the_error(tl: TimelinesClient) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await tl.webhooks.create("message:new", "ftp://hooks.acme.com/tl?token=s3cr3t")
    assert "s3cr3t" not in str(caught.value)


async def test_a_url_of_exactly_4096_characters_is_accepted(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    url = "https://hooks.acme.com/"
    url += "a" * (4096 - len(url))
    route = router.post(f"{BASE}/webhooks").mock(return_value=ok(HOOK))
    await tl.webhooks.create("message:new", url)
    assert sent_json(route)["url"] == url


async def test_subscription_life_cycle_against_the_fake_server() -> None:
    """Create twice (one subscription), pause, delete, and restore by creating again."""
    from timelines_async.testing import FakeTimelines

    fake = FakeTimelines(seed=5, chats=1)
    async with fake.client() as tl:
        url = "https://hooks.acme.com/tl?secret=s3cr3t"
        first = await tl.webhooks.create(WebhookEventType.MESSAGE_RECEIVED_NEW, url)
        again = await tl.webhooks.create("message:received:new", url)
        assert again.id == first.id
        assert [h.id for h in await tl.webhooks.list()] == [first.id]

        paused = await tl.webhooks.update(first.id, enabled=False)
        assert (paused.enabled, paused.url) == (False, url)
        assert (await tl.webhooks.get(first.id)).enabled is False

        await tl.webhooks.delete(first.id)
        assert await tl.webhooks.list() == []
        restored = await tl.webhooks.create("message:received:new", url)
        assert (restored.id, restored.enabled) == (first.id, True)


# -- ensure --------------------------------------------------------------------------------

ENSURED_URL = "https://hooks.acme.com/timelines/webhook/s3cr3t"
ENSURED_TYPES = ["message:received:new", WebhookEventType.CHAT_NEW, "waba:message:read"]


async def test_ensure_twice_and_concurrently_leaves_one_subscription_per_type() -> None:
    import anyio

    from timelines_async.testing import FakeTimelines

    fake = FakeTimelines(seed=5, chats=1, latency=0.002)  # the two tasks interleave
    async with fake.client() as tl:
        results: list[list[Webhook]] = []

        async def ensure() -> None:
            results.append(await tl.webhooks.ensure(ENSURED_URL, ENSURED_TYPES))

        async with anyio.create_task_group() as group:
            group.start_soon(ensure)
            group.start_soon(ensure)
        await ensure()
        subscriptions = await tl.webhooks.list()

    expected = ["message:received:new", "chat:new", "waba:message:read"]
    assert sorted(str(w.event_type) for w in subscriptions) == sorted(expected)
    assert {(w.url, w.enabled) for w in subscriptions} == {(ENSURED_URL, True)}
    for result in results:
        assert [str(w.event_type) for w in result] == expected
        assert [w.id for w in result] == [w.id for w in results[0]]


async def test_ensure_enables_a_disabled_one_and_leaves_the_rest_alone(
    tl: TimelinesClient, router: respx.MockRouter
) -> None:
    enabled = {**HOOK, "id": 1, "event_type": "chat:new", "url": ENSURED_URL}
    disabled = {**enabled, "id": 2, "event_type": "message:received:new", "enabled": False}
    other = {**HOOK, "id": 3, "enabled": False}
    router.get(f"{BASE}/webhooks").mock(return_value=ok([enabled, disabled, other]))
    put = router.put(f"{BASE}/webhooks/2").mock(return_value=ok({**disabled, "enabled": True}))
    post = router.post(f"{BASE}/webhooks").mock(
        return_value=ok({**enabled, "id": 4, "event_type": "waba:message:read"})
    )

    result = await tl.webhooks.ensure(ENSURED_URL, ENSURED_TYPES)

    assert [(w.id, w.enabled) for w in result] == [(2, True), (1, True), (4, True)]
    assert sent_json(put) == {"enabled": True}
    assert post.call_count == 1
    assert sent_json(post) == {
        "event_type": "waba:message:read",
        "url": ENSURED_URL,
        "enabled": True,
    }


@pytest.mark.parametrize(
    ("url", "event_types", "match"),
    [
        (ENSURED_URL, [], "at least one"),
        (ENSURED_URL, "chat:new", "not one string"),
        (ENSURED_URL, ["chat:nope"], "event type"),
        ("ftp://x", ["chat:new"], "url"),
    ],
)
async def test_ensure_refuses_bad_input_before_any_request(
    tl: TimelinesClient, url: str, event_types: Any, match: str
) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        await tl.webhooks.ensure(url, event_types)
