"""Reading the API's answers: the JSON envelope, and the error an answer stands for.

Every answer is `{"status": "ok", "data": ...}` or `{"status": "error", "message": ...,
"error_code": ..., "errors": [...]}`; `decode_response` returns the data of the first
and raises the `APIError` subclass the second maps to, whatever the HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _json
from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from ._retry import parse_retry_after

__all__ = ["damaged", "decode_response", "error_for_status", "error_from_response", "snippet"]

_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    410: NotFoundError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
#: What a 2xx whose envelope says "error" stands for: the class of the status the
#: API documents for its `error_code`.
_CODE_ERRORS: dict[str, type[APIError]] = {
    "missing_credentials": AuthenticationError,
    "invalid_token": AuthenticationError,
    "member_not_found": PermissionDeniedError,
    "permission_denied": PermissionDeniedError,
    "insufficient_scope": PermissionDeniedError,
    "plan_feature_unavailable": PermissionDeniedError,
    "quota_exceeded": QuotaExceededError,
    "rate_limit_exceeded": RateLimitError,
    "validation_error": BadRequestError,
    "not_found": NotFoundError,
    "account_inactive": ConflictError,
    "template_not_approved": ConflictError,
    "template_wrong_waba": ConflictError,
    "service_window_closed": ConflictError,
    "template_variables_mismatch": UnprocessableEntityError,
    "not_supported": MethodNotAllowedError,
    "internal_error": ServerError,
}
#: Statuses whose meaning does not depend on the body (a proxy's HTML page on a
#: 502 is still a server error; a bare "Unauthorized" is still a 401).
_STATUS_SPEAKS_FOR_ITSELF = frozenset({401, 413, 429})
_MISSING = object()


def snippet(body: bytes, limit: int = 200) -> str:
    """The start of a body, for an error message."""
    text = body[:limit].decode("utf-8", "replace").strip()
    return text + ("..." if len(body) > limit else "") if text else "(empty body)"


def _decode_json(body: bytes) -> object:
    if not body:
        return None
    try:
        return _json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or absurdly nested
        return _MISSING


def error_for_status(status: int, message: str, **context: Any) -> APIError:
    """The `APIError` subclass an HTTP error status stands for."""
    if status >= 500:
        return ServerError(message, status_code=status, **context)
    return _STATUS_ERRORS.get(status, APIError)(message, status_code=status, **context)


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str], *, method: str, path: str
) -> APIError:
    """The error for an answer that is an error: a 4xx/5xx, or a 2xx whose envelope says `error`."""
    payload = _decode_json(body)
    envelope = payload if isinstance(payload, dict) else None
    context: dict[str, Any] = {
        "method": method,
        "path": path,
        "retry_after": parse_retry_after(headers.get("retry-after")),
    }
    if envelope is not None and ("message" in envelope or "status" in envelope):
        message = str(envelope.get("message") or envelope.get("error") or "no message")
        error_code = envelope.get("error_code")
        context["error_code"] = error_code if isinstance(error_code, str) else None
        errors = envelope.get("errors")
        if isinstance(errors, list):
            context["errors"] = [item for item in errors if isinstance(item, dict)]
    else:
        message = snippet(body)
        if status < 500 and status not in _STATUS_SPEAKS_FOR_ITSELF:
            return UnexpectedResponseError(
                f"the answer is not the API's JSON envelope: {message}",
                status_code=status,
                **context,
            )
    code = context.get("error_code")
    if code == "quota_exceeded" or status < 300:
        return _CODE_ERRORS.get(code or "", APIError)(message, status_code=status, **context)
    return error_for_status(status, message, **context)


def damaged(error: APIError) -> bool:
    """A 2xx whose body is not the envelope (cut short, a proxy's page): damaged on the way.

    The server did act on the request, so it is no definite refusal: a read may
    ask again, and a send's outcome is unknown.
    """
    return isinstance(error, UnexpectedResponseError) and 200 <= error.status_code < 300


def decode_response(
    status: int, body: bytes, headers: Mapping[str, str], *, method: str, path: str
) -> Any:
    """The envelope's `data` for a successful answer; raises the mapped `APIError` otherwise.

    A 2xx with an empty body (some DELETEs) or no `data` gives `None`.
    """
    payload = _decode_json(body)
    is_error_envelope = isinstance(payload, dict) and payload.get("status") == "error"
    if status >= 300 or is_error_envelope:
        raise error_from_response(status, body, headers, method=method, path=path)
    if payload is None:
        return None
    if not isinstance(payload, dict) or payload.get("status") != "ok":
        raise UnexpectedResponseError(
            f"the answer is not the API's JSON envelope: {snippet(body)}",
            status_code=status,
            method=method,
            path=path,
        )
    return payload.get("data")
