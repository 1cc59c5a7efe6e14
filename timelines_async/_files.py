"""File arguments for uploads, sent as a `multipart/form-data` body streamed chunk by chunk.

A file argument is a path, bytes, a binary file object or an async iterator of
bytes. `multipart_body` turns it into a `MultipartBody`: an async byte stream
passed to httpx as `content=` with its own `Content-Type` (and `Content-Length`
when the size is known), so that a 100 MB upload is never held in memory whole
(httpx's `files=` cannot take async iterators).

A body whose source can be read again (a path, bytes, a seekable file) can be
sent again when the pipeline retries; a one-shot source (an async iterator, a
pipe) raises `TransportError` instead of sending a truncated file twice.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

import anyio.lowlevel

from ._exceptions import InvalidRequestError, TransportError
from ._validation import MAX_CONTENT_TYPE, MAX_FILENAME, check_text

__all__ = ["CHUNK_SIZE", "FileInput", "MultipartBody", "multipart_body"]

FileInput = str | os.PathLike[str] | bytes | IO[bytes] | AsyncIterable[bytes]

#: Bytes read from a file per chunk (httpx reads 64 KiB too).
CHUNK_SIZE = 64 * 1024


class _Source:
    """Where the file's bytes come from: their size when known, and whether they can be re-read."""

    size: int | None = None
    replayable = True

    def chunks(self) -> AsyncIterator[bytes]:
        raise NotImplementedError


class _BytesSource(_Source):
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    async def chunks(self) -> AsyncIterator[bytes]:
        view = memoryview(self._data)
        for start in range(0, len(view), CHUNK_SIZE):
            yield bytes(view[start : start + CHUNK_SIZE])


class _FileSource(_Source):
    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._start: int | None = None
        try:
            if handle.seekable():
                self._start = handle.tell()
                self.size = handle.seek(0, os.SEEK_END) - self._start
                handle.seek(self._start)
        except (OSError, ValueError, AttributeError):
            self._start = None
        self.replayable = self._start is not None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._start is not None:
            self._handle.seek(self._start)
        while True:
            chunk = self._handle.read(CHUNK_SIZE)
            if not chunk:
                return
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise InvalidRequestError(
                    "file", f"read() gave {type(chunk).__name__}: open the file in binary mode"
                )
            yield bytes(chunk)
            await anyio.lowlevel.checkpoint()


class _AsyncSource(_Source):
    replayable = False

    def __init__(self, iterable: AsyncIterable[bytes]) -> None:
        self._iterable = iterable

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._iterable:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise InvalidRequestError(
                    "file", f"the async iterator yielded {type(chunk).__name__}, not bytes"
                )
            if chunk:
                yield bytes(chunk)


def _quote(value: str) -> str:
    """A Content-Disposition parameter value (HTML5 form encoding, as browsers and httpx do)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody:
    """A `multipart/form-data` body (text fields, then one file part) as an async byte stream.

    Pass it as `content=` with `headers=body.headers`. Iterating it again (a
    retry) re-reads a replayable source from the start; a one-shot source that
    was already started raises `TransportError`.
    """

    def __init__(
        self,
        source: _Source,
        *,
        field: str,
        filename: str,
        content_type: str,
        fields: Mapping[str, str],
        boundary: str | None = None,
    ) -> None:
        self.boundary = boundary or os.urandom(16).hex()
        self._source = source
        self._started = False
        dash = f"--{self.boundary}\r\n".encode()
        head = b"".join(
            dash
            + f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
            for name, value in fields.items()
        )
        self._head = (
            head
            + dash
            + (
                f'Content-Disposition: form-data; name="{_quote(field)}"; '
                f'filename="{_quote(filename)}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
        )
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_length(self) -> int | None:
        """The body's length in bytes, or `None` when the source's size is unknown (chunked)."""
        if self._source.size is None:
            return None
        return len(self._head) + self._source.size + len(self._tail)

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": f"multipart/form-data; boundary={self.boundary}"}
        length = self.content_length
        if length is not None:
            headers["Content-Length"] = str(length)
        return headers

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._started and not self._source.replayable:
            raise TransportError(
                "the upload cannot be repeated: its file was a one-shot stream (an async "
                "iterator or a pipe) already sent once; pass a path, bytes or a seekable "
                "file to let the client retry",
                method="POST",
                path="(upload)",
            )
        self._started = True
        yield self._head
        async for chunk in self._source.chunks():
            yield chunk
        yield self._tail


def _check_names(filename: str | None, content_type: str | None) -> None:
    if filename is not None:
        check_text("filename", filename, max_length=MAX_FILENAME, allow_empty=False)
    if content_type is not None:
        check_text("content_type", content_type, max_length=MAX_CONTENT_TYPE, allow_empty=False)
        # It becomes a header line of the file part: a line break would inject headers.
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in content_type):
            raise InvalidRequestError("content_type", "must not contain control characters")


@contextmanager
def multipart_body(
    file: FileInput,
    *,
    field: str = "file",
    filename: str | None = None,
    content_type: str | None = None,
    fields: Mapping[str, str] | None = None,
    send_names: bool = True,
) -> Iterator[MultipartBody]:
    """Open `file` as a streamed multipart body; a path is opened here and closed afterwards.

    The file part is named `filename` (else the path's or file object's name,
    else `"file"`) with `content_type` (else guessed from the name). With
    `send_names`, the API's `filename` (and `content_type`, when given) form
    fields are sent too, so the exact name survives the multipart quoting.
    """
    _check_names(filename, content_type)
    extra = dict(fields or {})

    def build(source: _Source, name: str) -> MultipartBody:
        guessed = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        form = dict(extra)
        if send_names:
            form["filename"] = name
            if content_type is not None:
                form["content_type"] = content_type
        return MultipartBody(source, field=field, filename=name, content_type=guessed, fields=form)

    if isinstance(file, str | os.PathLike):
        path = Path(file)
        try:
            readable = path.is_file()
        except (OSError, ValueError):  # a name too long for the file system, a NUL
            readable = False
        if not readable:
            raise InvalidRequestError("file", f"{str(path)[:200]!r} is not a readable file")
        with path.open("rb") as handle:
            yield build(_FileSource(handle), filename or path.name)
        return
    if isinstance(file, bytes | bytearray | memoryview):
        yield build(_BytesSource(bytes(file)), filename or "file")
        return
    if isinstance(file, io.TextIOBase):
        raise InvalidRequestError("file", "is open in text mode; open it with 'rb'")
    if hasattr(file, "read"):
        if getattr(file, "closed", False) is True:
            raise InvalidRequestError("file", "is a closed file")
        name = filename or os.path.basename(str(getattr(file, "name", "") or "")) or "file"
        yield build(_FileSource(cast("IO[bytes]", file)), name)
        return
    if hasattr(file, "__aiter__"):
        yield build(_AsyncSource(file), filename or "file")
        return
    raise InvalidRequestError(
        "file",
        "must be a path, bytes, a binary file object or an async iterator of bytes, "
        f"not {type(file).__name__}",
    )
