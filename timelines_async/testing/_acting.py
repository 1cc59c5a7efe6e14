"""How the fake acts a fault out: one table for the ASGI adapter and the in-process transport.

Some faults stop a request before the fake acts on it and answer in its
place (a 503, a 429, a 200 saying `"status": "error"`); others withhold the
answer (a refused or dropped connection, a lost answer) or cut it short.
Over HTTP a withheld answer is a connection closed mid-answer; in-process it
is the exception httpx itself raises in that case, so that the client under
test meets what it would meet on a network.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import httpx

from ._faults import Fault, Faults
from ._wire import ApiFailure, Response, error_body, json_response

__all__ = ["ACTS", "Act", "Outcome", "refusal", "unavailable"]


@attrs.frozen
class Act:
    """What one kind of fault does to a request and its answer."""

    #: The answer given instead of acting on the request (`None`: the fake acts on it).
    answer: Callable[[Faults], Response] | None = None
    #: Whether no answer reaches the client at all.
    withheld: bool = False
    #: The exception an in-process client meets instead of the withheld answer.
    transport_error: type[httpx.TransportError] = httpx.RemoteProtocolError
    #: What the exception says.
    note: str = ""
    #: Whether the answer's body is cut in half.
    cut: bool = False


def unavailable(faults: Faults) -> Response:
    return ApiFailure(503, "Service temporarily unavailable", "internal_error").response()


def _rate_limited(faults: Faults) -> Response:
    retry_after = [("retry-after", f"{faults.retry_after:g}")]
    return ApiFailure(
        429, "Rate limit exceeded", "rate_limit_exceeded", headers=retry_after
    ).response()


def _status_error(faults: Faults) -> Response:
    return json_response(error_body("Internal error, try again", "internal_error"))


def _no_answer(faults: Faults) -> Response:
    return Response(0, b"")


ACTS: dict[Fault, Act] = {
    Fault.NOT_SENT: Act(
        _no_answer, withheld=True, transport_error=httpx.ConnectError, note="connection refused"
    ),
    Fault.DROPPED: Act(
        _no_answer,
        withheld=True,
        transport_error=httpx.RemoteProtocolError,
        note="server disconnected without sending a response",
    ),
    Fault.SERVER_ERROR: Act(unavailable),
    Fault.OUTAGE: Act(unavailable),
    Fault.RATE_LIMITED: Act(_rate_limited),
    Fault.STATUS_ERROR: Act(_status_error),
    Fault.LOST_ANSWER: Act(
        withheld=True, transport_error=httpx.ReadTimeout, note="the answer was lost"
    ),
    Fault.TRUNCATED: Act(cut=True),
}


@attrs.define
class Outcome:
    """A `Response` plus the fault the HTTP layer must act out."""

    response: Response
    fault: Fault | None = None

    @property
    def withheld(self) -> bool:
        """Whether the client gets no answer at all (the connection fails instead)."""
        return self.fault is not None and ACTS[self.fault].withheld

    @property
    def status(self) -> int:
        """The status the client sees; 0 when the answer is withheld."""
        return 0 if self.withheld else self.response.status

    def body(self) -> bytes:
        """The body as sent: cut in half when the fault says so."""
        body = self.response.body
        if self.fault is not None and ACTS[self.fault].cut:
            return body[: len(body) // 2]
        return body

    def transport_error(self, request: httpx.Request) -> httpx.TransportError:
        """What an in-process client meets instead of a withheld answer."""
        act = ACTS[self.fault] if self.fault is not None else Act()
        return act.transport_error(f"[fake] {act.note}", request=request)

    @property
    def drop_note(self) -> str:
        """One line saying why the connection was closed."""
        return f"[fake] {self.fault}: connection closed on purpose"


def refusal(fault: Fault | None, faults: Faults) -> Outcome | None:
    """The outcome of a fault that stops the request before the fake acts on it, else `None`."""
    if fault is None:
        return None
    answer = ACTS[fault].answer
    return None if answer is None else Outcome(answer(faults), fault)
