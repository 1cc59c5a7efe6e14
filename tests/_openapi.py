"""Validate the requests the client builds against the production OpenAPI spec.

The spec is read where it lives (never copied into the repository): the folder
named by `$TIMELINES_OPENAPI_DIR`, else `<repo>/../shared/openapi`. Tests that
need it skip, with the reason, when it is absent.

`validate(request)` checks an `httpx.Request` captured at the transport with
openapi-core: path and method, path and query parameters, the bearer token's
presence, the content type and the body against the operation's schema. The
client must be pointed at the spec's server URL (`SERVER_URL`).
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = [
    "SERVER_URL",
    "SPEC_FILE",
    "HttpxOpenAPIRequest",
    "load_openapi",
    "spec_dir",
    "spec_or_skip",
    "validate",
]

SPEC_FILE = "public_api_spec.yaml"
SERVER_URL = "https://app.timelines.ai/integrations/api"

#: `POST /messages/to_chat_name` was removed from the spec (it is only a comment
#: there now), but its body schema `MessageToChatName` is still in `components`.
#: The operation is restored here exactly as the comment describes it, so that
#: the deprecated send is validated by the same machinery as every other request.
LEGACY_PATHS: dict[str, Any] = {
    "/messages/to_chat_name": {
        "post": {
            "summary": "Send message in existing chat, specified by chat name (deprecated)",
            "deprecated": True,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/MessageToChatName"}
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Success",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/MessageSendResponse"}
                        }
                    },
                }
            },
        }
    }
}


def spec_dir() -> Path:
    """Where the spec should be: `$TIMELINES_OPENAPI_DIR`, else `<repo>/../shared/openapi`."""
    configured = os.environ.get("TIMELINES_OPENAPI_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "openapi"


def spec_or_skip() -> Path:
    """The spec file, or skip the calling test saying where it was looked for."""
    path = spec_dir() / SPEC_FILE
    if not path.is_file():
        pytest.skip(
            f"the production OpenAPI spec is not at {path} "
            "(set TIMELINES_OPENAPI_DIR to the folder holding public_api_spec.yaml)"
        )
    return path


@functools.cache
def _load(path: Path, with_legacy: bool) -> OpenAPI:
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if with_legacy:
        document = copy.deepcopy(document)
        for legacy_path, item in LEGACY_PATHS.items():
            assert legacy_path not in document["paths"], f"{legacy_path} is back in the spec"
            document["paths"][legacy_path] = item
    return OpenAPI.from_dict(document)


def load_openapi(*, with_legacy: bool = False) -> OpenAPI:
    """The spec, loaded once per process (skips the test when it is absent).

    `with_legacy` adds the deprecated operations of `LEGACY_PATHS`.
    """
    return _load(spec_or_skip(), with_legacy)


class HttpxOpenAPIRequest:
    """openapi-core's request protocol over an `httpx.Request` whose body has been read."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        url = request.url
        port = f":{url.port}" if url.port else ""
        self.host_url = f"{url.scheme}://{url.host}{port}"
        self.path = url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(url.params.multi_items()),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "")).lower()

    @property
    def body(self) -> bytes | None:
        content = self._request.content
        return content or None


def validate(request: httpx.Request, *, with_legacy: bool = False) -> None:
    """Raise openapi-core's validation error when the request does not match the spec."""
    load_openapi(with_legacy=with_legacy).validate_request(HttpxOpenAPIRequest(request))
