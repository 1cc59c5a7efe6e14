"""Every Python code block of README.md and docs/**/*.md runs, as written, against the fake.

Each block runs in its own subprocess with `TIMELINES_API_TOKEN` and
`TIMELINES_BASE_URL` pointing at a fresh seeded fake on 127.0.0.1, so a page
shows exactly the code a user would run against the real API. A block that
defines pytest tests is run with pytest. The repository root is on
`PYTHONPATH`, as it is for a reader in a checkout. A block made only of an
include (`--8<-- "examples/..."`) is the example itself, run by
tests/test_examples.py.

A block may be preceded by `<!-- test: ... -->` saying what it needs:

- `fake KEY=VALUE ...`: the fake's arguments (`chats=5`, `send_interval=0`);
  without it, a small fake (`DEFAULT_FAKE`): the client paces requests at 2 a
  second, so a snippet that walks a big workspace is a slow snippet;
- `env NAME=VALUE ...`: extra environment;
- `redis`: a real redis-server, its URL in `REDIS_URL`;
- `skip`: not run.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests._redis_server import RedisServer, require_redis_server
from timelines_async.testing import FakeTimelines, serve_http

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DEFAULT_FAKE: dict[str, Any] = {"seed": 7, "chats": 3}
_BLOCK = re.compile(
    r"(?:<!-- (?:readme-)?test: (?P<needs>[^>]*?) -->\s*\n)?```python\n(?P<code>.*?)```", re.DOTALL
)


@dataclass(frozen=True)
class Needs:
    """What a block's directive asks for."""

    fake: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    redis: bool = False
    skip: bool = False


def parse_needs(directive: str) -> Needs:
    """`fake chats=5 env NAME=VALUE redis` to `Needs`; an unknown word is an error."""
    fake: dict[str, Any] = {}
    env: dict[str, str] = {}
    flags: set[str] = set()
    section: str | None = None
    for token in directive.split():
        key, is_setting, value = token.partition("=")
        if token in ("fake", "env"):
            section = token
        elif token in ("redis", "skip"):
            flags.add(token)
        elif is_setting and section == "fake":
            fake[key] = _literal(value)
        elif is_setting and section == "env":
            env[key] = value
        else:
            raise ValueError(f"unknown word {token!r} in snippet directive {directive!r}")
    return Needs(fake, env, redis="redis" in flags, skip="skip" in flags)


def _literal(value: str) -> Any:
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(value)
    return value


def _snippets() -> list[tuple[str, str, Needs]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            if match["code"].lstrip().startswith("--8<--"):
                continue
            line = text.count("\n", 0, match.start("code")) + 1
            where = f"{page.relative_to(ROOT)}:{line}"
            found.append((where, match["code"], parse_needs(match["needs"] or "")))
    return found


SNIPPETS = _snippets()


def test_the_pages_have_snippets() -> None:
    """Guards the extraction itself: pages without Python snippets would pass vacuously."""
    assert len(SNIPPETS) >= 30
    assert {where.split(":")[0] for where, _, _ in SNIPPETS} >= {"README.md", "docs/index.md"}


def test_the_readme_links_point_at_files_that_exist() -> None:
    """The README is read on its own (mkdocs builds only docs/): its links are checked here."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if "://" not in target]
    assert local, "the README links to no guide"
    assert [target for target in local if not (ROOT / target).exists()] == []


def test_a_directive_names_what_a_snippet_needs() -> None:
    needs = parse_needs("fake chats=5 send_interval=0.5 env SECRET=a=b redis")
    assert needs == Needs({"chats": 5, "send_interval": 0.5}, {"SECRET": "a=b"}, redis=True)
    with pytest.raises(ValueError, match="chats=5"):
        parse_needs("chats=5")


#: Snippets run this many at a time: most of a snippet's time is the client's
#: pacing and spacing sleeps, which overlap.
CONCURRENT = 6


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[str | None]]]:
    """Every selected snippet started at once (a few at a time); each test waits for its own."""
    selected = {
        item.callspec.params["where"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_snippet_runs"
        and hasattr(item, "callspec")
    }
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        futures = {
            where: pool.submit(_run_snippet, where, code, needs, tmp_path_factory.mktemp("snippet"))
            for where, code, needs in SNIPPETS
            if where in selected and not needs.skip
        }
        yield futures
        for future in futures.values():
            future.cancel()


@pytest.mark.parametrize(("where", "code", "needs"), SNIPPETS, ids=[w for w, _, _ in SNIPPETS])
def test_snippet_runs(
    where: str, code: str, needs: Needs, outcomes: dict[str, Future[str | None]]
) -> None:
    if needs.skip:
        pytest.skip(f"{where} is marked skip")
    failure = outcomes[where].result(timeout=300)
    assert failure is None, failure


def _run_snippet(where: str, code: str, needs: Needs, tmp_path: Path) -> str | None:
    """Run one snippet against its own fake; what went wrong, or None."""
    with contextlib.ExitStack() as stack:
        extra_env = dict(needs.env)
        if needs.redis:
            server = stack.enter_context(RedisServer(require_redis_server()))
            extra_env["REDIS_URL"] = server.url
        fake = FakeTimelines(**{**DEFAULT_FAKE, **needs.fake})
        base_url = stack.enter_context(serve_http(fake))
        result = subprocess.run(
            _command(code, tmp_path),
            cwd=tmp_path,
            env=_environment(fake.token, base_url, extra_env),
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        return f"{where} failed:\n{output}"
    if fake.token in output:
        return f"{where} printed the token"
    return None


def _command(code: str, tmp_path: Path) -> list[str]:
    """Python for a script, pytest for a block that defines tests."""
    if re.search(r"^(async )?def test_", code, re.MULTILINE):
        script = tmp_path / "test_snippet.py"
        script.write_text(code, encoding="utf-8")
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    return [sys.executable, str(script)]


def _environment(token: str, base_url: str, extra: dict[str, str]) -> dict[str, str]:
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "TIMELINES_API_TOKEN": token,
        "TIMELINES_BASE_URL": base_url,
        "PYTHONPATH": pythonpath,
        **extra,
    }
