"""The `GET /chats` filters as one predicate: AND across filters, OR within a comma list."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ._checks import bool_query, csv_query
from ._clock import FakeClock
from ._records import ChatRecord
from ._state import clean_phone
from ._wire import field_error

__all__ = ["CHAT_FILTERS", "chat_filter"]

#: The query parameters that select chats (a listing is cached per their values).
CHAT_FILTERS = (
    "label", "whatsapp_account_id", "group", "responsible", "name", "phone", "whatsapp_phone",
    "read", "closed", "chatgpt_autoresponse_enabled", "created_after", "created_before",
)  # fmt: skip


def chat_filter(query: Mapping[str, str], clock: FakeClock) -> Callable[[ChatRecord], bool]:
    """One predicate for every filter given: AND across filters, OR within a comma list."""
    checks: list[Callable[[ChatRecord], bool]] = []
    labels = csv_query(query, "label")
    if labels is not None:
        wanted = {label.casefold() for label in labels}
        checks.append(lambda chat: any(label.casefold() in wanted for label in chat.labels))
    accounts = csv_query(query, "whatsapp_account_id")
    if accounts is not None:
        account_set = set(accounts)
        checks.append(lambda chat: chat.whatsapp_account_id in account_set)
    responsible = csv_query(query, "responsible")
    if responsible is not None:
        emails = {email.casefold() for email in responsible}
        checks.append(lambda chat: (chat.responsible_email or "").casefold() in emails)
    names = csv_query(query, "name")
    if names is not None:
        folded_names = [name.casefold() for name in names]
        checks.append(lambda chat: any(n in chat.name.casefold() for n in folded_names))
    for flag in ("group", "read", "closed", "chatgpt_autoresponse_enabled"):
        value = bool_query(query, flag)
        if value is not None:
            attribute = "is_group" if flag == "group" else flag
            checks.append(_flag_check(attribute, value))
    phone = query.get("phone")
    if phone:
        checks.append(_phone_filter(phone))
    whatsapp_phones = csv_query(query, "whatsapp_phone")
    if whatsapp_phones is not None:
        checks.append(_member_phone_filter(whatsapp_phones))
    for name, after in (("created_after", True), ("created_before", False)):
        value_text = query.get(name)
        if value_text:
            bound = clock.from_text(value_text)
            if bound is None:
                raise field_error(name, "invalid datetime format")
            checks.append(_created_check(bound, after=after))
    return lambda chat: all(check(chat) for check in checks)


def _phone_filter(phone: str) -> Callable[[ChatRecord], bool]:
    """With a `+`: that number exactly; without: leading zeros dropped, any number containing it."""
    compact = clean_phone(phone) or phone.strip()
    if compact.startswith("+"):
        return lambda chat: not chat.is_group and chat.phone == compact
    digits = compact.lstrip("0")
    return lambda chat: not chat.is_group and digits in (chat.phone or "")


def _member_phone_filter(phones: list[str]) -> Callable[[ChatRecord], bool]:
    """Direct chats with one of the numbers, and groups with one of them as a member."""
    tails: list[str] = []
    for phone in phones:
        compact = clean_phone(phone) or phone.strip()
        # A leading 0 stands for the country code: match the national part.
        tails.append(_digits(compact).lstrip("0"))

    def matches_number(number: str | None) -> bool:
        return number is not None and any(_digits(number).endswith(t) for t in tails if t)

    return lambda chat: (
        any(matches_number(member.phone) for member in chat.group_members)
        if chat.is_group
        else matches_number(chat.phone)
    )


def _flag_check(attribute: str, wanted: bool) -> Callable[[ChatRecord], bool]:
    return lambda chat: getattr(chat, attribute) is wanted


def _created_check(bound: float, *, after: bool) -> Callable[[ChatRecord], bool]:
    if after:
        return lambda chat: chat.created_at // 1 > bound
    return lambda chat: chat.created_at // 1 < bound


def _digits(phone: str) -> str:
    return phone.lstrip("+")
