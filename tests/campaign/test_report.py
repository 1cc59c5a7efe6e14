"""Campaign reports (`campaign._report`): JSON and CSV, never the token."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from timelines_async import campaign
from timelines_async.testing import FakeTimelines

from ._support import (
    SEND_INTERVAL,
    TEMPLATE,
    write_csv,
)

pytestmark = pytest.mark.anyio


async def test_the_report_is_written_as_json_or_csv_without_the_token(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    rows = [["+14155550001", "Ann", "A-1"], ["nope", "Bob", "A-2"]]
    path = write_csv(tmp_path / "c.csv", ["phone", "name", "order"], rows)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, skip_invalid=True)
    as_json = json.loads(report.write(tmp_path / "report.json").read_text(encoding="utf-8"))
    with report.write(tmp_path / "report.csv").open(encoding="utf-8", newline="") as file:
        as_csv = list(csv.DictReader(file))

    assert as_json["counts"]["sent"] == 1
    assert as_json["counts"]["invalid"] == 1
    assert [(r["line"], r["outcome"]) for r in as_json["results"]] == [(2, "sent"), (3, "invalid")]
    assert [(r["line"], r["outcome"], r["phone"]) for r in as_csv] == [
        ("2", "sent", "+14155550001"), ("3", "invalid", "")
    ]  # fmt: skip
    assert as_csv[0]["message_uid"] == fake.sent[0].uid
    for text in (report.write(tmp_path / "r.json").read_text(), report.to_csv(), repr(report)):
        assert fake.token not in text
