"""`tl.files`: upload (streamed, or from a URL), list, look up, download and delete files.

An uploaded file's `uid` is what `tl.messages.send(..., file_uid=...)` attaches.
"""

from __future__ import annotations

import builtins
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

import httpx

from .._answers import error_for_status, snippet
from .._converter import structure
from .._exceptions import InvalidRequestError, TransportError, UnexpectedResponseError
from .._files import FileInput, multipart_body
from .._http import HTTPCore, _Call
from .._validation import MAX_CONTENT_TYPE, MAX_FILENAME, check_http_url, check_text, check_uid
from ..models import FileInfo

__all__ = ["Files"]

logger = logging.getLogger("timelines_async")

#: What a storage host answers for a temporary URL that has expired (they live 15 minutes).
_EXPIRED = frozenset({403, 404, 410})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
#: Where errors say the download went: never the signed URL itself.
_DOWNLOAD = "(temporary download URL)"

Destination = str | os.PathLike[str] | IO[bytes]


class Files:
    """`tl.files`: upload, list, download and delete the workspace's files."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http

    async def list(self, *, filename: str | None = None) -> builtins.list[FileInfo]:
        """Every uploaded file, or those whose name contains `filename`.

        Args:
            filename: Part of the name, matched case-insensitively.

        Returns:
            The `FileInfo`s (without download URLs: `get` gives one).
        """
        params: dict[str, str] = {}
        if filename is not None:
            params["filename"] = check_text(
                "filename", filename, max_length=MAX_FILENAME, allow_empty=False
            )
        data = await self._http.request(_Call("GET", "/files", params=params))
        return structure(data, list[FileInfo], what="the file list")

    async def get(self, uid: str) -> FileInfo:
        """The file's details with a fresh `temporary_download_url`.

        Args:
            uid: The file's uid.

        Returns:
            The `FileInfo`; its download URL is valid for 15 minutes.

        Raises:
            InvalidRequestError: A bad uid.
            NotFoundError: No such file.
        """
        uid = check_uid("uid", uid)
        return structure(
            await self._http.request(_Call("GET", f"/files/{uid}")), FileInfo, what="a file"
        )

    async def upload(
        self, file: FileInput, *, filename: str | None = None, content_type: str | None = None
    ) -> FileInfo:
        """Upload a file, streamed as multipart, never held in memory whole.

        Args:
            file: A path, bytes, a binary file object or an async iterator of bytes.
            filename: The name to store; defaults to the path's or the file
                object's.
            content_type: The MIME type; guessed from the name unless given.

        Returns:
            The uploaded file's `FileInfo`.

        Raises:
            InvalidRequestError: A file that cannot be read, or a bad name or type.
            PayloadTooLargeError: The API finds the file too large.
        """
        with multipart_body(file, filename=filename, content_type=content_type) as body:
            data = await self._http.request(
                _Call("POST", "/files_upload", content=body, headers=body.headers)
            )
        return structure(data, FileInfo, what="an uploaded file")

    async def upload_from_url(
        self, url: str, *, filename: str | None = None, content_type: str | None = None
    ) -> FileInfo:
        """Have the API fetch a publicly accessible http(s) URL and store it as a file.

        Share links of Google Drive or OneDrive are not supported by the API.

        Args:
            url: The http(s) URL to fetch.
            filename: The name to store (at most 1024 characters).
            content_type: The MIME type (at most 140 characters).

        Returns:
            The stored file's `FileInfo`.

        Raises:
            InvalidRequestError: A bad URL, name or type.
            PayloadTooLargeError: The API finds the file too large.
        """
        body: dict[str, Any] = {"download_url": check_http_url("url", url)}
        if filename is not None:
            body["filename"] = check_text(
                "filename", filename, max_length=MAX_FILENAME, allow_empty=False
            )
        if content_type is not None:
            body["content_type"] = check_text(
                "content_type", content_type, max_length=MAX_CONTENT_TYPE, allow_empty=False
            )
        data = await self._http.request(_Call("POST", "/files", json=body))
        return structure(data, FileInfo, what="a file uploaded from a URL")

    async def delete(self, uid: str) -> None:
        """Delete the file.

        Args:
            uid: The file's uid.

        Raises:
            InvalidRequestError: A bad uid.
            NotFoundError: No such file.
        """
        uid = check_uid("uid", uid)
        await self._http.request(_Call("DELETE", f"/files/{uid}"))

    async def download(self, uid: str, dest: Destination) -> FileInfo:
        """Stream the file to `dest`.

        The bytes come from the file's temporary URL, without the API token. If
        that URL has expired (the storage host answers 403, 404 or 410), a fresh
        one is asked for once and the download starts again. A path is written
        through a `.part` file beside it and renamed when complete, so a failed
        download never leaves a truncated file under the final name.

        Args:
            uid: The file's uid.
            dest: A path, or a binary file object open for writing.

        Returns:
            The file's `FileInfo`.

        Raises:
            InvalidRequestError: A bad uid or destination.
            NotFoundError: No such file, or the storage host no longer has it.
            APIError: The storage host refused the download (its status says how).
            TransportError: The connection failed, or the storage host redirected
                too often or to plain http.
        """
        uid = check_uid("uid", uid)
        target = _check_destination(dest)
        info = await self.get(uid)
        for attempt in range(2):
            async with self._open(_url_of(info)) as response:
                status = response.status_code
                if 200 <= status < 300:
                    if isinstance(target, Path):
                        await _save(response, target)
                    else:
                        await _copy(response, target)
                    return info
                if status not in _EXPIRED or attempt:
                    message = (
                        f"the storage host answered {status}: {snippet(await _head(response))}"
                    )
                    raise error_for_status(status, message, method="GET", path=_DOWNLOAD)
            logger.debug(
                "file %s: the temporary URL answered %d; asking for a fresh one", uid, status
            )
            info = await self.get(uid)
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def _open(self, url: str) -> AsyncIterator[httpx.Response]:
        """GET the URL without the token, following a storage host's redirects."""
        for _ in range(_MAX_REDIRECTS + 1):
            async with self._http.stream_url(url) as response:
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    yield response
                    return
                url = str(response.url.join(location))
                if response.url.scheme == "https" and not url.startswith("https://"):
                    raise TransportError(
                        "the storage host redirected to plain http", method="GET", path=_DOWNLOAD
                    )
        raise TransportError("too many redirects", method="GET", path=_DOWNLOAD)


def _check_destination(dest: object) -> Path | IO[bytes]:
    if isinstance(dest, str | os.PathLike):
        path = Path(dest)
        try:
            if "\x00" in str(path):
                raise ValueError("embedded NUL character")
            is_dir, parent_exists = path.is_dir(), path.parent.is_dir()
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL
            raise InvalidRequestError("dest", f"is not a usable path ({exc})") from None
        if is_dir:
            raise InvalidRequestError("dest", f"{str(path)!r} is a directory; name the file")
        if not parent_exists:
            raise InvalidRequestError("dest", f"the folder {str(path.parent)!r} does not exist")
        return path
    if callable(getattr(dest, "write", None)):
        return cast("IO[bytes]", dest)
    raise InvalidRequestError(
        "dest", f"must be a path or a binary file object, not {type(dest).__name__}"
    )


def _url_of(info: FileInfo) -> str:
    if not info.temporary_download_url:
        raise UnexpectedResponseError(
            f"the file {info.uid} came without a temporary_download_url", status_code=200
        )
    # A relative or non-http URL would be resolved against whatever the http_client
    # is configured with (or crash its cookie handling): refuse it here.
    url = info.temporary_download_url
    try:
        absolute = url.lower().startswith(("http://", "https://")) and bool(urlsplit(url).netloc)
    except ValueError:  # "http://[" and the like
        absolute = False
    if not absolute:
        raise UnexpectedResponseError(
            f"the file {info.uid} came with a temporary_download_url that is not an "
            "absolute http(s) URL",
            status_code=200,
        )
    return url


async def _copy(response: httpx.Response, dest: IO[bytes]) -> None:
    async for chunk in response.aiter_bytes():
        dest.write(chunk)


async def _save(response: httpx.Response, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as handle:
            await _copy(response, handle)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


async def _head(response: httpx.Response, limit: int = 200) -> bytes:
    """The start of an error body (read no further: a storage host may send a whole page)."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) > limit:
            break
    return head
