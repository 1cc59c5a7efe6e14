"""Helpers shared by the campaign tests: CSVs of customers and what the fake saw."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from timelines_async.testing import FakeTimelines

SEND_INTERVAL = 0.01

TEMPLATE = "Hi {name}, your order {order} shipped"


def phones(count: int) -> list[str]:
    return [f"+1415555{index:04d}" for index in range(count)]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def customers_csv(tmp_path: Path, count: int = 6) -> Path:
    rows = [[phone, f"Customer {i}", f"A-{i}"] for i, phone in enumerate(phones(count))]
    return write_csv(tmp_path / "customers.csv", ["phone", "name", "order"], rows)


def expected_texts(count: int) -> list[str]:
    return [f"Hi Customer {i}, your order A-{i} shipped" for i in range(count)]


def sends_made(fake: FakeTimelines) -> list[str]:
    """The paths of every send request the fake saw (answered or not)."""
    return [r.path for r in fake.requests if r.method == "POST"]


def per_recipient(fake: FakeTimelines) -> Counter[str]:
    return Counter(message.recipient_phone for message in fake.sent)
