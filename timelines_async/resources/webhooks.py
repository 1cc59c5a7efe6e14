"""`tl.webhooks`: webhook subscriptions (one event type and one URL each).

`create` is idempotent on the server (the same event type and URL give the same
subscription, re-enabled or restored), so it is retried like a read.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from .._converter import structure
from .._exceptions import InvalidRequestError
from .._http import HTTPCore, _Call
from .._retry import RequestKind
from .._validation import check_bool, check_http_url, check_id
from ..models import Webhook, WebhookEventType

__all__ = ["EVENT_TYPES", "WABA_EVENT_TYPES", "Webhooks"]

#: The WhatsApp Business Platform events a subscription may also name (the spec's enum).
WABA_EVENT_TYPES = frozenset(
    {
        "waba:message:received",
        "waba:message:delivered",
        "waba:message:failed",
        "waba:message:read",
        "waba:chat:incoming",
        "waba:chat:outgoing",
        "waba:chat:assigned",
        "waba:chat:unassigned",
        "waba:chat:closed",
        "waba:chat:reopened",
        "waba:account:active",
        "waba:account:disabled",
        "waba:account:disconnected",
        "waba:template:approved",
        "waba:template:rejected",
        "waba:template:disabled",
    }
)
#: Every event type the API accepts for a subscription.
EVENT_TYPES = frozenset(member.value for member in WebhookEventType) | WABA_EVENT_TYPES


class Webhooks:
    """`tl.webhooks`: webhook subscriptions, one event type and one URL each."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def list(self) -> builtins.list[Webhook]:
        """Every subscription of the workspace.

        Returns:
            The `Webhook`s, by id.
        """
        data = await self._http.request(_Call("GET", "/webhooks"))
        return structure(data, list[Webhook], what="the webhook list")

    async def create(
        self, event_type: WebhookEventType | str, url: str, *, enabled: bool = True
    ) -> Webhook:
        """Subscribe `url` to `event_type`.

        Creating the same pair again returns the existing subscription (enabled
        again if it was disabled or deleted), never a duplicate; so it is
        retried like a read.

        Args:
            event_type: A `WebhookEventType` or its string (`waba:*` events too).
            url: An http(s) URL with a host, at most 4096 characters; it usually
                carries a secret, and errors never repeat it.
            enabled: Whether deliveries start at once.

        Returns:
            The `Webhook`.

        Raises:
            InvalidRequestError: An unknown event type or a bad URL.
        """
        body = {
            "event_type": _check_event_type(event_type),
            "url": check_http_url("url", url),
            "enabled": check_bool("enabled", enabled),
        }
        data = await self._http.request(
            _Call("POST", "/webhooks", json=body, kind=RequestKind.IDEMPOTENT)
        )
        return structure(data, Webhook, what="the created webhook")

    async def ensure(
        self, url: str, event_types: Iterable[WebhookEventType | str]
    ) -> builtins.list[Webhook]:
        """Subscribe `url`, enabled, to each of `event_types`; return those subscriptions.

        Idempotent and safe at every start-up of every replica: what exists and is
        enabled is left alone, a disabled subscription is enabled, a missing one is
        created (the API's create returns an existing pair rather than a second
        one, so replicas racing here cannot make a duplicate). Other subscriptions
        are not touched. The result follows the order of `event_types`.
        """
        url = check_http_url("url", url)
        if isinstance(event_types, str):
            raise InvalidRequestError("event_types", "pass a list of event types, not one string")
        wanted = builtins.list(dict.fromkeys(_check_event_type(t) for t in event_types))
        if not wanted:
            raise InvalidRequestError("event_types", "name at least one event type")
        existing = {(str(w.event_type), w.url): w for w in reversed(await self.list())}
        ensured = []
        for event_type in wanted:
            webhook = existing.get((event_type, url))
            if webhook is None:
                webhook = await self.create(event_type, url)
            elif webhook.enabled is False:
                webhook = await self.update(webhook.id, enabled=True)
            ensured.append(webhook)
        return ensured

    async def get(self, webhook_id: int | str) -> Webhook:
        """One subscription by id.

        Args:
            webhook_id: The subscription's id.

        Returns:
            The `Webhook`.

        Raises:
            InvalidRequestError: A bad id.
            NotFoundError: No such subscription.
        """
        webhook_id = check_id("webhook_id", webhook_id, what="webhook")
        data = await self._http.request(_Call("GET", f"/webhooks/{webhook_id}"))
        return structure(data, Webhook, what="a webhook")

    async def update(
        self,
        webhook_id: int | str,
        *,
        event_type: WebhookEventType | str | None = None,
        url: str | None = None,
        enabled: bool | None = None,
    ) -> Webhook:
        """Change only what is passed; `enabled=False` pauses deliveries, keeping it.

        Args:
            webhook_id: The subscription's id.
            event_type: A new event type.
            url: A new URL.
            enabled: Resume (`True`) or pause (`False`) deliveries.

        Returns:
            The updated `Webhook`.

        Raises:
            InvalidRequestError: A bad argument, or nothing to change.
            NotFoundError: No such subscription.
        """
        webhook_id = check_id("webhook_id", webhook_id, what="webhook")
        body: dict[str, Any] = {}
        if event_type is not None:
            body["event_type"] = _check_event_type(event_type)
        if url is not None:
            body["url"] = check_http_url("url", url)
        if enabled is not None:
            body["enabled"] = check_bool("enabled", enabled)
        if not body:
            raise InvalidRequestError("update", "pass at least one of event_type, url or enabled")
        data = await self._http.request(_Call("PUT", f"/webhooks/{webhook_id}", json=body))
        return structure(data, Webhook, what="the updated webhook")

    async def delete(self, webhook_id: int | str) -> None:
        """Delete the subscription; deliveries stop at once.

        Args:
            webhook_id: The subscription's id.

        Raises:
            InvalidRequestError: A bad id.
            NotFoundError: No such subscription.
        """
        webhook_id = check_id("webhook_id", webhook_id, what="webhook")
        await self._http.request(_Call("DELETE", f"/webhooks/{webhook_id}"))


def _check_event_type(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(
            "event_type", f"must be a WebhookEventType or a string, not {type(value).__name__}"
        )
    event_type = str(value.value if isinstance(value, WebhookEventType) else value)
    if event_type not in EVENT_TYPES:
        raise InvalidRequestError(
            "event_type",
            f"{event_type!r} is not an event type the API knows "
            "(see WebhookEventType, e.g. 'message:received:new')",
        )
    return event_type
