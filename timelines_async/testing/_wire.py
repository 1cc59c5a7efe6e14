"""Requests and answers as the fake's handlers see them, independent of ASGI.

A handler takes a `Request` and returns a `Response` or raises `ApiFailure`,
which becomes the API's error envelope. The ASGI app and the in-process
transport both translate to and from these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import attrs

__all__ = [
    "JSON_CONTENT_TYPE",
    "ApiFailure",
    "Request",
    "Response",
    "empty_ok",
    "error_body",
    "field_error",
    "json_response",
    "ok",
    "ok_page",
    "parse_multipart",
    "parse_query",
    "plain_response",
]

JSON_CONTENT_TYPE = "application/json"


@attrs.define
class Request:
    method: str
    #: The URL path (still percent-encoded); `FakeTimelines.handle` strips the API prefix.
    path: str
    query: dict[str, str]
    #: Header names in lower case.
    headers: dict[str, str]
    body: bytes
    #: `scheme://host` the request was addressed to (download URLs point back to it).
    origin: str

    def json(self) -> Any:
        """The body as JSON (`{}` when empty); a 400 `validation_error` when it is not JSON."""
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiFailure(400, f"Invalid JSON body: {exc}", "validation_error") from exc

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@attrs.define
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = attrs.field(factory=list)


class ApiFailure(Exception):
    """An error answer: raised by a handler, rendered as the API's error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        error_code: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.errors = errors
        self.headers = list(headers)

    def response(self) -> Response:
        return json_response(
            error_body(self.message, self.error_code, self.errors), self.status, self.headers
        )


def field_error(field: str | Sequence[str | int], message: str) -> ApiFailure:
    """A 400 `validation_error` naming the offending field, as the API's schema validation does."""
    fields = [field] if isinstance(field, str) else list(field)
    return ApiFailure(
        400,
        f"Validation error: {'.'.join(map(str, fields))}: {message}",
        "validation_error",
        errors=[{"fields": fields, "msg": message}],
    )


def error_body(
    message: str, error_code: str | None, errors: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message}
    if error_code is not None:
        body["error_code"] = error_code
    if errors:
        body["errors"] = list(errors)
    return body


def json_bytes(payload: object) -> bytes:
    """Compact UTF-8 JSON; text holding half an emoji (a lone surrogate, which UTF-8
    cannot carry) is sent as `\\u` escapes, as a real server would."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":")).encode()


def json_response(
    payload: object, status: int = 200, headers: Sequence[tuple[str, str]] = ()
) -> Response:
    body = json_bytes(payload)
    return Response(status, body, [("content-type", JSON_CONTENT_TYPE), *headers])


def plain_response(status: int, text: str) -> Response:
    """A plain-text answer (what the API's web server gives outside the JSON API)."""
    return Response(status, text.encode(), [("content-type", "text/plain; charset=utf-8")])


def ok(data: object = None) -> Response:
    """The success envelope, `data` left out when there is none."""
    body: dict[str, Any] = {"status": "ok"}
    if data is not None:
        body["data"] = data
    return json_response(body)


def ok_page(items_key: str, has_more: bool, items: Iterable[bytes]) -> Response:
    """The success envelope of one page, around items already in JSON text.

    What `ok({"has_more_pages": has_more, items_key: [...]})` gives, without
    decoding and encoding again what the listings keep rendered.
    """
    body = b'{"status":"ok","data":{"has_more_pages":%s,"%s":[%s]}}' % (
        b"true" if has_more else b"false",
        items_key.encode(),
        b",".join(items),
    )
    return Response(200, body, [("content-type", JSON_CONTENT_TYPE)])


def empty_ok() -> Response:
    """A 200 without a body (DELETE /files/{uid}, DELETE /webhooks/{id})."""
    return Response(200, b"")


@attrs.define
class Part:
    """One part of a multipart/form-data body."""

    name: str
    content: bytes
    filename: str | None = None
    content_type: str | None = None


def parse_multipart(request: Request) -> dict[str, Part]:
    """The parts of a multipart/form-data body, by field name; 400 when it is not one."""
    header = request.headers.get("content-type", "")
    boundary = None
    for parameter in header.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if request.content_type != "multipart/form-data" or not boundary:
        raise ApiFailure(400, "Expected a multipart/form-data body", "validation_error")
    delimiter = b"--" + boundary.encode("latin-1")
    parts: dict[str, Part] = {}
    for chunk in request.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise ApiFailure(400, "Malformed multipart body", "validation_error")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        part = _part_from_headers(head.decode("utf-8", "replace"), content)
        if part is not None:
            parts[part.name] = part
    return parts


def _unquote_form(value: str) -> str:
    """Undo HTML5 form quoting of a Content-Disposition value (as browsers and httpx write it)."""
    return value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def _part_from_headers(head: str, content: bytes) -> Part | None:
    name = filename = content_type = None
    for line in head.strip().split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-type":
            content_type = value.strip()
        elif key.strip().lower() == "content-disposition":
            for parameter in value.split(";")[1:]:
                pkey, _, pvalue = parameter.strip().partition("=")
                if pkey.lower() == "name":
                    name = pvalue.strip('"')
                elif pkey.lower() == "filename":
                    filename = _unquote_form(pvalue.strip('"'))
    if name is None:
        return None
    return Part(name, content, filename, content_type)


def parse_query(raw: str) -> dict[str, str]:
    """A query string as a dict (the last of repeated keys wins; the API takes comma lists)."""
    return dict(parse_qsl(raw, keep_blank_values=True)) if raw else {}
