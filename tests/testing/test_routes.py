"""Every route of the fake in raw HTTP: envelopes, status codes and semantics.

The API behaviour they follow is described in docs/design/api.md.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from timelines_async.testing import FakeTimelines
from timelines_async.testing._render import MessageJsonCache

pytestmark = pytest.mark.anyio


def data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    return body.get("data")


def error(response: httpx.Response, status: int, error_code: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert isinstance(body["message"], str)
    assert body.get("error_code") == error_code
    return body


async def all_chats(http: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    chats: list[dict[str, Any]] = []
    page = 1
    while True:
        result = data(await http.get("/chats", params={**params, "page": str(page)}))
        chats.extend(result["chats"])
        if not result["has_more_pages"]:
            return chats
        page += 1


# -- chats ---------------------------------------------------------------------


async def test_chats_come_in_pages_of_fifty_until_has_more_pages_is_false(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    first = data(await http.get("/chats"))
    second = data(await http.get("/chats", params={"page": "2"}))
    assert len(first["chats"]) == 50
    assert first["has_more_pages"] is True
    assert len(second["chats"]) == 10
    assert second["has_more_pages"] is False
    ids = [chat["id"] for chat in first["chats"] + second["chats"]]
    assert sorted(ids) == sorted(fake.chats)


async def test_a_page_past_the_end_is_empty(http: httpx.AsyncClient) -> None:
    assert data(await http.get("/chats", params={"page": "9"})) == {
        "has_more_pages": False,
        "chats": [],
    }


async def test_chats_are_ordered_by_last_message_newest_first_then_by_name(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chats = await all_chats(http)
    keys = [
        (
            0 if fake.chats[c["id"]].last_message_at is not None else 1,
            -(fake.chats[c["id"]].last_message_at or 0.0),
            c["name"],
        )
        for c in chats
    ]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"label": "vip"}, lambda c: "vip" in c.labels),
        ({"label": "vip,lead"}, lambda c: "vip" in c.labels or "lead" in c.labels),
        ({"group": "true"}, lambda c: c.is_group),
        ({"group": "false"}, lambda c: not c.is_group),
        ({"read": "false"}, lambda c: not c.read),
        ({"closed": "true"}, lambda c: c.closed),
        ({"chatgpt_autoresponse_enabled": "true"}, lambda c: c.chatgpt_autoresponse_enabled),
        ({"label": "vip", "read": "true"}, lambda c: "vip" in c.labels and c.read),
        ({"name": "aN"}, lambda c: "an" in c.name.lower()),
        ({"name": "ar,el"}, lambda c: "ar" in c.name.lower() or "el" in c.name.lower()),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else "",
)
async def test_chat_filters_and_across_filters_and_or_within_a_comma_list(
    http: httpx.AsyncClient, fake: FakeTimelines, params: dict[str, str], expected: Any
) -> None:
    got = {chat["id"] for chat in await all_chats(http, **params)}
    want = {chat.id for chat in fake.chats.values() if expected(chat)}
    assert want, "the seed should give this filter something to find"
    assert got == want


async def test_filter_by_account_and_responsible(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    account = fake.workspace.accounts[0].id
    email = fake.workspace.teammates[1].email
    got = await all_chats(http, whatsapp_account_id=account, responsible=email.upper())
    want = {
        c.id
        for c in fake.chats.values()
        if c.whatsapp_account_id == account and c.responsible_email == email
    }
    assert want
    assert {chat["id"] for chat in got} == want


async def test_phone_filter_matches_exactly_with_plus_and_as_a_substring_without(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat = next(c for c in fake.chats.values() if not c.is_group)
    assert chat.phone is not None
    exact = await all_chats(http, phone=chat.phone)
    assert [c["id"] for c in exact] == [chat.id]
    partial = await all_chats(http, phone="0" + chat.phone[-7:])
    assert chat.id in {c["id"] for c in partial}
    assert all(not c["is_group"] for c in partial)


async def test_whatsapp_phone_filter_finds_direct_chats_and_groups_with_that_member(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    group = next(c for c in fake.chats.values() if c.is_group and c.group_members)
    member_phone = group.group_members[0].phone
    assert member_phone is not None
    found = {c["id"] for c in await all_chats(http, whatsapp_phone=member_phone)}
    assert group.id in found


async def test_created_after_and_before_bound_the_creation_time(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    times = sorted(chat.created_at for chat in fake.chats.values())
    middle = fake.clock.datetime_at(times[len(times) // 2]).isoformat()
    after = await all_chats(http, created_after=middle)
    before = await all_chats(http, created_before=middle)
    assert len(after) + len(before) == len(times) - 1  # the chat created at `middle` is in neither


async def test_with_msg_adds_the_last_message_to_each_chat(http: httpx.AsyncClient) -> None:
    chats = data(await http.get("/chats", params={"with_msg": "true"}))["chats"]
    with_messages = [c for c in chats if "last_message_uid" in c]
    assert with_messages
    for chat in with_messages:
        assert chat["last_message"]["uid"] == chat["last_message_uid"]
        assert "reactions" not in chat["last_message"]
    plain = data(await http.get("/chats"))["chats"]
    assert all("last_message" not in chat for chat in plain)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"read": "maybe"}, "read"),
        ({"created_after": "soon"}, "created_after"),
    ],
)
async def test_bad_chat_list_parameters_are_validation_errors(
    http: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    body = error(await http.get("/chats", params=params), 400, "validation_error")
    assert body["errors"][0]["fields"] == [field]


async def test_listings_follow_changes_made_to_the_records_directly(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    before = {chat["id"] for chat in await all_chats(http, label="fresh")}
    chat = fake.chats[max(fake.chats)]
    chat.labels = ("fresh",)
    chat.name = "Changed Directly"
    after = await all_chats(http, label="fresh")
    assert before == set()
    assert [(c["id"], c["name"], c["labels"]) for c in after] == [
        (chat.id, "Changed Directly", ["fresh"])
    ]


async def test_get_chat_and_unknown_chat(http: httpx.AsyncClient, fake: FakeTimelines) -> None:
    chat_id = min(fake.chats)
    assert data(await http.get(f"/chats/{chat_id}"))["id"] == chat_id
    error(await http.get("/chats/42"), 404, "not_found")
    error(await http.get("/chats/abc"), 404, "not_found")


async def test_patch_chat_changes_only_what_is_given(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat = next(c for c in fake.chats.values() if not c.closed)
    before = data(await http.get(f"/chats/{chat.id}"))
    after = data(await http.patch(f"/chats/{chat.id}", json={"closed": True, "name": "Renamed"}))
    assert after["closed"] is True
    assert after["name"] == "Renamed"
    assert after["read"] == before["read"]
    assert fake.chats[chat.id].name == "Renamed"


async def test_patch_chat_assigns_and_unassigns_a_teammate(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = min(fake.chats)
    teammate = fake.workspace.teammates[2]
    assigned = data(await http.patch(f"/chats/{chat_id}", json={"responsible": teammate.email}))
    assert assigned["responsible_email"] == teammate.email
    assert assigned["responsible_name"] == teammate.display_name
    unassigned = data(await http.patch(f"/chats/{chat_id}", json={"responsible": ""}))
    assert "responsible_email" not in unassigned


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 257}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"closed": "yes"}, "closed"),
        ({"responsible": "nobody@nowhere.example"}, "responsible"),
    ],
)
async def test_patch_chat_rejects_bad_fields(
    http: httpx.AsyncClient, fake: FakeTimelines, body: dict[str, Any], field: str
) -> None:
    answer = await http.patch(f"/chats/{min(fake.chats)}", json=body)
    assert error(answer, 400, "validation_error")["errors"][0]["fields"] == [field]


async def test_renaming_to_a_name_another_chat_has_is_refused(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    first, second = sorted(fake.chats)[:2]
    answer = await http.patch(f"/chats/{first}", json={"name": fake.chats[second].name})
    error(answer, 400, "validation_error")


# -- messages ------------------------------------------------------------------


def long_chat(fake: FakeTimelines, minimum: int = 120) -> int:
    return next(c.id for c in fake.chats.values() if c.seeded_length >= minimum)


async def test_history_desc_pages_by_before_message_cursor_and_covers_everything(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = long_chat(fake)
    seen: list[str] = []
    params: dict[str, str] = {}
    while True:
        page = data(await http.get(f"/chats/{chat_id}/messages", params=params))
        assert len(page["messages"]) <= 50
        seen.extend(m["uid"] for m in page["messages"])
        if not page["has_more_pages"]:
            break
        assert len(page["messages"]) == 50
        params = {"before_message": page["messages"][-1]["uid"]}
    assert seen == [m.uid for m in reversed(fake.messages_of(chat_id))]


async def test_history_asc_pages_by_after_message_cursor(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = long_chat(fake)
    first = data(await http.get(f"/chats/{chat_id}/messages", params={"sorting_order": "asc"}))[
        "messages"
    ]
    cursor = first[-1]["uid"]
    second = data(
        await http.get(
            f"/chats/{chat_id}/messages", params={"sorting_order": "asc", "after_message": cursor}
        )
    )["messages"]
    uids = [m.uid for m in fake.messages_of(chat_id)]
    assert [m["uid"] for m in first + second] == uids[:100]


async def test_after_and_before_are_inclusive_and_from_me_filters_direction(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = long_chat(fake)
    history = fake.messages_of(chat_id)
    low, high = history[10], history[30]
    params = {"after": fake.timestamp(low.at), "before": fake.timestamp(high.at), "from_me": "true"}
    got = data(await http.get(f"/chats/{chat_id}/messages", params=params))["messages"]
    want = [
        m.uid for m in reversed(history) if m.from_me and int(low.at) <= m.at < int(high.at) + 1
    ]
    assert [m["uid"] for m in got] == want
    assert want


async def test_history_pages_by_page_number_too(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = long_chat(fake)
    pages = [
        data(await http.get(f"/chats/{chat_id}/messages", params={"page": str(number)}))
        for number in (1, 2)
    ]
    uids = [m.uid for m in reversed(fake.messages_of(chat_id))]
    assert [m["uid"] for m in pages[0]["messages"] + pages[1]["messages"]] == uids[:100]
    assert pages[0]["has_more_pages"] is True


async def test_unknown_cursor_and_bad_order_are_errors(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = long_chat(fake)
    error(
        await http.get(f"/chats/{chat_id}/messages", params={"before_message": "nope"}),
        404,
        "not_found",
    )
    error(
        await http.get(f"/chats/{chat_id}/messages", params={"sorting_order": "up"}),
        400,
        "validation_error",
    )


async def test_history_listings_follow_statuses_reactions_and_direct_changes(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    """The fake keeps each listed message's JSON; what changed shows on the next read."""
    uid = data(await http.post("/messages", json={"phone": "+14155550101", "text": "hi"}))[
        "message_uid"
    ]
    chat_id = fake.message(uid).chat_id

    async def listed() -> dict[str, Any]:
        messages = data(await http.get(f"/chats/{chat_id}/messages"))["messages"]
        found: dict[str, Any] = next(m for m in messages if m["uid"] == uid)
        return found

    assert (await listed())["status"] == "Pending"
    fake.advance(3600)
    assert (await listed())["status"] == "Read"
    await http.patch(f"/messages/{uid}/reactions", json={"reaction": "👍"})
    assert (await listed())["reactions"]["total"] == 1
    await http.patch(f"/messages/{uid}/reactions", json={"reaction": ""})
    assert (await listed())["reactions"] == {"users": [], "reactions": {}, "total": 0}
    fake.message(uid).text = "changed directly"
    assert (await listed())["text"] == "changed directly"


async def test_get_message_status_history_and_unknown_uid(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = long_chat(fake)
    message = fake.messages_of(chat_id)[5]
    got = data(await http.get(f"/messages/{message.uid}"))
    assert got["uid"] == message.uid
    assert got["chat_id"] == chat_id
    assert isinstance(data(await http.get(f"/messages/{message.uid}/status_history")), list)
    error(await http.get("/messages/00000000-0000-4000-8000-000000000000"), 404, "not_found")


async def test_a_seeded_message_is_found_by_uid_before_its_chat_was_read(
    http: httpx.AsyncClient,
) -> None:
    other = FakeTimelines(seed=3, chats=60)
    chat_id = long_chat(other)
    uid = other.messages_of(chat_id)[7].uid  # same seed: the same uid in `http`'s fake
    assert data(await http.get(f"/messages/{uid}"))["chat_id"] == chat_id


async def test_reactions_are_set_replaced_and_cleared_with_an_empty_string(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    uid = fake.messages_of(long_chat(fake))[0].uid
    start = data(await http.get(f"/messages/{uid}/reactions"))["total"]
    assert data(await http.patch(f"/messages/{uid}/reactions", json={"reaction": "👍"})) == {
        "message_uid": uid
    }
    await http.patch(f"/messages/{uid}/reactions", json={"reaction": "🎉"})
    mine = data(await http.get(f"/messages/{uid}/reactions"))
    assert mine["total"] == start + 1
    assert [u["reaction"] for u in mine["users"] if u["current"]] == ["🎉"]
    await http.patch(f"/messages/{uid}/reactions", json={"reaction": ""})
    assert data(await http.get(f"/messages/{uid}/reactions"))["total"] == start


# -- sends ---------------------------------------------------------------------


async def test_send_to_a_new_phone_creates_the_chat_and_records_the_message(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    uid = data(await http.post("/messages", json={"phone": "+1 (415) 555-0101", "text": "hi"}))[
        "message_uid"
    ]
    [sent] = fake.sent
    assert sent.uid == uid
    chat = fake.chats[sent.chat_id]
    assert chat.phone == "+14155550101"
    assert chat.jid == "14155550101@s.whatsapp.net"
    again = data(await http.post("/messages", json={"phone": "14155550101", "text": "again"}))
    assert fake.message(again["message_uid"]).chat_id == chat.id


async def test_send_by_chat_id_jid_and_chat_name(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat = next(c for c in fake.chats.values() if not c.is_group)
    number = fake.workspace.account(chat.whatsapp_account_id).phone
    await http.post(f"/chats/{chat.id}/messages", json={"text": "one"})
    to_jid = {"jid": chat.jid, "text": "two", "whatsapp_account_phone": number}
    await http.post("/messages/to_jid", json=to_jid)
    await http.post("/messages/to_chat_name", json={"chat_name": chat.name, "text": "three"})
    assert [(m.chat_id, m.text) for m in fake.sent] == [
        (chat.id, "one"),
        (chat.id, "two"),
        (chat.id, "three"),
    ]
    assert [m.text for m in fake.messages_of(chat.id)[-3:]] == ["one", "two", "three"]


async def test_answering_an_unattended_chat_clears_the_flag(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat = fake.chats[min(fake.chats)]
    chat.unattended = True
    await http.post(f"/chats/{chat.id}/messages", json={"text": "sorry for the wait"})
    assert data(await http.get(f"/chats/{chat.id}"))["unattended"] is False


async def test_send_with_a_label_and_a_reply(http: httpx.AsyncClient, fake: FakeTimelines) -> None:
    chat_id = long_chat(fake)
    replied = fake.messages_of(chat_id)[3].uid
    await http.post(
        f"/chats/{chat_id}/messages", json={"text": "re", "label": "hot", "reply_to": replied}
    )
    assert "hot" in fake.chats[chat_id].labels
    assert fake.sent[-1].reply_to == replied


@pytest.mark.parametrize(
    ("path_body", "status", "field"),
    [
        (("/messages", {"phone": "555-0101", "text": "x"}), 400, ["phone"]),
        (("/messages", {"text": "x"}), 400, ["phone"]),
        (("/messages", {"phone": "+14155550101", "text": "x" * 2001}), 400, ["text"]),
        (("/messages", {"phone": "+14155550101", "text": "a\x00b"}), 400, ["text"]),
        (("/messages", {"phone": "+14155550101", "text": "x", "label": "l" * 65}), 400, ["label"]),
        (("/messages", {"phone": "+14155550101"}), 400, ["text"]),
        (("/messages/to_jid", {"jid": "123-456@g.us", "text": "x"}), 404, None),
        (("/messages/to_chat_name", {"chat_name": "Nobody At All", "text": "x"}), 404, None),
        (("/chats/42/messages", {"text": "x"}), 404, None),
        (("/messages", {"phone": "+14155550101", "file_uid": "nope"}), 404, None),
    ],
)
async def test_bad_sends_are_refused_and_cost_nothing(
    http: httpx.AsyncClient,
    fake: FakeTimelines,
    path_body: tuple[str, dict[str, Any]],
    status: int,
    field: list[str] | None,
) -> None:
    path, body = path_body
    answer = await http.post(path, json=body)
    found = error(answer, status, "validation_error" if status == 400 else "not_found")
    if field is not None:
        assert found["errors"][0]["fields"] == field
    assert fake.sent == []
    assert fake.credits_used == 0


async def test_notes_json_and_plain_text_appear_in_history_and_cost_no_credit(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = min(fake.chats)
    first = data(await http.post(f"/chats/{chat_id}/notes", json={"text": "json note"}))
    second = data(
        await http.post(
            f"/chats/{chat_id}/notes", content="plain note", headers={"content-type": "text/plain"}
        )
    )
    notes = [
        m
        for m in fake.messages_of(chat_id)
        if m.uid in {first["message_uid"], second["message_uid"]}
    ]
    assert [(n.message_type, n.text) for n in notes] == [
        ("note", "json note"),
        ("note", "plain note"),
    ]
    assert fake.credits_used == 0
    assert fake.sent == []
    newest = data(await http.get(f"/chats/{chat_id}/messages"))["messages"][0]
    assert newest["message_type"] == "note"


async def test_notes_are_write_only_and_validated(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = min(fake.chats)
    assert (await http.get(f"/chats/{chat_id}/notes")).status_code == 405
    error(
        await http.post(f"/chats/{chat_id}/notes", json={"text": "n" * 10_001}),
        400,
        "validation_error",
    )
    error(await http.post(f"/chats/{chat_id}/notes", json={}), 400, "validation_error")


async def test_file_and_voice_messages_are_multipart_sends(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = min(fake.chats)
    document = await http.post(
        f"/chats/{chat_id}/file_message",
        files={"file": ("report.pdf", b"%PDF-1.4", "application/pdf")},
        data={"caption": "the report"},
    )
    voice = await http.post(
        f"/chats/{chat_id}/voice_message", files={"file": ("hello.ogg", b"OggS", "audio/ogg")}
    )
    assert data(document)["message_uid"] == fake.sent[0].uid
    assert data(voice)["message_uid"] == fake.sent[1].uid
    assert (fake.sent[0].attachment_filename, fake.sent[0].text) == ("report.pdf", "the report")
    assert fake.sent[1].attachment_mimetype == "audio/ogg"
    assert fake.credits_used == 3  # caption + document is 2, the voice note 1


async def test_a_multipart_send_without_a_file_is_refused(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    answer = await http.post(f"/chats/{min(fake.chats)}/voice_message", data={"x": "y"})
    error(answer, 400, "validation_error")


# -- labels --------------------------------------------------------------------


async def test_labels_put_adds_post_replaces_and_new_ones_are_created(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    chat_id = min(fake.chats)
    start = data(await http.get(f"/chats/{chat_id}/labels"))["labels"]
    added = data(await http.put(f"/chats/{chat_id}/labels", json={"labels": ["brand-new"]}))
    assert added["labels"] == [*start, "brand-new"]
    assert "brand-new" in fake.workspace.labels
    replaced = data(await http.post(f"/chats/{chat_id}/labels", json={"labels": ["only"]}))
    assert replaced["labels"] == ["only"]
    assert data(await http.post(f"/chats/{chat_id}/labels", json={"labels": []}))["labels"] == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [({"labels": ["x" * 65]}, ["labels", 0]), ({"labels": "vip"}, ["labels"]), ({}, ["labels"])],
)
async def test_bad_labels_are_validation_errors(
    http: httpx.AsyncClient, fake: FakeTimelines, body: dict[str, Any], fields: list[Any]
) -> None:
    answer = await http.put(f"/chats/{min(fake.chats)}/labels", json=body)
    assert error(answer, 400, "validation_error")["errors"][0]["fields"] == fields


# -- files ---------------------------------------------------------------------


async def test_upload_list_get_download_and_delete_a_file(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    uploaded = data(
        await http.post(
            "/files_upload", files={"file": ("Invoice-7.pdf", b"%PDF-data", "application/pdf")}
        )
    )
    assert (uploaded["filename"], uploaded["size"], uploaded["mimetype"]) == (
        "Invoice-7.pdf",
        9,
        "application/pdf",
    )
    from_url = data(
        await http.post("/files", json={"download_url": "https://example.com/a/photo.jpg"})
    )
    assert (from_url["filename"], from_url["mimetype"]) == ("photo.jpg", "image/jpeg")
    assert [f["uid"] for f in data(await http.get("/files", params={"filename": "invoice"}))] == [
        uploaded["uid"]
    ]
    assert len(data(await http.get("/files"))) == 2
    info = data(await http.get(f"/files/{uploaded['uid']}"))
    download = await http.get(info["temporary_download_url"])
    assert download.content == b"%PDF-data"
    assert (await http.delete(f"/files/{uploaded['uid']}")).content == b""
    error(await http.get(f"/files/{uploaded['uid']}"), 404, "not_found")
    assert (await http.get(info["temporary_download_url"])).status_code == 410


async def test_a_download_url_expires_after_fifteen_minutes_on_the_fake_clock(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    uploaded = data(
        await http.post("/files_upload", files={"file": ("a.txt", b"abc", "text/plain")})
    )
    url = uploaded["temporary_download_url"]
    fake.advance(14 * 60)
    assert (await http.get(url)).status_code == 200
    fake.advance(2 * 60)
    assert (await http.get(url)).status_code == 403
    forged = url.replace("signature=", "signature=0")
    assert (await http.get(forged)).status_code == 403


async def test_a_file_can_be_sent_by_uid_and_costs_two_credits_with_text(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    uploaded = data(
        await http.post("/files_upload", files={"file": ("a.png", b"png", "image/png")})
    )
    chat_id = min(fake.chats)
    await http.post(
        f"/chats/{chat_id}/messages", json={"file_uid": uploaded["uid"], "text": "look"}
    )
    await http.post(f"/chats/{chat_id}/messages", json={"file_uid": uploaded["uid"]})
    assert fake.credits_used == 3
    assert fake.sent[0].attachment_filename == "a.png"


async def test_upload_from_url_needs_an_http_url(http: httpx.AsyncClient) -> None:
    answer = await http.post("/files", json={"download_url": "ftp://example.com/x"})
    assert error(answer, 400, "validation_error")["errors"][0]["fields"] == ["download_url"]


# -- workspace -----------------------------------------------------------------


async def test_workspace_and_legacy_quota_paths_reflect_consumption(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    await http.post(f"/chats/{min(fake.chats)}/messages", json={"text": "one"})
    workspace = data(await http.get("/workspace"))
    assert workspace["messaging_quota"]["total"] == 10_000
    assert workspace["messaging_quota"]["used"] == 1
    assert workspace["plan"]
    for legacy in ("/workspace/quotas", "/quotas"):
        quotas = data(await http.get(legacy))
        assert quotas["messaging_quota"]["used"] == 1
        assert "plan" not in quotas


async def test_teammates_me_and_whatsapp_accounts(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    listing = data(await http.get("/workspace/teammates"))
    assert len(listing["teammates"]) == len(fake.workspace.teammates)
    assert listing["teams"]
    assert data(await http.get("/teammates")) == listing
    me = data(await http.get("/workspace/teammates/me"))
    assert me["role"] == "owner"
    accounts = data(await http.get("/whatsapp_accounts"))["whatsapp_accounts"]
    assert {a["id"] for a in accounts} == {a.id for a in fake.workspace.accounts}


async def test_invite_then_revoke_and_accepted_members_cannot_be_revoked(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    invited = data(
        await http.post(
            "/workspace/invitations", json={"email": "new@acme.example", "role": "Agent"}
        )
    )
    assert (invited["role"], invited["invitation_status"]) == ("agent", "Pending")
    revoked = await http.delete(f"/workspace/invitations/{invited['user_id']}")
    assert revoked.json() == {"status": "ok", "message": "Invitation revoked successfully"}
    error(await http.delete(f"/workspace/invitations/{invited['user_id']}"), 404, "not_found")
    member = fake.workspace.teammates[1].user_id
    assert (await http.delete(f"/workspace/invitations/{member}")).status_code == 409
    error(
        await http.post("/workspace/invitations", json={"email": "x@y.z", "role": "boss"}),
        400,
        "validation_error",
    )


# -- webhooks ------------------------------------------------------------------


async def test_webhook_create_is_idempotent_and_restores_disabled_and_deleted_ones(
    http: httpx.AsyncClient,
) -> None:
    body = {"event_type": "message:new", "url": "https://hooks.example/in"}
    created = data(await http.post("/webhooks", json=body))
    assert created["enabled"] is True
    assert data(await http.post("/webhooks", json=body))["id"] == created["id"]
    disabled = data(await http.put(f"/webhooks/{created['id']}", json={"enabled": False}))
    assert disabled["enabled"] is False
    assert data(await http.post("/webhooks", json=body)) == created
    assert (await http.delete(f"/webhooks/{created['id']}")).content == b""
    error(await http.get(f"/webhooks/{created['id']}"), 404, "not_found")
    assert data(await http.get("/webhooks")) == []
    assert data(await http.post("/webhooks", json=body)) == created


async def test_webhooks_are_listed_by_id_and_updated_partially(http: httpx.AsyncClient) -> None:
    first = data(
        await http.post("/webhooks", json={"event_type": "chat:new", "url": "https://a.example"})
    )
    second = data(
        await http.post("/webhooks", json={"event_type": "chat:new", "url": "https://b.example"})
    )
    assert [w["id"] for w in data(await http.get("/webhooks"))] == [first["id"], second["id"]]
    moved = data(await http.put(f"/webhooks/{first['id']}", json={"url": "https://c.example"}))
    assert (moved["url"], moved["event_type"], moved["enabled"]) == (
        "https://c.example",
        "chat:new",
        True,
    )
    assert data(await http.get(f"/webhooks/{first['id']}")) == moved


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "message:new", "url": "not a url"}, "url"),
        ({"event_type": "message:old", "url": "https://a.example"}, "event_type"),
        ({"url": "https://a.example"}, "event_type"),
        ({"event_type": "message:new", "url": "https://a.example/" + "x" * 4096}, "url"),
    ],
)
async def test_bad_webhooks_are_validation_errors(
    http: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    answer = await http.post("/webhooks", json=body)
    assert error(answer, 400, "validation_error")["errors"][0]["fields"] == [field]


async def test_a_workspace_holds_at_most_ten_webhooks(http: httpx.AsyncClient) -> None:
    for index in range(10):
        data(
            await http.post(
                "/webhooks", json={"event_type": "chat:new", "url": f"https://h{index}.example"}
            )
        )
    answer = await http.post(
        "/webhooks", json={"event_type": "chat:new", "url": "https://h10.example"}
    )
    error(answer, 403, "plan_feature_unavailable")


# -- routing and envelopes -----------------------------------------------------


async def test_a_trailing_slash_gets_the_html_404_page(http: httpx.AsyncClient) -> None:
    answer = await http.get("/chats/")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")


async def test_unknown_paths_are_404_and_known_paths_with_another_method_405(
    http: httpx.AsyncClient,
) -> None:
    error(await http.get("/nothing/here"), 404, "not_found")
    assert (await http.delete("/chats")).status_code == 405


async def test_a_body_that_is_not_json_is_a_validation_error(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    answer = await http.post(
        f"/chats/{min(fake.chats)}/messages",
        content=b"{oops",
        headers={"content-type": "application/json"},
    )
    error(answer, 400, "validation_error")


async def test_nul_characters_are_refused_in_query_parameters(http: httpx.AsyncClient) -> None:
    answer = await http.get("/chats", params={"name": "a\x00b"})
    assert error(answer, 400, "validation_error")["errors"][0]["fields"] == ["name"]


async def test_nul_characters_are_refused_in_nested_fields(
    http: httpx.AsyncClient, fake: FakeTimelines
) -> None:
    answer = await http.put(f"/chats/{min(fake.chats)}/labels", json={"labels": ["ok", "b\x00d"]})
    assert error(answer, 400, "validation_error")["errors"][0]["fields"] == ["labels", 1]


def test_the_message_json_cache_keeps_at_most_its_size_the_oldest_let_go() -> None:
    fake = FakeTimelines(chats=3)
    cache = MessageJsonCache(fake._space, size=2)
    first, second, third = fake.messages_of(long_chat(fake, minimum=3))[:3]
    texts = [cache(message) for message in (first, second, third)]
    assert list(cache._texts) == [second.uid, third.uid]
    assert [json.loads(text)["uid"] for text in texts] == [first.uid, second.uid, third.uid]
