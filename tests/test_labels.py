"""`tl.labels`: list, add (PUT, keeps existing) and replace (POST, sets the list)."""

from __future__ import annotations

import json

import httpx
import pytest

from timelines_async import NotFoundError, UnexpectedResponseError

from ._core_support import error, make_core, ok, resources, router

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "labels",
    [["vip", "enterprise"], [{"name": "vip"}, {"name": "enterprise"}]],
    ids=["strings", "name-objects"],
)
async def test_list_returns_label_names(labels: list[object]) -> None:
    mock = router()
    mock.get("/chats/5/labels").mock(return_value=ok({"labels": labels}))
    _, lbls, _ = resources(make_core(mock))
    assert await lbls.list(5) == ["vip", "enterprise"]


@pytest.mark.parametrize(
    ("given", "sent"),
    [("vip", ["vip"]), (["vip", "paid"], ["vip", "paid"]), (("a",), ["a"])],
)
async def test_add_puts_the_labels_and_returns_the_chats_labels(
    given: str | list[str] | tuple[str, ...], sent: list[str]
) -> None:
    mock = router()
    route = mock.put("/chats/5/labels").mock(return_value=ok({"labels": ["old", *sent]}))
    _, lbls, _ = resources(make_core(mock))
    assert await lbls.add(5, given) == ["old", *sent]
    assert json.loads(route.calls.last.request.content) == {"labels": sent}


@pytest.mark.parametrize("labels", [["only"], []], ids=["one", "clear-all"])
async def test_replace_posts_the_whole_list(labels: list[str]) -> None:
    mock = router()
    route = mock.post("/chats/5/labels").mock(return_value=ok({"labels": labels}))
    _, lbls, _ = resources(make_core(mock))
    assert await lbls.replace(5, labels) == labels
    assert json.loads(route.calls.last.request.content) == {"labels": labels}


@pytest.mark.parametrize("method", ["add", "replace"])
async def test_label_writes_are_idempotent_and_retried(method: str) -> None:
    """Setting or adding the same labels twice leaves the same state: safe to retry."""
    mock = router()
    http_method = "PUT" if method == "add" else "POST"
    route = mock.route(method=http_method, path="/chats/5/labels").mock(
        side_effect=[httpx.ReadTimeout("slow"), error(503, "busy"), ok({"labels": ["vip"]})]
    )
    _, lbls, _ = resources(make_core(mock, max_retries=3))
    assert await getattr(lbls, method)(5, ["vip"]) == ["vip"]
    assert route.call_count == 3


@pytest.mark.parametrize("data", [{}, {"labels": None}, ["vip"], {"labels": "vip"}])
async def test_an_answer_without_a_labels_list_is_unexpected(data: object) -> None:
    mock = router()
    mock.get("/chats/5/labels").mock(return_value=ok(data))
    _, lbls, _ = resources(make_core(mock))
    with pytest.raises(UnexpectedResponseError):
        await lbls.list(5)


async def test_labels_of_a_missing_chat_is_not_found() -> None:
    mock = router()
    mock.get("/chats/5/labels").mock(return_value=error(404, "chat not found"))
    _, lbls, _ = resources(make_core(mock))
    with pytest.raises(NotFoundError):
        await lbls.list(5)
