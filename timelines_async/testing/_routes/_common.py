"""What the route modules share: the route table's entry, chat lookup, multipart uploads."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable

import attrs

from .._checks import MAX_CAPTION, MAX_CONTENT_TYPE, MAX_FILENAME, string_field
from .._records import ChatRecord
from .._state import Attachment, WorkspaceState
from .._wire import ApiFailure, Request, Response, field_error, parse_multipart

__all__ = ["Handler", "Route", "Upload", "chat_of", "read_upload"]

Handler = Callable[[Request, tuple[str, ...]], Response]


@attrs.frozen
class Route:
    """One operation: method, path pattern (`{}` for a path argument) and handler."""

    method: str
    pattern: str
    handler: Handler
    #: Whether it sends a WhatsApp message (only those can lose their answer).
    sends: bool = False


@attrs.frozen
class Upload:
    """A multipart upload: the file, its name and type, and the form's text fields."""

    content: bytes
    filename: str
    mimetype: str
    fields: dict[str, str]

    @property
    def attachment(self) -> Attachment:
        """The upload as a message's attachment (sent directly, not kept as a file)."""
        return (self.filename, self.mimetype, len(self.content), None)


def chat_of(space: WorkspaceState, raw_id: str) -> ChatRecord:
    """The chat a path argument names; 404 when there is none."""
    if not raw_id.isdigit():
        raise ApiFailure(404, f"Whatsapp chat_id {raw_id} not found", "not_found")
    return space.chat(int(raw_id))


def read_upload(request: Request, max_size: int) -> Upload:
    """The file and text fields of a multipart upload, checked as the API does."""
    if len(request.body) > max_size:
        raise ApiFailure(
            413, f"The file is larger than the {max_size} bytes allowed", "validation_error"
        )
    parts = parse_multipart(request)
    file = parts.get("file")
    if file is None:
        raise field_error("file", "field required")
    fields = {name: part.content.decode("utf-8", "replace") for name, part in parts.items()}
    for name, value in fields.items():
        if name != "file" and "\x00" in value:
            raise field_error(name, "must not contain NUL (\\u0000) characters")
    for name, limit in (
        ("filename", MAX_FILENAME),
        ("content_type", MAX_CONTENT_TYPE),
        ("caption", MAX_CAPTION),
    ):
        string_field(fields, name, limit)
    filename = fields.get("filename") or file.filename or "file"
    mimetype = (
        fields.get("content_type")
        or file.content_type
        or mimetypes.guess_type(filename)[0]
        or "application/octet-stream"
    )
    return Upload(file.content, filename, mimetype, fields)
