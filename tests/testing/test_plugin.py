"""The pytest plugin imports and works with only the core dependencies installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("starlette", "uvicorn", "respx", "yaml", "openapi_core", "rich", "redis", "werkzeug")


def test_the_plugin_and_the_fake_need_only_the_core_dependencies() -> None:
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError(f"{{name}} is not installed here")
                return None

        sys.meta_path.insert(0, Block())
        import anyio
        from timelines_async.testing._pytest_plugin import timelines_fake
        from timelines_async.testing import FakeTimelines

        async def main():
            async with FakeTimelines(chats=3).client() as tl:
                assert len(await tl.chats.list().collect()) == 3

        anyio.run(main)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
