"""`/webhooks`: the workspace's webhook subscriptions (ten at most)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._checks import MAX_URL, bool_field, json_object, required_string, string_field
from .._records import WebhookRecord
from .._render import render_webhook
from .._state import WorkspaceState
from .._wire import ApiFailure, Request, Response, empty_ok, field_error, ok
from ._common import Route

__all__ = ["WebhookRoutes"]

WEBHOOK_LIMIT = 10
EVENT_TYPES = frozenset(
    {
        "message:new", "message:sent:new", "message:received:new", "message:reaction",
        "chat:new", "chat:incoming:new", "chat:outgoing:new", "chat:responsible:assigned",
        "chat:responsible:unassigned", "call:incoming:missed", "call:incoming:ended",
        "call:outgoing:ended", "whatsapp:account:connected", "whatsapp:account:disconnected",
        "whatsapp:account:suspended", "whatsapp:account:resumed", "waba:message:received",
        "waba:message:delivered", "waba:message:failed", "waba:message:read",
        "waba:chat:incoming", "waba:chat:outgoing", "waba:chat:assigned", "waba:chat:unassigned",
        "waba:chat:closed", "waba:chat:reopened", "waba:account:active", "waba:account:disabled",
        "waba:account:disconnected", "waba:template:approved", "waba:template:rejected",
        "waba:template:disabled",
    }
)  # fmt: skip


class WebhookRoutes:
    def __init__(self, space: WorkspaceState) -> None:
        self.space = space

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/webhooks", self.list_webhooks),
            Route("POST", "/webhooks", self.create_webhook),
            Route("GET", "/webhooks/{}", self.get_webhook),
            Route("PUT", "/webhooks/{}", self.update_webhook),
            Route("DELETE", "/webhooks/{}", self.delete_webhook),
        ]

    def list_webhooks(self, request: Request, args: tuple[str, ...]) -> Response:
        webhooks = sorted(
            (w for w in self.space.webhooks.values() if not w.deleted), key=lambda w: w.id
        )
        return ok([render_webhook(webhook) for webhook in webhooks])

    def create_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        event_type = required_string(body, "event_type", 64)
        url = required_string(body, "url", MAX_URL)
        _, _, enabled = self._webhook_fields(body)
        live = [w for w in self.space.webhooks.values() if not w.deleted]
        existing = any(w.event_type == event_type and w.url == url for w in live)
        if not existing and len(live) >= WEBHOOK_LIMIT:
            raise ApiFailure(
                403,
                f"The workspace has {WEBHOOK_LIMIT} webhooks already",
                "plan_feature_unavailable",
            )
        webhook = self.space.add_webhook(event_type, url, True if enabled is None else enabled)
        return ok(render_webhook(webhook))

    def get_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        return ok(render_webhook(self._webhook(args[0])))

    def update_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        webhook = self._webhook(args[0])
        event_type, url, enabled = self._webhook_fields(json_object(request))
        if event_type is not None:
            webhook.event_type = event_type
        if url is not None:
            webhook.url = url
        if enabled is not None:
            webhook.enabled = enabled
        return ok(render_webhook(webhook))

    def delete_webhook(self, request: Request, args: tuple[str, ...]) -> Response:
        self._webhook(args[0]).deleted = True
        return empty_ok()

    def _webhook(self, raw_id: str) -> WebhookRecord:
        webhook = self.space.webhooks.get(int(raw_id)) if raw_id.isdigit() else None
        if webhook is None or webhook.deleted:
            raise ApiFailure(404, f"Webhook {raw_id} not found", "not_found")
        return webhook

    def _webhook_fields(
        self, body: Mapping[str, Any]
    ) -> tuple[str | None, str | None, bool | None]:
        """The fields of a webhook body that are present, each checked."""
        event_type = string_field(body, "event_type", 64)
        if event_type is not None and event_type not in EVENT_TYPES:
            raise field_error("event_type", f"unknown event type {event_type!r}")
        url = string_field(body, "url", MAX_URL)
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise field_error("url", "must be a valid http(s) URL")
        return event_type, url, bool_field(body, "enabled")
