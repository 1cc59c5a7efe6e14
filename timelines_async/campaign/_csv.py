"""Reading a campaign: the CSV (or a list of rows), the template, and every row checked.

All checks run before the journal is opened or any request leaves; every bad
row is reported with its line number, not only the first.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import attrs

from .._exceptions import InvalidRequestError
from .._send_attempt import Target
from .._validation import MAX_TEXT
from ._errors import InvalidCampaignError, InvalidRowsError, RowProblem
from ._settings import SendSettings

__all__ = ["Plan", "Recipient", "Source", "TargetKind", "load_plan"]

TargetKind = Literal["phone", "chat_id"]
Source = str | os.PathLike[str] | Iterable[Mapping[str, object]]
_TARGET_COLUMNS: tuple[TargetKind, ...] = ("phone", "chat_id")
_DELIMITERS = (",", ";", "\t")


@attrs.frozen
class Recipient:
    """One valid row: where it goes and the exact text it gets."""

    position: int  # 0-based order of the sends
    line: int
    target: Target
    text: str


@attrs.frozen
class Plan:
    """A checked campaign: valid recipients in send order, the invalid rows, and its identity."""

    source: str  # what to call the input in messages: the CSV path, or "recipients"
    csv_path: Path | None
    kind: TargetKind
    template: str
    fingerprint: str  # sha256 of the CSV bytes (or of the rows, for a list)
    recipients: tuple[Recipient, ...]
    problems: tuple[RowProblem, ...]
    settings: SendSettings = attrs.Factory(SendSettings)


def load_plan(
    source: Source,
    template: str,
    *,
    skip_invalid: bool = False,
    settings: SendSettings = SendSettings(),  # noqa: B008 (frozen)
) -> Plan:
    """Read and check a campaign; raise `InvalidRowsError` listing every bad row.

    With `skip_invalid=True` the bad rows are left out of the plan (and kept in
    `problems` for the report) instead.
    """
    _check_template_text(template)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        name = str(path)
        header, rows, fingerprint = _read_csv(path)
    else:
        path = None
        name = "recipients"
        header, rows, fingerprint = _read_mappings(source)
    kind, column = _target_column(name, header)
    if settings.whatsapp_account_phone is not None and kind != "phone":
        raise InvalidCampaignError(
            "whatsapp_account_phone",
            "applies to phone rows only (a chat always sends from its own number)",
        )
    fields = _template_fields(template, header)
    recipients, problems = _check_rows(rows, kind, column, template, fields)
    if problems and not skip_invalid:
        raise InvalidRowsError(name, problems)
    if not recipients and not problems:
        raise InvalidCampaignError(name, "has no recipients (only a header, or nothing)")
    return Plan(
        source=name,
        csv_path=path,
        kind=kind,
        template=template,
        fingerprint=fingerprint,
        recipients=recipients,
        problems=problems,
        settings=settings,
    )


def _check_rows(
    rows: list[tuple[int, Row]],
    kind: TargetKind,
    column: str,
    template: str,
    fields: tuple[str, ...],
) -> tuple[tuple[Recipient, ...], tuple[RowProblem, ...]]:
    """Every row checked: the recipients in order, and a problem for each bad or repeated row."""
    recipients: list[Recipient] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}  # recipient -> the line it is first on
    for line, row in rows:
        problem, recipient = _check_row(line, row, kind, column, template, fields, len(recipients))
        if recipient is not None:
            first = seen.get(str(recipient.target.value))
            if first is not None:
                problem = (
                    f"duplicate recipient: {kind} {recipient.target.value} is already on "
                    f"line {first}"
                )
                recipient = None
            else:
                seen[str(recipient.target.value)] = line
        if problem is not None:
            problems.append(RowProblem(line, problem))
        elif recipient is not None:
            recipients.append(recipient)
    return tuple(recipients), tuple(problems)


# -- input ---------------------------------------------------------------------------------

Row = dict[str, str | None]


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, Row]], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidCampaignError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidCampaignError(
            str(path), f"is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        duplicated = sorted({name for name in header if name and header.count(name) > 1})
        if duplicated:
            raise InvalidCampaignError(
                str(path), f"the header names {', '.join(duplicated)} more than once"
            )
        rows: list[tuple[int, Row]] = []
        next_line = reader.line_num + 1
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and the empty ",,," rows spreadsheets leave behind
            row: Row = {name: None for name in header if name}
            for index, cell in enumerate(cells):
                if index >= len(header):
                    row[_EXTRA] = f"has {len(cells)} fields but the header has {len(header)}"
                    break
                if header[index]:
                    row[header[index]] = cell.strip()
            rows.append((line, row))
    except csv.Error as exc:
        raise InvalidCampaignError(
            str(path), f"is not valid CSV (line {reader.line_num}: {exc})"
        ) from exc
    return header, rows, hashlib.sha256(raw).hexdigest()


#: A key no CSV header can produce (names are stripped), marking a row with too many fields.
_EXTRA = " extra fields"


def _read_mappings(
    items: Iterable[Mapping[str, object]],
) -> tuple[list[str], list[tuple[int, Row]], str]:
    header: list[str] = []
    rows: list[tuple[int, Row]] = []
    canonical: list[dict[str, str | None]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise InvalidCampaignError(
                "recipients", f"item {number} is a {type(item).__name__}, not a mapping"
            )
        row: Row = {}
        for key, value in item.items():
            name = str(key).strip()
            if name not in header:
                header.append(name)
            row[name] = None if value is None else str(value).strip()
        rows.append((number, row))
        canonical.append(row)
    for _, row in rows:
        for name in header:
            row.setdefault(name, None)
    digest = hashlib.sha256(
        json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return header, rows, digest


def _target_column(source: str, header: list[str]) -> tuple[TargetKind, str]:
    """Which kind of recipient the rows name, and the column (`Phone` is taken as `phone`)."""
    present = [(kind, name) for name in header for kind in _TARGET_COLUMNS if name.lower() == kind]
    if len(present) == 1:
        return present[0]
    if present:
        raise InvalidCampaignError(
            source,
            f"has {' and '.join(name for _, name in present)} columns; keep the one to send by",
        )
    columns = ", ".join(name for name in header if name) or "none"
    raise InvalidCampaignError(
        source, f"needs a 'phone' or a 'chat_id' column; its columns: {columns}"
    )


# -- template ------------------------------------------------------------------------------


def _check_template_text(template: object) -> None:
    if not isinstance(template, str):
        raise InvalidCampaignError("template", f"must be a string, not {type(template).__name__}")
    if not template.strip():
        raise InvalidCampaignError("template", "must not be empty")
    if "\x00" in template:
        raise InvalidCampaignError("template", "must not contain a NUL character")


def _template_fields(template: str, header: list[str]) -> tuple[str, ...]:
    """The columns the template names; every way it cannot be rendered is an error here."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidCampaignError(
            "template", f"{exc} (write {{{{ and }}}} for literal braces)"
        ) from exc
    fields: list[str] = []
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if not name or name.isdigit():
            raise InvalidCampaignError(
                "template", "has a positional field {}; name a column, as in {first_name}"
            )
        if "." in name or "[" in name:
            raise InvalidCampaignError(
                "template",
                f"field {{{name}}}: only plain column names are supported "
                "(no attribute or index access)",
            )
        if spec and "{" in spec:
            raise InvalidCampaignError(
                "template", f"field {{{name}}}: nested fields are not supported"
            )
        if name not in header:
            columns = ", ".join(column for column in header if column) or "none"
            raise InvalidCampaignError(
                "template", f"names {{{name}}}, which is not a column (columns: {columns})"
            )
        if name not in fields:
            fields.append(name)
    try:
        template.format_map(dict.fromkeys(fields, "x"))
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise InvalidCampaignError(
            "template", f"cannot be rendered ({exc}); every value is text"
        ) from exc
    return tuple(fields)


# -- rows ----------------------------------------------------------------------------------


def _check_row(
    line: int,
    row: Row,
    kind: TargetKind,
    column: str,
    template: str,
    fields: tuple[str, ...],
    position: int,
) -> tuple[str | None, Recipient | None]:
    if _EXTRA in row:
        return f"{row[_EXTRA]} (an unquoted delimiter in a value?)", None
    raw_target = row.get(column)
    if not raw_target:
        return f"the {kind} is empty", None
    try:
        # One spelling per number (`14155551234` is `+14155551234`): duplicates are caught.
        target = Target.phone(raw_target) if kind == "phone" else Target.chat_id(raw_target)
    except InvalidRequestError as exc:
        return exc.message if kind == "chat_id" else f"phone {exc.message}", None
    missing = [name for name in fields if not row.get(name)]
    if missing:
        names = ", ".join(f"{{{name}}}" for name in missing)
        return f"missing template variable{'s' if len(missing) > 1 else ''} {names} (empty)", None
    text = template.format_map({name: row[name] for name in fields})
    if "\x00" in text:
        return "the text contains a NUL character", None
    if not text.strip():
        return "the text is empty after formatting", None
    if len(text) > MAX_TEXT:
        return (
            f"the text is {len(text)} characters after formatting; "
            f"the API accepts at most {MAX_TEXT}"
        ), None
    return None, Recipient(position=position, line=line, target=target, text=text)
