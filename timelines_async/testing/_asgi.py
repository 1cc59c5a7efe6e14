"""The ASGI side: read an HTTP request from ASGI messages, and act an answer out on them.

A dropped connection or a lost answer is performed by starting the response
and then raising: an ASGI server (uvicorn) closes the connection mid-answer,
which the client sees as a protocol error, as it would on a network.
`note_dropped_connections` makes the server log that in one line instead of
a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ._acting import Outcome
from ._wire import Request, parse_query

__all__ = ["ConnectionDropped", "answer", "note_dropped_connections", "read_request"]


class ConnectionDropped(Exception):
    """Raised on purpose after the response started, so that the server drops the connection."""


class _DroppedConnectionNote(logging.Filter):
    """Turns the server's traceback for a connection dropped on purpose into one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConnectionDropped):
            record.msg, record.args, record.exc_info = str(error), (), None
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


def note_dropped_connections(logger_name: str = "uvicorn.error") -> None:
    """Log the fake's dropped connections in one line on this logger (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, _DroppedConnectionNote) for f in logger.filters):
        logger.addFilter(_DroppedConnectionNote())


async def read_request(scope: Mapping[str, Any], receive: Any) -> Request:
    """The whole request, body included, from an ASGI `http` scope and its messages."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    raw_path = scope.get("raw_path") or scope["path"].encode()
    host = headers.get("host")
    if host is None and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    return Request(
        method=scope["method"],
        path=raw_path.decode("latin-1").partition("?")[0],
        query=parse_query(scope.get("query_string", b"").decode("latin-1")),
        headers=headers,
        body=b"".join(chunks),
        origin=f"{scope.get('scheme', 'http')}://{host or 'localhost'}",
    )


async def answer(outcome: Outcome, send: Any) -> None:
    """Send the answer, or act out its fault: drop the connection, or cut the body."""
    if outcome.withheld:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        raise ConnectionDropped(outcome.drop_note)
    body = outcome.body()
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in outcome.response.headers
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
