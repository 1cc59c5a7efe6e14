"""File arguments for uploads: a path, bytes, or a binary file object, sent as a multipart part.

Paths and file objects are streamed by httpx in chunks, never read whole.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import attrs

from ._exceptions import InvalidRequestError
from ._validation import MAX_CONTENT_TYPE, MAX_FILENAME, check_text

__all__ = ["FileInput", "Upload", "multipart_file"]

FileInput = str | os.PathLike[str] | bytes | IO[bytes]


@attrs.frozen
class Upload:
    #: The multipart `file` part: (filename, content, content type).
    part: tuple[str, bytes | IO[bytes], str]
    #: The form fields that name the file for the API.
    fields: dict[str, str]


@contextmanager
def multipart_file(
    file: FileInput, *, filename: str | None = None, content_type: str | None = None
) -> Iterator[Upload]:
    """Open `file` for a multipart upload; a path is opened here and closed afterwards."""
    if filename is not None:
        check_text("filename", filename, max_length=MAX_FILENAME, allow_empty=False)
    if content_type is not None:
        check_text("content_type", content_type, max_length=MAX_CONTENT_TYPE, allow_empty=False)
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise InvalidRequestError("file", f"{str(path)!r} is not a readable file")
        with path.open("rb") as handle:
            yield _upload(handle, filename or path.name, content_type)
        return
    if isinstance(file, bytes | bytearray | memoryview):
        yield _upload(bytes(file), filename or "file", content_type)
        return
    if hasattr(file, "read"):
        name = filename or os.path.basename(str(getattr(file, "name", "") or "")) or "file"
        yield _upload(file, name, content_type)
        return
    raise InvalidRequestError(
        "file", f"must be a path, bytes or a binary file object, not {type(file).__name__}"
    )


def _upload(content: bytes | IO[bytes], filename: str, content_type: str | None) -> Upload:
    guessed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    fields = {"filename": filename}
    if content_type is not None:
        fields["content_type"] = content_type
    return Upload(part=(filename, content, guessed), fields=fields)
