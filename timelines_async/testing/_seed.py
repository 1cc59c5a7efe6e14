"""The seeded workspace: accounts, teammates, chats, and each chat's history on demand.

Everything here is a function of the seed. Times are whole seconds on the
fake's clock, all before 0 (the moment the fake was created). Chats are generated eagerly in one
pass (cheap: a few random draws each, 20,000 chats well under a second); a
chat's message history is generated only when something reads it, from a
random generator seeded by the workspace seed and the chat id, so it is the
same whenever and in whatever order it is read. A seeded message uid encodes
its chat id and position, which lets the fake find a message it has not
generated yet (`decode_seeded_uid`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence

import attrs

from ._records import (
    AccountRecord,
    ChatRecord,
    GroupMemberRecord,
    MessageRecord,
    TeammateRecord,
)

__all__ = [
    "FIRST_CHAT_ID",
    "decode_seeded_uid",
    "seed_accounts",
    "seed_chats",
    "seed_history",
    "seed_teammates",
    "seeded_uid",
]

FIRST_CHAT_ID = 1_000_001
_DAY = 86_400
_MASK64 = (1 << 64) - 1
_LOW_BITS = 62  # the low bits of a UUID that its version and variant leave alone
_INDEX_BITS = 24

_FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Elijah",
    "Amelia", "Yusuf", "Hana", "Ivan", "Chloe", "Arjun", "Leila", "Diego", "Zara", "Omar",
    "Priya", "Tomás", "Ingrid", "Kenji", "Aisha", "Pierre", "Nadia", "Lars", "Maya", "Rafael",
    "Noa", "Daniel", "Yael", "Chen", "Fatima", "Jonas", "Lucía", "Kwame", "Elena", "Samir",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Garcia", "Müller", "Cohen", "Rossi", "Kowalski", "Nguyen", "Silva", "Patel",
    "Tanaka", "Dubois", "Johansson", "Levi", "Okafor", "Haddad", "Petrov", "Jensen", "Novak",
    "Fernández", "Schmidt", "Kaplan", "Moreau", "Santos", "Ali", "Brown", "Kim", "Costa",
    "Weber", "Mizrahi", "Andersen", "Ivanova", "Lopez", "Wilson", "Khan", "Sato", "Russo",
)  # fmt: skip
_COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Soylent",
    "Cyberdyne", "Aperture", "Vandelay", "Wonka", "Gringotts", "Oceanic", "Monarch",
)  # fmt: skip
_GROUP_KINDS = (
    "Support", "Sales", "Onboarding", "Logistics", "Partners", "Ops", "Billing", "VIP Desk",
    "Delivery", "Project Team",
)  # fmt: skip
_LABELS = (
    "vip", "enterprise", "lead", "customer", "support", "billing", "partner", "churn-risk",
    "new", "follow-up", "demo", "invoice",
)  # fmt: skip
_COUNTRIES = (("1", 10), ("44", 10), ("49", 11), ("972", 9), ("55", 11), ("91", 10),
              ("34", 9), ("33", 9), ("380", 9), ("971", 9))  # fmt: skip
_OPENERS = ("Hi", "Hello", "Hey", "Good morning", "Good afternoon", "Thanks", "Great")
_BODIES = (
    "is my order on its way?",
    "could you send me the invoice for last month?",
    "the delivery arrived, everything looks fine.",
    "can we move our call to tomorrow at 10?",
    "I have a question about the pricing plans.",
    "your package has shipped and should arrive on Friday.",
    "we have received your payment, thank you!",
    "please find the updated quote attached.",
    "the technician will visit between 2 and 4 pm.",
    "is the discount still available this week?",
    "I'd like to add two more seats to our plan.",
    "sorry for the delay, we are checking it now.",
    "could you confirm the shipping address?",
    "the new version is live, let us know what you think.",
    "can you resend the link? It expired.",
    "we're closed on Monday for the holiday.",
)  # fmt: skip
_NOTES = (
    "Customer prefers WhatsApp over email.",
    "Asked for a callback next week.",
    "Escalated to billing.",
    "Promised a 10% discount on renewal.",
)  # fmt: skip
_ATTACHMENTS = (
    ("invoice.pdf", "application/pdf"),
    ("photo.jpg", "image/jpeg"),
    ("quote.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("voice.ogg", "audio/ogg"),
)
_OUTGOING_ORIGINS = ("Shared Inbox", "synced from WhatsApp", "Public API", "Mass Messaging")
_REACTIONS = ("👍", "❤️", "😂", "🙏", "🎉")


def _mix(value: int) -> int:
    """splitmix64: a cheap, well-spread hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def seeded_uid(seed: int, chat_id: int, index: int) -> str:
    """The uid of the `index`-th seeded message of a chat (its chat id and index inside)."""
    high = _mix(_mix(seed) ^ _mix(chat_id) ^ index)
    low = (chat_id << _INDEX_BITS | index) & ((1 << _LOW_BITS) - 1)
    return str(uuid.UUID(int=(high << 64) | low, version=4))


def decode_seeded_uid(uid: str) -> tuple[int, int] | None:
    """The (chat id, index) a seeded uid names, or `None` for any other string."""
    try:
        low = uuid.UUID(uid).int & ((1 << _LOW_BITS) - 1)
    except ValueError:
        return None
    return low >> _INDEX_BITS, low & ((1 << _INDEX_BITS) - 1)


def _phone(rng: random.Random) -> str:
    code, digits = rng.choice(_COUNTRIES)
    return "+" + code + str(rng.randrange(10 ** (digits - 1) * 2, 10**digits))


def seed_accounts(rng: random.Random, teammates: Sequence[TeammateRecord]) -> list[AccountRecord]:
    """Three connected WhatsApp accounts, owned by the first teammates."""
    accounts = []
    for index, name in enumerate(("Sales", "Support", "Main")):
        phone = _phone(rng)
        owner = teammates[index % len(teammates)]
        accounts.append(
            AccountRecord(
                id=phone[1:] + "@s.whatsapp.net",
                phone=phone,
                connected_on=-(400 - 90 * index) * _DAY,
                status="active",
                owner_name=owner.display_name,
                owner_email=owner.email,
                account_name=f"{_COMPANIES[index]} {name}",
            )
        )
    return accounts


def seed_teammates(rng: random.Random) -> list[TeammateRecord]:
    """Five members of the workspace; the first is the owner (whose token the fake accepts)."""
    teammates = []
    for index, role in enumerate(("owner", "admin", "teammate", "teammate", "agent")):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        teammates.append(
            TeammateRecord(
                user_id=101 + index,
                display_name=f"{first} {last}",
                email=f"{first.lower()}.{index}@acme.example",
                role=role,
                team="Default team" if index < 3 else "Support",
                status="Active",
                invitation_status="Accepted",
                created_at=-(500 - 50 * index) * _DAY,
            )
        )
    return teammates


def _history_length(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.04:
        return 0
    if roll < 0.70:
        return rng.randint(1, 30)
    if roll < 0.92:
        return rng.randint(31, 120)
    return rng.randint(121, 320)  # several 50-message pages


def seed_chats(
    seed: int,
    count: int,
    *,
    accounts: Sequence[AccountRecord],
    teammates: Sequence[TeammateRecord],
    shared_contacts: float = 0.0,
) -> list[ChatRecord]:
    """`count` chats: about one in ten a group, the rest direct chats with unique names.

    With `shared_contacts`, that share of the direct chats is a second (or third)
    chat with an earlier contact, on another of the workspace's numbers. Those
    draws come from a generator of their own, so every other chat is the same
    as without them.
    """
    rng = random.Random(seed * 7919 + 1)
    sharing = _ContactSharing(random.Random(seed * 7919 + 2), shared_contacts, accounts)
    chats: list[ChatRecord] = []
    names: set[str] = set()
    direct: list[ChatRecord] = []
    for offset in range(count):
        account = accounts[rng.randrange(len(accounts))]
        if rng.random() < 0.1:
            contact = _group(rng, account, direct)
        else:
            contact = sharing.contact(*_person(rng), account)
        name = _unique(contact.name, names)
        chat = _chat(rng, seed, FIRST_CHAT_ID + offset, contact, name, teammates)
        chats.append(chat)
        if not chat.is_group:
            direct.append(chat)
    return chats


@attrs.frozen
class _Contact:
    """Who a chat is with, and on which of the workspace's numbers."""

    name: str
    phone: str | None
    jid: str
    account: AccountRecord
    members: tuple[GroupMemberRecord, ...] = ()


def _person(rng: random.Random) -> tuple[str, str]:
    """A (name, phone) drawn for a direct chat."""
    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    return name, _phone(rng)


def _group(rng: random.Random, account: AccountRecord, direct: Sequence[ChatRecord]) -> _Contact:
    """A group of 3 to 8 members, some of them contacts with a direct chat."""
    name = f"{rng.choice(_COMPANIES)} {rng.choice(_GROUP_KINDS)}"
    jid = f"{account.phone[1:]}-{rng.randrange(10**9, 10**10)}@g.us"
    members = []
    for member_index in range(rng.randint(3, 8)):
        known = direct[rng.randrange(len(direct))] if direct and rng.random() < 0.6 else None
        role = "admin" if member_index == 0 else "member"
        if known is not None and known.phone is not None:
            members.append(GroupMemberRecord(known.name, known.phone, role, known.id))
        else:
            member_name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
            members.append(GroupMemberRecord(member_name, _phone(rng), role, None))
    return _Contact(name, None, jid, account, tuple(members))


def _unique(name: str, names: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`... when taken; then taken too."""
    unique, suffix = name, 2
    while unique in names:
        unique, suffix = f"{name} ({suffix})", suffix + 1
    names.add(unique)
    return unique


def _chat(
    rng: random.Random,
    seed: int,
    chat_id: int,
    contact: _Contact,
    name: str,
    teammates: Sequence[TeammateRecord],
) -> ChatRecord:
    """The chat with `contact`: its labels, flags, responsible and history's length drawn."""
    labels = [_LABELS[rng.randrange(len(_LABELS))] for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))]
    responsible = teammates[rng.randrange(len(teammates))] if rng.random() < 0.6 else None
    created = -rng.randrange(_DAY, 730 * _DAY)
    length = _history_length(rng)
    last_at = created + rng.randrange(60, -created) if length else None
    read = rng.random() < 0.7
    return ChatRecord(
        id=chat_id,
        name=name,
        phone=contact.phone,
        jid=contact.jid,
        is_group=contact.phone is None,
        closed=rng.random() < 0.2,
        read=read,
        labels=tuple(dict.fromkeys(labels)),
        chatgpt_autoresponse_enabled=rng.random() < 0.15,
        responsible_email=responsible.email if responsible else None,
        responsible_name=responsible.display_name if responsible else None,
        whatsapp_account_id=contact.account.id,
        created_at=created,
        unattended=not read and rng.random() < 0.2,
        group_members=contact.members,
        seeded_length=length,
        last_message_at=last_at,
        last_message_uid=seeded_uid(seed, chat_id, length - 1) if length else None,
    )


class _ContactSharing:
    """Decides which new direct chats are with a contact already seen on another number."""

    def __init__(self, rng: random.Random, share: float, accounts: Sequence[AccountRecord]) -> None:
        self._rng = rng
        self._share = share if len(accounts) > 1 else 0.0
        self._accounts = accounts
        #: contact phone -> (name, ids of the accounts that have a chat with it)
        self._contacts: dict[str, tuple[str, set[str]]] = {}
        self._phones: list[str] = []

    def contact(self, name: str, phone: str, account: AccountRecord) -> _Contact:
        """The contact of the next direct chat: the one drawn, or one on another number."""
        if self._share and self._contacts and self._rng.random() < self._share:
            shared = self._shared()
            if shared is not None:
                name, phone, account = shared
        if phone not in self._contacts:
            self._contacts[phone] = (name, set())
            self._phones.append(phone)
        self._contacts[phone][1].add(account.id)
        return _Contact(name, phone, phone[1:] + "@s.whatsapp.net", account)

    def _shared(self) -> tuple[str, str, AccountRecord] | None:
        phone = self._phones[self._rng.randrange(len(self._phones))]
        name, taken = self._contacts[phone]
        free = [account for account in self._accounts if account.id not in taken]
        if not free:
            return None
        return name, phone, free[self._rng.randrange(len(free))]


def seed_history(
    seed: int,
    chat: ChatRecord,
    *,
    account: AccountRecord,
    teammates: Sequence[TeammateRecord],
) -> list[MessageRecord]:
    """The chat's seeded messages, oldest first, ending at its `last_message_at`."""
    length = chat.seeded_length
    if not length or chat.last_message_at is None:
        return []
    rng = random.Random(_mix(seed) ^ chat.id)
    start, end = int(chat.created_at) + 30, int(chat.last_message_at)
    times = sorted(rng.randrange(start, end) for _ in range(length - 1))
    times.append(end)
    contact_name = chat.name
    contact_phone = chat.phone or ""
    messages = []
    for index, at in enumerate(times):
        uid = seeded_uid(seed, chat.id, index)
        roll = rng.random()
        from_me = rng.random() < 0.45
        if chat.is_group and chat.group_members and not from_me:
            member = chat.group_members[rng.randrange(len(chat.group_members))]
            contact_name, contact_phone = member.name, member.phone or ""
        teammate = teammates[rng.randrange(len(teammates))]
        message = MessageRecord(
            uid=uid,
            chat_id=chat.id,
            at=at,
            received_at=at + rng.randrange(3),
            from_me=from_me,
            text=f"{rng.choice(_OPENERS)}, {rng.choice(_BODIES)}",
            sender_phone=account.phone if from_me else contact_phone,
            sender_name=account.account_name if from_me else contact_name,
            recipient_phone=contact_phone if from_me else account.phone,
            recipient_name=contact_name if from_me else account.account_name,
            status=rng.choice(("Read", "Read", "Read", "Delivered", "Sent")),
            origin=rng.choice(_OUTGOING_ORIGINS) if from_me else "synced from WhatsApp",
            created_by="",
        )
        _vary_kind(rng, message, roll, teammate, account)
        if from_me and message.origin == "Shared Inbox":
            message.created_by = teammate.display_name
        if rng.random() < 0.05:
            emoji = _REACTIONS[rng.randrange(len(_REACTIONS))]
            message.reactions[contact_phone or "member"] = (contact_name, emoji)
        messages.append(message)
    return messages


def _vary_kind(
    rng: random.Random,
    message: MessageRecord,
    roll: float,
    teammate: TeammateRecord,
    account: AccountRecord,
) -> None:
    """Turn a few messages into notes, calls or attachments, as `roll` says."""
    if roll < 0.03:
        message.message_type = "note"
        message.text = rng.choice(_NOTES)
        message.from_me = True
        message.origin = "Shared Inbox"
        message.created_by = teammate.display_name
        message.sender_name, message.sender_phone = teammate.display_name, account.phone
        message.status = "Sent"
    elif roll < 0.05:
        message.message_type = "whatsapp_call"
        message.text = None
        message.status = rng.choice(("answered", "missed"))
        message.data = {"duration": rng.randint(0, 600), "is_video": False}
    elif roll < 0.10:
        filename, mimetype = _ATTACHMENTS[rng.randrange(len(_ATTACHMENTS))]
        message.has_attachment = True
        message.attachment_filename = filename
        message.attachment_mimetype = mimetype
        if rng.random() < 0.5:
            message.text = None
