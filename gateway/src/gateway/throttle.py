"""Token buckets per stage and per method, as API Gateway throttles: a bucket of `burst` tokens
refilled at `rate` tokens per second; a request that finds no token gets 429. A method with its
own limit uses its own bucket instead of the stage's (method settings override stage settings),
and every request also takes a token from the account's bucket: 10,000 requests per second with a
burst of 5,000 unless set otherwise (API Gateway Developer Guide, "Throttle requests to your REST
APIs for better throughput": the account-level quota per Region)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: int  # bucket size


ACCOUNT_DEFAULT = Limit(rate=10_000, burst=5_000)


class TokenBucket:
    def __init__(self, limit: Limit, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._updated = now
            self._tokens = min(float(self._limit.burst), self._tokens + elapsed * self._limit.rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class Throttler:
    """One bucket per (api, stage) and per (api, stage, "METHOD /resource") with an override."""

    def __init__(
        self,
        stage_limits: Mapping[str, Limit | None],
        method_limits: Mapping[str, Mapping[str, Limit]],
        account_limit: Limit = ACCOUNT_DEFAULT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._account = TokenBucket(account_limit, clock)
        self._stage = {
            key: TokenBucket(limit, clock) for key, limit in stage_limits.items() if limit
        }
        self._methods = {
            (key, method_key): TokenBucket(limit, clock)
            for key, methods in method_limits.items()
            for method_key, limit in methods.items()
        }

    def allow(self, stage_key: str, method: str, resource_path: str) -> bool:
        """Take a token for a request to `resource_path` with `method` on stage `stage_key`."""
        bucket = self._bucket(stage_key, method, resource_path)
        if bucket is not None and not bucket.try_take():
            return False
        return self._account.try_take()

    def _bucket(self, stage_key: str, method: str, resource_path: str) -> TokenBucket | None:
        for method_key in (f"{method.upper()} {resource_path}", f"ANY {resource_path}"):
            bucket = self._methods.get((stage_key, method_key))
            if bucket is not None:
                return bucket
        return self._stage.get(stage_key)
