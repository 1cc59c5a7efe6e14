"""The API's operations, one module per API group, routed without regular expressions.

`Api.route(method, path)` finds the operation for a path below the API prefix
(`/chats/1000001/labels`); its handler checks the input as the API does (400
`validation_error` with `errors[].fields`), changes the `WorkspaceState` and
returns the envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from .._downloads import DownloadLinks
from .._state import WorkspaceState
from .._wire import ApiFailure
from ._common import Route
from .chats import ChatRoutes
from .files import FileRoutes
from .labels import LabelRoutes
from .messages import MessageRoutes
from .quotas import QuotaRoutes
from .reactions import ReactionRoutes
from .sends import SendRoutes
from .teammates import TeammateRoutes
from .webhooks import WebhookRoutes
from .whatsapp_accounts import WhatsAppAccountRoutes

__all__ = ["Api", "Route", "RouteMatch"]

#: The operation and its path arguments.
RouteMatch = tuple[Route, tuple[str, ...]]
_Pattern = tuple[str | None, ...]


class Api:
    """Every operation of the API, bound to one workspace."""

    def __init__(
        self, space: WorkspaceState, links: DownloadLinks, *, max_upload_size: int
    ) -> None:
        self._router = _Router(
            [
                *ChatRoutes(space).routes(),
                *MessageRoutes(space).routes(),
                *SendRoutes(space, max_upload_size=max_upload_size).routes(),
                *LabelRoutes(space).routes(),
                *ReactionRoutes(space).routes(),
                *FileRoutes(space, links, max_upload_size=max_upload_size).routes(),
                *WhatsAppAccountRoutes(space).routes(),
                *QuotaRoutes(space).routes(),
                *TeammateRoutes(space).routes(),
                *WebhookRoutes(space).routes(),
            ]
        )

    def route(self, method: str, path: str) -> RouteMatch:
        """The operation and path arguments for a request; 404 or 405 when there is none."""
        return self._router.route(method, path)


class _Router:
    """Static paths by dict lookup; paths with arguments by their segments."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._patterns: dict[int, list[tuple[_Pattern, Route]]] = {}
        self._known_paths: set[str] = set()
        for route in routes:
            if "{}" in route.pattern:
                segments = tuple(None if s == "{}" else s for s in route.pattern.split("/"))
                self._patterns.setdefault(len(segments), []).append((segments, route))
            else:
                self._static[(route.method, route.pattern)] = route
                self._known_paths.add(route.pattern)

    def route(self, method: str, path: str) -> RouteMatch:
        static = self._static.get((method, path))
        if static is not None:
            return static, ()
        segments = path.split("/")
        path_known = path in self._known_paths
        for pattern, route in self._patterns.get(len(segments), ()):
            if all(p is None or p == s for p, s in zip(pattern, segments, strict=True)):
                args = tuple(
                    unquote(s) for p, s in zip(pattern, segments, strict=True) if p is None
                )
                if all(args):
                    if route.method == method:
                        return route, args
                    path_known = True
        if path_known:
            raise ApiFailure(405, "Method Not Allowed")
        raise ApiFailure(404, "Not found", "not_found")
