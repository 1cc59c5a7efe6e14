"""What is checked against the API before a campaign sends: the quota and the sending number."""

from __future__ import annotations

import logging

from .._client import TimelinesClient
from ._errors import InvalidCampaignError
from ._report import QuotaCheck

__all__ = ["check_quota", "check_sending_number"]

logger = logging.getLogger("timelines_async.campaign")


async def check_quota(client: TimelinesClient, messages: int, *, per_message: int) -> QuotaCheck:
    """The workspace's messaging credits left (recurring plus pay-as-you-go) against the need."""
    needed = messages * per_message
    if needed == 0:
        return QuotaCheck(needed=0, remaining=None, per_message=per_message)
    workspace = await client.quotas.get()
    quota = workspace.messaging_quota
    remaining = None if quota is None else quota.remaining
    if remaining is None:  # no quota, or no total: nothing to check against
        logger.info("the API reported no messaging quota; the campaign is not checked against it")
        return QuotaCheck(needed=needed, remaining=None, per_message=per_message)
    extra = workspace.non_recurring_quota
    if extra is not None and extra.remaining_balance is not None:
        remaining += max(extra.remaining_balance, 0)
    return QuotaCheck(needed=needed, remaining=remaining, per_message=per_message)


async def check_sending_number(client: TimelinesClient, phone: str | None) -> None:
    """`phone` must be one of the workspace's WhatsApp numbers (checked before any send)."""
    if phone is None:
        return
    numbers = [account.phone for account in await client.whatsapp_accounts.list()]
    if any(_digits(number) == _digits(phone) for number in numbers if number):
        return
    listed = ", ".join(number for number in numbers if number) or "none"
    raise InvalidCampaignError(
        "whatsapp_account_phone",
        f"{phone} is not a WhatsApp number of this workspace (its numbers: {listed})",
    )


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())
