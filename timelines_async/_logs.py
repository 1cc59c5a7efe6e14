"""The `TIMELINES_LOG` switch: `debug` or `info` prints the library's log to standard error.

Every record the library writes comes from the `timelines_async` logger or one
of its children (`timelines_async.campaign`, `timelines_async.redis`, ...):
configure that logger like any other. The switch is for a quick look without
touching the application's logging set-up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from ._exceptions import ConfigurationError

__all__ = ["LOGGER_NAME", "apply_log_switch"]

LOGGER_NAME = "timelines_async"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


class _SwitchHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler the switch adds: one, however many clients are built."""


def apply_log_switch(environ: Mapping[str, str] = os.environ) -> None:
    """Set the `timelines_async` logger's level from `TIMELINES_LOG` and print it to stderr."""
    value = environ.get("TIMELINES_LOG", "").strip().lower()
    if not value:
        return
    level = _LEVELS.get(value)
    if level is None:
        raise ConfigurationError(f"TIMELINES_LOG must be 'debug' or 'info', not {value!r}")
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    if not any(isinstance(handler, _SwitchHandler) for handler in logger.handlers):
        handler = _SwitchHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
