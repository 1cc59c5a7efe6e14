"""The public surface: `timelines_async.__all__` and the error tree the contract promises.

The contract is docs/design/contract.md.
"""

from __future__ import annotations

import types

import pytest

import timelines_async

#: Every top-level name the contract (docs/design/contract.md) promises: the client, the pager,
#: the whole error tree ("all importable from `timelines_async`") and the models.
CONTRACT_NAMES = {
    "TimelinesClient",
    "Pager",
    "Page",
    "SendLimiter",
    # errors
    "TimelinesError",
    "ConfigurationError",
    "InvalidRequestError",
    "TransportError",
    "SendOutcomeUnknown",
    # what an unknown send carries
    "SendAttempt",
    "Target",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "MethodNotAllowedError",
    "ConflictError",
    "PayloadTooLargeError",
    "RateLimitError",
    "QuotaExceededError",
    "ServerError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "InvalidEventError",
    # models
    "Chat",
    "GroupMember",
    "Message",
    "StatusChange",
    "SentMessage",
    "Reactions",
    "FileInfo",
    "WhatsAppAccount",
    "Teammate",
    "Workspace",
    "Quota",
    "Webhook",
}


def test_all_is_sorted_and_without_duplicates() -> None:
    names = list(timelines_async.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_every_name_in_all_exists() -> None:
    missing = [name for name in timelines_async.__all__ if not hasattr(timelines_async, name)]
    assert missing == []


def test_every_public_name_of_the_package_is_in_all() -> None:
    """Submodules are reached by their path; anything else public must be exported."""
    public = {
        name
        for name, value in vars(timelines_async).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(timelines_async.__all__) == set()


def test_all_contains_everything_the_contract_names() -> None:
    assert CONTRACT_NAMES - set(timelines_async.__all__) == set()


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from timelines_async import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(timelines_async.__all__)


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("ConfigurationError", "TimelinesError"),
        ("InvalidRequestError", "TimelinesError"),
        ("TransportError", "TimelinesError"),
        ("SendOutcomeUnknown", "TimelinesError"),
        ("InvalidEventError", "TimelinesError"),
        ("APIError", "TimelinesError"),
        ("BadRequestError", "APIError"),
        ("AuthenticationError", "APIError"),
        ("PermissionDeniedError", "APIError"),
        ("NotFoundError", "APIError"),
        ("MethodNotAllowedError", "APIError"),
        ("UnprocessableEntityError", "APIError"),
        ("ConflictError", "APIError"),
        ("PayloadTooLargeError", "APIError"),
        ("RateLimitError", "APIError"),
        ("QuotaExceededError", "APIError"),
        ("ServerError", "APIError"),
        ("UnexpectedResponseError", "APIError"),
    ],
)
def test_the_error_tree_is_the_contracts(name: str, parent: str) -> None:
    cls = getattr(timelines_async, name)
    assert cls.__bases__[0] is getattr(timelines_async, parent)


def test_invalid_request_error_is_also_a_value_error() -> None:
    assert issubclass(timelines_async.InvalidRequestError, ValueError)


def test_timelines_error_is_an_exception_not_a_base_exception_only() -> None:
    assert issubclass(timelines_async.TimelinesError, Exception)


def test_the_version_is_a_string() -> None:
    assert isinstance(timelines_async.__version__, str)
    assert timelines_async.__version__.count(".") >= 1
