"""The fake's answers and webhook payloads are valid against the production specs.

Every core operation is called once in raw HTTP (some also with an error
answer), and each answer whose status the operation documents is validated
with openapi-core against public_api_spec.yaml. Webhook payloads are
validated against webhook_spec.yaml's schemas. Both specs are read where they
live; the tests skip, saying where they looked, when they are absent.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import Headers

from tests._openapi import SERVER_URL, HttpxOpenAPIRequest, load_openapi, spec_dir
from timelines_async.testing import FakeTimelines, FakeTransport

pytestmark = pytest.mark.anyio

WEBHOOK_SPEC = "webhook_spec.yaml"


class HttpxOpenAPIResponse:
    """openapi-core's response protocol over an `httpx.Response` that has been read."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").lower()
        self.headers = Headers(list(response.headers.multi_items()))
        self.data = response.content or None


class Recorder(httpx.AsyncBaseTransport):
    """The fake's in-process transport, keeping every request and its answer."""

    def __init__(self, fake: FakeTimelines) -> None:
        self.inner = FakeTransport(fake)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((request, response))
        return response


def operation_of(document: dict[str, Any], request: httpx.Request) -> tuple[str, set[str]]:
    """The spec's path template the request matches, and the statuses it documents."""
    path = request.url.path.removeprefix("/integrations/api")
    method = request.method.lower()
    wanted = path.split("/")
    for template, item in document["paths"].items():
        parts = template.split("/")
        if (
            method in item
            and len(parts) == len(wanted)
            and all(p == w or p.startswith("{") for p, w in zip(parts, wanted, strict=True))
        ):
            return template, set(item[method].get("responses", {}))
    return path, set()


def core_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The 33 core operations: everything but WABA, templates and /v2 (docs/design/api.md)."""
    return {
        (method.upper(), template)
        for template, item in document["paths"].items()
        if not template.startswith(("/waba", "/templates", "/v2"))
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


@functools.cache
def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture
def spec_document() -> dict[str, Any]:
    load_openapi()  # skips when the spec is absent
    document: dict[str, Any] = _yaml(spec_dir() / "public_api_spec.yaml")
    return document


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[FakeTimelines, Recorder, httpx.AsyncClient]]:
    fake = FakeTimelines(seed=4, chats=60)
    recorder = Recorder(fake)
    async with httpx.AsyncClient(
        transport=recorder, base_url=SERVER_URL, headers={"Authorization": "Bearer fake-token"}
    ) as http:
        yield fake, recorder, http


async def call_every_operation(fake: FakeTimelines, http: httpx.AsyncClient) -> None:
    group = next(c for c in fake.chats.values() if c.is_group)
    chat = next(c for c in fake.chats.values() if not c.is_group and c.seeded_length > 10)
    uid = fake.messages_of(chat.id)[-1].uid
    await http.get("/chats", params={"label": "vip", "with_msg": "true"})
    await http.get("/chats", params={"page": "0"})
    await http.get(f"/chats/{group.id}")
    await http.get("/chats/42")
    await http.patch(f"/chats/{chat.id}", json={"read": True, "responsible": ""})
    await http.get(f"/chats/{chat.id}/messages", params={"sorting_order": "asc"})
    sent = await http.post(f"/chats/{chat.id}/messages", json={"text": "hi"})
    await http.post(f"/chats/{chat.id}/messages", json={"text": "x" * 2001})
    await http.post(
        f"/chats/{chat.id}/file_message",
        files={"file": ("a.pdf", b"%PDF", "application/pdf")},
        data={"caption": "doc"},
    )
    await http.post(f"/chats/{chat.id}/voice_message", files={"file": ("v.ogg", b"OggS")})
    await http.get(f"/chats/{chat.id}/labels")
    await http.put(f"/chats/{chat.id}/labels", json={"labels": ["a"]})
    await http.post(f"/chats/{chat.id}/labels", json={"labels": ["b"]})
    await http.post(f"/chats/{chat.id}/notes", json={"text": "note"})
    await http.get(f"/messages/{uid}")
    fake.advance(30)
    await http.get(f"/messages/{sent.json()['data']['message_uid']}/status_history")
    await http.patch(f"/messages/{uid}/reactions", json={"reaction": "👍"})
    await http.get(f"/messages/{uid}/reactions")
    await http.post("/messages", json={"phone": "+14155550123", "text": "hello"})
    await http.post("/messages/to_jid", json={"jid": chat.jid, "text": "by jid"})
    upload = await http.post("/files_upload", files={"file": ("f.txt", b"abc", "text/plain")})
    file_uid = upload.json()["data"]["uid"]
    await http.post("/files", json={"download_url": "https://example.com/p.png"})
    await http.get("/files", params={"filename": "f"})
    await http.get(f"/files/{file_uid}")
    await http.delete(f"/files/{file_uid}")
    await http.get("/whatsapp_accounts")
    await http.get("/workspace")
    await http.get("/workspace/teammates")
    await http.get("/workspace/teammates/me")
    invited = await http.post("/workspace/invitations", json={"email": "n@acme.example"})
    await http.delete(f"/workspace/invitations/{invited.json()['data']['user_id']}")
    hook = await http.post("/webhooks", json={"event_type": "chat:new", "url": "https://h.example"})
    hook_id = hook.json()["data"]["id"]
    await http.get("/webhooks")
    await http.get(f"/webhooks/{hook_id}")
    await http.put(f"/webhooks/{hook_id}", json={"enabled": False})
    await http.delete(f"/webhooks/{hook_id}")


async def test_every_documented_answer_matches_the_public_api_spec(
    spec_document: dict[str, Any],
    recorded: tuple[FakeTimelines, Recorder, httpx.AsyncClient],
) -> None:
    fake, recorder, http = recorded
    await call_every_operation(fake, http)
    openapi = load_openapi()
    validated: set[tuple[str, str]] = set()
    statuses: set[int] = set()
    for request, response in recorder.exchanges:
        template, documented = operation_of(spec_document, request)
        if str(response.status_code) not in documented:
            continue
        openapi.validate_response(HttpxOpenAPIRequest(request), HttpxOpenAPIResponse(response))
        validated.add((request.method, template))
        statuses.add(response.status_code)
    assert validated == core_operations(spec_document)
    assert len(validated) == 33
    assert {200, 400, 404} <= statuses


async def test_the_legacy_send_by_chat_name_matches_its_former_schema(
    recorded: tuple[FakeTimelines, Recorder, httpx.AsyncClient],
) -> None:
    fake, recorder, http = recorded
    chat = next(iter(fake.chats.values()))
    await http.post("/messages/to_chat_name", json={"chat_name": chat.name, "text": "legacy"})
    ((request, response),) = recorder.exchanges
    load_openapi(with_legacy=True).validate_response(
        HttpxOpenAPIRequest(request), HttpxOpenAPIResponse(response)
    )


def webhook_validator(schema_name: str) -> OAS31Validator:
    path = spec_dir() / WEBHOOK_SPEC
    if not path.is_file():
        pytest.skip(f"the webhook spec is not at {path} (set TIMELINES_OPENAPI_DIR)")
    resource = Resource.from_contents(_yaml(path), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:webhooks", resource)
    return OAS31Validator(
        {"$ref": f"urn:webhooks#/components/schemas/{schema_name}"}, registry=registry
    )


async def test_webhook_payloads_match_the_webhook_spec() -> None:
    fake = FakeTimelines(seed=4, chats=30)
    payloads: list[dict[str, Any]] = []
    fake.on_event(payloads.append)
    teammate = fake.workspace.teammates[1]
    async with fake.client() as tl:
        await tl.messages.send(phone="+14155550123", text="new chat")  # chat:new + messages
        chat_id = fake.sent[0].chat_id
        await tl.chats.update(chat_id, responsible=teammate.email)
        await tl.chats.update(chat_id, responsible="")
        fake.receive_message(chat_id, "incoming")
        await tl.reactions.set(fake.sent[0].uid, "🎉")
    schemas = {"message": "MessageData", "chat": "ChatData"}
    kinds = set()
    for payload in payloads:
        event_type = payload["event_type"]
        name = (
            "ReactionData"
            if event_type == "message:reaction"
            else schemas[event_type.split(":")[0]]
        )
        webhook_validator(name).validate(payload)
        kinds.add(event_type)
    assert kinds == {
        "chat:new",
        "chat:outgoing:new",
        "chat:responsible:assigned",
        "chat:responsible:unassigned",
        "message:sent:new",
        "message:received:new",
        "message:new",
        "message:reaction",
    }
