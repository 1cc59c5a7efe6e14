"""The public names of `timelines_async.testing`: sorted, present, and the contract's among them."""

from __future__ import annotations

import timelines_async.testing as testing


def test_all_is_sorted_unique_and_every_name_exists() -> None:
    names = list(testing.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert [name for name in names if not hasattr(testing, name)] == []


def test_the_contracted_names_are_exported() -> None:
    assert {"FakeTimelines", "Faults"} <= set(testing.__all__)


def test_the_types_of_public_attributes_are_exported() -> None:
    fake = testing.FakeTimelines(chats=1)
    chat = next(iter(fake.chats.values()))
    for value in (fake.workspace, fake.clock, fake.faults, chat, fake.workspace.accounts[0]):
        assert type(value).__name__ in testing.__all__
