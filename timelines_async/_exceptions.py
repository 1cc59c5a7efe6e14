"""Every error the client raises.

```
TimelinesError
├── ConfigurationError
├── InvalidRequestError (also a ValueError)   raised before any request is sent
├── TransportError                            network failure after retries
├── SendOutcomeUnknown                        a send may or may not have been accepted
├── InvalidEventError                         a webhook body that is not an event
└── APIError                                  .status_code .error_code .message .errors
    ├── BadRequestError          400
    ├── AuthenticationError      401
    ├── PermissionDeniedError    403
    ├── NotFoundError            404, 410
    ├── MethodNotAllowedError    405   (not_supported: not on this WhatsApp account)
    ├── ConflictError            409
    ├── PayloadTooLargeError     413
    ├── UnprocessableEntityError 422
    ├── RateLimitError           429   .retry_after
    ├── QuotaExceededError       error_code quota_exceeded, whatever the status
    ├── ServerError              5xx
    └── UnexpectedResponseError  a body that is not the API's envelope
```

A 2xx answer whose envelope says `"status": "error"` maps by its `error_code`
to the class of the status the API documents for that code (`not_found` ->
`NotFoundError`, `rate_limit_exceeded` -> `RateLimitError`, retried like a 429,
`internal_error` -> `ServerError`, ...): one error tree whatever the status.

No exception carries the API token: errors hold the method, the path and what
the server said, never the request headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InvalidEventError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "TimelinesError",
    "TransportError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
]


class TimelinesError(Exception):
    """The base of every error this package raises."""


class ConfigurationError(TimelinesError):
    """The client cannot be built as configured (for example, no token)."""


class InvalidRequestError(TimelinesError, ValueError):
    """Bad input, caught before any request left the machine.

    `field` names the argument at fault.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidEventError(TimelinesError):
    """A webhook body that is not a TimelinesAI event (not JSON, no `event_type`)."""


class TransportError(TimelinesError):
    """The network failed and retries did not help (or were not allowed).

    `method` and `path` say which request failed; the httpx exception is chained.
    """

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(f"{method} {path}: {message}")
        self.method = method
        self.path = path


class APIError(TimelinesError):
    """The API answered with an error.

    `status_code` is the HTTP status, `error_code` the API's machine-readable
    code (`validation_error`, `invalid_token`, ...) or `None`, `message` its
    human-readable text, and `errors` the per-field validation errors
    (`[{"fields": [...], "msg": ...}]`), empty when the API sent none.
    `retry_after` is the wait in seconds the server asked for in a `Retry-After`
    header (on a 429, a 503, ...), or `None`.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        where = f"{method} {path} " if method else ""
        code = f" [{error_code}]" if error_code else ""
        super().__init__(f"{where}-> {status_code}{code}: {message}")
        self.message = message
        self.status_code = status_code
        self.error_code = error_code
        self.errors = [dict(error) for error in errors]
        self.method = method
        self.path = path
        self.retry_after = retry_after


class BadRequestError(APIError):
    """400: the API rejected the request (usually `validation_error`)."""


class AuthenticationError(APIError):
    """401: the token is missing, unknown, expired or revoked."""


class PermissionDeniedError(APIError):
    """403: the token may not do this (or the plan lacks the feature)."""


class NotFoundError(APIError):
    """404 (or 410): the chat, message, file or webhook does not exist."""


class MethodNotAllowedError(APIError):
    """405 (`not_supported`): not available for this WhatsApp account (a WABA-only operation
    on a QR account, say)."""


class ConflictError(APIError):
    """409: the request conflicts with the resource's state."""


class PayloadTooLargeError(APIError):
    """413: the upload is larger than the API accepts."""


class UnprocessableEntityError(APIError):
    """422: well-formed but unusable (a WABA template's variables do not match it, say)."""


class RateLimitError(APIError):
    """429: too many requests. `retry_after` is the server's wait in seconds, if given."""


class QuotaExceededError(APIError):
    """`error_code: quota_exceeded`: the messaging or API-call quota is used up."""


class ServerError(APIError):
    """5xx: the server failed."""


class UnexpectedResponseError(APIError):
    """The body is not the API's JSON envelope (HTML, truncated JSON, a wrong shape)."""
