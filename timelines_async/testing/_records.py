"""The fake's mutable records: what the API shows, plus the little the fake needs to run it.

Times (`at`, `created_at`, ...) are seconds on the fake's clock: 0 is the
moment the fake was created, seeded history lies before it (negative), and
`FakeTimelines.timestamp(at)` turns one into the API's timestamp text.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "AccountRecord",
    "ChangeCount",
    "ChatRecord",
    "FileRecord",
    "GroupMemberRecord",
    "MessageRecord",
    "RequestRecord",
    "TeammateRecord",
    "WebhookDelivery",
    "WebhookRecord",
]


@attrs.define
class AccountRecord:
    """A connected WhatsApp account (its `id` is its JID)."""

    id: str
    phone: str
    connected_on: float
    status: str
    owner_name: str
    owner_email: str
    account_name: str


@attrs.define
class TeammateRecord:
    user_id: int
    display_name: str
    email: str
    role: str
    team: str
    status: str
    invitation_status: str
    created_at: float


@attrs.frozen
class GroupMemberRecord:
    name: str
    phone: str | None
    role: str
    chat_id: int | None


def _count_message_change(
    instance: MessageRecord, attribute: attrs.Attribute[Any], value: Any
) -> Any:
    """Count every assignment, so that the message's cached JSON knows when to let go."""
    object.__setattr__(instance, "revision", instance.revision + 1)
    return value


@attrs.define(on_setattr=_count_message_change)
class MessageRecord:
    """A message in a chat's history: seeded, sent through the API, received, or a note.

    A message sent through the API moves from `Pending` through `Sent` and
    `Delivered` to `Read` as the fake's clock passes the `status_times`
    computed when it was accepted; one that `fails` turns `Failed` instead of
    `Sent`, and its credits come back.

    Change it by assigning attributes; only `reactions` changes in place (the
    JSON cache does not keep a message that has any).
    """

    uid: str
    chat_id: int
    at: float
    received_at: float
    from_me: bool
    text: str | None
    sender_phone: str
    sender_name: str
    recipient_phone: str
    recipient_name: str
    status: str
    origin: str
    created_by: str
    message_type: str = "whatsapp"
    has_attachment: bool = False
    attachment_filename: str | None = None
    attachment_mimetype: str | None = None
    attachment_size: int = 0
    file_uid: str | None = None
    reply_to: str | None = None
    data: dict[str, Any] = attrs.field(factory=dict)
    #: reactor phone -> (reactor name, emoji)
    reactions: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    #: When each of Sent, Delivered, Read is reached (sent messages only).
    status_times: tuple[float, ...] = ()
    #: Credits the send cost (refunded if it fails).
    cost: int = 0
    #: A send that fails where it would have become Sent (a number not on WhatsApp).
    fails: bool = False
    #: Assignments to this message so far.
    revision: int = 0


@attrs.define
class ChangeCount:
    """Changes to the shown fields of a workspace's chats: listing caches compare it."""

    value: int = 0


#: ChatRecord fields that are bookkeeping, not what the API shows.
_UNTRACKED = frozenset({"history", "positions", "revision", "seeded_length", "workspace_changes"})


def _track_change(instance: ChatRecord, attribute: attrs.Attribute[Any], value: Any) -> Any:
    """Count every change to what a chat shows, so that caches of it know when to let go."""
    if attribute.name not in _UNTRACKED:
        object.__setattr__(instance, "revision", instance.revision + 1)
        instance.workspace_changes.value += 1
    return value


@attrs.define(on_setattr=_track_change)
class ChatRecord:
    """A chat as `GET /chats/{id}` shows it; its history is generated on first read.

    Change it by assigning attributes (`chat.labels = ("vip",)`): the listing
    and rendering caches follow assignments, which is why the collections
    here are tuples.
    """

    id: int
    name: str
    phone: str | None
    jid: str
    is_group: bool
    closed: bool
    read: bool
    labels: tuple[str, ...]
    chatgpt_autoresponse_enabled: bool
    responsible_email: str | None
    responsible_name: str | None
    whatsapp_account_id: str
    created_at: float
    unattended: bool = False
    group_members: tuple[GroupMemberRecord, ...] = ()
    is_allowed_to_message: bool = True
    #: How many messages the seed gives this chat (its history is generated lazily).
    seeded_length: int = 0
    last_message_at: float | None = None
    last_message_uid: str | None = None
    #: The materialised history, oldest first (`None` until first read).
    history: list[MessageRecord] | None = None
    #: uid -> index into `history`.
    positions: dict[str, int] = attrs.field(factory=dict)
    #: Changes to this chat's shown fields so far.
    revision: int = 0
    #: Changes to the shown fields of every chat of its workspace (shared by them).
    workspace_changes: ChangeCount = attrs.field(factory=ChangeCount, eq=False, repr=False)


@attrs.define
class FileRecord:
    uid: str
    filename: str
    size: int
    mimetype: str
    uploaded_by_email: str
    uploaded_at: float
    content: bytes
    #: Where `POST /files` said to fetch it from (the fake never does).
    source_url: str | None = None
    deleted: bool = False


@attrs.define
class WebhookRecord:
    id: int
    event_type: str
    url: str
    enabled: bool = True
    errors_counter: int = 0
    deleted: bool = False


@attrs.define(frozen=True)
class RequestRecord:
    """One request the fake answered (or dropped): `status` is 0 when no answer was given."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float
    #: The fault injected into this request, if any (a `Faults` field name).
    fault: str | None = None


@attrs.define
class WebhookDelivery:
    """One event for one webhook subscription, and what became of it.

    `outcome` is `"delivered"`, `"failed"` (every attempt failed) or
    `"undeliverable"` (not a loopback URL: the fake does not leave the machine).
    """

    webhook_id: int
    url: str
    event_type: str
    payload: dict[str, Any]
    outcome: str = "pending"
    attempts: int = 0
