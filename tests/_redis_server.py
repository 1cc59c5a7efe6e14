"""A throwaway redis-server on 127.0.0.1, on a free port, in a temporary directory.

Used by the Redis limiter tests and by `benchmarks/bench_redis_slot.py`. No
persistence, no other interface than loopback. `require_redis_server()` skips
the calling test when the binary is missing, unless `CI=true`: then it fails,
so that CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from tests._net import free_port

if TYPE_CHECKING:
    from redis.asyncio.retry import Retry

__all__ = ["RedisServer", "no_retries", "require_redis_server"]

MISSING = (
    "redis-server is not installed (Debian: apt-get install redis-server, "
    "or run .ci/install-redis.sh)"
)


def no_retries() -> Retry:
    """redis-py retries a refused connection 10 times by default; the tests want the error now."""
    from redis.asyncio.retry import Retry  # redis-py: only the Redis tests need it
    from redis.backoff import NoBackoff

    return Retry(NoBackoff(), 0)


def require_redis_server() -> str:
    """The path of the redis-server binary; skip the test without it (fail under CI=true)."""
    import pytest

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{MISSING}; CI=true, so this is a failure, not a skip")
        pytest.skip(MISSING)
    return binary


class RedisServer:
    """`with RedisServer() as server:` a running redis-server at `server.url`.

    `stop()` ends it early (to test an outage); leaving the block stops it and
    removes its directory.
    """

    def __init__(self, binary: str = "redis-server", *, startup_timeout: float = 10.0) -> None:
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="timelines-redis-")
        log = Path(self._dir.name) / "redis.log"
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--dir", self._dir.name,
                    "--logfile", str(log),
                    "--save", "",
                    "--appendonly", "no",
                    "--daemonize", "no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_until_ready():
                return
            self._terminate()
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        self.stop()
        raise RuntimeError(f"redis-server did not start; its log:\n{text}")

    def stop(self) -> None:
        self._terminate()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_until_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
