"""Every Python snippet in README.md runs, as written, against the fake server over HTTP.

Each snippet runs in its own subprocess with `TIMELINES_API_TOKEN` and
`TIMELINES_BASE_URL` pointing at a fresh seeded fake on 127.0.0.1, so the
README shows exactly the code a user would run against the real API. A snippet
that defines pytest tests is run with pytest. A snippet may be preceded by a
`<!-- readme-test: ... -->` line asking for what it needs: `env NAME=VALUE ...`
for extra environment, `redis` for a real redis-server (its URL in `REDIS_URL`).
The repository root is on `PYTHONPATH`, as it is for a reader in a checkout.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._redis_server import RedisServer, require_redis_server
from timelines_async.testing import FakeTimelines, serve_http

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<needs>[^>]*?) -->\s*\n)?```python\n(?P<code>.*?)```", re.DOTALL
)


def _snippets() -> list[tuple[str, str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        found.append((f"README.md:{line}", match["code"], (match["needs"] or "").split()))
    return found


SNIPPETS = _snippets()


def test_the_readme_has_snippets() -> None:
    """Guards the extraction itself: a README without Python snippets would pass vacuously."""
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize(("where", "code", "needs"), SNIPPETS, ids=[w for w, _, _ in SNIPPETS])
def test_snippet_runs(where: str, code: str, needs: list[str], tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        extra_env = dict(item.split("=", 1) for item in needs if "=" in item)
        if "redis" in needs:
            server = stack.enter_context(RedisServer(require_redis_server()))
            extra_env["REDIS_URL"] = server.url
        _run_snippet(where, code, extra_env, tmp_path)


def _run_snippet(where: str, code: str, extra_env: dict[str, str], tmp_path: Path) -> None:
    fake = FakeTimelines(seed=7, chats=60)
    is_test_module = re.search(r"^(async )?def test_", code, re.MULTILINE) is not None
    script = tmp_path / ("test_snippet.py" if is_test_module else "snippet.py")
    script.write_text(code, encoding="utf-8")
    command = (
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
        if is_test_module
        else [sys.executable, str(script)]
    )
    with serve_http(fake) as base_url:
        env = {
            **os.environ,
            "TIMELINES_API_TOKEN": fake.token,
            "TIMELINES_BASE_URL": base_url,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **extra_env,
        }
        result = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, f"{where} failed:\n{result.stdout}\n{result.stderr}"
    assert fake.token not in result.stdout + result.stderr
