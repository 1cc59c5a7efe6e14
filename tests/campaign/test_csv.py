"""Reading a campaign (`campaign._csv`): every bad row, with its line, before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timelines_async import InvalidRequestError, campaign
from timelines_async.campaign import (
    InvalidCampaignError,
    InvalidRowsError,
    Outcome,
)
from timelines_async.campaign._csv import load_plan
from timelines_async.testing import FakeTimelines

from ._support import (
    SEND_INTERVAL,
    TEMPLATE,
    customers_csv,
    phones,
    write_csv,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (["12345", "Ann", "A-9"], "not an international phone number"),
        (["+14155559999", "", "A-9"], "missing template variable {name}"),
        (["+14155559999", "x" * 1990, "A-9"], "characters after formatting; the API accepts"),
        (["+14155559999", "A\x00B", "A-9"], "NUL"),
        (
            ["+1 (415) 555-0000", "Ann", "A-9"],
            "duplicate recipient: phone +14155550000 is already on line 2",
        ),
        (["+14155559999", "Ann", "A-9", "surplus"], "has 4 fields but the header has 3"),
    ],
    ids=["bad-phone", "missing-variable", "too-long", "nul", "duplicate", "extra-field"],
)
async def test_an_invalid_row_is_reported_with_its_line_and_nothing_is_sent(
    fake: FakeTimelines, tmp_path: Path, bad_row: list[str], message: str
) -> None:
    good = [[phone, f"Customer {i}", f"A-{i}"] for i, phone in enumerate(phones(3))]
    path = write_csv(tmp_path / "c.csv", ["phone", "name", "order"], [*good[:2], bad_row, good[2]])
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        with pytest.raises(InvalidRowsError) as caught:
            await campaign.run(tl, path, text=TEMPLATE)

    assert [problem.line for problem in caught.value.problems] == [4]
    assert message in caught.value.problems[0].message
    assert "line 4" in str(caught.value)
    assert fake.requests == []
    assert not campaign.default_journal_path(path).exists()


async def test_every_invalid_row_is_reported_at_once_with_physical_line_numbers(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "phone,name,order\n"
        '+14155550001,"Ann\nwith a two-line name",A-1\n'  # lines 2-3
        "oops,Bob,A-2\n"  # line 4
        "\n"  # line 5: blank, ignored
        "+14155550003,,A-3\n"  # line 6
        "+14155550001,Ann again,A-4\n",  # line 7
        encoding="utf-8",
    )
    with pytest.raises(InvalidRowsError) as caught:
        await campaign.run(None, path, text=TEMPLATE)

    assert [problem.line for problem in caught.value.problems] == [4, 6, 7]
    assert "already on line 2" in caught.value.problems[2].message
    assert isinstance(caught.value, InvalidRequestError)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {first_name}", "names {first_name}, which is not a column"),
        ("Hi {}", "positional field"),
        ("Hi {name.upper}", "only plain column names"),
        ("Hi {name", "literal braces"),
        ("Total {order:.2f}", "cannot be rendered"),
        ("   ", "must not be empty"),
    ],
)
async def test_a_template_that_cannot_be_rendered_is_refused(
    tmp_path: Path, template: str, message: str
) -> None:
    with pytest.raises(InvalidCampaignError, match="template") as caught:
        await campaign.run(None, customers_csv(tmp_path), text=template)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["mobile", "name"], "needs a 'phone' or a 'chat_id' column"),
        (["phone", "chat_id", "name"], "has phone and chat_id columns; keep the one"),
        (["phone", "name", "name"], "names name more than once"),
    ],
)
async def test_a_csv_without_one_clear_target_column_is_refused(
    tmp_path: Path, header: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "c.csv", header, [["+14155550001", "1", "x"][: len(header)]])
    with pytest.raises(InvalidCampaignError, match=message):
        await campaign.run(None, path, text="Hi {name}")


async def test_two_spellings_of_one_number_are_one_recipient(tmp_path: Path) -> None:
    rows = [["14155550001", "Ann", "A-1"], ["+1 415 555 0001", "Ann", "A-2"]]
    path = write_csv(tmp_path / "c.csv", ["Phone", "name", "order"], rows)
    with pytest.raises(InvalidRowsError) as caught:
        await campaign.run(None, path, text=TEMPLATE)
    assert [str(problem) for problem in caught.value.problems] == [
        "line 3: duplicate recipient: phone +14155550001 is already on line 2"
    ]


async def test_skip_invalid_sends_the_valid_rows_and_reports_the_others(
    fake: FakeTimelines, tmp_path: Path
) -> None:
    rows = [["+14155550001", "Ann", "A-1"], ["bad", "Bob", "A-2"], ["+14155550003", "Cy", "A-3"]]
    path = write_csv(tmp_path / "c.csv", ["phone", "name", "order"], rows)
    async with fake.client(send_interval=SEND_INTERVAL) as tl:
        report = await campaign.run(tl, path, text=TEMPLATE, skip_invalid=True)

    assert [m.recipient_phone for m in fake.sent] == ["+14155550001", "+14155550003"]
    assert [(r.line, r.outcome) for r in report.results] == [
        (2, Outcome.SENT), (3, Outcome.INVALID), (4, Outcome.SENT)
    ]  # fmt: skip
    assert not report.ok


_cell = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from([",", '"', ";", "\n", " "]),
    max_size=12,
).filter(lambda cell: cell.strip() != "")


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.tuples(_cell, _cell), min_size=1, max_size=6))
def test_any_csv_a_spreadsheet_writes_renders_each_row_with_its_physical_line(
    tmp_path_factory: pytest.TempPathFactory, cells: list[tuple[str, str]]
) -> None:
    path = tmp_path_factory.mktemp("csv") / "c.csv"
    rows = [
        [phone, name, order] for phone, (name, order) in zip(phones(len(cells)), cells, strict=True)
    ]
    write_csv(path, ["phone", "name", "order"], rows)

    plan = load_plan(path, TEMPLATE)

    assert [r.text for r in plan.recipients] == [
        f"Hi {name.strip()}, your order {order.strip()} shipped" for name, order in cells
    ]
    starts, line = [], 2
    for name, order in cells:
        starts.append(line)
        line += 1 + name.count("\n") + order.count("\n")
    assert [r.line for r in plan.recipients] == starts
