"""Serve a fake over real HTTP from a background thread, for code that needs a URL.

In-process (`fake.client()`) is the fast path; this is for what cannot take an
in-process client: subprocesses, other HTTP libraries, several processes
sharing one fake. The server lives in the calling process, so the test can
inspect the fake's state directly (and the fake outlives a killed subprocess).
Needs uvicorn (`pip install "timelines-async[cli]"`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._asgi import note_dropped_connections

__all__ = ["serve_http"]


@contextmanager
def serve_http(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, prefix: str = "/integrations/api"
) -> Iterator[str]:
    """Serve `app` over HTTP on `host:port` (a free port by default) while the block runs.

        with serve_http(fake) as base_url:
            subprocess.run([...], env={"TIMELINES_BASE_URL": base_url, ...})

    Args:
        app: An ASGI app, usually a `FakeTimelines`.
        host: The address to listen on.
        port: The port; `0` picks a free one.
        prefix: The API's path under the server.

    Yields:
        The API's base URL, e.g. `http://127.0.0.1:54321/integrations/api`.

    Raises:
        ImportError: uvicorn is missing (it comes with the `cli` extra).
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            'serving the fake over HTTP needs uvicorn: pip install "timelines-async[cli]"'
        ) from exc
    listener = socket.create_server((host, port))
    bound_port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning", access_log=False)
    note_dropped_connections()
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="timelines-fake-http", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise RuntimeError("the fake server did not start")
        time.sleep(0.005)
    try:
        yield f"http://{host}:{bound_port}{prefix}"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        listener.close()
