"""A fake TimelinesAI server to test against: in-memory, seeded, faithful to the API.

    from timelines_async.testing import FakeTimelines, Faults

    fake = FakeTimelines(seed=1, chats=200, faults=Faults(server_error=0.05))
    async with fake.client() as tl:
        async for chat in tl.chats.list(label="vip"):
            ...
    assert fake.sent == []

`fake` is also an ASGI app serving the API under `/integrations/api`
(`timelines-async fake-server` serves it over HTTP). The pytest plugin gives
a fresh one to every test that asks for the `timelines_fake` fixture.
"""

from ._app import FakeTimelines
from ._clock import FakeClock
from ._faults import Fault, Faults, Outage
from ._records import (
    AccountRecord,
    ChatRecord,
    FileRecord,
    GroupMemberRecord,
    MessageRecord,
    RequestRecord,
    TeammateRecord,
    WebhookDelivery,
    WebhookRecord,
)
from ._serve import serve_http
from ._state import WorkspaceState
from ._transport import FakeClient, FakeTransport

__all__ = [
    "AccountRecord",
    "ChatRecord",
    "FakeClient",
    "FakeClock",
    "FakeTimelines",
    "FakeTransport",
    "Fault",
    "Faults",
    "FileRecord",
    "GroupMemberRecord",
    "MessageRecord",
    "Outage",
    "RequestRecord",
    "TeammateRecord",
    "WebhookDelivery",
    "WebhookRecord",
    "WorkspaceState",
    "serve_http",
]
