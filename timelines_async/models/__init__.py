"""The API's objects as frozen attrs classes; attribute names are the API's field names."""

from ._enums import MessageStatus, MessageType, WebhookEventType
from .chats import Chat, GroupMember
from .files import FileInfo
from .messages import Message, Reactions, ReactionUser, SentMessage, StatusChange
from .webhooks import Webhook
from .workspace import NonRecurringQuota, Quota, Team, Teammate, WhatsAppAccount, Workspace

__all__ = [
    "Chat",
    "FileInfo",
    "GroupMember",
    "Message",
    "MessageStatus",
    "MessageType",
    "NonRecurringQuota",
    "Quota",
    "ReactionUser",
    "Reactions",
    "SentMessage",
    "StatusChange",
    "Team",
    "Teammate",
    "Webhook",
    "WebhookEventType",
    "WhatsAppAccount",
    "Workspace",
]
