"""P4: memory while streaming 100,000 messages through a pager, in a child process.

One chat with `MESSAGES` messages, served page by page (50 a page, newest
first, by `before_message` cursor) by an `httpx.MockTransport` that builds each
page when asked, so that the server side holds nothing. The child warms up
with a short walk, resets its peak RSS (`/proc/self/clear_refs`), notes its
RSS, walks, and reports the peak over that baseline: once streaming (`async
for`, nothing kept) and, for contrast, once collecting every message in a list.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from timelines_async import TimelinesClient

from ._results import Goal, Section

MESSAGES = 100_000
PAGE = 50
CHAT_ID = 1_000_001
BASE_URL = "http://bench.invalid/integrations/api"
_TEMPLATE = {
    "chat_id": CHAT_ID,
    "timestamp": "2025-04-08 15:43:19 +0000",
    "received_timestamp": "2025-04-08 15:43:20 +0000",
    "sender_phone": "+448422844795",
    "sender_name": "Ava Jensen",
    "recipient_phone": "+380430530419",
    "recipient_name": "Acme Sales",
    "from_me": False,
    "status": "Read",
    "origin": "synced from WhatsApp",
    "has_attachment": False,
    "message_type": "whatsapp",
    "data": {},
    "created_by": "",
    "text": "Thanks, can you resend the link? It expired.",
    "reactions": {"users": [], "reactions": {}, "total": 0},
}


def history(total: int) -> httpx.MockTransport:
    """A chat of `total` messages (uid = the message's position), newest first."""

    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("before_message")
        end = uuid.UUID(cursor).int if cursor else total
        start = max(0, end - PAGE)
        messages = [
            {"uid": str(uuid.UUID(int=i)), **_TEMPLATE} for i in range(end - 1, start - 1, -1)
        ]
        data = {"has_more_pages": start > 0, "messages": messages}
        return httpx.Response(200, content=json.dumps({"status": "ok", "data": data}).encode())

    return httpx.MockTransport(answer)


async def walk(total: int, *, keep: bool) -> int:
    async with httpx.AsyncClient(transport=history(total)) as http:
        tl = TimelinesClient(
            "bench-token", base_url=BASE_URL, http_client=http, requests_per_second=None
        )
        pager = tl.messages.list(CHAT_ID)
        if keep:
            return len(await pager.collect())
        count = 0
        async for _ in pager:
            count += 1
        return count


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(mode: str) -> None:
    """Run in the child: print the peak RSS over the baseline, in KiB."""
    asyncio.run(walk(1_000, keep=mode == "collect"))  # warm up: imports, generated code
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    baseline = _status_kib("VmRSS")
    count = asyncio.run(walk(MESSAGES, keep=mode == "collect"))
    assert count == MESSAGES, count
    print(json.dumps({"peak_over_baseline_kib": _status_kib("VmHWM") - baseline}))


def measure(mode: str) -> float:
    """MiB of peak RSS over the baseline in a fresh child process."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", mode],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    return float(json.loads(output)["peak_over_baseline_kib"]) / 1024


def run() -> Section:
    streamed, collected = measure("stream"), measure("collect")
    body = f"""\
{MESSAGES:,} messages of one chat ({MESSAGES // PAGE:,} pages by cursor) through
`tl.messages.list(chat_id)` in a child process; peak RSS over the baseline:

| walk | peak RSS over baseline |
|---|---|
| `async for message in pager` (streaming) | {streamed:.2f} MiB |
| `await pager.collect()` (contrast) | {collected:.2f} MiB |
"""
    goals = [
        Goal(
            key="P4",
            what=f"peak memory streaming {MESSAGES:,} messages",
            ratio=streamed,
            target=5.0,
            unit=" MiB",
            detail=f"collecting them all: {collected:.1f} MiB",
        )
    ]
    return Section(title="P4: memory while streaming", goals=goals, body=body)


if __name__ == "__main__":
    child(sys.argv[1])
