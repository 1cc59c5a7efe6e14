"""The token: sent in the `Authorization` header, and kept out of everything else.

The token lives in one `BearerAuth` object, whose `repr` hides it, never in a
dict or a local variable of the pipeline (error trackers record frames' locals),
and it is blanked out of any error built from the server's words. Where a
token must be told apart from another (a Redis key, an export database), its
`token_fingerprint` stands for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from typing import Any

import httpx

from ._exceptions import APIError

__all__ = ["BearerAuth", "token_fingerprint"]


def token_fingerprint(token: str) -> str:
    """The first 16 hex digits of the token's SHA-256: which token, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class BearerAuth(httpx.Auth):
    """The `Authorization: Bearer` header, added as the request goes out."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._token
        yield request

    def redact_error(self, error: APIError) -> None:
        """Blank the token out of an error built from the server's words.

        The API never echoes it, but a proxy's debug page or a misconfigured
        gateway might; the token must not reach an exception message, a log or
        a traceback.
        """
        if self._token not in repr((error.args, error.message, error.errors)):
            return
        error.args = tuple(self._scrub(arg) for arg in error.args)
        error.message = self._scrub(error.message)
        error.errors = self._scrub(error.errors)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(self._token, "<hidden>")
        if isinstance(value, list):
            return [self._scrub(item) for item in value]
        if isinstance(value, dict):
            return {self._scrub(k): self._scrub(v) for k, v in value.items()}
        return value
