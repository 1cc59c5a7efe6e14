"""`/files`: uploaded files, uploads (multipart or from a URL), their download URLs."""

from __future__ import annotations

import mimetypes
from urllib.parse import unquote, urlsplit

from .._checks import (
    MAX_CONTENT_TYPE,
    MAX_FILENAME,
    MAX_URL,
    json_object,
    required_string,
    string_field,
)
from .._downloads import DownloadLinks
from .._records import FileRecord
from .._render import render_file
from .._state import WorkspaceState
from .._wire import ApiFailure, Request, Response, empty_ok, field_error, ok
from ._common import Route, read_upload

__all__ = ["FileRoutes"]


class FileRoutes:
    def __init__(
        self, space: WorkspaceState, links: DownloadLinks, *, max_upload_size: int
    ) -> None:
        self.space = space
        self.links = links
        self.max_upload_size = max_upload_size

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/files", self.list_files),
            Route("POST", "/files", self.upload_from_url),
            Route("GET", "/files/{}", self.get_file),
            Route("DELETE", "/files/{}", self.delete_file),
            Route("POST", "/files_upload", self.upload_file),
        ]

    def list_files(self, request: Request, args: tuple[str, ...]) -> Response:
        needle = request.query.get("filename", "").casefold()
        files = [
            render_file(self.space, file, None)
            for file in self.space.files.values()
            if not file.deleted and needle in file.filename.casefold()
        ]
        return ok(files)

    def get_file(self, request: Request, args: tuple[str, ...]) -> Response:
        file = self._file(args[0])
        return ok(render_file(self.space, file, self.links.url(file.uid, request.origin)))

    def delete_file(self, request: Request, args: tuple[str, ...]) -> Response:
        self._file(args[0]).deleted = True
        return empty_ok()

    def upload_file(self, request: Request, args: tuple[str, ...]) -> Response:
        upload = read_upload(request, self.max_upload_size)
        file = self._store_file(upload.content, upload.filename, upload.mimetype)
        return ok(render_file(self.space, file, self.links.url(file.uid, request.origin)))

    def upload_from_url(self, request: Request, args: tuple[str, ...]) -> Response:
        body = json_object(request)
        url = required_string(body, "download_url", MAX_URL, allow_empty=False)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise field_error("download_url", "must be a valid http(s) URL")
        filename = string_field(body, "filename", MAX_FILENAME) or (
            unquote(parts.path.rsplit("/", 1)[-1]) or "download"
        )
        mimetype = (
            string_field(body, "content_type", MAX_CONTENT_TYPE)
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        placeholder = f"placeholder for {url}\n".encode()
        file = self._store_file(placeholder, filename, mimetype, source_url=url)
        return ok(render_file(self.space, file, self.links.url(file.uid, request.origin)))

    def _file(self, uid: str) -> FileRecord:
        file = self.space.files.get(uid)
        if file is None or file.deleted:
            raise ApiFailure(404, f"File uid {uid} not found", "not_found")
        return file

    def _store_file(
        self, content: bytes, filename: str, mimetype: str, source_url: str | None = None
    ) -> FileRecord:
        file = FileRecord(
            uid=self.space.new_uid(),
            filename=filename,
            size=len(content),
            mimetype=mimetype,
            uploaded_by_email=self.space.me.email,
            uploaded_at=self.space.clock.now(),
            content=content,
            source_url=source_url,
        )
        self.space.files[file.uid] = file
        return file
