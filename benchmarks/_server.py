"""The fake TimelinesAI API served by uvicorn in a child process, on 127.0.0.1.

A separate process, so that the server's CPU does not share the client's GIL
(on a 2-core machine the two still share the cores).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import httpx

TOKEN = "fake-token"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@attrs.frozen
class Server:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


@contextmanager
def fake_server(
    *,
    chats: int = 120,
    latency: float = 0.0,
    send_interval: float = 0.0,
    request_rate: float | None = None,
) -> Iterator[Server]:
    """Start `timelines-async fake-server` on a free port; yield it."""
    command = [
        sys.executable, "-m", "timelines_async.cli", "fake-server",
        "--host", "127.0.0.1", "--port", "0", "--chats", str(chats),
        "--latency", str(latency), "--send-interval", str(send_interval),
    ]  # fmt: skip
    if request_rate is not None:
        command += ["--request-rate", str(request_rate)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            if "TIMELINES_BASE_URL=" in line:
                base_url = line.strip().split("=", 1)[1]
                break
        if not base_url:
            raise RuntimeError(f"the fake server did not start (exit {process.wait()})")
        _wait_until_up(base_url)
        yield Server(base_url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(base_url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(100):
        try:
            httpx.get(f"{base_url}/whatsapp_accounts", headers=headers, timeout=5.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the fake server at {base_url} does not answer")
