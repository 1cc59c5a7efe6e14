"""Send spacing shared by every process and machine that uses one token, kept in Redis.

The API spaces WhatsApp sends about 2 s apart per workspace (docs/design/api.md). The
default limiter only knows about its own process; with several workers sharing
a token, give each client a `RedisSendLimiter` on the same key:

    from redis.asyncio import Redis
    from timelines_async import TimelinesClient
    from timelines_async.redis import RedisSendLimiter

    async with Redis.from_url("redis://localhost:6379/0") as redis:
        limiter = RedisSendLimiter.for_token(redis, token, interval=2.0)
        async with TimelinesClient(token, send_limiter=limiter) as tl:
            await tl.messages.send(phone="+14155551234", text="Your order shipped")

How a slot is taken: one Lua script (EVALSHA, one round trip) reads the last
reserved slot under the key, takes `slot = max(now, last + interval)` on
**Redis's own clock** (`TIME`), stores it with an expiry and answers how long
to wait. The caller then sleeps that long on its local monotonic clock. Both
the reservation and the wait are relative, so clock skew between the hosts
cannot bring two sends closer than `interval` (as seen by Redis; how late each
worker wakes up and how long its request takes still add or take a few
milliseconds on the way to the API).

No send without a slot: when Redis is unreachable, times out or answers with
an error, `acquire()` raises `SendLimiterError` and the message is not sent.

The key never contains the API token: `send_slot_key(token)` derives it from
a SHA-256 of the token (`timelines:send-slot:<16 hex digits>`), which is what
`RedisSendLimiter.for_token(redis, token)` and `RedisSendLimiter(redis)`
(token from `TIMELINES_API_TOKEN`) use. The Redis client is the caller's:
the limiter neither opens nor closes it.

The same module shares the request rate (`RedisRequestPacer`, one reservation
per request in one Lua round trip, slowed for everyone by a 429 any process
sees) and webhook de-duplication (`RedisDeduplicator`, one `SET NX EX` per
delivery) between processes.

Needs the optional extra: `pip install "timelines-async[redis]"` (redis-py 5+,
Redis server 5+).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from typing import Literal, Self

import anyio
import anyio.lowlevel
import attrs

from ._auth import token_fingerprint
from ._exceptions import ConfigurationError, TimelinesError
from ._limits import MIN_RATE_SHARE, NEAR_THE_LIMIT, RECOVERY_SHARE, SLOW_RECOVERY
from ._validation import check_number, option_error
from .events import Event, dedup_key
from .receiver import DeduplicatorUnavailable

try:
    from redis.asyncio import Redis, RedisCluster
    from redis.exceptions import RedisError
except ImportError as exc:
    raise ImportError(
        'timelines_async.redis needs redis-py: pip install "timelines-async[redis]"'
    ) from exc

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DeduplicatorUnavailable",
    "RedisDeduplicator",
    "RedisRequestPacer",
    "RedisSendLimiter",
    "RequestPacerError",
    "SendLimiterError",
    "SendSlot",
    "send_slot_key",
]

logger = logging.getLogger("timelines_async.redis")

DEFAULT_KEY_PREFIX = "timelines:send-slot:"

# KEYS[1]: the slot key. ARGV[1]: the interval in microseconds.
# Returns {slot, wait}: the reserved slot on Redis's clock and the time until
# it, both in microseconds (integers: Lua numbers are doubles, exact up to
# 2**53 µs, about 285 years after the epoch).
#
# TIME is non-deterministic; Redis 5+ replicates a script's effects rather
# than the script, so a write after TIME is allowed (Redis 3.2 and 4 need
# `redis.replicate_commands()` first, which later versions accept as a no-op).
# The key expires a second after its slot plus one interval: by then any
# caller gets `now` anyway, so an idle workspace leaves nothing behind.
_RESERVE_SLOT = """
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local slot = now
local last = tonumber(redis.call('GET', KEYS[1]))
if last and last + interval > now then
    slot = last + interval
end
local ttl_ms = math.ceil((slot - now + interval) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', slot), 'PX', ttl_ms)
return {slot, slot - now}
"""


class SendLimiterError(TimelinesError):
    """No send slot could be reserved (Redis unreachable, timed out or failing).

    The message was not sent. The Redis exception is chained as `__cause__`;
    `key` is the slot key (a hash, never the token).
    """

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


@attrs.frozen
class SendSlot:
    """A reserved send slot: `at` on Redis's clock (seconds since the epoch), `wait` from now."""

    at: float
    wait: float


def send_slot_key(token: str, *, prefix: str = DEFAULT_KEY_PREFIX) -> str:
    """The Redis key for a token's send slots: `prefix` + the first 16 hex digits of its SHA-256.

    Every process that uses the same token gets the same key; the token itself
    cannot be read back from it. Surrounding whitespace is ignored, as the
    client ignores it.

    Args:
        token: The API token.
        prefix: The key's prefix.

    Returns:
        The key.

    Raises:
        ConfigurationError: An empty token.
    """
    token = token.strip()
    if not token:
        raise ConfigurationError("cannot derive a send slot key from an empty token")
    return prefix + token_fingerprint(token)


class RedisSendLimiter:
    """Send slots at least `interval` seconds apart across every process sharing `key`.

    A `SendLimiter` for `TimelinesClient(send_limiter=...)`. `interval=0` still
    takes a slot (Redis must answer) but never waits.

    Args:
        redis: A redis-py asyncio client (`Redis` or `RedisCluster`); yours to
            open and close.
        key: The Redis key; default `send_slot_key()` of `TIMELINES_API_TOKEN`.
            Prefer `RedisSendLimiter.for_token(redis, token)` when the token
            comes from elsewhere.
        interval: The least time between two sends, in seconds.
        timeout: Seconds a reservation may take (redis-py's reconnection retries
            and this process's earlier reservations included); past it,
            `acquire()` raises `SendLimiterError`.

    Raises:
        ConfigurationError: No key and no `TIMELINES_API_TOKEN`, or an option out
            of range.
    """

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        key: str | None = None,
        interval: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        check_number("interval", interval, minimum=0, error=option_error)
        check_number("timeout", timeout, minimum=0, exclusive=True, error=option_error)
        if key is None:
            token = os.environ.get("TIMELINES_API_TOKEN", "")
            if not token.strip():
                raise ConfigurationError(
                    "no send slot key: pass key=..., use RedisSendLimiter.for_token(redis, token), "
                    "or set TIMELINES_API_TOKEN"
                )
            key = send_slot_key(token)
        elif not key:
            raise ConfigurationError("key must not be empty")
        self.key = key
        self.interval = float(interval)
        self.timeout = float(timeout)
        self._interval_us = round(interval * 1_000_000)
        self._script = redis.register_script(_RESERVE_SLOT)
        # One reservation in flight per limiter: slots follow the callers' order (FIFO,
        # like the in-process limiter), they share one connection, and each reply is read
        # as soon as it lands instead of queueing behind its siblings' replies (the time a
        # reply waits shortens the caller's wait on top of the slot's).
        self._gate = _fifo_lock()

    @classmethod
    def for_token(
        cls,
        redis: Redis | RedisCluster,
        token: str,
        *,
        interval: float = 2.0,
        timeout: float = 5.0,
        prefix: str = DEFAULT_KEY_PREFIX,
    ) -> Self:
        """A limiter on `send_slot_key(token, prefix=prefix)`: one key per workspace token.

        Args:
            redis: A redis-py asyncio client.
            token: The API token; only its hash reaches Redis.
            interval: As for the constructor.
            timeout: As for the constructor.
            prefix: The key's prefix.

        Returns:
            The limiter.
        """
        return cls(
            redis, key=send_slot_key(token, prefix=prefix), interval=interval, timeout=timeout
        )

    def __repr__(self) -> str:
        return f"RedisSendLimiter(key={self.key!r}, interval={self.interval})"

    async def acquire(self) -> None:
        """Reserve the next slot and sleep until it.

        Raises:
            SendLimiterError: No slot could be reserved; the message is not sent.
        """
        slot = await self.reserve()
        await _sleep_precisely(slot.wait)

    async def reserve(self) -> SendSlot:
        """Reserve the next slot in one round trip and return it, without waiting for it.

        A reserved slot is used up whether or not anything is sent in it.
        """
        try:
            with anyio.fail_after(self.timeout):
                async with self._gate:
                    reply = await self._script(keys=[self.key], args=[self._interval_us])
        except (RedisError, OSError) as exc:
            # OSError covers the builtin TimeoutError of `fail_after` too.
            reason = str(exc) or f"no answer within {self.timeout} s"
            raise SendLimiterError(
                f"no send slot: reserving one in Redis under {self.key!r} failed "
                f"({type(exc).__name__}: {reason}); the message was not sent",
                key=self.key,
            ) from exc
        try:
            slot_us, wait_us = (int(value) for value in reply)
        except (TypeError, ValueError) as exc:
            raise SendLimiterError(
                f"no send slot: Redis answered the reservation under {self.key!r} with "
                f"{reply!r}; the message was not sent",
                key=self.key,
            ) from exc
        slot = SendSlot(at=slot_us / 1_000_000, wait=wait_us / 1_000_000)
        logger.debug("send slot under %s reserved, %.3f s from now", self.key, slot.wait)
        return slot


REQUEST_RATE_PREFIX = "timelines:request-rate:"
WEBHOOK_PREFIX = "timelines:webhook:"

# KEYS[1]: the pacer's hash. ARGV: the top rate (requests per second), the 429s and
# the successes this process saw since its last reservation, then `_limits`'s
# MIN_RATE_SHARE, RECOVERY_SHARE, NEAR_THE_LIMIT and SLOW_RECOVERY (the in-process
# `RequestPacer`'s rules). The hash holds the next free start (`next`, µs on
# Redis's clock), the shared current rate (`rate`), when it was last cut (`cut`)
# and the rate that drew that 429 (`refused`, 0 for none). A 429 halves the rate
# (down to top x MIN_RATE_SHARE), but at most once a second: the 429s of one
# congestion episode, seen by several processes, cut it once. Each success adds
# back top x RECOVERY_SHARE, and SLOW_RECOVERY of that from NEAR_THE_LIMIT x
# `refused` on. Returns {wait in µs, the current rate as text}. The hash expires
# a minute after its last use.
_RESERVE_START = """
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local top = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'next', 'rate', 'cut', 'refused')
local next_start = tonumber(state[1]) or now
local rate = math.min(tonumber(state[2]) or top, top)
local cut = tonumber(state[3]) or 0
local refused = tonumber(state[4]) or 0
local successes = tonumber(ARGV[3])
if tonumber(ARGV[2]) > 0 and now - cut >= 1000000 then
    refused = rate
    rate = math.max(rate / 2, top * tonumber(ARGV[4]))
    cut = now
elseif successes > 0 then
    local step = top * tonumber(ARGV[5])
    local near = refused > 0 and tonumber(ARGV[6]) * refused or top
    if rate < near then
        local fast = math.min(successes, math.ceil((near - rate) / step))
        rate = rate + fast * step
        successes = successes - fast
    end
    rate = math.min(top, rate + successes * step * tonumber(ARGV[7]))
end
local start = math.max(now, next_start)
next_start = start + 1000000 / rate
redis.call('HSET', KEYS[1], 'next', string.format('%d', next_start),
    'rate', string.format('%.17g', rate), 'cut', string.format('%d', cut),
    'refused', string.format('%.17g', refused))
redis.call('PEXPIRE', KEYS[1], math.ceil((next_start - now) / 1000) + 60000)
return {string.format('%d', start - now), string.format('%.17g', rate)}
"""

#: The pacer's adaptation rules, as the script takes them (ARGV[4] to ARGV[7]).
_ADAPT = [repr(share) for share in (MIN_RATE_SHARE, RECOVERY_SHARE, NEAR_THE_LIMIT, SLOW_RECOVERY)]


class RequestPacerError(TimelinesError):
    """No request start could be reserved (Redis unreachable, timed out or failing).

    The request was not sent. The Redis exception is chained; `key` is the pacer's key.
    """

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class RedisRequestPacer:
    """One request rate shared by every process on `key`, for `TimelinesClient(request_pacer=...)`.

    Each request reserves its start in one Lua round trip, on Redis's clock:
    together the processes start at most `requests_per_second` requests a second.
    A 429 that any of them sees halves the shared rate, which climbs back with
    successes (reported with the process's next reservation, in the same round
    trip). Fails closed: without Redis, `wait()` raises `RequestPacerError` and
    the request is not sent.

    Args:
        redis: A redis-py asyncio client (`Redis` or `RedisCluster`); yours to
            open and close.
        key: The Redis key every process shares (see `for_token`).
        requests_per_second: The rate all the processes share.
        timeout: Seconds a reservation may take before `RequestPacerError`.

    Raises:
        ConfigurationError: An empty key or an option out of range.
    """

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        key: str,
        requests_per_second: float,
        timeout: float = 5.0,
    ) -> None:
        check_number("requests_per_second", requests_per_second, exclusive=True, error=option_error)
        check_number("timeout", timeout, minimum=0, exclusive=True, error=option_error)
        if not isinstance(key, str) or not key:
            raise ConfigurationError("key must be a non-empty string")
        self.key = key
        self.max_rate = float(requests_per_second)
        #: The shared rate as Redis last answered it (the top rate before the first request).
        self.rate = self.max_rate
        self.timeout = float(timeout)
        self._script = redis.register_script(_RESERVE_START)
        self._gate = _fifo_lock()
        self._throttled = 0
        self._successes = 0

    @classmethod
    def for_token(
        cls,
        redis: Redis | RedisCluster,
        token: str,
        *,
        requests_per_second: float,
        timeout: float = 5.0,
        prefix: str = REQUEST_RATE_PREFIX,
    ) -> Self:
        """A pacer on `send_slot_key(token, prefix=prefix)`: one key per workspace token.

        Args:
            redis: A redis-py asyncio client.
            token: The API token; only its hash reaches Redis.
            requests_per_second: The rate all the processes share.
            timeout: Seconds a reservation may take before `RequestPacerError`.
            prefix: The key's prefix.

        Returns:
            The pacer.
        """
        key = send_slot_key(token, prefix=prefix)
        return cls(redis, key=key, requests_per_second=requests_per_second, timeout=timeout)

    def __repr__(self) -> str:
        return f"RedisRequestPacer(key={self.key!r}, requests_per_second={self.max_rate})"

    async def wait(self) -> None:
        """Reserve the next start shared by every process and sleep until it.

        Raises:
            RequestPacerError: No start could be reserved; the request is not sent.
        """
        throttled, successes = self._throttled, self._successes
        self._throttled = self._successes = 0
        try:
            with anyio.fail_after(self.timeout):
                async with self._gate:
                    reply = await self._script(
                        keys=[self.key], args=[repr(self.max_rate), throttled, successes, *_ADAPT]
                    )
            wait_us, rate = int(reply[0]), float(reply[1])
        except (RedisError, OSError, TypeError, ValueError, IndexError) as exc:
            # OSError covers the builtin TimeoutError of `fail_after` too.
            reason = str(exc) or f"no answer within {self.timeout} s"
            raise RequestPacerError(
                f"no request start: reserving one in Redis under {self.key!r} failed "
                f"({type(exc).__name__}: {reason}); the request was not sent",
                key=self.key,
            ) from exc
        self.rate = rate
        await _sleep_precisely(wait_us / 1_000_000)

    def on_throttled(self) -> None:
        """A 429: reported with the next reservation, it slows every process."""
        self._throttled += 1

    def on_success(self) -> None:
        self._successes += 1


class RedisDeduplicator:
    """Drops a webhook delivery that any process or replica sharing this Redis has taken.

    One `SET <prefix><dedup_key(event)> 1 NX EX <ttl>` per delivery; give it to
    `WebhookReceiver(dedup=...)`.

    Args:
        redis: A redis-py asyncio client; yours to open and close.
        ttl: How long a delivery is remembered (seconds or a `timedelta`).
        prefix: The keys' prefix.
        on_error: When Redis cannot answer: `"process"` (the default) treats
            the delivery as new, since an event handled twice beats one lost;
            `"reject"` raises `DeduplicatorUnavailable`, which the receiver
            answers 503 so that the API delivers again later.
        timeout: Seconds Redis may take to answer.

    Raises:
        ConfigurationError: An option out of range.
    """

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        ttl: float | timedelta = 3600.0,
        prefix: str = WEBHOOK_PREFIX,
        on_error: Literal["process", "reject"] = "process",
        timeout: float = 2.0,
    ) -> None:
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
        check_number("ttl", seconds, minimum=0.001, error=option_error)
        if on_error not in ("process", "reject"):
            raise ConfigurationError(f'on_error must be "process" or "reject", not {on_error!r}')
        check_number("timeout", timeout, minimum=0, exclusive=True, error=option_error)
        self.ttl = float(seconds)
        self.prefix = prefix
        self.on_error = on_error
        self.timeout = float(timeout)
        self._redis = redis

    def __repr__(self) -> str:
        return (
            f"RedisDeduplicator(prefix={self.prefix!r}, ttl={self.ttl}, on_error={self.on_error!r})"
        )

    async def is_duplicate(self, event: Event) -> bool:
        """Whether any process took this event within `ttl`; records it either way.

        Args:
            event: A parsed event.

        Returns:
            `False` the first time, `True` for a repeat.

        Raises:
            DeduplicatorUnavailable: Redis could not answer and `on_error="reject"`.
        """
        key = self.prefix + dedup_key(event)
        try:
            with anyio.fail_after(self.timeout):
                created = await self._redis.set(key, b"1", nx=True, px=round(self.ttl * 1000))
        except (RedisError, OSError) as exc:
            if self.on_error == "reject":
                raise DeduplicatorUnavailable(
                    f"Redis could not say whether this {event.event_type} event is a repeat "
                    f"({type(exc).__name__}); answered 503 so that it is delivered again"
                ) from exc
            logger.warning(
                "Redis could not say whether a %s event is a repeat (%s); handling it",
                event.event_type,
                type(exc).__name__,
            )
            return False
        return not created

    async def forget(self, event: Event) -> None:
        """Forget `event` everywhere, so that its next delivery is handled (best effort)."""
        try:
            with anyio.fail_after(self.timeout):
                await self._redis.delete(self.prefix + dedup_key(event))
        except (RedisError, OSError) as exc:
            logger.warning("could not forget a %s event (%s)", event.event_type, exc)


async def _sleep_precisely(seconds: float) -> None:
    """Sleep `seconds`, waking within a fraction of a millisecond of the slot.

    The event loop rounds timer waits up to whole milliseconds, so workers would
    wake up to 1 ms late at random and two sends from different processes could
    reach the API closer than the interval by that much. The last stretch is
    yielded away in zero-length steps instead (at most `_SPIN` of a busy event
    loop per send, which is seconds apart).
    """
    deadline = time.monotonic() + seconds
    if seconds > _SPIN:
        await anyio.sleep(seconds - _SPIN)
    while time.monotonic() < deadline:
        await anyio.lowlevel.checkpoint()


_SPIN = 0.002


def _fifo_lock() -> anyio.Lock:
    """A FIFO lock that, when free, is taken without a trip through the event loop.

    That trip (anyio's checkpoint) costs about a third of a Redis round trip on a
    busy machine; `fast_acquire` skips it.
    """
    return anyio.Lock(fast_acquire=True)
