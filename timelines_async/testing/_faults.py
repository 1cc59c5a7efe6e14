"""Fault knobs and the seeded draw that decides which fault, if any, hits a request.

Each request to an API operation takes exactly one draw from the faults' own
random generator (a path the API does not serve takes none), so for a given
seed the same request sequence meets the same faults. The
probabilities are exclusive slices of that draw (their sum must not exceed 1);
`lost_answer` only applies to sends, other requests pass through its slice
untouched. An `Outage` is not drawn: it is a window of time in which every
request fails.
"""

from __future__ import annotations

import random
from collections import Counter
from enum import StrEnum

import attrs

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector", "Faults", "Outage", "OutageWindow"]


class Fault(StrEnum):
    """A kind of fault: the name of its `Faults` field, as counted and logged."""

    NOT_SENT = "not_sent"
    DROPPED = "dropped"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    STATUS_ERROR = "status_error"
    LOST_ANSWER = "lost_answer"
    TRUNCATED = "truncated"
    #: Not drawn: every request inside an `Outage` window.
    OUTAGE = "outage"


#: The kinds drawn per request, in the order their slices are laid out on the draw.
FAULT_KINDS = (
    Fault.NOT_SENT,
    Fault.DROPPED,
    Fault.SERVER_ERROR,
    Fault.RATE_LIMITED,
    Fault.STATUS_ERROR,
    Fault.LOST_ANSWER,
    Fault.TRUNCATED,
)


def _probability(instance: Faults, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a probability between 0 and 1, not {value!r}")


@attrs.frozen(kw_only=True)
class Faults:
    """How often the fake misbehaves: each field is a probability per request.

    - `server_error`: a 503 with the error envelope (`internal_error`); nothing is done.
    - `rate_limited`: a 429 `rate_limit_exceeded` with `Retry-After: retry_after`.
    - `dropped`: the connection closes before any answer; nothing is done
      (in-process: `httpx.RemoteProtocolError`).
    - `not_sent`: the connection is refused before the request reaches the fake
      (in-process: `httpx.ConnectError`; over HTTP it behaves like `dropped`).
    - `lost_answer` (sends only): the message IS accepted (it is in `fake.sent`),
      then the answer is lost (in-process: `httpx.ReadTimeout`; over HTTP the
      connection closes).
    - `truncated`: the request is handled, and its JSON answer is cut in half.
    - `status_error`: an HTTP 200 whose body says `"status": "error"`; nothing is done.
    """

    seed: int = 0
    server_error: float = attrs.field(default=0.0, validator=_probability)
    rate_limited: float = attrs.field(default=0.0, validator=_probability)
    retry_after: float = attrs.field(default=1.0, validator=attrs.validators.ge(0.0))
    dropped: float = attrs.field(default=0.0, validator=_probability)
    lost_answer: float = attrs.field(default=0.0, validator=_probability)
    truncated: float = attrs.field(default=0.0, validator=_probability)
    status_error: float = attrs.field(default=0.0, validator=_probability)
    not_sent: float = attrs.field(default=0.0, validator=_probability)

    def __attrs_post_init__(self) -> None:
        total = sum(getattr(self, kind) for kind in FAULT_KINDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"the fault probabilities add up to {total:g}; at most 1 is possible")

    @property
    def active(self) -> bool:
        """Whether any fault can happen at all."""
        return any(getattr(self, kind) for kind in FAULT_KINDS)


class FaultInjector:
    """Draws the fault for each request and counts what it injected, by kind."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(faults.seed)
        self._slices = tuple((kind, getattr(faults, kind)) for kind in FAULT_KINDS)
        self._active = faults.active

    def draw(self, *, is_send: bool) -> Fault | None:
        """The fault for the next request, or `None`; counted when injected."""
        if not self._active:
            return None
        roll = self._rng.random()
        for kind, probability in self._slices:
            if roll < probability:
                if kind is Fault.LOST_ANSWER and not is_send:
                    return None
                self.injected[kind] += 1
                return kind
            roll -= probability
        return None


@attrs.frozen(kw_only=True)
class Outage:
    """A window in which every request fails with a 503, as when the API is down.

    It begins with the request that comes `after_requests` requests after the
    outage was set (0: the next one) and lasts `seconds` on the fake's clock.
    """

    after_requests: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    seconds: float = attrs.field(validator=attrs.validators.gt(0.0))


class OutageWindow:
    """Tells, request by request, whether an `Outage` is under way."""

    def __init__(self, outage: Outage, requests_so_far: int) -> None:
        self.outage = outage
        self._first_request = requests_so_far + outage.after_requests
        self._started_at: float | None = None

    def covers(self, request_index: int, now: float) -> bool:
        """Whether the `request_index`-th request, arriving at `now`, meets the outage."""
        if request_index < self._first_request:
            return False
        if self._started_at is None:
            self._started_at = now
        return now < self._started_at + self.outage.seconds
