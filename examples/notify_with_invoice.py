"""Send an invoice PDF with a message to a phone number, then follow its delivery.

Uploads the PDF (a tiny generated one when no path is given), sends it with the
text, and polls the message's status history until it is Delivered, Read or
Failed, or `--max-wait` passes; then prints the timeline. With `--fake` the
fake's clock is moved on between polls instead of waiting for real. Run it:

    python examples/notify_with_invoice.py --fake
    python examples/notify_with_invoice.py --phone +14155551234 invoice.pdf
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import anyio
from _common import Sleep, client_from_args, parser, sleep_for

from timelines_async import MessageStatus, StatusChange, TimelinesClient

POLL = 2.0
FINAL = {MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED}


def tiny_pdf() -> bytes:
    """A valid one-page PDF that says "Invoice" (objects, cross-reference table, trailer)."""
    page = b"BT /F1 24 Tf 72 720 Td (Invoice) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(page), page),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets, size = bytearray(b"%PDF-1.4\n"), [], len(objects) + 1
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % size
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(pdf)


async def send_invoice(tl: TimelinesClient, phone: str, text: str, pdf: Path | None) -> str:
    """Upload the PDF and send it with the text; returns the message uid."""
    name = pdf.name if pdf else "invoice.pdf"
    file = await tl.files.upload(pdf or tiny_pdf(), filename=name, content_type="application/pdf")
    return (await tl.messages.send(phone=phone, text=text, file_uid=file.uid)).message_uid


async def follow(
    tl: TimelinesClient, uid: str, max_wait: float, sleep: Sleep
) -> list[StatusChange]:
    """Poll the status history every `POLL` seconds until final or `max_wait` is spent."""
    timeline: list[StatusChange] = []
    for _ in range(max(1, math.ceil(max_wait / POLL))):
        await sleep(POLL)
        timeline = await tl.messages.status_history(uid)
        if timeline and timeline[-1].status in FINAL:
            break
    return timeline


async def run(argv: Sequence[str] | None) -> None:
    cli = parser(__doc__)
    cli.add_argument("pdf", nargs="?", type=Path, help="the PDF to send (default: a tiny one)")
    cli.add_argument("--phone", help="international number (default with --fake: a new one)")
    cli.add_argument("--text", default="Hello! Your invoice is attached. Thank you!")
    cli.add_argument("--max-wait", type=float, default=120.0, help="seconds to follow delivery")
    args = cli.parse_args(argv)
    if not args.phone and not args.fake:
        cli.error("--phone is required (unless --fake)")
    tl, fake = client_from_args(args)
    async with tl:
        phone = args.phone or "+14155550123"
        uid = await send_invoice(tl, phone, args.text, args.pdf)
        timeline = await follow(tl, uid, args.max_wait, sleep_for(fake))
    print(f"message {uid} to {phone}")
    for step in timeline:
        print(f"  {step.status:<10} {step.timestamp:%Y-%m-%d %H:%M:%S %Z}")
    if not timeline or timeline[-1].status not in FINAL:
        print(f"  (not delivered within {args.max_wait:g} s)")


def main(argv: Sequence[str] | None = None) -> None:
    anyio.run(run, argv)


if __name__ == "__main__":
    main()
