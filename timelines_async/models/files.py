"""Uploaded files (`/files`, `/files_upload`)."""

from __future__ import annotations

from datetime import datetime

import attrs

from .._redact import repr_url

__all__ = ["FileInfo"]


@attrs.frozen(kw_only=True)
class FileInfo:
    uid: str
    filename: str | None = None
    #: Size in bytes.
    size: int | None = None
    mimetype: str | None = None
    #: `"(removed)"` when the uploader has left the workspace.
    uploaded_by_email: str | None = None
    uploaded_at: datetime | None = None
    #: Valid for 15 minutes; present on `get` and upload answers, not in listings.
    temporary_download_url: str | None = attrs.field(default=None, repr=repr_url)
