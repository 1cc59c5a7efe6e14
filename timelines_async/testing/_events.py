"""Webhook events: their payloads (webhook_spec.yaml, nested shape) and their delivery.

Every event goes at once to the in-process callbacks (`fake.on_event`). For
each enabled subscription of the event's type a `WebhookDelivery` is queued:
a loopback URL is POSTed to (5 s timeout, 3 attempts, `errors_counter`
counting consecutive failures, never auto-disabled, as the API does) when
`deliver()` runs; any other URL is recorded as undeliverable, because the fake
never leaves the machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._records import ChatRecord, MessageRecord, WebhookDelivery
from ._render import ATTACHMENT_URL, CHAT_URL
from ._state import WorkspaceState

__all__ = ["EventHub", "is_loopback_url"]

EventCallback = Callable[[dict[str, Any]], object]
DELIVERY_ATTEMPTS = 3
DELIVERY_TIMEOUT = 5.0


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EventHub:
    """Builds event payloads, hands them to callbacks and queues webhook deliveries.

    It listens to `space` from the start; `download_url(file_uid)` is the
    temporary URL a payload gives for an uploaded file.
    """

    def __init__(
        self,
        space: WorkspaceState,
        download_url: Callable[[str], str],
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.space = space
        self.callbacks: list[EventCallback] = []
        self.deliveries: list[WebhookDelivery] = []
        self._pending: list[WebhookDelivery] = []
        self._download_url = download_url
        self._http_client = http_client
        space.subscribe(self.emit)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def emit(
        self,
        event_type: str,
        chat: ChatRecord,
        message: MessageRecord | None,
        extra: dict[str, Any],
    ) -> None:
        space = self.space
        subscribed = [
            webhook
            for webhook in space.webhooks.values()
            if webhook.enabled and not webhook.deleted and webhook.event_type == event_type
        ]
        if not subscribed and not self.callbacks:
            return  # nobody listens: spare building the payload
        if event_type == "message:reaction":
            payload = self._reaction_payload(space, chat, extra)
        elif message is not None:
            payload = self._message_payload(space, event_type, chat, message)
        else:
            payload = self._chat_payload(space, event_type, chat, extra)
        for callback in list(self.callbacks):
            callback(payload)
        for webhook in subscribed:
            delivery = WebhookDelivery(webhook.id, webhook.url, event_type, payload)
            self.deliveries.append(delivery)
            if is_loopback_url(webhook.url):
                self._pending.append(delivery)
            else:
                delivery.outcome = "undeliverable"

    async def deliver(self) -> None:
        """POST every queued delivery to its loopback URL."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            if self._http_client is not None:
                await self._post_all(self._http_client, pending)
            else:
                async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT) as client:
                    await self._post_all(client, pending)
        finally:
            # Cut short (the request that queued them was cancelled or timed out):
            # what was not settled goes out with the next request, as a retry would.
            self._pending[:0] = [d for d in pending if d.outcome == "pending"]

    async def _post_all(self, client: httpx.AsyncClient, pending: list[WebhookDelivery]) -> None:
        space = self.space
        for delivery in pending:
            ok = False
            while not ok and delivery.attempts < DELIVERY_ATTEMPTS:
                delivery.attempts += 1
                try:
                    answer = await client.post(
                        delivery.url, json=delivery.payload, timeout=DELIVERY_TIMEOUT
                    )
                    ok = answer.is_success
                except httpx.HTTPError:
                    ok = False
            delivery.outcome = "delivered" if ok else "failed"
            webhook = space.webhooks.get(delivery.webhook_id)
            if webhook is not None:
                webhook.errors_counter = 0 if ok else webhook.errors_counter + 1

    def _account_brief(self, space: WorkspaceState, chat: ChatRecord) -> dict[str, Any]:
        account = space.account(chat.whatsapp_account_id)
        return {
            "full_name": account.owner_name,
            "email": account.owner_email,
            "phone": account.phone,
        }

    def _message_payload(
        self, space: WorkspaceState, event_type: str, chat: ChatRecord, message: MessageRecord
    ) -> dict[str, Any]:
        text = space.clock.text
        chat_info: dict[str, Any] = {
            "full_name": chat.name,
            "chat_url": CHAT_URL.format(chat.id),
            "chat_id": chat.id,
            "is_group": chat.is_group,
            "phone": chat.phone or "",
        }
        if chat.responsible_email is not None:
            chat_info["responsible_email"] = chat.responsible_email
            chat_info["responsible_name"] = chat.responsible_name or ""
        body: dict[str, Any] = {
            "text": message.text or "",
            "direction": "sent" if message.from_me else "received",
            "origin": message.origin,
            "timestamp": text(message.at),
            "received_timestamp": text(message.received_at),
            "message_uid": message.uid,
            "sender": {"full_name": message.sender_name, "phone": message.sender_phone},
            "recipient": {"full_name": message.recipient_name, "phone": message.recipient_phone},
        }
        if message.reply_to:
            body["reply_to_uid"] = message.reply_to
        if message.has_attachment and message.attachment_filename is not None:
            url = (
                self._download_url(message.file_uid)
                if message.file_uid
                else ATTACHMENT_URL.format(message.uid, message.attachment_filename)
            )
            body["attachments"] = [
                {
                    "temporary_download_url": url,
                    "filename": message.attachment_filename,
                    "size": message.attachment_size,
                    "mimetype": message.attachment_mimetype or "application/octet-stream",
                }
            ]
        return {
            "event_type": event_type,
            "chat": chat_info,
            "whatsapp_account": self._account_brief(space, chat),
            "message": body,
        }

    def _chat_payload(
        self, space: WorkspaceState, event_type: str, chat: ChatRecord, extra: dict[str, Any]
    ) -> dict[str, Any]:
        text = space.clock.text
        account = space.account(chat.whatsapp_account_id)
        info: dict[str, Any] = {
            "id": chat.id,
            "name": chat.name,
            "phone": chat.phone or "",
            "jid": chat.jid,
            "is_group": chat.is_group,
            "closed": chat.closed,
            "read": chat.read,
            "labels": list(chat.labels),
            "unattended_customer": chat.unattended,
            "chatgpt_autoresponse_enabled": chat.chatgpt_autoresponse_enabled,
            "whatsapp_account_id": chat.whatsapp_account_id,
            "chat_url": CHAT_URL.format(chat.id),
            "created_timestamp": text(chat.created_at),
        }
        if chat.last_message_uid is not None and chat.last_message_at is not None:
            info["last_message_uid"] = chat.last_message_uid
            info["last_message_timestamp"] = text(chat.last_message_at)
        if chat.responsible_email is not None:
            info["responsible_email"] = chat.responsible_email
            info["responsible_name"] = chat.responsible_name or ""
        info.update(extra)
        return {
            "event_type": event_type,
            "chat": info,
            "whatsapp_account": {
                "id": account.id,
                "phone": account.phone,
                "connected_on": text(account.connected_on),
                "status": account.status,
                "account_name": account.account_name,
                "owner_name": account.owner_name,
                "owner_email": account.owner_email,
            },
        }

    def _reaction_payload(
        self, space: WorkspaceState, chat: ChatRecord, extra: dict[str, Any]
    ) -> dict[str, Any]:
        account = space.account(chat.whatsapp_account_id)
        return {
            "event_type": "message:reaction",
            "chat": {
                "full_name": chat.name,
                "chat_url": CHAT_URL.format(chat.id),
                "chat_id": chat.id,
                "chat_type": "group" if chat.is_group else "direct",
                "platform": "whatsapp",
                "phone": (chat.phone or "").lstrip("+"),
            },
            "whatsapp_account": {
                **self._account_brief(space, chat),
                "whatsapp_account_wid": account.id,
            },
            "reaction": extra,
        }
