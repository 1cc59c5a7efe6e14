"""What every message of a campaign carries (`campaign._settings`): label, file, sending number.

Checked before any send, recorded in the journal, the same on resume.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from timelines_async import campaign
from timelines_async.campaign import (
    InsufficientQuotaError,
    InvalidCampaignError,
    JournalMismatchError,
)
from timelines_async.testing import FakeTimelines

from ._support import SEND_INTERVAL, TEMPLATE, customers_csv, expected_texts, phones, write_csv
from .test_sender import DiesAfterTheKthSendIsAccepted

pytestmark = pytest.mark.anyio

PDF = b"%PDF-1.4 the spring catalogue"


def uploads(fake: FakeTimelines) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/files_upload"))


def catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "catalogue.pdf"
    path.write_bytes(PDF)
    return path


async def test_every_message_carries_the_label(fake: FakeTimelines, tmp_path: Path) -> None:
    path = customers_csv(tmp_path, 3)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, label="spring-sale")

    assert report.ok
    for message in fake.sent:
        assert "spring-sale" in fake.chats[message.chat_id].labels


async def test_the_file_is_uploaded_once_and_sent_with_every_message(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = customers_csv(tmp_path, 4)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, file=catalogue(tmp_path))

    assert report.ok
    assert uploads(fake) == 1
    assert [m.text for m in fake.sent] == expected_texts(4)
    assert len({m.file_uid for m in fake.sent}) == 1
    assert all(m.has_attachment and m.file_uid for m in fake.sent)
    assert report.quota is not None
    assert report.quota.needed == 8  # text and attachment: two credits a message


async def test_a_resumed_campaign_sends_the_same_file_without_uploading_it_again(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path, pdf = customers_csv(tmp_path, 4), catalogue(tmp_path)
    async with httpx.AsyncClient(transport=DiesAfterTheKthSendIsAccepted(fake, 2)) as http:
        dying = fake.client(http_client=http, send_interval=SEND_INTERVAL)
        with pytest.raises(Exception, match="killed"):
            await campaign.run(dying, path, text=TEMPLATE, file=pdf, settle=0)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, file=pdf, settle=0)

    assert report.ok
    assert uploads(fake) == 1
    assert sorted(m.text or "" for m in fake.sent) == sorted(expected_texts(4))
    assert len({m.file_uid for m in fake.sent}) == 1


async def test_the_quota_counts_two_credits_a_message_with_a_file(tmp_path: Path) -> None:
    fake = FakeTimelines(seed=0, chats=5, credits=5)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(InsufficientQuotaError) as caught:
            await campaign.run(
                tl, customers_csv(tmp_path, 3), text=TEMPLATE, file=catalogue(tmp_path)
            )
        fits = await campaign.run(
            tl,
            customers_csv(tmp_path, 3),
            text=TEMPLATE,
            file=catalogue(tmp_path),
            send_what_fits=True,
        )

    assert (caught.value.needed, caught.value.remaining) == (6, 5)
    assert [r.outcome.value for r in fits.results] == ["sent", "sent", "skipped_quota"]


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
async def test_a_file_that_cannot_be_read_is_refused_before_anything_happens(
    fake: FakeTimelines, tmp_path: Path, dry_run: bool
) -> None:
    path = customers_csv(tmp_path, 2)
    (tmp_path / "empty.pdf").write_bytes(b"")
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        unreadable = [
            (tmp_path / "missing.pdf", "cannot be read"),
            (tmp_path, "cannot be read"),
            (tmp_path / "empty.pdf", "is empty"),
        ]
        for file, message in unreadable:
            with pytest.raises(InvalidCampaignError, match=message):
                await campaign.run(tl, path, text=TEMPLATE, file=file, dry_run=dry_run)
    assert fake.requests == []
    assert not campaign.default_journal_path(path).exists()


async def test_messages_go_out_from_the_number_named(fake: FakeTimelines, tmp_path: Path) -> None:
    other = next(a for a in fake.workspace.accounts if a != fake.workspace.default_account())
    path = customers_csv(tmp_path, 3)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, whatsapp_account_phone=other.phone)

    assert report.ok
    assert [m.sender_phone for m in fake.sent] == [other.phone] * 3
    assert [m.recipient_phone for m in fake.sent] == phones(3)


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
async def test_a_number_the_workspace_lacks_is_refused_before_any_send(
    fake: FakeTimelines, tmp_path: Path, dry_run: bool
) -> None:
    path = customers_csv(tmp_path, 2)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(InvalidCampaignError, match="not a WhatsApp number of this workspace"):
            await campaign.run(
                tl, path, text=TEMPLATE, whatsapp_account_phone="+15550001111", dry_run=dry_run
            )
    assert [r for r in fake.requests if r.method == "POST"] == []


async def test_a_sending_number_is_refused_for_chat_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["chat_id", "name"], [["1000001", "x"]])
    with pytest.raises(InvalidCampaignError, match="phone rows only"):
        await campaign.run(None, path, text="Hi {name}", whatsapp_account_phone="+14155550000")


@pytest.mark.parametrize("change", ["label", "file", "from"])
async def test_a_resume_must_send_the_same_label_file_and_number(
    fake: FakeTimelines, tmp_path: Path, change: str
) -> None:
    path, pdf = customers_csv(tmp_path, 2), catalogue(tmp_path)
    default = fake.workspace.default_account().phone
    first = {"label": "a", "file": pdf, "whatsapp_account_phone": default}
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        await campaign.run(tl, path, text=TEMPLATE, **first)  # type: ignore[arg-type]
        if change == "file":
            pdf.write_bytes(PDF + b" (revised)")
        changed = {**first, "label": "b"} if change == "label" else first
        if change == "from":
            changed = {**first, "whatsapp_account_phone": None}
        with pytest.raises(JournalMismatchError, match="belongs to another campaign"):
            await campaign.run(tl, path, text=TEMPLATE, **changed)  # type: ignore[arg-type]
    assert len(fake.sent) == 2
