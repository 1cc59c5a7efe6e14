"""Async Python client for the TimelinesAI Public API.

from timelines_async import TimelinesClient

async with TimelinesClient() as tl:            # token from TIMELINES_API_TOKEN
    async for chat in tl.chats.list(label="vip", read=False):
        print(chat.id, chat.name)
    await tl.messages.send(phone="+14155551234", text="Your order shipped")
"""

from ._client import TimelinesClient
from ._converter import to_jsonable
from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InvalidEventError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TimelinesError,
    TransportError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from ._limits import InProcessSendLimiter, RequestPacing, SendLimiter
from ._pagination import Page, Pager
from ._send_attempt import SendAttempt, SendOutcomeUnknown, Target, TargetKind
from ._version import __version__
from .models import (
    Chat,
    FileInfo,
    GroupMember,
    Message,
    MessageStatus,
    MessageType,
    NonRecurringQuota,
    Quota,
    Reactions,
    ReactionUser,
    SentMessage,
    StatusChange,
    Team,
    Teammate,
    Webhook,
    WebhookEventType,
    WhatsAppAccount,
    Workspace,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "Chat",
    "ConfigurationError",
    "ConflictError",
    "FileInfo",
    "GroupMember",
    "InProcessSendLimiter",
    "InvalidEventError",
    "InvalidRequestError",
    "Message",
    "MessageStatus",
    "MessageType",
    "MethodNotAllowedError",
    "NonRecurringQuota",
    "NotFoundError",
    "Page",
    "Pager",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Quota",
    "QuotaExceededError",
    "RateLimitError",
    "ReactionUser",
    "Reactions",
    "RequestPacing",
    "SendAttempt",
    "SendLimiter",
    "SendOutcomeUnknown",
    "SentMessage",
    "ServerError",
    "StatusChange",
    "Target",
    "TargetKind",
    "Team",
    "Teammate",
    "TimelinesClient",
    "TimelinesError",
    "TransportError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "Webhook",
    "WebhookEventType",
    "WhatsAppAccount",
    "Workspace",
    "__version__",
    "to_jsonable",
]
