"""`timelines-async fake-server` as a process on 127.0.0.1: how it stops, what it logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from timelines_async.cli import build_parser
from timelines_async.cli.fake_server import build_fake
from timelines_async.testing import Outage

pytest.importorskip("uvicorn")


@contextmanager
def fake_server(*flags: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The running server (3 chats) and its API base URL; killed if the test leaves it running.

    The URL is read from what the server prints, checked on the way.
    """
    command = [sys.executable, "-m", "timelines_async.cli", "fake-server", "--port", "0"]
    with subprocess.Popen(
        [*command, "--chats", "3", "--send-interval", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    ) as process:
        assert process.stdout is not None
        try:
            lines = [process.stdout.readline() for _ in range(4)]
            assert lines[0] == "Fake TimelinesAI API (3 chats, seed 0) at:\n"
            assert lines[1].startswith("  export TIMELINES_BASE_URL=http://127.0.0.1:")
            assert lines[2] == "  export TIMELINES_API_TOKEN=fake-token\n"
            yield process, lines[1].strip().removeprefix("export TIMELINES_BASE_URL=")
        finally:
            if process.poll() is None:
                process.kill()


def get_chats(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/chats", headers={"Authorization": "Bearer fake-token"})


def test_the_server_serves_the_api_until_ctrl_c_ends_it_cleanly_with_exit_0() -> None:
    with fake_server() as (process, base_url):
        answer = get_chats(base_url)
        assert len(answer.json()["data"]["chats"]) == 3
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


def test_a_dropped_connection_is_logged_in_one_line_and_sigterm_ends_with_exit_0() -> None:
    with fake_server("--fault-drop", "1") as (process, base_url):
        with pytest.raises(httpx.RemoteProtocolError):
            get_chats(base_url)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process.stderr is not None
        log = process.stderr.read()
    assert "Traceback" not in log
    assert [line for line in log.splitlines() if "dropped" in line] == [
        "INFO:     [fake] dropped: connection closed on purpose"
    ]


def test_the_outage_flags_make_an_outage() -> None:
    args = build_parser().parse_args(["fake-server", "--outage", "20", "--outage-after", "100"])
    assert build_fake(args).outage == Outage(after_requests=100, seconds=20)
    assert build_fake(build_parser().parse_args(["fake-server"])).outage is None
