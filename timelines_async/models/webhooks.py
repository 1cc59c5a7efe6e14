"""Webhook subscriptions (`/webhooks`)."""

from __future__ import annotations

import attrs

from ._enums import WebhookEventType

__all__ = ["Webhook"]


@attrs.frozen(kw_only=True)
class Webhook:
    id: int
    event_type: WebhookEventType | str
    url: str
    enabled: bool | None = None
    #: Consecutive failed deliveries.
    errors_counter: int | None = None
