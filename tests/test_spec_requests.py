"""Every request the client can build, validated against the production OpenAPI spec.

One case per operation: the 33 core operations (docs/design/api.md, "Operations") plus the
deprecated `POST /messages/to_chat_name`. Each calls the public method against
a mocked transport answering a valid body, captures the request and validates
it with openapi-core (`tests/_openapi.py`). `to_chat_name` is gone from the
spec's paths, so it is validated against the operation restored from the
spec's own comment, whose body is the `MessageToChatName` schema still in
`components`.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import respx
import yaml
from openapi_core.validation.request.exceptions import (
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)

from tests._openapi import SERVER_URL, load_openapi, spec_or_skip, validate
from timelines_async import InvalidRequestError, TimelinesClient, WebhookEventType
from timelines_async._options import DEFAULT_BASE_URL
from timelines_async.resources.teammates import ROLES
from timelines_async.resources.webhooks import EVENT_TYPES

pytestmark = pytest.mark.anyio

CHAT_ID = 1000001
UID = "a5bbb005-37f2-402c-96fa-e479a2e09b02"
FILE_UID = "90d353e6-44c1-48ff-b15b-69b7721e5450"
TS = "2024-01-08 10:35:18 +0200"

CHAT = {
    "id": CHAT_ID,
    "name": "John Doe",
    "phone": "+14155551234",
    "jid": "14155551234@s.whatsapp.net",
    "is_group": False,
    "closed": False,
    "read": True,
    "labels": ["vip"],
    "chatgpt_autoresponse_enabled": False,
    "whatsapp_account_id": "972501111111@s.whatsapp.net",
    "chat_url": f"https://app.timelines.ai/chat/{CHAT_ID}/messages/",
    "created_timestamp": TS,
    "unattended": False,
    "photo": "",
}
MESSAGE = {"uid": UID, "chat_id": CHAT_ID, "timestamp": TS, "from_me": True, "text": "hi"}
FILE = {
    "uid": FILE_UID,
    "filename": "a.pdf",
    "size": 3,
    "mimetype": "application/pdf",
    "uploaded_by_email": "john.doe@acme.com",
    "uploaded_at": TS,
    "temporary_download_url": "https://storage.test/a.pdf",
}
MEMBER = {
    "user_id": 42,
    "display_name": "John Doe",
    "email": "admin@timelines.ai",
    "role": "owner",
    "team": "Default",
    "status": "Active",
    "created_at": TS,
}
QUOTA = {"total": 10, "used": 7}
HOOK = {
    "id": 789456,
    "event_type": "message:new",
    "enabled": True,
    "url": "https://hooks.acme.com/tl",
    "errors_counter": 0,
}
SENT = {"message_uid": UID}

Call = Callable[[TimelinesClient], Awaitable[object]]


@dataclass(frozen=True)
class Case:
    """An operation (`METHOD /path/{template}` as in the spec), how to call it, what to answer."""

    operation: str
    call: Call
    answer: object
    legacy: bool = False


async def chunks() -> AsyncIterator[bytes]:
    yield b"%PDF-1.4 "
    yield b"streamed"


async def _first(pager: Any) -> object:
    return await pager.first()


def _send_by_chat_name(tl: TimelinesClient) -> Awaitable[object]:
    return tl.messages.send(chat_name="John Doe", text="hi", label="vip", reply_to=UID)


CASES = [
    # chats
    Case(
        "GET /chats",
        lambda tl: _first(
            tl.chats.list(
                label=["vip", "enterprise"],
                whatsapp_account_id="972501111111@s.whatsapp.net",
                responsible=["john.doe@acme.com"],
                name="acme sales",
                whatsapp_phone=["+15551230000", "0501111111"],
                group=False,
                read=False,
                closed=True,
                chatgpt_autoresponse_enabled=True,
                phone="+14155551234",
                created_after=datetime(2024, 1, 1, tzinfo=UTC),
                created_before="2024-12-31T23:59:59Z",
                with_msg=True,
            )
        ),
        {"has_more_pages": False, "chats": [CHAT]},
    ),
    Case("GET /chats/{chat_id}", lambda tl: tl.chats.get(CHAT_ID), CHAT),
    Case(
        "PATCH /chats/{chat_id}",
        lambda tl: tl.chats.update(
            CHAT_ID,
            name="Jane",
            responsible="",
            closed=True,
            read=False,
            chatgpt_autoresponse_enabled=True,
        ),
        CHAT,
    ),
    Case(
        "GET /chats/{chat_id}/messages",
        lambda tl: _first(
            tl.messages.list(
                CHAT_ID,
                from_me=True,
                after="2024-01-17 10:35",
                before=datetime(2024, 1, 19, tzinfo=UTC),
                order="asc",
                after_message=UID,
                before_message="d8cc5a02-b676-4956-8710-3ee56330f356",
            )
        ),
        {"has_more_pages": False, "messages": [MESSAGE]},
    ),
    Case(
        "POST /chats/{chat_id}/messages",
        lambda tl: tl.messages.send(
            chat_id=CHAT_ID, text="hi", file_uid=FILE_UID, label="vip", reply_to=UID
        ),
        SENT,
    ),
    Case(
        "POST /chats/{chat_id}/file_message",
        lambda tl: tl.messages.send_file(
            CHAT_ID,
            io.BytesIO(b"%PDF"),
            filename="doc.pdf",
            content_type="application/pdf",
            caption="here",
        ),
        SENT,
    ),
    Case(
        "POST /chats/{chat_id}/voice_message",
        lambda tl: tl.messages.send_voice(CHAT_ID, b"OggS voice"),
        SENT,
    ),
    Case("GET /chats/{chat_id}/labels", lambda tl: tl.labels.list(CHAT_ID), {"labels": ["a"]}),
    Case(
        "PUT /chats/{chat_id}/labels",
        lambda tl: tl.labels.add(CHAT_ID, ["a", "b"]),
        {"labels": ["a", "b"]},
    ),
    Case(
        "POST /chats/{chat_id}/labels",
        lambda tl: tl.labels.replace(CHAT_ID, "a"),
        {"labels": ["a"]},
    ),
    Case(
        "POST /chats/{chat_id}/notes",
        lambda tl: tl.chats.add_note(CHAT_ID, "call back tomorrow", private=False),
        SENT,
    ),
    # messages
    Case("GET /messages/{message_uid}", lambda tl: tl.messages.get(UID), MESSAGE),
    Case(
        "GET /messages/{message_uid}/status_history",
        lambda tl: tl.messages.status_history(UID),
        [{"status": "Sent", "timestamp": TS}],
    ),
    Case(
        "GET /messages/{message_uid}/reactions",
        lambda tl: tl.reactions.get(UID),
        {"users": [], "reactions": {"👍": 1}, "total": 1},
    ),
    Case("PATCH /messages/{message_uid}/reactions", lambda tl: tl.reactions.set(UID, "👍"), SENT),
    Case(
        "POST /messages",
        lambda tl: tl.messages.send(
            phone="+14155551234",
            text="hi",
            file_uid=FILE_UID,
            label="vip",
            whatsapp_account_phone="+14841111111",
        ),
        SENT,
    ),
    Case(
        "POST /messages/to_jid",
        lambda tl: tl.messages.send(
            jid="14840000000@s.whatsapp.net",
            text="hi",
            reply_to=UID,
            whatsapp_account_phone="+14841111111",
        ),
        SENT,
    ),
    Case("POST /messages/to_chat_name", _send_by_chat_name, SENT, legacy=True),
    # files
    Case("GET /files", lambda tl: tl.files.list(filename="png"), [FILE]),
    Case(
        "POST /files",
        lambda tl: tl.files.upload_from_url(
            "https://acme.com/somefile.png", filename="logo.png", content_type="image/png"
        ),
        FILE,
    ),
    Case("GET /files/{file_uid}", lambda tl: tl.files.get(FILE_UID), FILE),
    Case("DELETE /files/{file_uid}", lambda tl: tl.files.delete(FILE_UID), None),
    Case(
        "POST /files_upload",
        lambda tl: tl.files.upload(chunks(), filename="doc.pdf", content_type="application/pdf"),
        FILE,
    ),
    # workspace
    Case(
        "GET /whatsapp_accounts",
        lambda tl: tl.whatsapp_accounts.list(),
        {"whatsapp_accounts": []},
    ),
    Case(
        "GET /workspace",
        lambda tl: tl.quotas.get(),
        {
            "workspace_id": "acme-inc",
            "display_name": "Acme",
            "plan": "Business",
            "messaging_quota": QUOTA,
            "api_calls_quota": QUOTA,
        },
    ),
    Case(
        "GET /workspace/teammates",
        lambda tl: tl.teammates.list(),
        {"teams": [{"title": "Default"}], "teammates": [MEMBER]},
    ),
    Case("GET /workspace/teammates/me", lambda tl: tl.teammates.me(), MEMBER),
    Case(
        "POST /workspace/invitations",
        lambda tl: tl.teammates.invite(
            "new@example.com", first_name="Jo", last_name="Doe", team_title="Sales", role="Agent"
        ),
        MEMBER,
    ),
    Case(
        "DELETE /workspace/invitations/{user_id}",
        lambda tl: tl.teammates.revoke_invitation(42),
        None,
    ),
    # webhooks
    Case("GET /webhooks", lambda tl: tl.webhooks.list(), [HOOK]),
    Case(
        "POST /webhooks",
        lambda tl: tl.webhooks.create(
            WebhookEventType.MESSAGE_RECEIVED_NEW, "https://hooks.acme.com/tl", enabled=False
        ),
        HOOK,
    ),
    Case("GET /webhooks/{webhook_id}", lambda tl: tl.webhooks.get(789456), HOOK),
    Case(
        "PUT /webhooks/{webhook_id}",
        lambda tl: tl.webhooks.update(
            789456, event_type="waba:chat:closed", url="http://example.com/h", enabled=True
        ),
        HOOK,
    ),
    Case("DELETE /webhooks/{webhook_id}", lambda tl: tl.webhooks.delete(789456), None),
]

#: The operations table of docs/design/api.md (1-33 and L1), written out:
#: the cases must cover exactly these.
EXPECTED_OPERATIONS = {
    "GET /chats",
    "GET /chats/{chat_id}",
    "PATCH /chats/{chat_id}",
    "GET /chats/{chat_id}/messages",
    "POST /chats/{chat_id}/messages",
    "POST /chats/{chat_id}/file_message",
    "POST /chats/{chat_id}/voice_message",
    "GET /chats/{chat_id}/labels",
    "PUT /chats/{chat_id}/labels",
    "POST /chats/{chat_id}/labels",
    "POST /chats/{chat_id}/notes",
    "GET /messages/{message_uid}",
    "GET /messages/{message_uid}/status_history",
    "GET /messages/{message_uid}/reactions",
    "PATCH /messages/{message_uid}/reactions",
    "POST /messages",
    "POST /messages/to_jid",
    "GET /files",
    "POST /files",
    "GET /files/{file_uid}",
    "DELETE /files/{file_uid}",
    "POST /files_upload",
    "GET /whatsapp_accounts",
    "GET /workspace",
    "GET /workspace/teammates",
    "GET /workspace/teammates/me",
    "POST /workspace/invitations",
    "DELETE /workspace/invitations/{user_id}",
    "GET /webhooks",
    "POST /webhooks",
    "GET /webhooks/{webhook_id}",
    "PUT /webhooks/{webhook_id}",
    "DELETE /webhooks/{webhook_id}",
    "POST /messages/to_chat_name",
}


def _answer(data: object) -> httpx.Response:
    if data is None:
        return httpx.Response(200, json={"status": "ok", "message": "done"})
    return httpx.Response(200, json={"status": "ok", "data": data})


def _path_pattern(operation: str) -> tuple[str, re.Pattern[str]]:
    method, template = operation.split(" ", 1)
    path = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return method, re.compile(re.escape("/integrations/api") + path)


async def _capture(case: Case) -> list[httpx.Request]:
    with respx.mock(assert_all_called=False, using="httpx") as router:
        route = router.route().mock(return_value=_answer(case.answer))
        async with TimelinesClient(
            "4d2d0239-e28c-4f4a-8a4d-3a3ca40056b8",
            base_url=SERVER_URL,
            requests_per_second=None,
            send_interval=0,
            max_retries=0,
        ) as tl:
            if case.legacy:
                with pytest.warns(DeprecationWarning, match="deprecated"):
                    await case.call(tl)
            else:
                await case.call(tl)
        return [call.request for call in route.calls]


@pytest.mark.parametrize("case", CASES, ids=[case.operation for case in CASES])
async def test_the_request_matches_the_spec(case: Case) -> None:
    load_openapi(with_legacy=case.legacy)  # skips, with the reason, when the spec is absent
    (request,) = await _capture(case)
    method, pattern = _path_pattern(case.operation)
    assert request.method == method
    assert pattern.fullmatch(request.url.path), request.url.path
    assert not request.url.path.endswith("/"), "the API answers a trailing slash with HTML 404"
    validate(request, with_legacy=case.legacy)


def test_the_cases_cover_exactly_the_34_operations() -> None:
    covered = [case.operation for case in CASES]
    assert len(covered) == len(set(covered)), "one case per operation"
    assert set(covered) == EXPECTED_OPERATIONS
    assert len(EXPECTED_OPERATIONS) == 34


def test_every_core_operation_is_in_the_spec_and_the_legacy_one_is_not() -> None:
    """Guards the list above against the spec: 33 are live paths, to_chat_name is gone."""
    spec = load_openapi().spec
    in_spec = {
        f"{method.upper()} {path}"
        for path, item in (spec / "paths").items()
        for method in item.keys()  # noqa: SIM118 (a SchemaPath, not a dict)
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert EXPECTED_OPERATIONS - in_spec == {"POST /messages/to_chat_name"}


def test_the_client_and_these_tests_talk_to_the_spec_server() -> None:
    with spec_or_skip().open(encoding="utf-8") as handle:
        servers = yaml.safe_load(handle)["servers"]
    assert [server["url"] for server in servers] == [SERVER_URL]
    assert DEFAULT_BASE_URL == SERVER_URL


def test_the_client_checks_against_the_spec_enums() -> None:
    """Event types and invitation roles refused client-side are exactly those the spec refuses."""
    with spec_or_skip().open(encoding="utf-8") as handle:
        schemas = yaml.safe_load(handle)["components"]["schemas"]
    assert set(schemas["WebhookEventType"]["enum"]) == EVENT_TYPES
    assert set(schemas["WorkspaceTeammateInvitation"]["properties"]["role"]["enum"]) == set(ROLES)


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        pytest.param(
            httpx.Request(
                "POST",
                f"{SERVER_URL}/webhooks",
                json={"event_type": "message:created", "url": "https://a.example/h"},
                headers={"Authorization": "Bearer t"},
            ),
            RequestBodyValidationError,
            id="unknown-event-type",
        ),
        pytest.param(
            httpx.Request("GET", f"{SERVER_URL}/webhooks"),
            SecurityValidationError,
            id="no-token",
        ),
        pytest.param(
            httpx.Request(
                "GET",
                f"{SERVER_URL}/chats/1/messages",
                params={"sorting_order": "newest"},
                headers={"Authorization": "Bearer t"},
            ),
            ParameterValidationError,
            id="bad-query-enum",
        ),
    ],
)
def test_a_request_that_breaks_the_spec_is_caught(
    request_: httpx.Request, error: type[Exception]
) -> None:
    """The validator is not a rubber stamp."""
    load_openapi()
    with pytest.raises(error):
        validate(request_)


def test_the_legacy_send_is_checked_against_message_to_chat_name() -> None:
    load_openapi(with_legacy=True)
    request = httpx.Request(
        "POST",
        f"{SERVER_URL}/messages/to_chat_name",
        json={"text": "hi"},
        headers={"Authorization": "Bearer t"},
    )
    with pytest.raises(RequestBodyValidationError):
        validate(request, with_legacy=True)


async def test_chats_created_filters_send_spec_date_times() -> None:
    """An aware datetime goes out as an ISO date-time with its offset, as the spec wants."""
    load_openapi()
    case = Case(
        "GET /chats",
        lambda tl: _first(tl.chats.list(created_after=datetime(2024, 1, 1, tzinfo=UTC))),
        {"has_more_pages": False, "chats": []},
    )
    (request,) = await _capture(case)
    validate(request)
    assert request.url.params["created_after"] == "2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "created_after", [datetime(2024, 1, 1), date(2024, 1, 1)], ids=["naive-datetime", "date"]
)
async def test_chats_created_filters_refuse_values_without_an_offset(created_after: object) -> None:
    """A naive datetime or a bare date would be an off-spec, ambiguous filter: refused up front."""
    async with TimelinesClient("t", base_url=SERVER_URL, requests_per_second=None) as tl:
        with pytest.raises(InvalidRequestError, match="created_after"):
            tl.chats.list(created_after=created_after)  # type: ignore[arg-type]


async def test_send_by_chat_name_warns_that_the_api_deprecated_it() -> None:
    with pytest.warns(DeprecationWarning, match="deprecated") as caught:
        await _capture_legacy_without_validation()
    (warning,) = caught
    message = str(warning.message)
    assert "deprecated" in message
    assert "/messages/to_chat_name" in message
    assert "chat_id" in message, "the warning says what to use instead"
    assert warning.filename == __file__, "the warning points at the caller's line"


async def _capture_legacy_without_validation() -> None:
    with respx.mock(assert_all_called=False, using="httpx") as router:
        route = router.post(f"{SERVER_URL}/messages/to_chat_name").mock(return_value=_answer(SENT))
        async with TimelinesClient(
            "tok", base_url=SERVER_URL, requests_per_second=None, send_interval=0
        ) as tl:
            sent = await tl.messages.send(chat_name="John Doe", text="hi")
        assert sent.message_uid == UID
        assert route.calls.last.request.content == b'{"text":"hi","chat_name":"John Doe"}'
