"""Worker processes started together: each says `ready`, then all are told `go` at once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["run_in_step"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_in_step(code: str, argvs: Sequence[Sequence[str]], *, timeout: float = 30) -> list[str]:
    """Run `python -c code` once per argv; release them together; return their stderr.

    Each worker prints `ready` when it is set up and then reads a line from stdin
    before its timed part. Fails the test when a worker exits with an error.
    """
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, *argv],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.communicate()[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outcomes = [worker.communicate(timeout=timeout) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    errors = [err for _, err in outcomes]
    assert [w.returncode for w in workers] == [0] * len(workers), errors
    return errors
