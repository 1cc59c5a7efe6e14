"""WhatsApp accounts, teammates and the workspace with its quotas."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["NonRecurringQuota", "Quota", "Team", "Teammate", "WhatsAppAccount", "Workspace"]


@attrs.frozen(kw_only=True)
class WhatsAppAccount:
    #: The account's JID, e.g. `972501111111@s.whatsapp.net`.
    id: str
    phone: str | None = None
    connected_on: datetime | None = None
    #: `active` or `disconnected` (the API's case varies: compare case-insensitively).
    status: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    account_name: str | None = None


@attrs.frozen(kw_only=True)
class Team:
    title: str


@attrs.frozen(kw_only=True)
class Teammate:
    user_id: int
    display_name: str | None = None
    email: str | None = None
    role: str | None = None
    team: str | None = None
    status: str | None = None
    invitation_status: str | None = None
    created_at: datetime | None = None
    whatsapp_accounts: tuple[WhatsAppAccount, ...] = ()


@attrs.frozen(kw_only=True)
class Quota:
    #: `None` when the API does not say (no limit set, or not counted).
    total: int | None = None
    used: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None

    @property
    def remaining(self) -> int | None:
        """What is left this period; `None` when the total or the use is not known."""
        if self.total is None or self.used is None:
            return None
        return max(self.total - self.used, 0)


@attrs.frozen(kw_only=True)
class NonRecurringQuota:
    remaining_balance: int | None = None
    last_updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Workspace:
    """`GET /workspace`: the plan, seats and quotas."""

    workspace_id: str | None = None
    display_name: str | None = None
    plan: str | None = None
    seats: Quota | None = None
    messaging_quota: Quota | None = None
    api_calls_quota: Quota | None = None
    non_recurring_quota: NonRecurringQuota | None = None
