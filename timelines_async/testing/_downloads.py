"""Temporary download URLs: signed links on the fake itself that expire, and what they serve."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from ._state import WorkspaceState
from ._wire import Request, Response, plain_response

__all__ = ["DOWNLOAD_PATH", "DOWNLOAD_TTL", "DownloadLinks"]

DOWNLOAD_PATH = "/fake-files/"
#: Temporary download URLs are valid this long on the fake's clock.
DOWNLOAD_TTL = 15 * 60.0


class DownloadLinks:
    """Signs download URLs for the workspace's files and serves them while they are valid.

    `origin` is where the latest request was addressed (`scheme://host`): URLs
    made outside a request (in webhook payloads) point there.
    """

    def __init__(self, space: WorkspaceState, origin: str) -> None:
        self.space = space
        self.origin = origin

    def url(self, file_uid: str, origin: str | None = None) -> str:
        """A URL on the fake itself that serves the file for `DOWNLOAD_TTL` seconds."""
        expires = int(self.space.clock.now() + DOWNLOAD_TTL)
        signature = self._signature(file_uid, expires)
        base = origin or self.origin
        return f"{base}{DOWNLOAD_PATH}{file_uid}?expires={expires}&signature={signature}"

    def serve(self, request: Request, uid: str) -> Response:
        """The file behind a download URL: 403 once expired or forged, 410 once deleted."""
        query = request.query
        expires_text = query.get("expires", "")
        file = self.space.files.get(uid)
        if (
            file is None
            or not expires_text.isdigit()
            or query.get("signature") != self._signature(uid, int(expires_text))
        ):
            return plain_response(403, "Access denied: invalid signature")
        if self.space.clock.now() > int(expires_text):
            return plain_response(403, "Access denied: the link has expired")
        if file.deleted:
            return plain_response(410, "Gone: the file was deleted")
        disposition = f"attachment; filename*=UTF-8''{quote(file.filename)}"
        headers = [("content-type", file.mimetype), ("content-disposition", disposition)]
        return Response(200, file.content, headers)

    def _signature(self, file_uid: str, expires: int) -> str:
        digest = hashlib.sha256(f"{self.space.seed}:{file_uid}:{expires}".encode())
        return digest.hexdigest()[:32]
