"""What a send was: its `Target` and the `SendAttempt` that `reconcile` checks.

A send whose outcome is unknown raises `SendOutcomeUnknown` carrying its
`SendAttempt`; the campaign journal stores the same value and rebuilds it, so
the question "did it go out?" is asked one way, whoever asks it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from ._exceptions import TimelinesError
from ._validation import MAX_CHAT_NAME, check_chat_id, check_phone, check_text, check_uid

__all__ = ["SendAttempt", "SendOutcomeUnknown", "Target", "TargetKind"]


class TargetKind(StrEnum):
    """How a send names its recipient (the keyword of `tl.messages.send`)."""

    PHONE = "phone"
    CHAT_ID = "chat_id"
    JID = "jid"
    CHAT_NAME = "chat_name"


@attrs.frozen
class Target:
    """Where a send goes: build it with `Target.phone(...)`, `.chat_id(...)`, `.jid(...)`
    or `.chat_name(...)`, which check and normalise the value as a send does."""

    kind: TargetKind = attrs.field(converter=TargetKind)
    value: str | int

    @classmethod
    def phone(cls, phone: str) -> Target:
        """A phone number in international format; kept as `+` and digits."""
        return cls(TargetKind.PHONE, "+" + check_phone("phone", phone).removeprefix("+"))

    @classmethod
    def chat_id(cls, chat_id: int | str) -> Target:
        """A chat id: a positive integer (a numeric string is accepted)."""
        return cls(TargetKind.CHAT_ID, check_chat_id(chat_id))

    @classmethod
    def jid(cls, jid: str) -> Target:
        return cls(TargetKind.JID, check_uid("jid", jid))

    @classmethod
    def chat_name(cls, chat_name: str) -> Target:
        """A chat by its exact name (sending by name is deprecated by the API)."""
        name = check_text("chat_name", chat_name, max_length=MAX_CHAT_NAME, allow_empty=False)
        return cls(TargetKind.CHAT_NAME, name)

    def __str__(self) -> str:
        return f"{self.kind.value}={self.value!r}"


def _has_file(attempt: SendAttempt) -> bool:
    return attempt.file_uid is not None


def _aware(_: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime, not {value!r}")


@attrs.frozen(kw_only=True)
class SendAttempt:
    """One send as it left: enough to find the message it made, if it made one.

    - `target`: where it went.
    - `whatsapp_account_phone`: the sending number when the send named one, else
      `None` (a chat always sends from its own number).
    - `text`, `file_uid`: what was sent; `attachment` says whether the message
      carried a file (a `file_uid`, an attachment template, or an upload).
    - `attempted_at`: when the request left (timezone-aware).
    """

    target: Target = attrs.field(validator=attrs.validators.instance_of(Target))
    whatsapp_account_phone: str | None = None
    text: str | None = None
    file_uid: str | None = None
    attachment: bool = attrs.field(default=attrs.Factory(_has_file, takes_self=True))
    attempted_at: datetime = attrs.field(validator=_aware)


class SendOutcomeUnknown(TimelinesError):
    """A message send whose outcome is unknown: it may or may not have gone out.

    Raised after a read timeout, a connection lost once the request was written,
    a 5xx answer, or a 2xx answer whose body could not be read. It is never
    retried automatically, because a retry could message a person twice. Check
    with `await client.messages.reconcile(err)`, which looks for the message in
    every chat the send may have gone to.

    `attempt` is the `SendAttempt` (target, sending number, text, file, time);
    `target`, `whatsapp_account_phone`, `text` and `attempted_at` are shortcuts
    to it. `reason` says what went wrong; the cause is chained as `__cause__`.
    """

    def __init__(self, *, attempt: SendAttempt, reason: str) -> None:
        self.attempt = attempt
        self.reason = reason
        sender = attempt.whatsapp_account_phone
        super().__init__(
            f"the send to {attempt.target}"
            + (f" from {sender}" if sender else "")
            + f" attempted at {attempt.attempted_at.isoformat()} may or may not have been "
            f"accepted ({reason}); it was not retried. Check with "
            "`await client.messages.reconcile(err)` before sending again."
        )

    @property
    def target(self) -> Target:
        return self.attempt.target

    @property
    def whatsapp_account_phone(self) -> str | None:
        return self.attempt.whatsapp_account_phone

    @property
    def text(self) -> str | None:
        return self.attempt.text

    @property
    def attempted_at(self) -> datetime:
        return self.attempt.attempted_at

    def __repr__(self) -> str:
        return f"SendOutcomeUnknown(attempt={self.attempt!r}, reason={self.reason!r})"
