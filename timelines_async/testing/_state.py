"""The workspace the fake serves: chats, histories, files, webhooks, quotas, and their indexes.

`WorkspaceState` holds the state and the operations that change it (sends, notes,
labels, incoming messages); it knows nothing of HTTP beyond raising
`ApiFailure` for the API's business rules (quota, spacing, unknown ids).
"""

from __future__ import annotations

import random
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from ._clock import FakeClock
from ._records import (
    AccountRecord,
    ChangeCount,
    ChatRecord,
    FileRecord,
    MessageRecord,
    TeammateRecord,
    WebhookRecord,
)
from ._seed import (
    FIRST_CHAT_ID,
    decode_seeded_uid,
    seed_accounts,
    seed_chats,
    seed_history,
    seed_teammates,
)
from ._wire import ApiFailure

__all__ = ["Attachment", "WorkspaceState", "clean_phone", "international_phone"]

PAGE_SIZE = 50
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_PHONE_WITH_PLUS = re.compile(r"\+[1-9]\d{6,14}")
#: Without a `+`, a number must be long enough to carry a country code.
_PHONE_DIGITS = re.compile(r"[1-9]\d{10,14}")
_LISTING_CACHE_SIZE = 32

#: (filename, mimetype, size, file uid or None)
Attachment = tuple[str, str, int, str | None]
ListingKey = tuple[tuple[str, str], ...]
EventSink = Callable[[str, ChatRecord, MessageRecord | None, dict[str, Any]], None]


def clean_phone(value: str) -> str | None:
    """A phone with separators removed, or `None` when it is not an international number."""
    compact = _PHONE_SEPARATORS.sub("", value)
    if _PHONE_WITH_PLUS.fullmatch(compact) or _PHONE_DIGITS.fullmatch(compact):
        return compact
    return None


def international_phone(value: str) -> str | None:
    """The number as the API shows it (`+` and digits), or `None` when it is not one."""
    compact = clean_phone(value)
    return None if compact is None else "+" + compact.lstrip("+")


def _order_key(chat: ChatRecord) -> tuple[int, float, str]:
    """Most recent message first, then name; chats without messages last."""
    if chat.last_message_at is None:
        return (1, 0.0, chat.name)
    return (0, -chat.last_message_at, chat.name)


class WorkspaceState:
    """The fake workspace's state; `subscribe` to be told of every event the API would fire."""

    def __init__(
        self,
        *,
        seed: int,
        chats: int,
        credits: int,
        clock: FakeClock,
        status_delays: tuple[float, float, float],
        send_interval: float,
        shared_contacts: float = 0.0,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.status_delays = status_delays
        self.send_interval = send_interval
        self._listeners: list[EventSink] = []
        self._rng = random.Random(seed)
        setup_rng = random.Random(seed * 31 + 7)
        self.teammates: list[TeammateRecord] = seed_teammates(setup_rng)
        self.accounts: list[AccountRecord] = seed_accounts(setup_rng, self.teammates)
        self.me = self.teammates[0]
        self.chats: dict[int, ChatRecord] = {}
        self.chat_changes = ChangeCount()
        self._by_jid: dict[str, ChatRecord] = {}
        self._by_name: dict[str, ChatRecord] = {}
        self._direct_by_phone: dict[str, list[ChatRecord]] = {}
        for chat in seed_chats(
            seed,
            chats,
            accounts=self.accounts,
            teammates=self.teammates,
            shared_contacts=shared_contacts,
        ):
            self._index(chat)
        self._next_chat_id = FIRST_CHAT_ID + chats
        self._message_chat: dict[str, ChatRecord] = {}
        self.labels: set[str] = {label for chat in self.chats.values() for label in chat.labels}
        self.files: dict[str, FileRecord] = {}
        self.webhooks: dict[int, WebhookRecord] = {}
        self._next_webhook_id = 789_001
        self.credits_total = credits
        self._credits_charged = 0
        #: Sends to these numbers fail, as to a number that is not on WhatsApp.
        self.failing_phones: set[str] = set()
        self._failing_sends: list[MessageRecord] = []
        self.api_calls_used = 0
        self.sent: list[MessageRecord] = []
        self._last_send_at: float | None = None
        self._listings: OrderedDict[ListingKey, tuple[tuple[int, int], list[ChatRecord]]]
        self._listings = OrderedDict()

    # -- lookups -------------------------------------------------------------

    def account(self, account_id: str) -> AccountRecord:
        for account in self.accounts:
            if account.id == account_id:
                return account
        raise KeyError(account_id)

    def account_by_phone(self, phone: str) -> AccountRecord | None:
        """The workspace's WhatsApp account with this number, if any."""
        for account in self.accounts:
            if account.phone == phone:
                return account
        return None

    def default_account(self) -> AccountRecord:
        """The most recently connected active account: the API's default sender."""
        active = [account for account in self.accounts if account.status == "active"]
        if not active:
            raise ApiFailure(400, "No connected WhatsApp account", "validation_error")
        return max(active, key=lambda account: account.connected_on)

    def teammate_by_email(self, email: str) -> TeammateRecord | None:
        folded = email.casefold()
        for teammate in self.teammates:
            if teammate.email.casefold() == folded:
                return teammate
        return None

    def chat(self, chat_id: int) -> ChatRecord:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiFailure(404, f"Whatsapp chat_id {chat_id} not found", "not_found")
        return chat

    def chat_by_name(self, name: str) -> ChatRecord | None:
        return self._by_name.get(name)

    def chat_by_jid(self, jid: str) -> ChatRecord | None:
        return self._by_jid.get(jid)

    def history(self, chat: ChatRecord) -> list[MessageRecord]:
        """The chat's messages, oldest first, generated from the seed on first use."""
        if chat.history is None:
            account = self.account(chat.whatsapp_account_id)
            chat.history = seed_history(self.seed, chat, account=account, teammates=self.teammates)
            chat.positions = {message.uid: index for index, message in enumerate(chat.history)}
            for message in chat.history:
                self._message_chat[message.uid] = chat
        return chat.history

    def message(self, uid: str) -> MessageRecord:
        chat = self._message_chat.get(uid)
        if chat is None:
            decoded = decode_seeded_uid(uid)
            candidate = self.chats.get(decoded[0]) if decoded else None
            if candidate is not None and candidate.history is None:
                self.history(candidate)
                chat = self._message_chat.get(uid)
        if chat is None or chat.history is None:
            raise ApiFailure(404, f"Message uid {uid} not found", "not_found")
        return chat.history[chat.positions[uid]]

    @property
    def credits_used(self) -> int:
        """Credits charged for sends, less those of sends that have failed by now."""
        now = self.clock.now()
        refunded = sum(m.cost for m in self._failing_sends if now >= m.status_times[0])
        return self._credits_charged - refunded

    def message_status(self, message: MessageRecord) -> str:
        if not message.status_times:
            return message.status
        now = self.clock.now()
        if message.fails:
            return "Failed" if now >= message.status_times[0] else "Pending"
        status = "Pending"
        for name, at in zip(("Sent", "Delivered", "Read"), message.status_times, strict=True):
            if now >= at:
                status = name
        return status

    def status_history(self, message: MessageRecord) -> list[tuple[str, float]]:
        """The steps the message went through so far, oldest first."""
        if message.message_type != "whatsapp" or not message.from_me:
            return []
        if message.fails:
            failed_at = message.status_times[0]
            return [("Pending", message.at)] + (
                [("Failed", failed_at)] if self.clock.now() >= failed_at else []
            )
        if message.status_times:
            steps = [("Pending", message.at)]
            times = message.status_times
        else:
            order = ("Sent", "Delivered", "Read")
            reached = order.index(message.status) + 1 if message.status in order else 0
            steps = []
            times = (message.at, message.at + 2.0, message.at + 90.0)[:reached]
        now = self.clock.now()
        for name, at in zip(("Sent", "Delivered", "Read"), times, strict=False):
            if at <= now:
                steps.append((name, at))
        return steps

    # -- listing -------------------------------------------------------------

    def list_chats(
        self, key: ListingKey, matches: Callable[[ChatRecord], bool]
    ) -> list[ChatRecord]:
        """The chats `matches` accepts, in the API's order.

        Cached per filter until a chat is added or any chat's shown fields change,
        so that paging through 20,000 chats sorts them once, not once a page.
        """
        stamp = (len(self.chats), self.chat_changes.value)
        cached = self._listings.get(key)
        if cached is not None and cached[0] == stamp:
            self._listings.move_to_end(key)
            return cached[1]
        listing = sorted(filter(matches, self.chats.values()), key=_order_key)
        self._listings[key] = (stamp, listing)
        if len(self._listings) > _LISTING_CACHE_SIZE:
            self._listings.popitem(last=False)
        return listing

    # -- changes -------------------------------------------------------------

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def create_chat(
        self, *, phone: str | None, jid: str, name: str | None, account: AccountRecord
    ) -> ChatRecord:
        chat_name = name or phone or jid.split("@", 1)[0]
        unique, suffix = chat_name, 2
        while unique in self._by_name:
            unique, suffix = f"{chat_name} ({suffix})", suffix + 1
        chat = ChatRecord(
            id=self._next_chat_id,
            name=unique,
            phone=phone,
            jid=jid,
            is_group=jid.endswith("@g.us"),
            closed=False,
            read=True,
            labels=(),
            chatgpt_autoresponse_enabled=False,
            responsible_email=None,
            responsible_name=None,
            whatsapp_account_id=account.id,
            created_at=self.clock.now(),
            history=[],
        )
        self._next_chat_id += 1
        self._index(chat)
        return chat

    def rename(self, chat: ChatRecord, name: str) -> None:
        if name == chat.name:
            return
        if name in self._by_name:
            raise ApiFailure(
                400,
                f"A chat named {name!r} already exists",
                "validation_error",
                errors=[{"fields": ["name"], "msg": "chat names are unique in the workspace"}],
            )
        del self._by_name[chat.name]
        chat.name = name
        self._by_name[name] = chat

    def add_labels(self, chat: ChatRecord, labels: Iterable[str]) -> None:
        """Add labels the chat lacks, creating new ones in the workspace."""
        new = tuple(dict.fromkeys(labels))
        self.labels.update(new)
        chat.labels = tuple(dict.fromkeys(chat.labels + new))

    def replace_labels(self, chat: ChatRecord, labels: Iterable[str]) -> None:
        chat.labels = ()
        self.add_labels(chat, labels)

    def check_send_allowed(self, cost: int) -> None:
        """Raise the API's answer to a send that comes too soon or finds no credit left."""
        now = self.clock.now()
        if self.send_interval > 0 and self._last_send_at is not None:
            # A little slack: the client's spacing is measured where it sends, ours on arrival.
            wait = self._last_send_at + self.send_interval * 0.98 - now
            if wait > 0:
                raise ApiFailure(
                    429,
                    "Messages are sent too fast; wait before sending the next one",
                    "rate_limit_exceeded",
                    headers=[("retry-after", _seconds(wait))],
                )
        if self.credits_total - self.credits_used < cost:
            raise ApiFailure(403, "Message quota exceeded", "quota_exceeded")

    def send(
        self,
        chat: ChatRecord,
        *,
        text: str | None,
        attachment: Attachment | None = None,
        reply_to: str | None = None,
        label: str | None = None,
        kind: str = "whatsapp",
    ) -> MessageRecord:
        """Accept a message for sending: charge it, add it to the history, fire the events."""
        cost = 2 if text and attachment else 1
        self.check_send_allowed(cost)
        self._credits_charged += cost
        self._last_send_at = self.clock.now()
        message = self._outgoing(chat, text, reply_to, cost)
        if message.fails:
            self._failing_sends.append(message)
        if kind != "whatsapp":
            message.data = {"kind": kind}
        self._attach(message, attachment)
        self._append(chat, message)
        if chat.unattended:
            chat.unattended = False  # answered: no longer an unattended customer
        if label:
            self.add_labels(chat, [label])
        self.sent.append(message)
        self._fire_message(chat, message, "message:sent:new")
        return message

    def _outgoing(
        self, chat: ChatRecord, text: str | None, reply_to: str | None, cost: int
    ) -> MessageRecord:
        """A message sent now from the chat's number, its status steps scheduled."""
        now = self.clock.now()
        account = self.account(chat.whatsapp_account_id)
        sent, delivered, read = self.status_delays
        return MessageRecord(
            uid=self.new_uid(),
            chat_id=chat.id,
            at=now,
            received_at=now,
            from_me=True,
            text=text,
            sender_phone=account.phone,
            sender_name=account.account_name,
            recipient_phone=chat.phone or "",
            recipient_name=chat.name,
            status="Pending",
            origin="Public API",
            created_by=self.me.display_name,
            reply_to=reply_to,
            status_times=(now + sent, now + delivered, now + read),
            cost=cost,
            fails=chat.phone in self.failing_phones,
        )

    def add_note(self, chat: ChatRecord, text: str) -> MessageRecord:
        now = self.clock.now()
        account = self.account(chat.whatsapp_account_id)
        note = MessageRecord(
            uid=self.new_uid(),
            chat_id=chat.id,
            at=now,
            received_at=now,
            from_me=True,
            text=text,
            sender_phone=account.phone,
            sender_name=self.me.display_name,
            recipient_phone=chat.phone or "",
            recipient_name=chat.name,
            status="Sent",
            origin="Public API",
            created_by=self.me.display_name,
            message_type="note",
        )
        self._append(chat, note)
        return note

    def receive(
        self, chat: ChatRecord, text: str | None, *, sender_name: str | None = None,
        sender_phone: str | None = None, attachment: Attachment | None = None,
    ) -> MessageRecord:  # fmt: skip
        """An incoming WhatsApp message: the chat turns unread and the events fire."""
        now = self.clock.now()
        account = self.account(chat.whatsapp_account_id)
        if chat.is_group and chat.group_members and sender_phone is None:
            member = chat.group_members[0]
            sender_name, sender_phone = sender_name or member.name, member.phone
        message = MessageRecord(
            uid=self.new_uid(),
            chat_id=chat.id,
            at=now,
            received_at=now,
            from_me=False,
            text=text,
            sender_phone=sender_phone or chat.phone or "",
            sender_name=sender_name or chat.name,
            recipient_phone=account.phone,
            recipient_name=account.account_name,
            status="Delivered",
            origin="synced from WhatsApp",
            created_by="",
        )
        self._attach(message, attachment)
        self._append(chat, message)
        chat.read = False
        self._fire_message(chat, message, "message:received:new")
        return message

    def subscribe(self, listener: EventSink) -> None:
        """Call `listener(event_type, chat, message, extra)` for every event from now on."""
        self._listeners.append(listener)

    def fire(self, event_type: str, chat: ChatRecord, **extra: Any) -> None:
        self._emit(event_type, chat, None, extra)

    def _fire_message(self, chat: ChatRecord, message: MessageRecord, event_type: str) -> None:
        self._emit(event_type, chat, message, {})
        self._emit("message:new", chat, message, {})

    def _emit(
        self,
        event_type: str,
        chat: ChatRecord,
        message: MessageRecord | None,
        extra: dict[str, Any],
    ) -> None:
        for listener in self._listeners:
            listener(event_type, chat, message, extra)

    def _attach(self, message: MessageRecord, attachment: Attachment | None) -> None:
        if attachment is not None:
            filename, mimetype, size, file_uid = attachment
            message.has_attachment = True
            message.attachment_filename = filename
            message.attachment_mimetype = mimetype
            message.attachment_size = size
            message.file_uid = file_uid

    def _append(self, chat: ChatRecord, message: MessageRecord) -> None:
        history = self.history(chat)
        chat.positions[message.uid] = len(history)
        history.append(message)
        self._message_chat[message.uid] = chat
        if message.message_type != "note":
            chat.last_message_at = message.at
            chat.last_message_uid = message.uid

    def _index(self, chat: ChatRecord) -> None:
        chat.workspace_changes = self.chat_changes
        self.chats[chat.id] = chat
        self._by_jid.setdefault(chat.jid, chat)
        self._by_name[chat.name] = chat
        if chat.phone is not None:
            self._direct_by_phone.setdefault(chat.phone, []).append(chat)

    def direct_chat(self, phone: str, account: AccountRecord) -> ChatRecord | None:
        """The direct chat with `phone` owned by `account`, if there is one."""
        for chat in self._direct_by_phone.get(phone, ()):
            if chat.whatsapp_account_id == account.id:
                return chat
        return None

    def direct_chats(self, phone: str) -> list[ChatRecord]:
        """The contact's chats on every number, most recently active first."""
        return sorted(self._direct_by_phone.get(phone, ()), key=_order_key)

    def add_webhook(self, event_type: str, url: str, enabled: bool) -> WebhookRecord:
        """Idempotent on (event_type, url): an existing one is re-enabled or restored."""
        for webhook in self.webhooks.values():
            if webhook.event_type == event_type and webhook.url == url:
                webhook.enabled = enabled
                webhook.deleted = False
                return webhook
        webhook = WebhookRecord(self._next_webhook_id, event_type, url, enabled)
        self._next_webhook_id += 1
        self.webhooks[webhook.id] = webhook
        return webhook


def _seconds(value: float) -> str:
    """A Retry-After value: seconds, rounded up to the millisecond."""
    millis = -(-value * 1000 // 1)
    return f"{millis / 1000:g}"
