"""What every message of a campaign carries besides its text: label, file, sending number.

They are checked before anything else happens (a label's length, a readable
file, a phone number in international format), recorded in the journal, and
compared on resume, so that a resumed run sends the same thing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs

from .._exceptions import InvalidRequestError
from .._validation import MAX_LABEL, check_phone, check_text
from ._errors import InvalidCampaignError

__all__ = ["SendSettings", "check_settings"]


@attrs.frozen(kw_only=True)
class SendSettings:
    """The parts every message of one campaign shares."""

    label: str | None = None
    file: Path | None = None
    file_sha256: str | None = None
    #: The sending number, `+` and digits; None: each chat's own (or the default) number.
    whatsapp_account_phone: str | None = None

    @property
    def credits_per_message(self) -> int:
        """The API counts a message with text and an attachment as two."""
        return 2 if self.file is not None else 1


def check_settings(
    *,
    label: str | None = None,
    file: str | os.PathLike[str] | None = None,
    whatsapp_account_phone: str | None = None,
) -> SendSettings:
    """Check the shared parts locally; raise `InvalidCampaignError` naming the option."""
    try:
        if label is not None:
            label = check_text("label", label, max_length=MAX_LABEL, allow_empty=False)
        if whatsapp_account_phone is not None:
            number = check_phone("whatsapp_account_phone", whatsapp_account_phone)
            whatsapp_account_phone = "+" + number.removeprefix("+")
    except InvalidRequestError as exc:
        raise InvalidCampaignError(exc.field, exc.message) from exc
    if file is None:
        return SendSettings(label=label, whatsapp_account_phone=whatsapp_account_phone)
    path = Path(file)
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            empty = handle.tell() == 0
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidCampaignError("file", f"{path} cannot be read ({reason})") from exc
    if empty:
        raise InvalidCampaignError("file", f"{path} is empty")
    return SendSettings(
        label=label, file=path, file_sha256=digest, whatsapp_account_phone=whatsapp_account_phone
    )
