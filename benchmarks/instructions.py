"""Client instructions per listed page, counted by valgrind: a figure that repeats.

    python -m benchmarks.instructions [WALK ...]

CPU time on a shared or virtual machine wanders by tens of percent from one
minute to the next; the instructions a walk executes do not (within 1 %). For
each of P6's walks (`bench_transport.WALKERS`, by number; all by default) this
runs the walk in a child process under `valgrind --tool=cachegrind`, once with
one walk and once with three, against one fake server, and prints the
difference per page: imports, start-up and the first walk's warm-up cancel out.
Only the client process is counted. Needs valgrind; about a minute a walk.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys

from ._server import fake_server
from .bench_transport import PAGES, WALKERS

_NAMES = list(WALKERS)
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _walk(index: int, walks: int, base_url: str) -> None:
    """The child: `walks` walks of one walker (run under valgrind)."""

    async def main() -> None:
        async with WALKERS[_NAMES[index]](base_url) as walk:
            for _ in range(walks):
                await walk()

    asyncio.run(main())


def count(index: int, walks: int, base_url: str) -> int:
    """Instructions the child executes for `walks` walks of walker `index`."""
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, "-m", "benchmarks.instructions", "--child", str(index), str(walks),
        base_url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = _REFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"valgrind printed no instruction count:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _walk(int(argv[1]), int(argv[2]), argv[3])
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    chosen = [int(arg) for arg in argv] or range(len(_NAMES))
    with fake_server(chats=PAGES * 50) as server:
        for index in chosen:
            extra = count(index, 3, server.base_url) - count(index, 1, server.base_url)
            print(f"{extra / (2 * PAGES) / 1e6:6.2f} M instructions a page  {_NAMES[index]}")


if __name__ == "__main__":
    main(sys.argv[1:])
